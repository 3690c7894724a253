"""The crawl spread over machines: batches of domains as procrastinate jobs on PostgreSQL.

The unit of distribution is the `crawl_task` row (a domain, or an agency for /open). The
coordinator (`govaudit crawl --distributed`) puts a run's pending tasks into the queue in
small batches and waits; every `govaudit worker` takes batches and hands each one to one of
its crawler processes (`python -m crawler.crawl_process --serve`, kept between batches): the same
spiders and pipeline as a local crawl. One process owns a domain while it crawls it, so the
per-host limit holds across the fleet with no shared rate limiter.

The task row stays the truth: its `done` state is committed with its observations, a batch
that is run again skips done tasks, and the pipeline drops a unit whose task is no longer
pending. procrastinate only decides who crawls what next; a worker that dies (SIGKILL, a
machine lost) stops sending heartbeats, and the other workers put its batches back in the
queue (`retry_stalled_jobs`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import time
from asyncio.subprocess import PIPE
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import procrastinate
from procrastinate import JobContext
from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import make_url

from audit.db import Database
from crawler.crawl_run import WEBSITES_JOB, PageTally, RunProgress, progress, set_status

logger = logging.getLogger(__name__)

QUEUE = "govaudit-crawl"
TASK_NAME = "govaudit.crawl_batch"
DEFAULT_BATCH_SIZE = 32
# A worker whose heartbeat is older than this is presumed dead and its batches go back in
# the queue. Heartbeats are sent every third of it.
DEFAULT_STALLED_AFTER = 30.0
# Advisory lock key held while procrastinate's schema is applied ("procrast" in ASCII).
SCHEMA_LOCK = 0x70726F6372617374
ACTIVE = ("todo", "doing")


class DistributedError(RuntimeError):
    """The distributed crawl cannot run (not PostgreSQL, no connection)."""


class BatchUnfinished(RuntimeError):
    """A batch's crawler process ended with tasks still pending: procrastinate retries it."""


def is_postgresql(db_url: str) -> bool:
    try:
        return make_url(db_url).get_backend_name() == "postgresql"
    except Exception:
        return False


def libpq_url(db_url: str) -> str:
    """`postgresql+psycopg://...` (SQLAlchemy's form) as psycopg itself takes it."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


# procrastinate keeps no record of the migrations a database has had ("it's your
# responsibility to keep track", its docs/howto/production/migrations.md): this table does,
# one row per file of procrastinate/sql/migrations/ that the database's schema contains.
MIGRATIONS_TABLE = "govaudit_procrastinate_migrations"
# Databases whose schema govaudit applied before it kept that record have procrastinate
# 3.10's (the only release it allowed then).
UNRECORDED_SCHEMA_VERSION = (3, 10, 0)


def migration_names() -> list[str]:
    """The installed procrastinate's migration files, in the order they apply.

    Named `xx.yy.zz_ab_{pre|post}_what.sql`: first shipped with release xx.yy.zz (whose
    whole schema therefore contains it), `ab` their order within it."""
    folder = Path(SchemaManager.get_migrations_path())
    return sorted(path.name for path in folder.glob("*.sql"))


def migration_version(name: str) -> tuple[int, int, int]:
    major, minor, patch = name.split("_", 1)[0].split(".")
    return int(major), int(minor), int(patch)


def ensure_schema(db_url: str) -> list[str]:
    """Bring procrastinate's schema to the installed release's; what was applied.

    A new database gets the whole schema (`procrastinate schema --apply`: ["schema"]); a
    database that has it gets, in order, each migration it lacks, each in a transaction with
    its record. Under an advisory lock, so that workers starting together apply each once
    (the others wait, then find it done).
    """
    import psycopg

    try:
        conn = psycopg.connect(libpq_url(db_url), autocommit=True)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DistributedError(f"--db {db_url}: cannot open the database ({reason})") from exc
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            return _bring_up_to_date(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def _bring_up_to_date(conn: Any) -> list[str]:
    available = migration_names()
    row = conn.execute(
        "SELECT to_regclass('procrastinate_jobs'), to_regclass(%s)", (MIGRATIONS_TABLE,)
    ).fetchone()
    has_schema, has_record = row[0] is not None, row[1] is not None
    with conn.transaction():
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        if not has_schema:
            conn.execute(SchemaManager.get_schema())
            _record(conn, available)
            return ["schema"]
        if not has_record:
            _record(
                conn, [n for n in available if migration_version(n) <= UNRECORDED_SCHEMA_VERSION]
            )
    done = {r[0] for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE}")}
    applied = []
    for name in available:
        if name in done:
            continue
        sql = (Path(SchemaManager.get_migrations_path()) / name).read_text(encoding="utf-8")
        with conn.transaction():
            conn.execute(sql)
            _record(conn, [name])
        logger.info("procrastinate schema: applied %s", name)
        applied.append(name)
    return applied


def _record(conn: Any, names: Sequence[str]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {MIGRATIONS_TABLE} (name) VALUES (%s) ON CONFLICT DO NOTHING",
            [(name,) for name in names],
        )


def make_app(db_url: str, pool_size: int = 4) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=libpq_url(db_url), min_size=1, max_size=max(2, pool_size)
        )
    )
    # A batch whose crawler process failed (or was stopped) is tried again, elsewhere if
    # another worker is free first; three attempts, then the coordinator reports the run
    # unfinished and `crawl --resume --distributed` queues what is left.
    app.task(
        name=TASK_NAME,
        queue=QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=3, wait=5),
    )(crawl_batch)
    return app


class CrawlerSlots:
    """A worker's crawler processes (`python -m crawler.crawl_process --serve`), one per batch
    running at once, kept between batches so Scrapy starts once per slot, not per batch."""

    def __init__(self, db: Database, verbose: int) -> None:
        self.db = db
        self.verbose = verbose
        self.idle: list[asyncio.subprocess.Process] = []

    async def crawl(self, run_id: int, job: str, task_ids: list[int]) -> None:
        proc = self.idle.pop() if self.idle else await self._start()
        request = json.dumps({"run": run_id, "job": job, "tasks": task_ids}) + "\n"
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(request.encode())
            await proc.stdin.drain()
            answer = await proc.stdout.readline()
        except asyncio.CancelledError:
            proc.kill()
            await proc.wait()
            raise
        except (BrokenPipeError, ConnectionResetError):
            answer = b""
        if not answer:  # the crawler process died: the batch is retried, in a new one
            proc.kill()
            code = await proc.wait()
            raise BatchUnfinished(f"run {run_id} {job} batch: crawler process exited {code}")
        self.idle.append(proc)

    async def _start(self) -> asyncio.subprocess.Process:
        # The database URL (and its password) in the environment, never on a command line.
        command = [sys.executable, "-m", "crawler.crawl_process", "--serve"]
        return await asyncio.create_subprocess_exec(
            *command,
            "--verbose",
            str(self.verbose),
            stdin=PIPE,
            stdout=PIPE,
            env={**os.environ, "GOVAUDIT_DB": self.db.url},
        )

    async def close(self) -> None:
        for proc in self.idle:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.idle:
            await proc.wait()
        self.idle.clear()


async def crawl_batch(context: JobContext, run_id: int, job: str, task_ids: list[int]) -> None:
    """One batch: crawled by one of the worker's crawler processes, then checked."""
    extra = context.additional_context
    db: Database = extra["db"]
    slots: CrawlerSlots = extra["slots"]
    await slots.crawl(run_id, job, task_ids)
    left = await asyncio.to_thread(pending_count, db, run_id, job, task_ids)
    if left:
        raise BatchUnfinished(f"run {run_id} {job} batch: {left} task(s) still pending")


def pending_count(db: Database, run_id: int, job: str, task_ids: Sequence[int] | None) -> int:
    query = (
        "SELECT count(*) FROM crawl_task WHERE run_id = :run AND job = :job AND state = 'pending'"
    )
    params: dict[str, Any] = {"run": run_id, "job": job}
    if task_ids is not None:
        query += " AND id = ANY(:ids)"
        params["ids"] = list(task_ids)
    with db.session() as session:
        return int(session.scalar(text(query), params) or 0)


def queued_task_ids(db: Database, run_id: int, job: str) -> set[int]:
    """Tasks already in a batch waiting or running (a coordinator resumed after it died)."""
    with db.session() as session:
        rows = session.execute(
            text(
                "SELECT args FROM procrastinate_jobs WHERE queue_name = :queue "
                "AND status IN ('todo', 'doing') AND task_name = :task "
                "AND args->>'run_id' = :run AND args->>'job' = :job"
            ),
            {"queue": QUEUE, "task": TASK_NAME, "run": str(run_id), "job": job},
        )
        return {int(i) for (args,) in rows for i in args.get("task_ids", [])}


def active_batches(db: Database, run_id: int, job: str) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :queue "
                    "AND status IN ('todo', 'doing') AND args->>'run_id' = :run "
                    "AND args->>'job' = :job"
                ),
                {"queue": QUEUE, "run": str(run_id), "job": job},
            )
            or 0
        )


def batches(task_ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(task_ids[i : i + size]) for i in range(0, len(task_ids), size)]


def batches_by_domain(tasks: Sequence[tuple[int, str]], size: int) -> list[list[int]]:
    """Batches of (task id, registered domain) that never split a domain: every website of
    one domain is crawled by one process, so the per-domain limit holds across machines.
    Whole domains are packed up to `size` tasks; a larger domain is a batch of its own."""
    by_domain: dict[str, list[int]] = {}
    for task_id, domain in tasks:
        by_domain.setdefault(domain, []).append(task_id)
    out: list[list[int]] = []
    current: list[int] = []
    for ids in by_domain.values():
        if current and len(current) + len(ids) > size:
            out.append(current)
            current = []
        current = current + ids
    if current:
        out.append(current)
    return out


def coordinate(
    db: Database,
    run_id: int,
    jobs: Sequence[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_tick: Callable[[RunProgress, float], None] | None = None,
) -> str:
    """Queue the run's pending tasks job by job and wait for the workers; the run status.

    Jobs go one after another (every site, then every /open page) so that no host is
    crawled by two spiders at once, as in a local crawl.
    """
    ensure_schema(db.url)
    return asyncio.run(_coordinate(db, run_id, list(jobs), batch_size, on_tick))


async def _coordinate(
    db: Database,
    run_id: int,
    jobs: list[str],
    batch_size: int,
    on_tick: Callable[[RunProgress, float], None] | None,
) -> str:
    started = time.monotonic()
    tally = PageTally()
    app = make_app(db.url, pool_size=2)
    stuck = False
    try:
        async with app.open_async():
            task = app.tasks[TASK_NAME]
            for job in jobs:
                with db.session() as session:
                    pending = session.execute(
                        text(
                            "SELECT id, domain FROM crawl_task WHERE run_id = :run "
                            "AND job = :job AND state = 'pending' ORDER BY id"
                        ),
                        {"run": run_id, "job": job},
                    ).all()
                queued = queued_task_ids(db, run_id, job)
                todo = [(i, d) for i, d in pending if i not in queued]
                if job == WEBSITES_JOB:
                    chunks = batches_by_domain(todo, batch_size)
                else:
                    chunks = batches([i for i, _ in todo], batch_size)
                if chunks:
                    await task.batch_defer_async(
                        *({"run_id": run_id, "job": job, "task_ids": ids} for ids in chunks)
                    )
                while pending_count(db, run_id, job, None):
                    if on_tick is not None:
                        on_tick(progress(db, run_id, tally), time.monotonic() - started)
                    # Tasks are committed before their batch ends: pending tasks with no
                    # batch left to run them (read again after) means the batches gave up.
                    if not active_batches(db, run_id, job) and pending_count(db, run_id, job, None):
                        stuck = True
                        break
                    await asyncio.sleep(0.5)
                if stuck:
                    break
    except KeyboardInterrupt:
        set_status(db, run_id, "interrupted")
        raise
    final = progress(db, run_id)
    if on_tick is not None:
        on_tick(final, time.monotonic() - started)
    status = "interrupted" if stuck or final.done + final.failed < final.total else "finished"
    set_status(db, run_id, status)
    return status


def serve(
    db_url: str,
    parallel_batches: int,
    verbose: int = 0,
    stalled_after: float = DEFAULT_STALLED_AFTER,
) -> None:
    """Run a worker until SIGINT/SIGTERM: `parallel_batches` batches (crawler processes) at
    once (`govaudit worker --concurrency`)."""
    if not logging.getLogger().handlers:
        # Recovered batches and failed attempts are what an operator reads in the journal.
        logging.basicConfig(
            level=logging.INFO if verbose else logging.WARNING,
            format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        )
    db = Database(db_url)
    _ = db.engine  # govaudit's own schema, migrated under its lock
    ensure_schema(db_url)
    asyncio.run(_serve(db, parallel_batches, verbose, stalled_after))


async def _serve(db: Database, parallel_batches: int, verbose: int, stalled_after: float) -> None:
    app = make_app(db.url, pool_size=parallel_batches + 4)
    slots = CrawlerSlots(db, verbose)
    async with app.open_async():
        recovery = asyncio.create_task(_recover_stalled(app, stalled_after))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=parallel_batches,
                name=f"{socket.gethostname()}:{os.getpid()}",
                wait=True,
                update_heartbeat_interval=stalled_after / 3,
                stalled_worker_timeout=stalled_after,
                delete_jobs="successful",
                additional_context={"db": db, "slots": slots},
            )
        finally:
            recovery.cancel()
            await slots.close()
            db.dispose()


async def _recover_stalled(app: procrastinate.App, stalled_after: float) -> None:
    """Put the batches of workers presumed dead back in the queue (every worker does this;
    a batch already put back by another is skipped)."""
    while True:
        await asyncio.sleep(stalled_after / 3)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=stalled_after
            )
        except Exception as exc:
            logger.warning("govaudit worker: could not look for stalled batches: %s", exc)
            continue
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
            except Exception as exc:
                logger.info("govaudit worker: batch %s not retried: %s", job.id, exc)
                continue
            logger.warning("govaudit worker: batch %s of a dead worker is queued again", job.id)
