"""What a row says about a crawl of web archives (`crawl --archive`): the archive that
answered, the run's as-of date, the capture's Memento-Datetime, and a capture as evidence.
Empty for a crawl of the live web."""

from __future__ import annotations

import datetime as dt
from typing import Any

from audit.models import CrawlRun

# A crawl of web archives (`crawl --archive`): the archive that answered, the run's as-of
# date, and the capture's Memento-Datetime; empty for a crawl of the live web.
ARCHIVE_COLUMNS = ["archive", "as_of", "memento_datetime"]


def archive_fields(
    run: CrawlRun | None, capture_url: str | None, memento: dt.datetime | None
) -> dict[str, Any]:
    """The `archive`, `as_of` and `memento_datetime` columns of a row (empty for a crawl of
    the live web): the archive whose capture answered, else every archive the run asked."""
    if run is None or run.as_of is None:
        return dict.fromkeys(ARCHIVE_COLUMNS)
    archives = (run.archive or "").split()
    served = next((a for a in archives if capture_url and capture_url.startswith(a)), None)
    return {
        "archive": served or " ".join(archives),
        "as_of": run.as_of.isoformat(),
        "memento_datetime": memento.isoformat(timespec="seconds") if memento else None,
    }


def capture_evidence(
    capture_url: str | None,
    memento: dt.datetime | None,
    distance: int | None,
    run: CrawlRun,
) -> dict[str, Any] | None:
    """A capture as evidence: where, when, how far from the as-of date (and that it is far
    when more than the run's `far_days` away)."""
    if capture_url is None or memento is None:
        return None
    far_days = int(((run.settings or {}).get("archive") or {}).get("far_days", 7))
    as_of = run.as_of
    assert as_of is not None
    days = distance if distance is not None else (memento.date() - as_of).days
    side = "before" if days < 0 else "after"
    when = memento.isoformat(timespec="seconds")
    note = (
        f"captured {when}, on {as_of}"
        if days == 0
        else f"captured {when}, {abs(days)} days {side} {as_of}"
    )
    if abs(days) > far_days:
        note += f" (far from the date: more than {far_days} days)"
    return {
        "capture_url": capture_url,
        "memento_datetime": when,
        "distance_days": days,
        "far": abs(days) > far_days,
        "note": note,
    }
