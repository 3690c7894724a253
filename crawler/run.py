"""Crawl runs: create a run and its tasks, start one worker process per core, show progress.

All crawl state is in the database (`crawl_run`, `crawl_task`), not in Scrapy's JOBDIR: a run
killed with SIGKILL is resumed by starting workers again over the tasks still pending.
"""

from __future__ import annotations

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
    with db.session() as session:
        run = CrawlRun(snapshot_id=snapshot_id, settings=settings, status="running")
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
            query = query.where(CrawlRun.status != "finished").order_by(CrawlRun.id.desc())
        return session.scalars(query.limit(1)).first()


def progress(db: Database, run_id: int) -> RunProgress:
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
            session.scalar(
                select(func.count())
                .select_from(PageObservation)
                .where(PageObservation.run_id == run_id)
            )
            or 0
        )
    return out


def _worker_command(
    db_url: str, run_id: int, job: str, worker: int, workers: int, verbose: int
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.worker",
        "--db",
        db_url,
        "--run",
        str(run_id),
        "--job",
        job,
        "--worker",
        str(worker),
        "--workers",
        str(workers),
        "--verbose",
        str(verbose),
    ]


def execute(
    db: Database,
    run_id: int,
    jobs: Sequence[str],
    workers: int,
    verbose: int = 0,
    on_tick: Callable[[RunProgress, float], None] | None = None,
) -> str:
    """Run the jobs one after another, each over `workers` processes. Returns the run status."""
    started = time.monotonic()
    status = "finished"
    for job in jobs:
        procs = [
            subprocess.Popen(
                _worker_command(db.url, run_id, job, i, workers, verbose),
                stdout=None if verbose else subprocess.DEVNULL,
                start_new_session=False,
            )
            for i in range(workers)
        ]
        try:
            while any(p.poll() is None for p in procs):
                if on_tick is not None:
                    on_tick(progress(db, run_id), time.monotonic() - started)
                time.sleep(0.5)
        except KeyboardInterrupt:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
            for p in procs:
                p.wait()
            _set_status(db, run_id, "interrupted")
            raise
        if any(p.returncode != 0 for p in procs):
            status = "interrupted"
    final = progress(db, run_id)
    if on_tick is not None:
        on_tick(final, time.monotonic() - started)
    if final.done + final.failed < final.total:
        status = "interrupted"
    _set_status(db, run_id, status)
    return status


def _set_status(db: Database, run_id: int, status: str) -> None:
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
