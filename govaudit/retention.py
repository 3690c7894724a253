"""Retention: page-level rows (pages, links, endpoints) of all but the newest N site crawls.

Findings, plan checks, site rows, RDAP answers, audit runs and reports are kept forever; a
crawl run that has not finished is never touched. Rows go in batches, one transaction each,
so a large prune neither holds a long write lock nor loses its progress when killed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, text

from audit.db import Database
from audit.models import CrawlRun, CrawlTask, EndpointObservation, LinkObservation, PageObservation

PAGE_LEVEL = (PageObservation, LinkObservation, EndpointObservation)
BATCH_ROWS = 5000


@dataclass
class PruneResult:
    kept_runs: list[int] = field(default_factory=list)
    pruned_runs: list[int] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"kept_runs": self.kept_runs, "pruned_runs": self.pruned_runs, **self.deleted}

    def summary(self) -> str:
        rows = ", ".join(f"{n} {table} rows" for table, n in self.deleted.items())
        return (
            f"kept the page-level rows of crawl runs {self.kept_runs or '-'}; deleted {rows} "
            f"of {len(self.pruned_runs)} older run(s)"
        )


def prune(
    db: Database, keep: int, batch: int = BATCH_ROWS, log: Callable[[str], None] | None = None
) -> PruneResult:
    if keep < 1:
        raise ValueError("keep must be at least 1")
    with db.session() as session:
        site_runs = list(
            session.scalars(
                select(CrawlRun.id)
                .where(
                    CrawlRun.id.in_(select(CrawlTask.run_id).where(CrawlTask.job == "sites")),
                    CrawlRun.status == "finished",
                )
                .order_by(CrawlRun.id.desc())
            )
        )
    result = PruneResult(kept_runs=sorted(site_runs[:keep]), pruned_runs=sorted(site_runs[keep:]))
    for model in PAGE_LEVEL:
        table = model.__tablename__
        result.deleted[table] = 0
        if not result.pruned_runs:
            continue
        while True:
            with db.session() as session:
                ids = list(
                    session.scalars(
                        select(model.id).where(model.run_id.in_(result.pruned_runs)).limit(batch)
                    )
                )
                if ids:
                    session.execute(delete(model).where(model.id.in_(ids)))
            result.deleted[table] += len(ids)
            if len(ids) < batch:
                break
        if log is not None:
            log(f"prune: {table}: {result.deleted[table]} rows deleted")
    if any(result.deleted.values()):
        _reclaim(db)
    return result


def _reclaim(db: Database) -> None:
    """Give the space back (SQLite: VACUUM) or refresh the planner's statistics (PostgreSQL:
    ANALYZE; autovacuum reuses the space). Both need to run outside a transaction."""
    engine = db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("VACUUM"))
        else:
            for model in PAGE_LEVEL:
                conn.execute(text(f"ANALYZE {model.__tablename__}"))
