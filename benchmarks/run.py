"""govaudit benchmarks: speed and memory targets live here, never as timed asserts in tests.

    .venv/bin/python benchmarks/run.py [--quick] [--only NAME ...]

Each benchmark prints one JSON line; results are kept in benchmarks/README.md. Everything
runs against this machine only (real registry files, the simulated web on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GOVAUDIT = str(Path(sys.executable).parent / "govaudit")
DOTGOV = Path(os.environ.get("GOVAUDIT_DOTGOV_DATA", REPO.parent / "shared" / "data" / "dotgov"))


def run(args: list[str], db: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [GOVAUDIT, "--db", db, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"govaudit {' '.join(args)}: {result.stderr[-2000:]}")
    return time.perf_counter() - started, result.stdout


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_registry(tmp: Path, quick: bool) -> dict[str, Any]:
    """Loading every real snapshot (25,000+ rows), then listing and diffing."""
    db = f"sqlite:///{tmp}/registry.db"
    files = sorted(str(p) for p in DOTGOV.glob("*.csv"))
    load, _ = run(["inventory", "load", *files], db)
    full, out = run(["inventory", "list", "--snapshot", "2026-08-22", "--format", "json"], db)
    diff, _ = run(["inventory", "diff", "2014-12-16", "2026-08-18", "--format", "json"], db)
    return {
        "files": len(files),
        "load_all_s": round(load, 2),
        "list_full_16539_s": round(full, 2),
        "rows": len(json.loads(out)),
        "diff_2014_2026_s": round(diff, 2),
    }


def synthetic_world(sites: int, pages: int) -> dict[str, dict[str, Any]]:
    links = "".join(f'<a href="/p{i}">page {i}</a>' for i in range(pages))
    body = (
        f"<html lang='en'><head><title>Page</title></head><body><p>Text of the page "
        f"about programs and services.</p>{links}</body></html>"
    )
    return {
        f"site{i:04d}": {
            "hosts": [f"site{i:04d}.gov", f"www.site{i:04d}.gov"],
            "https_redirect": True,
            "redirect_host": {f"site{i:04d}.gov": f"www.site{i:04d}.gov"},
            "robots": "User-agent: *\nDisallow: /private/\n",
            "catch_all": {"status": 200, "body": body},
            "pages": {"/govaudit-probe": {"status": 404, "body": "nf"}},
        }
        for i in range(sites)
    }


def bench_crawl(tmp: Path, quick: bool) -> dict[str, Any]:
    """Crawl throughput on the simulated web, 1 worker then 2 (one process per core)."""
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    n_sites, n_pages = (40, 20) if quick else (200, 30)
    folder = write_sites(tmp / "world", synthetic_world(n_sites, n_pages))
    registry = tmp / f"bench-{n_sites}-2026-01-01.csv"
    registry.write_text(
        "Domain name,Domain type,Organization name\n"
        + "".join(f"site{i:04d}.gov,Federal - Executive,Bench Agency\n" for i in range(n_sites))
    )
    out: dict[str, Any] = {"sites": n_sites, "pages_per_site_limit": n_pages}
    with SimulatedWeb.from_directory(folder) as web:
        for workers in (1, 2):
            db = f"sqlite:///{tmp}/crawl{workers}.db"
            run(["inventory", "load", str(registry)], db)
            cpu0 = child_cpu()
            wall, text = run(
                [
                    "crawl",
                    "--only",
                    "sites",
                    "--workers",
                    str(workers),
                    "--max-pages-per-site",
                    str(n_pages),
                    "--concurrency",
                    "64",
                    "--timeout",
                    "10",
                ],
                db,
                web.proxy_env(),
            )
            cpu = child_cpu() - cpu0
            requests = len(web.requests())
            web.clear_log()
            pages = int(text.split(" pages in ")[0].rsplit(" ", 1)[-1])
            out[f"workers_{workers}"] = {
                "wall_s": round(wall, 1),
                "pages": pages,
                "requests": requests,
                "pages_per_s": round(pages / wall, 1),
                "requests_per_s": round(requests / wall, 1),
                "cpu_ms_per_request": round(1000 * cpu / max(1, requests), 2),
            }
    return out


def bench_per_host_limit(tmp: Path, quick: bool) -> dict[str, Any]:
    """Max requests in flight per host with CONCURRENT_REQUESTS_PER_DOMAIN=2 and delay 0:
    Scrapy's stock downloader against govaudit's PoliteDownloader."""
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    links = "".join(f'<a href="/p{i}">{i}</a>' for i in range(40))
    world = {
        "one": {
            "hosts": ["one.gov"],
            "delay": 0.05,
            "catch_all": {"status": 200, "body": f"<title>x</title>{links}"},
        }
    }
    folder = write_sites(tmp / "limit", world)
    script = """
import sys, scrapy
from scrapy.crawler import CrawlerProcess
class S(scrapy.Spider):
    name = "s"
    async def start(self):
        for i in range(40):
            yield scrapy.Request(f"http://one.gov/p{i}", dont_filter=True)
    def parse(self, response):
        pass
settings = {"CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "DOWNLOAD_DELAY": 0,
            "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False}
if sys.argv[1] == "polite":
    settings["DOWNLOADER"] = "crawler.downloader.PoliteDownloader"
p = CrawlerProcess(settings); p.crawl(S); p.start()
"""
    out: dict[str, Any] = {}
    with SimulatedWeb.from_directory(folder) as web:
        for kind in ("stock", "polite"):
            subprocess.run(
                [sys.executable, "-c", script, kind],
                env={**os.environ, **web.proxy_env(), "PYTHONPATH": str(REPO)},
                check=True,
            )
            out[f"{kind}_max_in_flight"] = web.max_concurrency("one.gov")
            web.clear_log()
    return out


def bench_audit(tmp: Path, quick: bool) -> dict[str, Any]:
    """The audit over every real snapshot (16,000+ domains x 3 freeze windows)."""
    db = f"sqlite:///{tmp}/audit.db"
    run(["inventory", "load", *sorted(str(p) for p in DOTGOV.glob("*.csv"))], db)
    wall, _ = run(["audit"], db)
    freeze, _ = run(["audit", "freeze", "--all", "--format", "json"], db)
    return {"audit_s": round(wall, 2), "freeze_table_all_s": round(freeze, 2)}


def bench_report(tmp: Path, quick: bool) -> dict[str, Any]:
    """Rendering the report for the full list (16,539 domains) with an audit."""
    db = f"sqlite:///{tmp}/report.db"
    run(["inventory", "load", str(DOTGOV / "full-2026-08-22.csv")], db)
    run(["audit"], db)
    wall, _ = run(["report", "--out", str(tmp / "report")], db)
    size = sum(p.stat().st_size for p in (tmp / "report").rglob("*") if p.is_file())
    return {"render_s": round(wall, 2), "output_mb": round(size / 1e6, 1)}


BENCHMARKS: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "registry": bench_registry,
    "per_host_limit": bench_per_host_limit,
    "crawl": bench_crawl,
    "audit": bench_audit,
    "report": bench_report,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller crawl")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS))
    args = parser.parse_args()
    for name, bench in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            result = bench(Path(tmp), args.quick)
            result["total_s"] = round(time.perf_counter() - started, 1)
            print(json.dumps({"benchmark": name, **result}), flush=True)


if __name__ == "__main__":
    main()
