"""Which stored run a command reads: the newest finished crawl of a job (of the same kind as
another: the live web, or the same web archives as of the same date), the one before it to
compare with, a named one, the newest audit; and how far a crawl's job got. These only read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from audit.models import AuditRun, CrawlRun, CrawlTask


class NoData(LookupError):
    """Nothing stored yet for what was asked; the message says which command makes it."""


@dataclass(frozen=True)
class JobProgress:
    """How far one job (sites, open) of a crawl run got: tasks no longer pending, of all."""

    done: int
    total: int

    @property
    def partial(self) -> bool:
        return self.done < self.total


def job_progress(session: Session, run_id: int, job: str) -> JobProgress:
    done, total = session.execute(
        select(
            func.count(CrawlTask.id).filter(CrawlTask.state != "pending"),
            func.count(CrawlTask.id),
        ).where(CrawlTask.run_id == run_id, CrawlTask.job == job)
    ).one()
    return JobProgress(int(done or 0), int(total or 0))


def _finished_runs(job: str) -> Select[tuple[CrawlRun]]:
    """Runs whose `job` ran to the end: it has tasks, and none is still pending. A crawl
    killed half-way is never the default: its missing sites would read as removed."""
    has_job = select(CrawlTask.id).where(CrawlTask.run_id == CrawlRun.id, CrawlTask.job == job)
    pending = has_job.where(CrawlTask.state == "pending")
    return select(CrawlRun).where(has_job.exists(), ~pending.exists())


def _same_kind(query: Select[tuple[CrawlRun]], like: CrawlRun) -> Select[tuple[CrawlRun]]:
    """Runs that saw the web the same way as `like`: the live web, or the same archives as
    of the same date. An archived run is never compared with (or audited beside) a live one."""
    if like.as_of is None:
        return query.where(CrawlRun.as_of.is_(None))
    return query.where(CrawlRun.as_of == like.as_of, CrawlRun.archive == like.archive)


def latest_run(
    session: Session,
    job: str = "sites",
    run_id: int | None = None,
    *,
    up_to: int | None = None,
    like: CrawlRun | None = None,
) -> CrawlRun:
    """The crawl run `run_id` (finished or not: a named run is shown as it is), else the
    newest run whose `job` finished (no later than `up_to` when given): of the same kind as
    `like` when given, else the newest crawl of the live web, and only when there is none
    the newest crawl of web archives (those are named with --run)."""
    if run_id is not None:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise NoData(f"no {'accessibility' if job == 'a11y' else 'crawl'} run {run_id}")
        has_job = session.scalar(
            select(func.count())
            .select_from(CrawlTask)
            .where(CrawlTask.run_id == run_id, CrawlTask.job == job)
        )
        if not has_job:
            if job == "a11y":
                raise NoData(f"run {run_id} is a crawl run, not an accessibility run")
            raise NoData(f"crawl run {run_id} has no {job} results")
        return run
    query = _finished_runs(job)
    if up_to is not None:
        query = query.where(CrawlRun.id <= up_to)
    if like is not None:
        query = _same_kind(query, like)
    run = None
    if like is None:
        live = query.where(CrawlRun.as_of.is_(None))
        run = session.scalars(live.order_by(CrawlRun.id.desc()).limit(1)).first()
    if run is None:
        run = session.scalars(query.order_by(CrawlRun.id.desc()).limit(1)).first()
    if run is None:
        if job == "a11y":
            raise NoData("no finished accessibility run yet (run `govaudit a11y` after a crawl)")
        if job == "dns":
            raise NoData("no finished DNS run yet (run `govaudit dns`)")
        raise NoData(f"no finished crawl with {job} results yet (run `govaudit crawl`)")
    return run


def previous_run(session: Session, run: CrawlRun, job: str = "sites") -> CrawlRun | None:
    """The newest finished run of `job` before `run`: what run-to-run changes compare with.
    A live run is compared with live runs; a run of web archives with the same archives'
    latest earlier as-of date (the same date: an earlier run), never with a live one."""
    if run.as_of is None:
        query = _finished_runs(job).where(CrawlRun.as_of.is_(None), CrawlRun.id < run.id)
        return session.scalars(query.order_by(CrawlRun.id.desc()).limit(1)).first()
    query = _finished_runs(job).where(
        CrawlRun.archive == run.archive,
        (CrawlRun.as_of < run.as_of) | ((CrawlRun.as_of == run.as_of) & (CrawlRun.id < run.id)),
    )
    return session.scalars(
        query.order_by(CrawlRun.as_of.desc(), CrawlRun.id.desc()).limit(1)
    ).first()


def archived_runs(session: Session, job: str) -> list[CrawlRun]:
    """For each archive and as-of date, the newest crawl of it whose `job` finished; by
    date, then archive."""
    newest: dict[tuple[str | None, dt.date], CrawlRun] = {}
    query = _finished_runs(job).where(CrawlRun.as_of.is_not(None)).order_by(CrawlRun.id)
    for run in session.scalars(query):
        assert run.as_of is not None
        newest[(run.archive, run.as_of)] = run
    return [newest[key] for key in sorted(newest, key=lambda k: (k[1], k[0] or ""))]


def seen_as(run: CrawlRun | None) -> str | None:
    """How a run saw the web, for titles: "as archived near DATE", or None (the live web)."""
    if run is None or run.as_of is None:
        return None
    return f"as archived near {run.as_of.isoformat()}"


def latest_audit(session: Session, audit_run_id: int | None = None) -> AuditRun:
    if audit_run_id is not None:
        found = session.get(AuditRun, audit_run_id)
        if found is None:
            raise NoData(f"no audit run {audit_run_id}")
        return found
    found = session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(1)).first()
    if found is None:
        raise NoData("no audit yet (run `govaudit audit`)")
    return found
