"""One crawler process: runs a worker's jobs, one after another, over its share of a run's
pending tasks.

One Scrapy process is bound to one CPU core, so `govaudit crawl --workers N` starts N of
these. Tasks are shared out by a stable hash of the registrable domain, so one host is only
ever crawled by one process and the per-host limit holds across processes. A worker's jobs
(sites, then open) are crawled in one Scrapy process, started once: each start costs about a
CPU second of imports and set-up. A distributed worker (`crawler.distributed`) instead names
the tasks of one batch with `--tasks`; tasks already done (by an earlier attempt at the batch)
are skipped either way.

    python -m crawler.crawl_process --db URL --run ID --job sites --job open --worker 0 --workers 2
    python -m crawler.crawl_process --db URL --run ID --job sites --tasks 17,18,19
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from audit.db import Database
from audit.models import CrawlRun, CrawlTask, Domain, RegistryEntry, RegistrySnapshot
from audit.test_hooks import WARC_MAX_BYTES
from crawler.settings import scrapy_settings


def share_of(domain: str, workers: int) -> int:
    """Which worker owns a domain: stable across processes, runs and Python versions."""
    return int(hashlib.sha256(domain.encode()).hexdigest()[:8], 16) % max(1, workers)


def pending_tasks(
    db: Database,
    run_id: int,
    job: str,
    worker: int,
    workers: int,
    task_ids: list[int] | None = None,
) -> list[Any]:
    query = select(CrawlTask).where(
        CrawlTask.run_id == run_id, CrawlTask.job == job, CrawlTask.state == "pending"
    )
    if task_ids is not None:
        query = query.where(CrawlTask.id.in_(task_ids))
    with db.session() as session:
        tasks = session.scalars(query.order_by(CrawlTask.id)).all()
    if task_ids is not None:
        return list(tasks)
    return [t for t in tasks if share_of(t.domain, workers) == worker]


def task_id_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of task ids: {text!r}") from None


def registry_domains(db: Database) -> tuple[set[str], set[str]]:
    """(every domain any loaded snapshot lists, those whose newest entry is not federal).

    A linked .gov domain is `unlisted` only when no snapshot of any kind lists it; a state or
    city domain of a full registry list is known, and recorded as non-federal.
    """
    newest: dict[str, tuple[Any, int, bool]] = {}
    with db.session() as session:
        for name, dtype, as_of, snap_id in session.execute(
            select(
                Domain.name, RegistryEntry.domain_type, RegistrySnapshot.as_of, RegistrySnapshot.id
            )
            .join(RegistryEntry, RegistryEntry.domain_id == Domain.id)
            .join(RegistrySnapshot, RegistryEntry.snapshot_id == RegistrySnapshot.id)
        ):
            federal = (dtype or "Federal").startswith("Federal")
            if name not in newest or (as_of, snap_id) > newest[name][:2]:
                newest[name] = (as_of, snap_id, federal)
    return set(newest), {name for name, (_, _, federal) in newest.items() if not federal}


def interleave_by_domain(tasks: list[Any]) -> list[Any]:
    """The tasks round-robin over their registered domains (nasa.gov's first website, then
    nih.gov's, ...): the websites open at once in a process then span many domains, so the
    per-domain limit holds without leaving the crawl waiting on one big domain."""
    by_domain: dict[str, list[Any]] = {}
    for task in tasks:
        by_domain.setdefault(task.domain, []).append(task)
    queues = list(by_domain.values())
    out: list[Any] = []
    depth = 0
    while queues:
        out.extend(q[depth] for q in queues)
        depth += 1
        queues = [q for q in queues if len(q) > depth]
    return out


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


def save_stats(
    db: Database, run_id: int, key: str, stats: dict[str, Any], add: bool = False
) -> None:
    """Keep a process's Scrapy stats on the run; `add` sums the counters into what is there
    (the batches of a distributed crawl: one entry per job, not thousands)."""
    with db.session() as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.id == run_id).with_for_update()).one()
        merged = dict(run.stats or {})
        new = json.loads(json.dumps(stats, default=str))
        if add:
            old = dict(merged.get(key) or {})
            for name, value in new.items():
                if isinstance(value, int | float) and isinstance(old.get(name, 0), int | float):
                    old[name] = old.get(name, 0) + value
            old["batches"] = int(old.get("batches", 0)) + 1
            new = old
        merged[key] = new
        run.stats = merged


def warc_settings(
    run_settings: dict[str, Any], run_id: int, job: str, worker: str
) -> dict[str, Any]:
    """Scrapy settings for the WARC writer (crawler/warc.py) when the run asks for WARC
    files: `warc_dir`, or `warc = true` alone (then the data directory's warc/)."""
    if not (run_settings.get("warc") or run_settings.get("warc_dir")):
        return {}
    directory = run_settings.get("warc_dir")
    if not directory:
        from audit.config_files import data_dir

        directory = str(data_dir() / "warc")
    out: dict[str, Any] = {
        "GOVAUDIT_WARC_DIR": directory,
        "GOVAUDIT_RUN_ID": run_id,
        "GOVAUDIT_JOB": job,
        "GOVAUDIT_WORKER": str(worker),
        "GOVAUDIT_WARC_RUN_SETTINGS": run_settings,
    }
    if os.environ.get(WARC_MAX_BYTES):  # tests rotate small files
        out["GOVAUDIT_WARC_MAX_BYTES"] = int(os.environ[WARC_MAX_BYTES])
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


@dataclass
class Batch:
    """What one crawl of one job needs: Scrapy settings, the spider and its arguments."""

    settings: dict[str, Any]
    spider_cls: Any
    kwargs: dict[str, Any]
    task_count: int


def prepare(
    db: Database,
    run_id: int,
    job: str,
    tasks: list[Any],
    verbose: int,
    registry_cache: dict[Any, Any] | None = None,
    worker: str = "0",
) -> Batch:
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise LookupError(f"no crawl run {run_id}")
        settings_data = dict(run.settings)
        snapshot_id = run.snapshot_id
    crawl_cfg = settings_data.get("crawl", {})
    settings = scrapy_settings(crawl_cfg, verbose)
    settings["GOVAUDIT_DB_URL"] = db.url
    # `govaudit run` logs Scrapy at its own level (default WARNING) into the job's log file.
    if os.environ.get("GOVAUDIT_SCRAPY_LOG_LEVEL") and not verbose:
        settings["LOG_LEVEL"] = os.environ["GOVAUDIT_SCRAPY_LOG_LEVEL"]
    if os.environ.get("GOVAUDIT_SCRAPY_LOG_FILE"):
        settings["LOG_FILE"] = os.environ["GOVAUDIT_SCRAPY_LOG_FILE"]
        settings["LOG_FILE_APPEND"] = True
    # Units per write transaction (default 20, or every 2 s): an operator's knob, and tests
    # set 1 to watch units land one by one.
    if os.environ.get("GOVAUDIT_BATCH_UNITS"):
        settings["GOVAUDIT_BATCH_UNITS"] = int(os.environ["GOVAUDIT_BATCH_UNITS"])
    cache = registry_cache if registry_cache is not None else {}
    settings.update(warc_settings(settings_data, run_id, job, worker))
    if settings_data.get("archive") and job in ("sites", "open"):
        from crawler.archive import scrapy_archive_settings

        # `crawl --archive`: every request is answered by a web archive's capture.
        settings = scrapy_archive_settings(settings, settings_data["archive"])
    spider_cls: Any
    kwargs: dict[str, Any]
    if job in ("sites", "websites"):
        from crawler.spiders.sites import SitesSpider
        from crawler.spiders.websites import WebsitesSpider

        # Keyed by the run's snapshot: a long-lived worker sees newly loaded snapshots.
        if ("registry", snapshot_id) not in cache:
            cache["registry", snapshot_id] = registry_domains(db)
        known, nonfederal = cache["registry", snapshot_id]
        spider_cls = SitesSpider
        units: list[Any] = [(t.domain, t.agency) for t in tasks]
        if job == "websites":
            spider_cls = WebsitesSpider
            units = [(t.key, t.domain, t.agency) for t in interleave_by_domain(tasks)]
        kwargs = {
            "run_id": run_id,
            "tasks": units,
            "registry": known,
            "nonfederal": nonfederal,
            "max_pages": int(crawl_cfg.get("max_pages_per_site", 50)),
            "max_depth": int(crawl_cfg.get("max_depth", 2)),
        }
    elif job == "open":
        from crawler.spiders.open_pages import OpenPagesSpider

        if ("open", snapshot_id) not in cache:
            cache["open", snapshot_id] = agency_domains(db, snapshot_id)
        spider_cls = OpenPagesSpider
        kwargs = {
            "run_id": run_id,
            "tasks": [(t.agency or t.key, t.domain) for t in tasks],
            "agency_domains": cache["open", snapshot_id],
            "plans": settings_data.get("plans", {}),
            "keep_evidence": bool(settings_data.get("keep_evidence")),
        }
    elif job == "first-seen":
        from crawler.archive import scrapy_archive_settings
        from crawler.spiders.archive_first_seen import FirstSeenSpider

        archive = settings_data["archive"]
        settings = scrapy_archive_settings(settings, archive)
        spider_cls = FirstSeenSpider
        kwargs = {
            "run_id": run_id,
            "domains": [t.domain for t in tasks],
            "archives": list(archive["urls"]),
            "cdx_limit": int(archive.get("cdx_limit", 10000)),
        }
    else:
        from crawler.spiders.rdap import RdapSpider

        spider_cls = RdapSpider
        kwargs = {
            "run_id": run_id,
            "domains": [t.domain for t in tasks],
            "base_url": settings_data["rdap_url"],
        }
    return Batch(settings, spider_cls, kwargs, len(tasks))


def batch_crawler(batch: Batch) -> Any:
    """A Scrapy crawler for one batch of a process that crawls several."""
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    # Above the process's own settings, which Scrapy merges into every crawler it runs (at
    # equal priority they would win: a 20 s timeout where the run asked for 3).
    settings = Settings()
    settings.setdict(batch.settings, priority="cmdline")
    return Crawler(batch.spider_cls, settings)


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def crawl_jobs(
    db: Database,
    run_id: int,
    jobs: list[str],
    worker: int,
    workers: int,
    verbose: int,
    task_ids: list[int] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> int:
    """Crawl the jobs one after another in one Scrapy process, started once; the exit status.

    Each job reads its pending tasks as it starts and its statistics are stored as it ends.
    A job that fails does not stop the later ones; the status is then the first failure's
    (2: no such run, 1: anything else). `on_start(job)` is called as each job starts: the
    parent learns from it which jobs a process that died had not started.
    """
    status = 0
    todo = list(jobs)
    # The crawlers whose statistics are not stored yet, by job.
    unstored: dict[str, Any] = {}

    def failed(code: int) -> None:
        nonlocal status
        status = status or code

    def next_batch() -> tuple[str, Batch] | None:
        while todo:
            job = todo.pop(0)
            if on_start is not None:
                on_start(job)
            try:
                tasks = pending_tasks(db, run_id, job, worker, workers, task_ids)
                if tasks:
                    return job, prepare(db, run_id, job, tasks, verbose, worker=str(worker))
            except LookupError as exc:
                print(f"crawler.crawl_process: {exc}", file=sys.stderr)
                failed(2)
            except Exception:
                job_failed(job)
                failed(1)
        return None

    def job_failed(job: str) -> None:
        print(
            f"crawler.crawl_process: the {job} job failed; its pending tasks stay pending",
            file=sys.stderr,
        )
        traceback.print_exc()

    def store_stats(job: str) -> dict[str, Any]:
        """The job's Scrapy statistics, stored on the run."""
        crawler = unstored.pop(job)
        try:
            stats: dict[str, Any] = crawler.stats.get_stats()
        except RuntimeError:  # the crawl never started: Scrapy made no statistics
            return {}
        try:
            if task_ids is None:
                save_stats(db, run_id, f"{job}/{worker}", stats)
            else:
                save_stats(db, run_id, f"{job}/batches", stats, add=True)
        except SQLAlchemyError as exc:
            # The database went away as the crawl ended (the parent reports that in one
            # line): the units are stored or pending either way; only the statistics are lost.
            print(
                f"crawler.crawl_process: could not save the run's statistics: {first_line(exc)}",
                file=sys.stderr,
            )
            failed(1)
        return stats

    first = next_batch()
    if first is None:  # nothing to crawl: no Scrapy at all
        db.dispose()
        return status

    import asyncio

    from scrapy.crawler import AsyncCrawlerProcess
    from twisted.internet.error import ReactorNotRunning

    # The settings Scrapy reads once per process (the DNS resolver, an archive's in a crawl of
    # archives; the thread pool) are the first job's, and the same for every job of a run.
    process = AsyncCrawlerProcess(first[1].settings)

    async def crawl_all() -> None:
        batch: tuple[str, Batch] | None = first
        try:
            while batch is not None:
                job, prepared = batch
                try:
                    crawler = batch_crawler(prepared)
                    unstored[job] = crawler
                    await process.crawl(crawler, **prepared.kwargs)
                except Exception:
                    job_failed(job)
                    failed(1)
                # Stopped by a signal (Ctrl-C, SIGTERM): Scrapy stops the reactor next, and
                # no other job is started.
                if job in unstored and store_stats(job).get("finish_reason") == "shutdown":
                    return
                batch = next_batch()
        except Exception:
            traceback.print_exc()
            failed(1)
        finally:
            # Imported here: importing it sooner would install Twisted's default reactor
            # before Scrapy installs the asyncio one.
            from twisted.internet import reactor

            with contextlib.suppress(ReactorNotRunning):
                reactor.stop()  # type: ignore[attr-defined]

    asyncio.get_event_loop().create_task(crawl_all())
    process.start(stop_after_crawl=False)
    try:
        for job in list(unstored):  # a crawl a signal cut short, stopped with the reactor
            store_stats(job)
    finally:
        db.dispose()
    return status


def serve(db: Database, verbose: int) -> int:
    """Crawl batch after batch in one Scrapy process (a distributed worker's crawler).

    Reads one JSON request a line on stdin, `{"run": ID, "job": "sites", "tasks": [IDS]}`,
    crawls the batch's pending tasks, and answers one JSON line on stdout once the batch's
    units are committed; exits at end of input. Scrapy starts once, not once per batch.
    """
    import asyncio

    from scrapy.crawler import AsyncCrawlerProcess

    process = AsyncCrawlerProcess(scrapy_settings({}, verbose))
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    # Nothing else may write on the answer channel: stray prints go to stderr.
    sys.stdout = sys.stderr
    cache: dict[Any, Any] = {}
    # Names this process's WARC files apart from every other machine's and process's.
    serve_name = re.sub(r"[^A-Za-z0-9.]", "_", f"{socket.gethostname()}.{os.getpid()}")

    async def loop() -> None:
        running = asyncio.get_running_loop()
        while True:
            line = await running.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            request = json.loads(line)
            tasks = pending_tasks(db, request["run"], request["job"], 0, 1, list(request["tasks"]))
            stats: dict[str, Any] = {}
            if tasks:
                batch = prepare(
                    db, request["run"], request["job"], tasks, verbose, cache, serve_name
                )
                crawler = batch_crawler(batch)
                await process.crawl(crawler, **batch.kwargs)
                stats = crawler.stats.get_stats() if crawler.stats else {}
                save_stats(db, request["run"], f"{request['job']}/batches", stats, add=True)
            answers.write(json.dumps({"crawled": len(tasks)}) + "\n")
        db.dispose()
        answers.close()
        # The last batch is committed and answered: leave without tearing Scrapy down.
        os._exit(0)

    asyncio.get_event_loop().create_task(loop())
    process.start(stop_after_crawl=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.crawl_process")
    # The URL comes in the environment (GOVAUDIT_DB): a password on the command line would
    # show in `ps` and in process listings.
    parser.add_argument("--db", default=None, help="database URL (default: $GOVAUDIT_DB)")
    parser.add_argument("--serve", action="store_true", help="Crawl batches read from stdin.")
    parser.add_argument("--run", type=int)
    parser.add_argument(
        "--job",
        action="append",
        choices=["sites", "open", "rdap", "first-seen", "websites"],
        help="A job to crawl; several are crawled in the order given, in one Scrapy process.",
    )
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tasks", type=task_id_list, help="Only these task ids (a batch).")
    parser.add_argument(
        "--progress-fd",
        type=int,
        help="Write each job's name, a line, on this file descriptor as the job starts.",
    )
    parser.add_argument("-v", "--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    die_with_parent()
    db_url = args.db or os.environ.get("GOVAUDIT_DB")
    if not db_url:
        parser.error("no database: give --db or set GOVAUDIT_DB")
    if args.tasks is not None and args.job and len(args.job) > 1:
        parser.error("--tasks are one job's tasks: give one --job")
    db = Database(db_url)
    if args.serve:
        return serve(db, args.verbose)
    if args.run is None or not args.job:
        parser.error("--run and --job are required (or --serve)")

    on_start = None
    if args.progress_fd is not None:
        progress_fd: int = args.progress_fd

        def on_start(job: str) -> None:
            # The parent may be gone (we die with it): nothing to tell then.
            with contextlib.suppress(OSError):
                os.write(progress_fd, f"{job}\n".encode())

    return crawl_jobs(
        db, args.run, args.job, args.worker, args.workers, args.verbose, args.tasks, on_start
    )


if __name__ == "__main__":
    sys.exit(main())
