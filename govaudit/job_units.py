"""The units of a step of `govaudit run`: each ends done or failed with its reason, and one
unit's failure never ends its step.

A step that works unit by unit (crawl, rdap, a11y, and every step added later) takes a
`StepUnits` from the job (`units = self.units("dns")`) and either

- runs each unit's work in this process through it: `units.run(key, work, *args)`; a unit
  whose work raises is a failed unit "couldn't check: internal error" (its traceback goes to
  the log file at DEBUG), and the step goes on with the next unit; or
- has crawler processes or the browser do the units (crawl_task rows) and then reads what
  failed: `units.from_tasks(db, run_id)`.

Each failed unit is one log line (`STEP: failed unit KEY: REASON`) and is counted in the
step's summary line (`failed N`). A step that ended with failed units is named in the run's
`failed_steps` with the count and the first reason, and the run ends `partial` (its report
is written all the same).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from govaudit.job_log import log_traceback

T = TypeVar("T")

INTERNAL_ERROR = "couldn't check: internal error"


@dataclass
class FailedUnit:
    key: str
    reason: str


@dataclass
class StepUnits:
    step: str
    log: logging.Logger
    failed: list[FailedUnit] = field(default_factory=list)

    def run(self, key: str, work: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Do one unit's work; if it raises, the unit failed (None) and the step goes on."""
        try:
            return work(*args, **kwargs)
        except Exception as exc:
            self.fail(key, f"{INTERNAL_ERROR} ({one_line(exc)})", exc)
            return None

    def fail(self, key: str, reason: str, exc: BaseException | None = None) -> None:
        self.failed.append(FailedUnit(key, reason))
        self.log.warning("%s: failed unit %s: %s", self.step, key, reason)
        if exc is not None:
            log_traceback(self.log, f"{self.step}: unit {key}", exc)

    def from_tasks(
        self,
        db: Any,
        run_id: int,
        label: Callable[[str, str], str] = lambda job, key: f"{job} {key}",
    ) -> int:
        """The failed tasks of a run (crawler processes, the browser): one failed unit each,
        named by `label(job, key)`. Returns how many."""
        from sqlalchemy import select

        from audit.models import CrawlTask

        with db.session() as session:
            rows = session.execute(
                select(CrawlTask.job, CrawlTask.key, CrawlTask.error)
                .where(CrawlTask.run_id == run_id, CrawlTask.state == "failed")
                .order_by(CrawlTask.id)
            ).all()
        for job, key, error in rows:
            self.fail(label(job, key), task_reason(error))
        return len(rows)

    @property
    def failure(self) -> str | None:
        """The one-line reason of `failed_steps`, or None when every unit was handled."""
        if not self.failed:
            return None
        first = self.failed[0]
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        return f"{len(self.failed)} unit(s) failed: {first.key}: {first.reason}{more}"


def task_reason(error: str | None) -> str:
    """A failed task's stored error as a failed unit's reason."""
    if not error:
        return INTERNAL_ERROR
    if error.startswith("internal error"):
        return f"couldn't check: {error}"
    return f"{INTERNAL_ERROR} ({error})"


def first_line(text: str, limit: int = 300) -> str:
    lines = text.strip().splitlines()
    return lines[0][:limit] if lines else ""


def one_line(exc: BaseException) -> str:
    """An error in one line: its type and the first line of its message."""
    text = first_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
