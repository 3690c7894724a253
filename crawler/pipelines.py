"""The one persistence pipeline: batched, transactional writes of finished units."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import task

from audit.db import Database
from audit.models import (
    ArchiveFirstSeen,
    CrawlTask,
    EndpointObservation,
    EvidenceBlob,
    KeptResponse,
    LinkObservation,
    OpenObservation,
    OpenTry,
    PageObservation,
    PlanDocument,
    RdapResult,
    ResponseBody,
    SiteObservation,
    WarcFile,
    utcnow,
)
from crawler.archive import captures_for, stamp_captures
from crawler.items import FirstSeenObservation, PlanResult, RdapObservation, SiteResult
from crawler.warc import archive_for, stamp

logger = logging.getLogger(__name__)


class ObservationPipeline:
    """Buffers finished units and writes each batch in one transaction.

    Each unit's rows and its task's `done` state go in the same transaction: after a crash,
    a unit is either fully stored and done, or absent and still pending. The task is claimed
    (pending -> its final state) before its rows are written, and a unit whose task is no
    longer pending is dropped: two processes that crawled the same domain (a batch retried
    after its worker was presumed dead) store it once, whichever commits first.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.db = Database(settings.get("GOVAUDIT_DB_URL"))
        self.batch_size = settings.getint("GOVAUDIT_BATCH_UNITS", 20)
        self.batch_seconds = settings.getfloat("GOVAUDIT_BATCH_SECONDS", 2.0)
        self.buffer: list[Any] = []
        self.last_flush = time.monotonic()
        self.warc = archive_for(crawler)
        self.captures = captures_for(crawler)  # a crawl of web archives: the captures used
        # Without a clock, a batch waits for the next unit to finish: behind a slow host
        # that was the whole download timeout, with finished units unwritten meanwhile.
        self._clock: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ObservationPipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        self.buffer.append(item)
        if (
            len(self.buffer) >= self.batch_size
            or time.monotonic() - self.last_flush >= self.batch_seconds
        ):
            self.flush()
        return item

    def open_spider(self, spider: Any = None) -> None:
        self._clock = task.LoopingCall(self._flush_if_due)
        self._clock.start(max(0.1, self.batch_seconds / 2), now=False)

    def _flush_if_due(self) -> None:
        if self.buffer and time.monotonic() - self.last_flush >= self.batch_seconds:
            try:
                self.flush()
            except SQLAlchemyError as exc:
                # As from process_item: the batch's tasks stay pending (claim and rows are
                # one transaction), so `crawl --resume` crawls those units again.
                logger.error("govaudit: could not write a batch: %s", exc)

    def close_spider(self, spider: Any = None) -> None:
        if self._clock is not None and self._clock.running:
            self._clock.stop()
        self.flush()
        if self.warc is not None and self.warc.unregistered_files():
            # Files whose records no stored observation names yet (units that failed or
            # were dropped) are the run's files all the same.
            self.warc.sync()
            with self.db.session() as session:
                registered = self._register_warc_files(session)
            self.warc.mark_registered(registered)
        self.db.dispose()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        if self.captures is not None:
            for item in batch:
                stamp_captures(item, _job_key(item)[1], self.captures)
        if self.warc is not None:
            # The units' records are queued (responses reach the spider after the WARC
            # middleware): once written, each observation can name its record.
            self.warc.sync()
            for item in batch:
                stamp(item, self.warc)
                self.warc.forget_unit(_job_key(item)[1])
        with self.db.session() as session:
            # Before the observations naming them, in their transaction: an observation's
            # file is always found with its folder.
            registered = self._register_warc_files(session)
            for item in batch:
                # One savepoint per unit: a unit the database refuses is marked failed with
                # the reason instead of sinking the whole batch (and every resume after it).
                try:
                    with session.begin_nested():
                        self._store(session, item)
                except SQLAlchemyError as exc:
                    logger.error("govaudit: could not store %s: %s", _key(item), exc)
                    job, key = _job_key(item)
                    if item.run_id is not None:
                        # Only a pending task: a unit stored before (by an earlier batch or
                        # a stray process) stays done.
                        session.execute(
                            update(CrawlTask)
                            .where(
                                CrawlTask.run_id == item.run_id,
                                CrawlTask.job == job,
                                CrawlTask.key == key,
                                CrawlTask.state == "pending",
                            )
                            .values(
                                state="failed",
                                finished_at=utcnow(),
                                error=f"not stored: {type(exc).__name__}: {str(exc)[:500]}",
                            )
                        )
        if self.warc is not None:
            self.warc.mark_registered(registered)

    def _register_warc_files(self, session: Any) -> list[str]:
        """Record the WARC files this process opened since the last batch (`warc_file`: run,
        name, folder, host); the names, to be marked once the transaction commits."""
        if self.warc is None:
            return []
        files = self.warc.unregistered_files()
        if not files:
            return []
        run_id = self.warc.run_id
        known = set(
            session.scalars(
                select(WarcFile.name).where(WarcFile.run_id == run_id, WarcFile.name.in_(files))
            )
        )
        now, host = utcnow(), self.warc.host
        rows = [
            {"run_id": run_id, "name": name, "directory": folder, "host": host, "created_at": now}
            for name, folder in files.items()
            if name not in known
        ]
        if rows:
            session.execute(insert(WarcFile), rows)
        return list(files)

    def _store(self, session: Any, item: Any) -> None:
        if isinstance(item, SiteResult):
            self._site(session, item)
        elif isinstance(item, PlanResult):
            self._plan(session, item)
        elif isinstance(item, RdapObservation):
            self._rdap(session, item)
        elif isinstance(item, FirstSeenObservation):
            self._first_seen(session, item)

    @staticmethod
    def _claim(
        session: Any, run_id: int, job: str, key: str, state: str, error: str | None
    ) -> bool:
        """Finish the unit's task; False when the unit was already stored (no pending task).

        On PostgreSQL a second writer's UPDATE waits for the first one's row lock and then
        finds the row no longer pending; SQLite writers are serialised anyway.
        """
        task = (CrawlTask.run_id == run_id, CrawlTask.job == job, CrawlTask.key == key)
        claimed = session.execute(
            update(CrawlTask)
            .where(*task, CrawlTask.state == "pending")
            .values(state=state, finished_at=utcnow(), error=error)
        )
        if claimed.rowcount:
            return True
        if session.scalar(select(CrawlTask.id).where(*task)) is None:
            return True  # a unit crawled outside any run's task list
        logger.info("govaudit: %s/%s was already stored; dropped", job, key)
        return False

    def _site(self, session: Any, item: SiteResult) -> None:
        run, domain = item.run_id, item.domain
        # A failed unit (an error while handling it) finishes its task and stores nothing.
        claimed = self._claim(session, run, item.job, domain, item.state, item.error)
        if not claimed or item.state == "failed":
            return
        if item.endpoints:
            session.execute(
                insert(EndpointObservation),
                [{**e, "run_id": run, "domain": domain} for e in item.endpoints],
            )
        session.execute(insert(SiteObservation), [{**item.site, "run_id": run, "domain": domain}])
        if item.pages:
            session.execute(
                insert(PageObservation),
                [{**p, "run_id": run, "domain": domain} for p in item.pages],
            )
        if item.links:
            session.execute(
                insert(LinkObservation),
                [{**lk, "run_id": run, "domain": domain} for lk in item.links],
            )
        if item.responses:
            self._responses(session, run, domain, item.responses)

    @staticmethod
    def _responses(session: Any, run: int, domain: str, responses: list[dict[str, Any]]) -> None:
        bodies = {
            r["body_sha256"]: {"sha256": r["body_sha256"], "size": r["kept_size"]}
            | {"body": r["compressed_body"]}
            for r in responses
        }
        # Another worker process may store the same body at the same moment: a body already
        # there is simply not written again (never a refused unit).
        if session.bind.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        session.execute(
            dialect_insert(ResponseBody).on_conflict_do_nothing(index_elements=["sha256"]),
            list(bodies.values()),
        )
        kept = ("compressed_body", "kept_size")
        session.execute(
            insert(KeptResponse),
            [
                {**{k: v for k, v in r.items() if k not in kept}, "run_id": run, "domain": domain}
                for r in responses
            ],
        )

    def _plan(self, session: Any, item: PlanResult) -> None:
        if not self._claim(session, item.run_id, "open", item.agency, item.state, item.error):
            return
        if item.state == "failed":
            return
        run, agency = item.run_id, item.agency
        session.execute(
            insert(OpenObservation), [{**item.observation, "run_id": run, "agency": agency}]
        )
        if item.tries:
            session.execute(
                insert(OpenTry), [{**t, "run_id": run, "agency": agency} for t in item.tries]
            )
        if item.documents:
            session.execute(
                insert(PlanDocument),
                [{**d, "run_id": run, "agency": agency} for d in item.documents],
            )
        if item.blobs:
            session.execute(
                insert(EvidenceBlob), [{**b, "run_id": item.run_id} for b in item.blobs]
            )

    def _first_seen(self, session: Any, item: FirstSeenObservation) -> None:
        if item.run_id is not None and not self._claim(
            session, item.run_id, "first-seen", item.domain, item.state, item.error
        ):
            return
        if item.state == "failed" or not item.rows:
            return
        session.execute(
            insert(ArchiveFirstSeen),
            [{**row, "run_id": item.run_id, "domain": item.domain} for row in item.rows],
        )

    def _rdap(self, session: Any, item: RdapObservation) -> None:
        if item.run_id is not None and not self._claim(
            session, item.run_id, "rdap", item.domain, item.state, item.error
        ):
            return
        if item.state == "failed":
            return
        session.execute(
            insert(RdapResult), [{**item.result, "run_id": item.run_id, "domain": item.domain}]
        )


def _job_key(item: Any) -> tuple[str, str]:
    if isinstance(item, FirstSeenObservation):
        return "first-seen", item.domain
    if isinstance(item, SiteResult):
        return item.job, item.domain
    if isinstance(item, PlanResult):
        return "open", item.agency
    return "rdap", item.domain


def _key(item: Any) -> str:
    return "/".join(_job_key(item))
