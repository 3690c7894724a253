"""Plan rows: one agency's judged plan check of an /open crawl, with its first-seen date,
lateness, evidence and WARC record. What the audit judges, `govaudit export plans` writes and
the report shows (columns documented in docs/reference.md). These only read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.archive_fields import ARCHIVE_COLUMNS, archive_fields, capture_evidence
from audit.models import AuditRun, CrawlRun, OpenTry, PlanDocument
from audit.plan_facts import judged_plan_checks, plan_first_seen
from audit.plan_status import HAS_PLAN, PlanPolicy, lateness
from audit.policy_file import load_policy
from audit.url_secrets import masked

PLAN_COLUMNS = [
    "agency",
    "domain",
    "open_page_url",
    "status",
    "status_reason",
    "plan_url",
    "plan_content_type",
    "elements",
    "missing_elements",
    "stated_date",
    "first_seen",
    "late",
    "evidence",
    "crawl_run",
    "fetched_at",
    "date_note",
    "warc_file",
    "warc_offset",
    *ARCHIVE_COLUMNS,
]


def _plans_policy(session: Session, plans: Mapping[str, Any] | None) -> PlanPolicy:
    """The `[plans]` policy to judge with: the one given, else the newest audit's, else the
    shipped policy.toml."""
    if plans is None:
        newest = session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(1)).first()
        plans = (newest.policy or {}).get("plans") if newest is not None else None
    if not plans:
        plans = load_policy().section("plans")
    return PlanPolicy.from_section(plans)


def plan_row(
    check: Mapping[str, Any],
    first_seen: dt.datetime | None,
    deadline: dt.date | None,
    first_seen_run_ended: dt.datetime | None = None,
) -> dict[str, Any]:
    """One agency's plan check. `late`: the plan's stated date is after the deadline; None
    (unknown) without a stated date, unless the crawl that first saw the plan ended before
    the deadline (then False); None when there is no plan to date."""
    has_plan = check["status"] in HAS_PLAN
    stated: dt.date | None = check.get("stated_date")
    late, date_note = lateness(stated, has_plan, deadline, first_seen_run_ended)
    extras = check.get("extras") or {}
    # null, not false, for each element of a plan whose document could not be read
    unread = bool(extras.get("elements_unread"))
    elements = {
        name: None if unread else snippet is not None
        for name, snippet in (check["elements"] or {}).items()
    }
    return {
        "agency": check["agency"],
        "domain": check["domain"],
        "open_page_url": check["open_page_url"],
        "status": check["status"],
        "status_reason": check["reason"],
        "plan_url": check["plan_url"],
        "plan_content_type": check["plan_content_type"],
        "elements": elements,
        "missing_elements": list(extras.get("missing", [])),
        "stated_date": stated.isoformat() if stated else None,
        "first_seen": first_seen.isoformat(timespec="seconds") if first_seen else None,
        "late": late,
        "date_note": date_note,
        "evidence": {
            **(check.get("evidence") or {}),
            "plan_hash": check["plan_hash"],
            "snippets": {k: v for k, v in (check["elements"] or {}).items() if v},
            "candidates": extras.get("candidates", []),
            "open_gov_plan_url": extras.get("open_gov_plan_url"),
            "feedback_url": extras.get("feedback_url"),
        },
        "crawl_run": check["run_id"],
        "fetched_at": check["fetched_at"].isoformat(timespec="seconds"),
    }


def plans_rows(
    session: Session,
    run_id: int,
    deadline: dt.date | None,
    plans: Mapping[str, Any] | None = None,
    checks: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per agency of /open crawl `run_id`, judged under the `[plans]` policy given
    (default: the newest audit's). `checks`: already judged (`judged_plan_checks`)."""
    policy = _plans_policy(session, plans)
    if checks is None:
        checks = judged_plan_checks(session, run_id, policy)
    run = session.get(CrawlRun, run_id)
    if run is not None and run.as_of is not None:
        rows = _archived_plan_rows(session, run, checks, deadline)
    else:
        rows = []
        for agency in sorted(checks):
            check = checks[agency]
            seen = None
            if check["status"] in HAS_PLAN:
                seen = plan_first_seen(session, agency, run_id, policy, check)
            row = plan_row(check, seen[0] if seen else None, deadline, seen[1] if seen else None)
            rows.append({**row, **archive_fields(None, None, None)})
    _plan_warc_records(session, run_id, rows)
    return masked(rows)


def _archived_plan_rows(
    session: Session,
    run: CrawlRun,
    checks: Mapping[str, Mapping[str, Any]],
    deadline: dt.date | None,
) -> list[dict[str, Any]]:
    """Plan rows of a crawl of web archives: each with the captures of its /open page and
    plan document as evidence (and whether they are far from the date). A plan is first
    seen at its capture: captured on or before the deadline, it was out in time."""
    found: dict[tuple[str, str], tuple[str, dt.datetime, int | None]] = {}
    for model in (OpenTry, PlanDocument):
        for agency, url, final, capture, memento, distance in session.execute(
            select(
                model.agency,
                model.url,
                model.final_url,
                model.capture_url,
                model.memento_datetime,
                model.capture_distance_days,
            )
            .where(model.run_id == run.id, model.capture_url.is_not(None))
            .order_by(model.id)
        ):
            for key in (url, final):
                if key:
                    found.setdefault((agency, key), (capture, memento, distance))
    rows = []
    for agency in sorted(checks):
        check = checks[agency]
        open_capture = found.get((agency, check["open_page_url"] or ""))
        plan_capture = found.get((agency, check["plan_url"] or ""))
        plan_seen = plan_capture[1] if plan_capture and check["status"] in HAS_PLAN else None
        row = plan_row(check, plan_seen, deadline, plan_seen)
        if row["date_note"] and plan_seen is not None and row["late"] is False:
            row["date_note"] = f"date not stated; archived on {plan_seen.date()}, by the deadline"
        evidence = {
            "as_of": run.as_of.isoformat() if run.as_of else None,
            "open_page": capture_evidence(*open_capture, run) if open_capture else None,
            "plan": capture_evidence(*plan_capture, run) if plan_capture else None,
        }
        row["evidence"] = {**row["evidence"], "archive": evidence}
        shown = plan_capture or open_capture
        rows.append(
            {**row, **archive_fields(run, shown[0] if shown else None, shown[1] if shown else None)}
        )
    return rows


def _plan_warc_records(session: Session, run_id: int, rows: list[dict[str, Any]]) -> None:
    """`warc_file`, `warc_offset` of each plan row: the plan document's record, else the
    /open page's (null for a crawl without --warc)."""
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for model in (OpenTry, PlanDocument):
        for agency, url, final, wfile, offset in session.execute(
            select(model.agency, model.url, model.final_url, model.warc_file, model.warc_offset)
            .where(model.run_id == run_id, model.warc_file.is_not(None))
            .order_by(model.id)
        ):
            for key in (url, final):
                if key:
                    found.setdefault((agency, key), (wfile, offset))
    for row in rows:
        hit = next(
            (
                found[(row["agency"], u)]
                for u in (row["plan_url"], row["open_page_url"])
                if u and (row["agency"], u) in found
            ),
            None,
        )
        row["warc_file"], row["warc_offset"] = hit if hit else (None, None)
