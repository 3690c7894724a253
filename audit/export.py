"""Rows for `govaudit export` and the reports: stored observations, read back as plain data.

Every column is documented in docs/reference.md ("`govaudit export`"). These functions only read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
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
    OpenObservation,
    OpenTry,
    PageObservation,
    PlanCheck,
    PlanDocument,
    SiteObservation,
)
from audit.plan_status import (
    HAS_PLAN,
    PlanFacts,
    PlanPolicy,
    check_fields,
    facts_from_rows,
    judge_plan,
    lateness,
)
from audit.policy_file import load_policy
from audit.site_status import EndpointObservation as Endpoint
from audit.site_status import SiteStatus, classify_site

# A crawl of web archives (`crawl --archive`): the archive that answered, the run's as-of
# date, and the capture's Memento-Datetime; empty for a crawl of the live web.
ARCHIVE_COLUMNS = ["archive", "as_of", "memento_datetime"]
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
    "truncated",
    "hostnames",
    "unlisted_gov_domains",
    "site_search",
    "uswds_banner",
    "language",
    "generator",
    "crawl_run",
    "fetched_at",
    # added after the first release: at the end, so positional CSV readers keep working
    "tls",
    "tls_detail",
    *ARCHIVE_COLUMNS,
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
    *ARCHIVE_COLUMNS,
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
    "date_note",
    "warc_file",
    "warc_offset",
    *ARCHIVE_COLUMNS,
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
    "warc_file",
    "warc_offset",
    "finding_id",
]


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): crawled
# titles and link texts are the site's words, so such cells get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Query parameters carrying credentials or sessions, by name: their values are masked in
# exports (a crawled URL may hold someone's session).
_SECRET_NAME = re.compile(
    r"token|session|sessid|secret|passw|auth|apikey|api_key|api-key|signature|credential|ticket"
    r"|^(?:sid|sess|pwd|sig|key)$",
    re.IGNORECASE,
)
_QUERY_PARAM = re.compile(r"([?&;])([^=&#?;\s\"'<>]+)=([^&#?;\s\"'<>]*)")
MASK = "***"


def mask_url_secrets(text: str) -> str:
    """`text` with the values of token- or session-like query parameters replaced by ***."""
    if "=" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        sep, name, value = match.groups()
        if value and _SECRET_NAME.search(name):
            return f"{sep}{name}={MASK}"
        return match.group(0)

    return _QUERY_PARAM.sub(replace, text)


def masked(value: Any) -> Any:
    """`value` (a row, or anything in one) with secrets in URLs masked."""
    if isinstance(value, str):
        return mask_url_secrets(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: JSON for objects and lists, "" for null, formulas disarmed."""
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str)
    if value is None:
        return ""
    if isinstance(value, str):
        if value.startswith(_FORMULA_START):
            value = "'" + value
        # csv quotes a cell holding "\n" (our line end) but not a bare "\r", which readers
        # take as a row end: line breaks are written as "\n".
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """The CSV of `govaudit export` and the report's downloads: JSON for objects and lists,
    an empty cell for null, cells a spreadsheet would run as formulas disarmed."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([csv_cell(r.get(c)) for c in columns])
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


def certificate_summary(endpoints: list[EndpointObservation]) -> tuple[str | None, list[Any]]:
    """The site's certificate state and the per-endpoint evidence.

    `valid` when an https endpoint answered with a certificate that verifies (that endpoint is
    what makes HTTPS count as served); otherwise the state of the first https endpoint that
    answered (www before bare); None when none answered.
    """
    checked = [e for e in endpoints if e.url.startswith("https://") and e.tls]
    detail = [{"url": e.url, **(e.tls_detail or {"state": e.tls})} for e in checked]
    if not checked:
        return None, detail
    if any(e.tls == "valid" for e in checked):
        return "valid", detail
    return checked[0].tls, detail


def site_row(
    site: SiteObservation,
    endpoints: list[EndpointObservation],
    run: CrawlRun | None = None,
    classify: Callable[..., SiteStatus] = classify_site,
) -> dict[str, Any]:
    """One domain's row: the stored observations plus the classification derived from them
    (`run`: the crawl run, for a crawl of web archives' columns; `classify`: a website's is
    audit.website_status.classify_website)."""
    status = classify(
        site.domain,
        [
            Endpoint(e.url, e.status, e.error_kind, e.final_url, e.title, e.body_text)
            for e in endpoints
        ],
        run.as_of if run is not None else None,
    )
    reason = status.reason
    tls, tls_detail = certificate_summary(endpoints)
    if tls is not None and tls != "valid":
        first = next(d for d in tls_detail if d.get("state") == tls)
        why = first.get("reason") or tls
        reason = f"{reason}; HTTPS not counted: certificate {tls} at {first['url']} ({why})"
    verified = [e for e in endpoints if e.url.startswith("https://") and e.tls == "valid"]
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
        "status_reason": reason,
        "redirect_target": status.redirect_target,
        "final_url": final_url,
        "https": any(e.https_ok for e in verified),
        "http_redirects_to_https": bool(answered_http)
        and all(e.redirects_to_https for e in answered_http),
        # A browser ignores HSTS sent over a connection whose certificate does not verify.
        "hsts": any(_hsts_on(e.hsts) for e in verified),
        "tls": tls,
        "tls_detail": tls_detail,
        "title": home.get("title") or (chosen.title if chosen else None),
        "robots_txt": bool((site.robots or {}).get("present")),
        "sitemap_xml": bool((site.sitemap or {}).get("present")),
        "security_txt": bool((site.security_txt or {}).get("present")),
        "dap": bool(home.get("dap")),
        "required_links": home.get("required_links") or {},
        "soft_404": bool((site.soft_404 or {}).get("answers_200")),
        "pages_crawled": site.pages_crawled,
        "broken_links": site.broken_links,
        "truncated": site.truncated,
        "hostnames": site.hostnames or [],
        "unlisted_gov_domains": site.unlisted_gov_domains or [],
        "site_search": bool(home.get("site_search")),
        "uswds_banner": bool(home.get("uswds_banner")),
        "language": home.get("language"),
        "generator": list(home.get("generator_hints") or []),
        "crawl_run": site.run_id,
        "fetched_at": site.fetched_at.isoformat(timespec="seconds"),
        **_homepage_capture(run, chosen, endpoints),
    }


def _homepage_capture(
    run: CrawlRun | None,
    chosen: EndpointObservation | None,
    endpoints: list[EndpointObservation],
) -> dict[str, Any]:
    """A site's archive columns: the capture of the endpoint that gave the homepage, else
    of the first endpoint an archive answered."""
    captured = chosen if chosen is not None and chosen.capture_url else None
    if captured is None:
        captured = next((e for e in endpoints if e.capture_url), None)
    if captured is None:
        return archive_fields(run, None, None)
    return archive_fields(run, captured.capture_url, captured.memento_datetime)


def endpoints_by_domain(session: Session, run_id: int) -> dict[str, list[EndpointObservation]]:
    """A run's endpoint rows per domain, in the order they were stored."""
    endpoints: dict[str, list[EndpointObservation]] = defaultdict(list)
    for e in session.scalars(
        select(EndpointObservation)
        .where(EndpointObservation.run_id == run_id)
        .order_by(EndpointObservation.id)
    ):
        endpoints[e.domain].append(e)
    return endpoints


def sites_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    endpoints = endpoints_by_domain(session, run_id)
    run = session.get(CrawlRun, run_id)
    sites = session.scalars(
        select(SiteObservation)
        .where(SiteObservation.run_id == run_id)
        .order_by(SiteObservation.domain)
    )
    return [masked(site_row(s, endpoints[s.domain], run)) for s in sites]


def pages_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    run = session.get(CrawlRun, run_id)
    rows = [
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
            **archive_fields(run, p.capture_url, p.memento_datetime),
        }
        for p in session.scalars(
            select(PageObservation)
            .where(PageObservation.run_id == run_id)
            .order_by(PageObservation.domain, PageObservation.url)
        )
    ]
    return masked(rows)


def links_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    rows = [
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
    return masked(rows)


def _plans_policy(session: Session, plans: Mapping[str, Any] | None) -> PlanPolicy:
    """The `[plans]` policy to judge with: the one given, else the newest audit's, else the
    shipped policy.toml."""
    if plans is None:
        newest = session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(1)).first()
        plans = (newest.policy or {}).get("plans") if newest is not None else None
    if not plans:
        plans = load_policy().section("plans")
    return PlanPolicy.from_section(plans)


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
    from audit.warc_citations import CitationIndex, finding_run_ids

    query = select(Finding).where(Finding.audit_run_id == audit_run_id)
    if rule:
        query = query.where(Finding.rule == rule)
    findings = list(session.scalars(query))
    index = CitationIndex(session, finding_run_ids(session, findings))
    rows = []
    for f in findings:
        # The first record the finding cites (a plan finding: its /open page).
        cited = index.cited(f)
        rows.append(
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
                "warc_file": cited[0].warc_file if cited else None,
                "warc_offset": cited[0].warc_offset if cited else None,
                "finding_id": f.id,
            }
        )
    rows.sort(
        key=lambda r: (
            SEVERITY_ORDER.get(r["severity"], 9),
            r["rule"],
            r["domain"] or "",
            r["window"] or "",
            r["agency"] or "",
        )
    )
    return masked(rows)
