"""One crawler process: runs one job's spider over its share of a run's pending tasks.

One Scrapy process is bound to one CPU core, so `govaudit crawl --workers N` starts N of
these. Tasks are shared out by a stable hash of the registrable domain, so one host is only
ever crawled by one process and the per-host limit holds across processes.

    python -m crawler.worker --db URL --run ID --job sites --worker 0 --workers 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
from typing import Any

from sqlalchemy import select

from audit.db import Database
from audit.models import CrawlRun, CrawlTask, Domain, RegistryEntry


def share_of(domain: str, workers: int) -> int:
    """Which worker owns a domain: stable across processes, runs and Python versions."""
    return int(hashlib.sha256(domain.encode()).hexdigest()[:8], 16) % max(1, workers)


def pending_tasks(db: Database, run_id: int, job: str, worker: int, workers: int) -> list[Any]:
    with db.session() as session:
        tasks = session.scalars(
            select(CrawlTask)
            .where(CrawlTask.run_id == run_id, CrawlTask.job == job, CrawlTask.state == "pending")
            .order_by(CrawlTask.id)
        ).all()
    return [t for t in tasks if share_of(t.domain, workers) == worker]


def registry_domains(db: Database, snapshot_id: int | None) -> set[str]:
    if snapshot_id is None:
        return set()
    with db.session() as session:
        return set(
            session.scalars(
                select(Domain.name)
                .join(RegistryEntry, RegistryEntry.domain_id == Domain.id)
                .where(RegistryEntry.snapshot_id == snapshot_id)
            )
        )


def agency_domains(db: Database, snapshot_id: int | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if snapshot_id is None:
        return out
    with db.session() as session:
        for agency, name in session.execute(
            select(RegistryEntry.agency_name, Domain.name)
            .join(Domain, RegistryEntry.domain_id == Domain.id)
            .where(RegistryEntry.snapshot_id == snapshot_id)
        ):
            if agency:
                out.setdefault(agency, set()).add(name)
    return out


def save_stats(db: Database, run_id: int, key: str, stats: dict[str, Any]) -> None:
    with db.session() as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.id == run_id).with_for_update()).one()
        merged = dict(run.stats or {})
        merged[key] = json.loads(json.dumps(stats, default=str))
        run.stats = merged


def warc_settings(
    run_settings: dict[str, Any], run_id: int, job: str, worker: int
) -> dict[str, Any]:
    """Scrapy settings for the WARC writer (crawler/warc.py) when the run asks for WARC
    files: `warc_dir`, or `warc = true` alone (then the data directory's warc/)."""
    if not (run_settings.get("warc") or run_settings.get("warc_dir")):
        return {}
    directory = run_settings.get("warc_dir")
    if not directory:
        from audit.seeds import data_dir

        directory = str(data_dir() / "warc")
    out: dict[str, Any] = {
        "GOVAUDIT_WARC_DIR": directory,
        "GOVAUDIT_RUN_ID": run_id,
        "GOVAUDIT_JOB": job,
        "GOVAUDIT_WORKER": str(worker),
        "GOVAUDIT_WARC_RUN_SETTINGS": run_settings,
    }
    if os.environ.get("GOVAUDIT_WARC_MAX_BYTES"):  # tests rotate small files
        out["GOVAUDIT_WARC_MAX_BYTES"] = int(os.environ["GOVAUDIT_WARC_MAX_BYTES"])
    return out


def die_with_parent() -> None:
    """Linux: get SIGKILL when the `govaudit crawl` that started us dies, even by SIGKILL, so
    a resumed run never meets an old run's workers still crawling the same hosts."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.worker")
    parser.add_argument("--db", required=True)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--job", choices=["sites", "open", "rdap"], required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("-v", "--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    die_with_parent()

    from scrapy.crawler import AsyncCrawlerProcess

    from crawler.settings import scrapy_settings

    db = Database(args.db)
    with db.session() as session:
        run = session.get(CrawlRun, args.run)
        if run is None:
            print(f"crawler.worker: no crawl run {args.run}", file=sys.stderr)
            return 2
        settings_data = dict(run.settings)
        snapshot_id = run.snapshot_id
    tasks = pending_tasks(db, args.run, args.job, args.worker, args.workers)
    if not tasks:
        return 0
    crawl_cfg = settings_data.get("crawl", {})
    settings = scrapy_settings(crawl_cfg, args.verbose)
    settings["GOVAUDIT_DB_URL"] = db.url
    # Units per write transaction (default 20, or every 2 s): an operator's knob, and tests
    # set 1 to watch units land one by one.
    if os.environ.get("GOVAUDIT_BATCH_UNITS"):
        settings["GOVAUDIT_BATCH_UNITS"] = int(os.environ["GOVAUDIT_BATCH_UNITS"])
    settings.update(warc_settings(settings_data, args.run, args.job, args.worker))
    process = AsyncCrawlerProcess(settings)
    spider_cls: Any
    kwargs: dict[str, Any]
    if args.job == "sites":
        from crawler.spiders.sites import SitesSpider

        spider_cls = SitesSpider
        kwargs = {
            "run_id": args.run,
            "tasks": [(t.domain, t.agency) for t in tasks],
            "registry": registry_domains(db, snapshot_id),
            "max_pages": int(crawl_cfg.get("max_pages_per_site", 50)),
            "max_depth": int(crawl_cfg.get("max_depth", 2)),
        }
    elif args.job == "open":
        from crawler.spiders.open_pages import OpenPagesSpider

        spider_cls = OpenPagesSpider
        kwargs = {
            "run_id": args.run,
            "tasks": [(t.agency or t.key, t.domain) for t in tasks],
            "agency_domains": agency_domains(db, snapshot_id),
            "plans": settings_data.get("plans", {}),
            "keep_evidence": bool(settings_data.get("keep_evidence")),
        }
    else:
        from crawler.spiders.rdap import RdapSpider

        spider_cls = RdapSpider
        kwargs = {
            "run_id": args.run,
            "domains": [t.domain for t in tasks],
            "base_url": settings_data["rdap_url"],
        }
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    save_stats(db, args.run, f"{args.job}/{args.worker}", stats)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
