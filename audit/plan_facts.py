"""Plan facts read from the store and judged: what an /open crawl stored per agency
(`PlanFacts`), each agency's plan check judged under a `[plans]` policy
(audit/plan_status.py), and when a crawl first saw a plan. These only read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import CrawlRun, OpenObservation, OpenTry, PlanCheck, PlanDocument
from audit.plan_status import (
    HAS_PLAN,
    PlanFacts,
    PlanPolicy,
    check_fields,
    facts_from_rows,
    judge_plan,
)


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def plan_facts(
    session: Session, run_id: int, agencies: Iterable[str] | None = None
) -> dict[str, PlanFacts]:
    """What the /open crawl `run_id` stored, per agency (all, or those named)."""
    wanted = list(agencies) if agencies is not None else None
    run = session.get(CrawlRun, run_id)
    as_of = run.as_of if run is not None else None
    query = select(OpenObservation).where(OpenObservation.run_id == run_id)
    tries_q = select(OpenTry).where(OpenTry.run_id == run_id)
    docs_q = select(PlanDocument).where(PlanDocument.run_id == run_id)
    if wanted is not None:
        query = query.where(OpenObservation.agency.in_(wanted))
        tries_q = tries_q.where(OpenTry.agency.in_(wanted))
        docs_q = docs_q.where(PlanDocument.agency.in_(wanted))
    tries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in session.scalars(tries_q.order_by(OpenTry.agency, OpenTry.seq)):
        tries[t.agency].append(_columns(t))
    docs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in session.scalars(docs_q.order_by(PlanDocument.id)):
        docs[d.agency].append(_columns(d))
    return {
        o.agency: facts_from_rows(_columns(o), tries[o.agency], docs[o.agency], as_of)
        for o in session.scalars(query)
    }


def _stored_check(check: PlanCheck) -> dict[str, Any]:
    return {
        "agency": check.agency,
        "domain": check.domain,
        "fetched_at": check.fetched_at,
        "status": check.status,
        "reason": check.reason,
        "open_page_url": check.open_page_url,
        "plan_url": check.plan_url,
        "plan_content_type": check.plan_content_type,
        "plan_hash": check.plan_hash,
        "stated_date": check.stated_date,
        "elements": dict(check.elements or {}),
        "extras": dict(check.extras or {}),
        "evidence": dict(check.evidence or {}),
    }


def judged_plan_checks(
    session: Session, run_id: int, policy: PlanPolicy, agencies: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Each agency's plan check for crawl run `run_id` (`audit.plan_status.check_fields`),
    judged from the stored observations under `policy`. A crawl made before the /open
    observations were stored has only its own `plan_check` rows: those are used as stored."""
    wanted = set(agencies) if agencies is not None else None
    checks = {
        agency: {**check_fields(facts, judge_plan(facts, policy)), "run_id": run_id}
        for agency, facts in plan_facts(session, run_id, wanted).items()
    }
    query = select(PlanCheck).where(PlanCheck.run_id == run_id)
    if wanted is not None:
        query = query.where(PlanCheck.agency.in_(wanted))
    for stored in session.scalars(query):
        if stored.agency not in checks and stored.audit_run_id is None:
            checks[stored.agency] = {**_stored_check(stored), "run_id": run_id}
    return checks


def plan_first_seen(
    session: Session,
    agency: str,
    up_to_run: int,
    policy: PlanPolicy,
    current: Mapping[str, Any] | None = None,
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """When a crawl (this one or an earlier one) first saw a plan of this agency, published
    or incomplete under `policy`, and when that crawl run ended; None when none did. Any
    URL counts: agencies move plans. `current`: run `up_to_run`'s check, already judged.
    Crawls of the live web only: a crawl of web archives dates what it saw by its captures."""
    live = select(CrawlRun.id).where(CrawlRun.as_of.is_(None))
    runs = sorted(
        set(
            session.scalars(
                select(OpenObservation.run_id).where(
                    OpenObservation.agency == agency,
                    OpenObservation.run_id <= up_to_run,
                    OpenObservation.run_id.in_(live),
                )
            )
        )
        | set(
            session.scalars(
                select(PlanCheck.run_id).where(
                    PlanCheck.agency == agency,
                    PlanCheck.run_id <= up_to_run,
                    PlanCheck.run_id.in_(live),
                )
            )
        )
    )
    for run_id in runs:
        if run_id == up_to_run and current is not None:
            check: Mapping[str, Any] | None = current
        else:
            check = judged_plan_checks(session, run_id, policy, [agency]).get(agency)
        if check is not None and check["status"] in HAS_PLAN:
            run = session.get(CrawlRun, run_id)
            return check["fetched_at"], run.finished_at if run is not None else None
    return None
