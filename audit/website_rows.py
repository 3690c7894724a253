"""Rows for `govaudit export websites` and the report's Websites page: every website of the
inventory with its sources and what the newest website crawl saw of it, judged
(audit/website_status.py). These functions only read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import CrawlRun, CrawlTask, EndpointObservation, SiteObservation
from audit.run_selection import NoData, latest_run
from audit.site_rows import endpoints_by_domain, site_row
from audit.url_secrets import masked
from audit.website_inventory import website_rows
from audit.website_status import candidate, classify_website, retire_status

WEBSITES_JOB = "websites"
EXPORT_COLUMNS = [
    "host",
    "domain",
    "agency",
    "sources",
    "first_seen",
    "last_seen",
    "status",
    "status_reason",
    "redirect_target",
    "final_url",
    "https",
    "hsts",
    "tls",
    "dap",
    "uswds_banner",
    "site_search",
    "candidate",
    "crawl_run",
    "fetched_at",
]
# What the crawl saw, beside the export's columns (the report shows them too).
CRAWL_FIELDS = [
    "status",
    "status_reason",
    "redirect_target",
    "final_url",
    "https",
    "hsts",
    "tls",
    "dap",
    "uswds_banner",
    "site_search",
    "required_links",
    "title",
    "crawl_run",
    "fetched_at",
]


def website_run(session: Session, run_id: int | None = None) -> CrawlRun | None:
    """The website crawl `run_id`, else the newest finished one; None when there is none
    (a named run that does not exist raises NoData)."""
    try:
        return latest_run(session, WEBSITES_JOB, run_id)
    except NoData:
        if run_id is not None:
            raise
        return None


def crawled_rows(
    session: Session, run_id: int, hosts: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """host -> the judged row of what run `run_id` saw of it (`hosts`: only those)."""
    wanted = set(hosts) if hosts is not None else None
    if wanted is not None and not wanted:
        return {}
    query = select(SiteObservation).where(SiteObservation.run_id == run_id)
    endpoints_query = select(EndpointObservation).where(EndpointObservation.run_id == run_id)
    if wanted is not None and len(wanted) <= 500:
        query = query.where(SiteObservation.domain.in_(sorted(wanted)))
        endpoints_query = endpoints_query.where(EndpointObservation.domain.in_(sorted(wanted)))
        endpoints: dict[str, list[Any]] = {}
        for e in session.scalars(endpoints_query.order_by(EndpointObservation.id)):
            endpoints.setdefault(e.domain, []).append(e)
    else:
        endpoints = endpoints_by_domain(session, run_id)
    out = {}
    for site in session.scalars(query):
        if wanted is not None and site.domain not in wanted:
            continue
        row = site_row(site, endpoints.get(site.domain, []), classify=classify_website)
        out[site.domain] = {k: row[k] for k in CRAWL_FIELDS}
    return out


def _older_runs(session: Session, run: CrawlRun) -> list[int]:
    jobs = select(CrawlTask.run_id).where(CrawlTask.job == WEBSITES_JOB)
    return list(
        session.scalars(
            select(CrawlRun.id)
            .where(CrawlRun.id < run.id, CrawlRun.status == "finished", CrawlRun.id.in_(jobs))
            .order_by(CrawlRun.id.desc())
        )
    )


def retire_since(
    session: Session, run: CrawlRun, current: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """host -> when the website was first seen in its present state (unreachable, parked,
    only redirecting) without a break: the fetch time of the earliest of the unbroken run of
    website crawls, newest first, that saw it so."""
    since = {h: r["fetched_at"] for h, r in current.items()}
    open_hosts = set(current)
    for older in _older_runs(session, run):
        if not open_hosts:
            break
        seen = crawled_rows(session, older, open_hosts)
        for host in list(open_hosts):
            row = seen.get(host)
            if row is None or not retire_status(host, row["status"], row["redirect_target"]):
                open_hosts.discard(host)
                continue
            since[host] = row["fetched_at"]
    return since


def judged_websites(
    session: Session,
    run_id: int | None = None,
    agency: str | None = None,
    source: str | None = None,
) -> tuple[CrawlRun | None, list[dict[str, Any]]]:
    """The website crawl shown and every website of the inventory (narrowed by `agency` and
    `source` as `inventory websites` is) with its judged crawl row (empty when the run did
    not crawl it), its candidate list and, for candidates to retire, since when."""
    run = website_run(session, run_id)
    inventory = website_rows(session, agency, source)
    seen = crawled_rows(session, run.id) if run is not None else {}
    rows = []
    for website in inventory:
        crawl = seen.get(website["host"]) or {k: None for k in CRAWL_FIELDS}
        row = {**website, **crawl}
        row["candidate"] = candidate(row)
        rows.append(row)
    if run is not None:
        retiring = {r["host"]: r for r in rows if r["candidate"] == "retire"}
        since = retire_since(session, run, retiring)
        for row in rows:
            row["since"] = since.get(row["host"])
    return run, rows


def export_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The export's columns, in order, and nothing else."""
    return masked([{k: r.get(k) for k in EXPORT_COLUMNS} for r in rows])


def website_count(session: Session) -> int:
    from audit.models import Website

    return int(session.scalar(select(func.count()).select_from(Website)) or 0)
