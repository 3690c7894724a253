"""Scrapy settings for govaudit's spiders, built from a run's stored crawl settings (the
policy's [crawl] section with the command's or the run configuration's overrides; every
setting, its default and bounds are the model's in audit/crawl_settings.py)."""

from __future__ import annotations

from typing import Any

from audit.crawl_settings import CrawlSettings

BOT_NAME = "govaudit"
# Idle connections are closed after this (crawler/download_handler.py says why).
IDLE_CONNECTION_SECONDS = 15.0
# Requests to one download slot start at least this far apart (crawler/downloader.py says why).
MIN_DOWNLOAD_DELAY = 0.001
SPIDER_MODULES = ["crawler.spiders"]

DEFAULTS: dict[str, Any] = CrawlSettings().as_dict()


def scrapy_settings(crawl: dict[str, Any], verbose: int = 0) -> dict[str, Any]:
    """Scrapy settings for one crawl (`crawl`: as a run stores them, the settings given;
    the defaults fill in the rest): many domains at once, few requests per host."""
    cfg = {**DEFAULTS, **crawl}
    return {
        "BOT_NAME": BOT_NAME,
        "USER_AGENT": cfg["user_agent"],
        "ROBOTSTXT_OBEY": bool(cfg["obey_robots"]),
        "ROBOTSTXT_PARSER": "crawler.middlewares.BoundedProtegoRobotParser",
        "CONCURRENT_REQUESTS": int(cfg["concurrent_requests"]),
        "CONCURRENT_REQUESTS_PER_DOMAIN": int(cfg["concurrent_requests_per_host"]),
        # The smallest delay, not 0: see crawler/downloader.py for why.
        "DOWNLOAD_DELAY": MIN_DOWNLOAD_DELAY,
        "DOWNLOADER": "crawler.downloader.PoliteDownloader",
        # Every certificate is checked and the result recorded; none is refused
        # (crawler/download_handler.py, crawler/tls.py).
        "DOWNLOAD_HANDLERS": {
            "http": "crawler.download_handler.RecordingDownloadHandler",
            "https": "crawler.download_handler.RecordingDownloadHandler",
        },
        "CONNECTION_KEEPALIVE_TIMEOUT": IDLE_CONNECTION_SECONDS,
        "GOVAUDIT_CA_BUNDLE": cfg["ca_bundle"] or "",
        "GOVAUDIT_MAX_OPEN_UNITS": int(
            cfg["max_open_units"] or 4 * int(cfg["concurrent_requests"])
        ),
        "GOVAUDIT_CONCURRENT_REQUESTS_PER_REGISTERED_DOMAIN": int(
            cfg["concurrent_requests_per_domain"] or 0
        ),
        "DOWNLOAD_TIMEOUT": float(cfg["download_timeout"]),
        "DOWNLOAD_MAXSIZE": int(cfg["download_maxsize"]),
        "DOWNLOAD_WARNSIZE": 0,
        "AUTOTHROTTLE_ENABLED": bool(cfg["autothrottle"]),
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_MAX_DELAY": 10.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(cfg["concurrent_requests_per_host"]),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": int(cfg["retry_times"]),
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "GOVAUDIT_MAX_RETRY_AFTER": float(cfg.get("max_retry_after", 30.0)),
        "REDIRECT_ENABLED": True,  # for Scrapy's own requests; spiders follow theirs by hand
        "METAREFRESH_ENABLED": False,
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback's output (measured:
        # 50 per callback, a third of the CPU); our callbacks yield a few requests at most.
        "CONCURRENT_ITEMS": 4,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "DNSCACHE_ENABLED": True,
        # Names resolving to private, loopback or link-local addresses are never connected to.
        "TWISTED_DNS_RESOLVER": "crawler.resolver.PublicAddressResolver",
        "REACTOR_THREADPOOL_MAXSIZE": 20,
        # Failed fetches are observations, stored with their kind; Scrapy's own error log of
        # them is noise unless asked for with -v.
        "LOG_LEVEL": "DEBUG" if verbose > 1 else ("INFO" if verbose else "CRITICAL"),
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.ScopeGuardMiddleware": 50,
            "crawler.middlewares.DomainSlotMiddleware": 60,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.OriginRobotsTxtMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.RetryAfterMiddleware": 550,
            # after HttpProxyMiddleware (750), which says whether a proxy will resolve the name
            "crawler.middlewares.ResolvedAddressGuardMiddleware": 760,
            # after robots.txt and retries: a request holds its domain's turn only while it
            # downloads (crawler/domain_limit.py; off unless the setting above is > 0)
            "crawler.domain_limit.RegisteredDomainLimitMiddleware": 900,
            # Next to the downloader: sees what went over the wire (off without --warc).
            "crawler.warc.WarcMiddleware": 950,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        },
        "EXTENSIONS": {"crawler.middlewares.DownloadSizeBound": 0},
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            # Replaced by ScopeGuardMiddleware's length check, which ends in an observation.
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.ObservationPipeline": 300},
        "HTTPERROR_ALLOW_ALL": True,
    }
