"""The bare Scrapy spider the overhead ratio is measured against.

It follows the same links as `govaudit crawl --only sites` on the same simulated fleet (the
four endpoints of each domain with Scrapy's own redirects, robots.txt, security.txt, the
sitemap, a not-found probe, and the site's pages up to the same depth and page limit) and
does nothing else: no parsing beyond the links, no database.

    python -m benchmarks.bare_spider --domains FILE --worker 0 --workers 2 --stats OUT.json

With `--stock`: Scrapy as shipped (its downloader, no AutoThrottle) following the same links;
with `--stock --minimal`: the simplest spider a Scrapy user writes for the same sites
(MinimalStockSpider); `--delay` sets DOWNLOAD_DELAY (benchmarks/README.md, "Stock Scrapy").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess

from crawler.settings import MIN_DOWNLOAD_DELAY


def share_of(domain: str, workers: int) -> int:
    """The same split of domains over processes as crawler.crawl_process.share_of."""
    return int(hashlib.sha256(domain.encode()).hexdigest()[:8], 16) % max(1, workers)


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, domains: list[str], max_pages: int, max_depth: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.domains = domains
        self.max_pages = max_pages
        self.max_depth = max_depth
        self.seen: dict[str, set[str]] = {}  # per host: the page URLs asked for

    async def start(self) -> Any:
        for domain in self.domains:
            for url in (
                f"https://www.{domain}/",
                f"https://{domain}/",
                f"http://www.{domain}/",
                f"http://{domain}/",
            ):
                yield scrapy.Request(url, dont_filter=True, meta={"home": domain, "depth": 0})

    def parse(self, response: Any) -> Any:
        host = urlsplit(response.url).hostname or ""
        domain = response.meta.get("home")
        if domain is not None and host == f"www.{domain}" and response.url.startswith("https"):
            if host in self.seen:  # the homepage, once per site (four endpoints end on it)
                return
            # govaudit's own requests of the site: robots.txt (parsed for its facts; the
            # robots middleware's copy is apart), security.txt, the sitemap, a soft-404 probe
            self.seen[host] = {response.url}
            origin = f"https://{host}"
            for path in (
                "/robots.txt",
                "/.well-known/security.txt",
                "/sitemap.xml",
                "/not-a-page-probe",
            ):
                yield scrapy.Request(origin + path, callback=self.ignore)
        depth = response.meta.get("depth", 0)
        if depth >= self.max_depth or not hasattr(response, "css"):
            return
        seen = self.seen.setdefault(host, set())
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            # like govaudit: links of the site's own host, each once, up to the page limit
            if urlsplit(url).hostname != host or url in seen:
                continue
            if len(seen) >= self.max_pages:
                return
            seen.add(url)
            yield scrapy.Request(url, meta={"depth": depth + 1})

    def ignore(self, response: Any) -> None:
        return None


class MinimalStockSpider(scrapy.Spider):
    """The simplest spider a Scrapy user writes for the same sites: the four endpoints as
    start URLs, every link of every page within the allowed domains (Scrapy's offsite
    middleware and duplicate filter decide), nothing else."""

    name = "stock-minimal"

    def __init__(self, domains: list[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.allowed_domains = domains
        self.start_urls = [
            f"{scheme}://{www}{domain}/"
            for domain in domains
            for scheme in ("https", "http")
            for www in ("www.", "")
        ]

    def parse(self, response: Any) -> Any:
        yield from response.follow_all(css="a::attr(href)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_spider")
    parser.add_argument("--domains", type=Path, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-pages", type=int, default=50)
    parser.add_argument("--max-depth", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument(
        "--stock",
        action="store_true",
        help="Scrapy as shipped: its own downloader, no AutoThrottle (issue 21's comparison)",
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=MIN_DOWNLOAD_DELAY,
        help="DOWNLOAD_DELAY (0: Scrapy's default, at which Scrapy 2.19 does not hold the "
        "per-host limit)",
    )
    parser.add_argument(
        "--minimal",
        action="store_true",
        help="with --stock: the minimal spider (follow_all of every link, default settings)",
    )
    args = parser.parse_args(argv)
    domains = [d for d in args.domains.read_text().split() if d]
    mine = [d for d in domains if share_of(d, args.workers) == args.worker]
    # govaudit's concurrency settings and downloader: with a delay of 0 Scrapy lets far more
    # than CONCURRENT_REQUESTS_PER_DOMAIN requests run per host (crawler/downloader.py).
    settings = {
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_host,
        "DOWNLOAD_DELAY": args.delay,
        "DOWNLOADER": "crawler.downloader.PoliteDownloader",
        "DOWNLOAD_TIMEOUT": args.timeout,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(args.per_host),
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,
        "LOG_LEVEL": "CRITICAL",
    }
    if args.stock:
        del settings["DOWNLOADER"]
        settings["AUTOTHROTTLE_ENABLED"] = False
    if args.stock and args.minimal:
        # Scrapy's defaults (cookies, 404s dropped before the callback, depth unlimited: the
        # sites are finite) but for the comparison's terms: 2 per host, govaudit's total, the
        # 1 ms delay that makes Scrapy 2.19 hold the per-host limit (crawler/downloader.py),
        # robots.txt obeyed, and INFO, not DEBUG: no line logged per request (govaudit logs
        # none either).
        settings = {
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_host,
            "DOWNLOAD_DELAY": args.delay,
            "DOWNLOAD_TIMEOUT": args.timeout,
            "ROBOTSTXT_OBEY": True,
            "LOG_LEVEL": "INFO",
        }
    process = CrawlerProcess(settings)
    if args.stock and args.minimal:
        crawler = process.create_crawler(MinimalStockSpider)
        process.crawl(crawler, domains=mine)
    else:
        crawler = process.create_crawler(BareSpider)
        process.crawl(crawler, domains=mine, max_pages=args.max_pages, max_depth=args.max_depth)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    args.stats.write_text(json.dumps(stats, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
