"""Crawl runs: create a run and its tasks, start one worker process per core (each crawls
the run's jobs one after another), show progress.

All crawl state is in the database (`crawl_run`, `crawl_task`), not in Scrapy's JOBDIR: a run
killed with SIGKILL is resumed by starting workers again over the tasks still pending.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from audit.db import Database
from audit.models import CrawlRun, CrawlTask, PageObservation, utcnow

JOBS = ("sites", "open")
# The website crawl (`crawl --websites`): one unit per website, in a run of its own.
WEBSITES_JOB = "websites"
TICK_SECONDS = 1.0


@dataclass
class TaskSpec:
    job: str
    key: str
    domain: str
    agency: str | None


@dataclass
class RunProgress:
    total: int = 0
    done: int = 0
    failed: int = 0
    pages: int = 0
    by_job: dict[str, tuple[int, int]] = field(default_factory=dict)


def create_run(
    db: Database, snapshot_id: int | None, settings: dict[str, Any], tasks: Sequence[TaskSpec]
) -> int:
    """A new run with its tasks; a crawl of web archives (`settings["archive"]`) records its
    archives and as-of date on the run, so it is never taken for a crawl of the live web."""
    archive = settings.get("archive") or {}
    if "as_of" not in archive:  # `archive first-seen` asks archives, as of no date
        archive = {}
    with db.session() as session:
        run = CrawlRun(
            snapshot_id=snapshot_id,
            settings=settings,
            status="running",
            archive="\n".join(archive["urls"]) if archive else None,
            as_of=dt.date.fromisoformat(archive["as_of"]) if archive else None,
        )
        session.add(run)
        session.flush()
        session.add_all(
            CrawlTask(run_id=run.id, job=t.job, key=t.key, domain=t.domain, agency=t.agency)
            for t in tasks
        )
        return run.id


def resumable_run(db: Database, run_id: int | None) -> CrawlRun | None:
    with db.session() as session:
        query = select(CrawlRun)
        if run_id is not None:
            query = query.where(CrawlRun.id == run_id)
        else:
            # Only site and /open crawls: an unfinished RDAP run is re-asked with `rdap`.
            crawl_runs = select(CrawlTask.run_id).where(CrawlTask.job.in_((*JOBS, WEBSITES_JOB)))
            query = query.where(
                CrawlRun.status != "finished", CrawlRun.id.in_(crawl_runs)
            ).order_by(CrawlRun.id.desc())
        return session.scalars(query.limit(1)).first()


class PageTally:
    """The run's page rows counted as they come: each tick counts only rows past the last id.

    A full count walks the run's whole index (60 ms at 777,000 rows in SQLite, every second,
    in the parent, against the workers' CPU). Ids grow with commits in SQLite (one writer);
    in PostgreSQL a row may commit under a lower id after a tick and is missed until the
    final, full count (`progress` without a tally), so a tick may lag, never the result.
    """

    def __init__(self) -> None:
        self.pages = 0
        self.last_id = 0

    def count(self, session: Any, run_id: int) -> int:
        added, newest = session.execute(
            select(func.count(), func.max(PageObservation.id)).where(
                PageObservation.run_id == run_id, PageObservation.id > self.last_id
            )
        ).one()
        if newest is not None:
            self.pages += added
            self.last_id = newest
        return self.pages


def progress(db: Database, run_id: int, tally: PageTally | None = None) -> RunProgress:
    out = RunProgress()
    with db.session() as session:
        for job, state, count in session.execute(
            select(CrawlTask.job, CrawlTask.state, func.count())
            .where(CrawlTask.run_id == run_id)
            .group_by(CrawlTask.job, CrawlTask.state)
        ):
            out.total += count
            finished, total = out.by_job.get(job, (0, 0))
            if state == "done":
                out.done += count
            elif state == "failed":
                out.failed += count
            out.by_job[job] = (finished + (count if state != "pending" else 0), total + count)
        out.pages = (
            tally.count(session, run_id)
            if tally is not None
            else (
                session.scalar(
                    select(func.count())
                    .select_from(PageObservation)
                    .where(PageObservation.run_id == run_id)
                )
                or 0
            )
        )
    return out


def _worker_command(
    run_id: int,
    jobs: Sequence[str],
    worker: int,
    workers: int,
    verbose: int,
    progress_fd: int | None = None,
) -> list[str]:
    # The database URL (which may hold a password) goes in the environment: a command line
    # is readable by every user of the machine (ps).
    command = [sys.executable, "-m", "crawler.crawl_process", "--run", str(run_id)]
    for job in jobs:
        command += ["--job", job]
    command += ["--worker", str(worker), "--workers", str(workers), "--verbose", str(verbose)]
    if progress_fd is not None:
        command += ["--progress-fd", str(progress_fd)]
    return command


@dataclass
class WorkerProcess:
    """One worker's crawler process and the jobs it was given, in order."""

    proc: subprocess.Popen[bytes]
    jobs: list[str]
    # Read end of the pipe on which the process names each job as it starts it.
    progress: int

    def unstarted(self) -> list[str]:
        """Once the process has ended: the jobs it never started (it died before them).

        The job it was on is not among them, nor the first when it named none: a job that
        killed its process is not tried again in this run (its tasks stay pending for
        `--resume`), so a process that always dies ends all the same.
        """
        announced = b""
        os.set_blocking(self.progress, False)
        with contextlib.suppress(BlockingIOError):  # a descendant may hold the pipe open
            while chunk := os.read(self.progress, 4096):
                announced += chunk
        started = [self.jobs.index(j) for j in announced.decode().split() if j in self.jobs]
        return self.jobs[max(started, default=0) + 1 :]

    def close(self) -> None:
        os.close(self.progress)


def execute(
    db: Database,
    run_id: int,
    jobs: Sequence[str],
    workers: int,
    verbose: int = 0,
    on_tick: Callable[[RunProgress, float], None] | None = None,
) -> str:
    """Run the jobs over `workers` processes; returns the run status.

    Worker i is one process that runs the jobs one after another (Scrapy starts once) over
    its own share of domains (the same share for every job), so a host is never crawled by
    two processes or two spiders at once, and a worker that finishes its share early starts
    its next job without waiting for the others. A job that fails leaves the worker's later
    jobs to run; a process that dies (killed, crashed) is followed by a new one for the
    worker's jobs it had not started.
    """
    started = time.monotonic()
    running: dict[int, WorkerProcess] = {}
    failed = False

    def launch(worker: int, worker_jobs: list[str]) -> None:
        progress_read, progress_write = os.pipe()
        try:
            proc = subprocess.Popen(
                _worker_command(run_id, worker_jobs, worker, workers, verbose, progress_write),
                stdout=None if verbose else subprocess.DEVNULL,
                env={**os.environ, "GOVAUDIT_DB": db.url},
                pass_fds=(progress_write,),
            )
        except BaseException:
            os.close(progress_read)
            raise
        finally:
            os.close(progress_write)
        running[worker] = WorkerProcess(proc, worker_jobs, progress_read)

    for worker in range(workers):
        launch(worker, list(jobs))
    last_tick = 0.0
    tally = PageTally()
    try:
        while running:
            for worker, child in list(running.items()):
                if child.proc.poll() is None:
                    continue
                del running[worker]
                failed = failed or child.proc.returncode != 0
                rest = child.unstarted()
                child.close()
                if rest:
                    launch(worker, rest)
            # Once a second is plenty for a person; the query competes with the workers
            # for the CPU and the database.
            if on_tick is not None and time.monotonic() - last_tick >= TICK_SECONDS:
                last_tick = time.monotonic()
                on_tick(progress(db, run_id, tally), time.monotonic() - started)
            if running:
                time.sleep(0.25)
    except KeyboardInterrupt:
        for child in running.values():
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGINT)
        for child in running.values():
            child.proc.wait()
            child.close()
        set_status(db, run_id, "interrupted")
        raise
    final = progress(db, run_id)
    if on_tick is not None:
        on_tick(final, time.monotonic() - started)
    status = "interrupted" if failed or final.done + final.failed < final.total else "finished"
    set_status(db, run_id, status)
    return status


def set_status(db: Database, run_id: int, status: str) -> None:
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        run.status = status
        if status == "finished":
            run.finished_at = utcnow()


def default_workers() -> int:
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )
