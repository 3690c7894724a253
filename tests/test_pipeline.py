"""The persistence pipeline: one savepoint per unit, so a refused unit sinks nothing else."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from audit.db import Database
from audit.models import CrawlTask, SiteObservation
from crawler.crawl_run import TaskSpec, create_run
from crawler.items import SiteResult
from crawler.pipelines import ObservationPipeline


class Settings(dict):  # the two accessors the pipeline uses
    def getint(self, key: str, default: int) -> int:
        return int(self.get(key, default))

    def getfloat(self, key: str, default: float) -> float:
        return float(self.get(key, default))


def test_a_refused_unit_is_marked_failed_and_the_rest_is_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    db = Database(url)
    domains = ("a.gov", "b.gov", "c.gov")
    run = create_run(db, None, {}, [TaskSpec("sites", d, d, None) for d in domains])
    crawler = SimpleNamespace(settings=Settings(GOVAUDIT_DB_URL=url, GOVAUDIT_BATCH_UNITS=100))
    pipeline = ObservationPipeline(crawler)  # type: ignore[arg-type]
    long_url = "https://www.b.gov/" + "x" * 5000  # Text columns: stored whole
    pipeline.process_item(SiteResult(run, "a.gov", [], {"homepage_url": "https://www.a.gov/"}))
    # The same domain twice in one run breaks a unique constraint: that unit is refused, and
    # the unit stored before stays done.
    pipeline.process_item(SiteResult(run, "a.gov", [], {}))
    pipeline.process_item(SiteResult(run, "b.gov", [], {"homepage_url": long_url}))
    # A unit the database cannot take at all is marked failed, with the reason.
    pipeline.process_item(SiteResult(run, "c.gov", [{"url": None}], {}))  # url is NOT NULL
    pipeline.close_spider()
    with db.session() as session:
        states = dict(session.execute(select(CrawlTask.key, CrawlTask.state)).all())
        errors = dict(session.execute(select(CrawlTask.key, CrawlTask.error)).all())
        stored = dict(
            session.execute(select(SiteObservation.domain, SiteObservation.homepage_url)).all()
        )
    assert stored == {"a.gov": "https://www.a.gov/", "b.gov": long_url}
    assert states["a.gov"] == "done" and states["b.gov"] == "done"
    assert states["c.gov"] == "failed" and "not stored" in (errors["c.gov"] or "")
    db.dispose()
