"""Rows for `govaudit export` and the reports: stored observations, read back as plain data.

Every column is documented in README.md (section "Exports"). These functions only read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from audit.models import (
    AuditRun,
    CrawlRun,
    CrawlTask,
    EndpointObservation,
    Finding,
    LinkObservation,
    PageObservation,
    PlanCheck,
    SiteObservation,
)
from audit.site_status import EndpointObservation as Endpoint
from audit.site_status import classify_site

SITE_COLUMNS = [
    "domain",
    "agency",
    "status",
    "status_reason",
    "redirect_target",
    "final_url",
    "https",
    "http_redirects_to_https",
    "hsts",
    "title",
    "robots_txt",
    "sitemap_xml",
    "security_txt",
    "dap",
    "required_links",
    "soft_404",
    "pages_crawled",
    "broken_links",
    "hostnames",
    "unlisted_gov_domains",
    "site_search",
    "uswds_banner",
    "language",
    "generator",
    "crawl_run",
    "fetched_at",
]
PAGE_COLUMNS = [
    "domain",
    "url",
    "depth",
    "referrer",
    "status",
    "error_kind",
    "title",
    "content_type",
    "content_hash",
    "fetched_at",
    "crawl_run",
]
LINK_COLUMNS = ["domain", "from_url", "to_url", "to_host", "kind", "status", "crawl_run"]
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
]
FINDING_COLUMNS = [
    "rule",
    "severity",
    "domain",
    "agency",
    "window",
    "classification",
    "waiver",
    "summary",
    "evidence",
    "audit_run",
]


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """The CSV of `govaudit export` and the report's downloads: JSON for objects and lists,
    an empty cell for null."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(
            [
                json.dumps(v, default=str)
                if isinstance(v, dict | list)
                else ("" if v is None else v)
                for v in (r.get(c) for c in columns)
            ]
        )
    return buf.getvalue()


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


def latest_run(
    session: Session, job: str = "sites", run_id: int | None = None, *, up_to: int | None = None
) -> CrawlRun:
    """The crawl run `run_id` (finished or not: a named run is shown as it is), else the
    newest run whose `job` finished (no later than `up_to` when given)."""
    if run_id is not None:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise NoData(f"no crawl run {run_id}")
        has_job = session.scalar(
            select(func.count())
            .select_from(CrawlTask)
            .where(CrawlTask.run_id == run_id, CrawlTask.job == job)
        )
        if not has_job:
            raise NoData(f"crawl run {run_id} has no {job} results")
        return run
    query = _finished_runs(job)
    if up_to is not None:
        query = query.where(CrawlRun.id <= up_to)
    run = session.scalars(query.order_by(CrawlRun.id.desc()).limit(1)).first()
    if run is None:
        raise NoData(f"no finished crawl with {job} results yet (run `govaudit crawl`)")
    return run


def previous_run(session: Session, run: CrawlRun, job: str = "sites") -> CrawlRun | None:
    """The newest finished run of `job` before `run`: what run-to-run changes compare with."""
    return session.scalars(
        _finished_runs(job).where(CrawlRun.id < run.id).order_by(CrawlRun.id.desc()).limit(1)
    ).first()


def _hsts_on(value: str | None) -> bool:
    if not value:
        return False
    for part in value.split(";"):
        key, _, num = part.strip().partition("=")
        if key.strip().lower() == "max-age":
            try:
                return int(num.strip().strip('"')) > 0
            except ValueError:
                return False
    return False


def site_row(site: SiteObservation, endpoints: list[EndpointObservation]) -> dict[str, Any]:
    """One domain's row: the stored observations plus the classification derived from them."""
    status = classify_site(
        site.domain,
        [
            Endpoint(e.url, e.status, e.error_kind, e.final_url, e.title, e.body_text)
            for e in endpoints
        ],
    )
    home = site.homepage or {}
    answered_http = [e for e in endpoints if e.url.startswith("http://") and e.error_kind is None]
    chosen = next((e for e in endpoints if e.final_url == site.homepage_url), None)
    final_url = site.homepage_url or next(
        (e.final_url for e in endpoints if e.final_url and e.error_kind is None), None
    )
    return {
        "domain": site.domain,
        "agency": site.agency,
        "status": status.status,
        "status_reason": status.reason,
        "redirect_target": status.redirect_target,
        "final_url": final_url,
        "https": any(e.https_ok for e in endpoints),
        "http_redirects_to_https": bool(answered_http)
        and all(e.redirects_to_https for e in answered_http),
        "hsts": any(_hsts_on(e.hsts) for e in endpoints if e.url.startswith("https://")),
        "title": home.get("title") or (chosen.title if chosen else None),
        "robots_txt": bool((site.robots or {}).get("present")),
        "sitemap_xml": bool((site.sitemap or {}).get("present")),
        "security_txt": bool((site.security_txt or {}).get("present")),
        "dap": bool(home.get("dap")),
        "required_links": home.get("required_links") or {},
        "soft_404": bool((site.soft_404 or {}).get("answers_200")),
        "pages_crawled": site.pages_crawled,
        "broken_links": site.broken_links,
        "hostnames": site.hostnames or [],
        "unlisted_gov_domains": site.unlisted_gov_domains or [],
        "site_search": bool(home.get("site_search")),
        "uswds_banner": bool(home.get("uswds_banner")),
        "language": home.get("language"),
        "generator": list(home.get("generator_hints") or []),
        "crawl_run": site.run_id,
        "fetched_at": site.fetched_at.isoformat(timespec="seconds"),
    }


def sites_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    endpoints: dict[str, list[EndpointObservation]] = defaultdict(list)
    for e in session.scalars(
        select(EndpointObservation)
        .where(EndpointObservation.run_id == run_id)
        .order_by(EndpointObservation.id)
    ):
        endpoints[e.domain].append(e)
    sites = session.scalars(
        select(SiteObservation)
        .where(SiteObservation.run_id == run_id)
        .order_by(SiteObservation.domain)
    )
    return [site_row(s, endpoints[s.domain]) for s in sites]


def pages_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    return [
        {
            "domain": p.domain,
            "url": p.url,
            "depth": p.depth,
            "referrer": p.referrer,
            "status": p.status,
            "error_kind": p.error_kind,
            "title": p.title,
            "content_type": p.content_type,
            "content_hash": p.content_hash,
            "fetched_at": p.fetched_at.isoformat(timespec="seconds"),
            "crawl_run": p.run_id,
        }
        for p in session.scalars(
            select(PageObservation)
            .where(PageObservation.run_id == run_id)
            .order_by(PageObservation.domain, PageObservation.url)
        )
    ]


def links_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    return [
        {
            "domain": lk.domain,
            "from_url": lk.from_url,
            "to_url": lk.to_url,
            "to_host": lk.to_host,
            "kind": lk.kind,
            "status": lk.status,
            "crawl_run": lk.run_id,
        }
        for lk in session.scalars(
            select(LinkObservation)
            .where(LinkObservation.run_id == run_id)
            .order_by(LinkObservation.domain, LinkObservation.kind, LinkObservation.to_url)
        )
    ]


def plan_first_seen(
    session: Session, agency: str, plan_url: str | None, up_to_run: int | None = None
) -> dt.datetime | None:
    """When a crawl (this one or an earlier one) first saw a plan of this agency, published
    or incomplete; None when this check found none. Any URL counts: agencies move plans."""
    if plan_url is None:
        return None
    query = select(func.min(PlanCheck.fetched_at)).where(
        PlanCheck.agency == agency, PlanCheck.status.in_(["published", "incomplete"])
    )
    if up_to_run is not None:
        query = query.where(PlanCheck.run_id <= up_to_run)
    return session.scalar(query)


def plan_row(
    check: PlanCheck, first_seen: dt.datetime | None, deadline: dt.date | None
) -> dict[str, Any]:
    """One agency's plan check. `late`: the plan's stated date, or else the first crawl that
    saw it, is after the deadline; None when there is no plan to date."""
    has_plan = check.status in ("published", "incomplete")
    evidence_date = check.stated_date or (first_seen.date() if first_seen else None)
    late = None
    if has_plan and deadline is not None and evidence_date is not None:
        late = evidence_date > deadline
    elements = {name: snippet is not None for name, snippet in (check.elements or {}).items()}
    return {
        "agency": check.agency,
        "domain": check.domain,
        "open_page_url": check.open_page_url,
        "status": check.status,
        "status_reason": check.reason,
        "plan_url": check.plan_url,
        "plan_content_type": check.plan_content_type,
        "elements": elements,
        "missing_elements": list((check.extras or {}).get("missing", [])),
        "stated_date": check.stated_date.isoformat() if check.stated_date else None,
        "first_seen": first_seen.isoformat(timespec="seconds") if first_seen else None,
        "late": late,
        "evidence": {
            **(check.evidence or {}),
            "plan_hash": check.plan_hash,
            "snippets": {k: v for k, v in (check.elements or {}).items() if v},
            "candidates": (check.extras or {}).get("candidates", []),
            "open_gov_plan_url": (check.extras or {}).get("open_gov_plan_url"),
            "feedback_url": (check.extras or {}).get("feedback_url"),
        },
        "crawl_run": check.run_id,
        "fetched_at": check.fetched_at.isoformat(timespec="seconds"),
    }


def plans_rows(session: Session, run_id: int, deadline: dt.date | None) -> list[dict[str, Any]]:
    checks = session.scalars(
        select(PlanCheck).where(PlanCheck.run_id == run_id).order_by(PlanCheck.agency)
    ).all()
    return [
        plan_row(c, plan_first_seen(session, c.agency, c.plan_url, run_id), deadline)
        for c in checks
    ]


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


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def findings_rows(
    session: Session, audit_run_id: int, rule: str | None = None
) -> list[dict[str, Any]]:
    query = select(Finding).where(Finding.audit_run_id == audit_run_id)
    if rule:
        query = query.where(Finding.rule == rule)
    rows = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "domain": f.domain,
            "agency": f.agency,
            "window": f.window,
            "classification": f.classification,
            "waiver": f.waiver,
            "summary": f.summary,
            "evidence": f.evidence,
            "audit_run": f.audit_run_id,
        }
        for f in session.scalars(query)
    ]
    rows.sort(
        key=lambda r: (
            SEVERITY_ORDER.get(r["severity"], 9),
            r["rule"],
            r["domain"] or "",
            r["window"] or "",
            r["agency"] or "",
        )
    )
    return rows
