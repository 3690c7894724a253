"""An audit run: stored observations in, one audit_run with its findings out.

It gathers stored observations into an AuditInput (the site and plan rows of
audit/site_rows.py and audit/plan_rows.py, of the runs audit/run_selection.py picks), runs
every rule of the registry (pure functions that never touch the database), and writes one
audit_run with its findings in one transaction. Re-running with
another policy changes the findings without re-crawling.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.db import Database
from audit.domain_names import registrable_domain
from audit.findings import AuditInput, FindingDraft
from audit.freeze import FirstCapture, RdapView, SnapshotView
from audit.guideline_predicates import KeptPage, SiteFacts
from audit.guidelines import CheckResult, checks_at, evaluate_sets, tally
from audit.inventory import registry_entries
from audit.models import (
    ArchiveFirstSeen,
    AuditRun,
    CrawlRun,
    EndpointObservation,
    Finding,
    KeptResponse,
    LinkObservation,
    OpenObservation,
    PlanCheck,
    RdapResult,
    ResponseBody,
    SiteObservation,
)
from audit.plan_facts import judged_plan_checks
from audit.plan_rows import plans_rows
from audit.plan_status import PlanPolicy
from audit.policy_file import GuidelineCheck, Policy
from audit.rules import RULES
from audit.run_selection import NoData, latest_run
from audit.site_rows import endpoints_by_domain, site_row, sites_rows
from audit.site_status import SiteStatus, classify_site
from audit.waivers_file import Waiver

CONCLUSIVE_RDAP = ("registered", "not-registered")


def _snapshots(session: Session) -> tuple[list[SnapshotView], dict[str, tuple[str | None, bool]]]:
    entries = registry_entries(session)
    views = [
        SnapshotView(s.id, s.as_of, s.source_name, s.kind, frozenset(entries.members[s.id]))
        for s in sorted(entries.snapshots.values(), key=lambda s: (s.as_of, s.id))
    ]
    return views, {
        name: (agency, (dtype or "").startswith("Federal"))
        for name, (agency, dtype) in entries.newest.items()
    }


def _rdap(session: Session) -> dict[str, RdapView]:
    """Newest conclusive answer per domain; else the newest answer of any kind."""
    chosen: dict[str, RdapResult] = {}
    for r in session.scalars(select(RdapResult).order_by(RdapResult.fetched_at, RdapResult.id)):
        current = chosen.get(r.domain)
        if current is None or r.state in CONCLUSIVE_RDAP or current.state not in CONCLUSIVE_RDAP:
            chosen[r.domain] = r
    return {d: RdapView(r.state, r.registration, r.fetched_at, r.url) for d, r in chosen.items()}


def _first_captures(session: Session) -> dict[str, FirstCapture]:
    """Each domain's earliest capture that `govaudit archive first-seen` found, in any
    archive it asked."""
    out: dict[str, FirstCapture] = {}
    for row in session.scalars(
        select(ArchiveFirstSeen)
        .where(ArchiveFirstSeen.state == "found", ArchiveFirstSeen.first_capture.is_not(None))
        .order_by(ArchiveFirstSeen.first_capture, ArchiveFirstSeen.id)
    ):
        assert row.first_capture is not None
        if row.domain not in out:
            out[row.domain] = FirstCapture(
                row.first_capture, row.capture_url, row.archive, row.fetched_at
            )
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _endpoint_facts(e: EndpointObservation) -> dict[str, Any]:
    return {
        "url": e.url,
        "status": e.status,
        "error_kind": e.error_kind,
        "final_url": e.final_url,
        "redirect_chain": e.redirect_chain or [],
        "redirects_to_https": e.redirects_to_https,
        "hsts": e.hsts,
        "fetched_at": _iso(e.fetched_at),
        # Certificate verification state, where the crawl recorded one (valid, expired, ...).
        "tls": getattr(e, "tls", None),
        "tls_detail": getattr(e, "tls_detail", None),
    }


def guideline_sites(
    session: Session, run_id: int, classify: Callable[..., SiteStatus] = classify_site
) -> Iterator[SiteFacts]:
    """Each site of a crawl run with the facts guideline checks read, one at a time (a kept
    homepage body is loaded and decompressed only for its own site). `classify`: how its
    status is judged (a website's: audit.website_status.classify_website)."""
    endpoints = endpoints_by_domain(session, run_id)
    kept: dict[str, dict[str, KeptResponse]] = defaultdict(dict)
    for k in session.scalars(select(KeptResponse).where(KeptResponse.run_id == run_id)):
        kept[k.domain][k.purpose] = k
    sites = session.scalars(
        select(SiteObservation)
        .where(SiteObservation.run_id == run_id)
        .order_by(SiteObservation.domain)
    ).all()
    a11y_homepages, a11y_checked = _a11y_homepages(session)
    run = session.get(CrawlRun, run_id)
    dns_by_domain, dns_checked = _dns_by_domain(session)
    for site in sites:
        row = site_row(site, endpoints[site.domain], run, classify)
        responses = {}
        for purpose, k in kept[site.domain].items():
            body = None
            if k.body_sha256:
                body = session.execute(
                    select(ResponseBody.body).where(ResponseBody.sha256 == k.body_sha256)
                ).scalar()
            stored = {
                "url": k.url,
                "final_url": k.final_url,
                "status": k.status,
                "fetched_at": _iso(k.fetched_at),
                "headers": k.headers,
                "truncated": k.truncated,
            }
            responses[purpose] = KeptPage.from_stored(stored, body)
        yield SiteFacts(
            domain=site.domain,
            agency=site.agency,
            status=row["status"],
            status_reason=row["status_reason"],
            crawl_run=run_id,
            fetched_at=row["fetched_at"],
            homepage_url=site.homepage_url,
            homepage=dict(site.homepage or {}),
            endpoints=[_endpoint_facts(e) for e in endpoints[site.domain]],
            robots=dict(site.robots or {}),
            sitemap=dict(site.sitemap or {}),
            security_txt=dict(site.security_txt or {}),
            responses=responses,
            responses_kept=bool(kept),
            a11y=a11y_homepages.get(site.domain),
            a11y_checked=a11y_checked,
            dns=dns_by_domain.get(site.domain),
            dns_checked=dns_checked,
        )


def _a11y_homepages(session: Session) -> tuple[dict[str, dict[str, Any]], bool]:
    """domain -> its homepage's page in the newest accessibility run; whether one exists."""
    from audit.a11y import a11y_pages, has_role

    try:
        run = latest_run(session, "a11y")
    except NoData:
        return {}, False
    pages = a11y_pages(session, run.id)
    return {p["domain"]: p for p in pages if has_role(p, "homepage")}, True


def _dns_by_domain(session: Session) -> tuple[dict[str, dict[str, Any]], bool]:
    """domain -> its observation in the newest finished DNS run; whether one exists."""
    from audit.dns_results import dns_observations

    try:
        run = latest_run(session, "dns")
    except NoData:
        return {}, False
    return {o["domain"]: o for o in dns_observations(session, run.id)}, True


def judge_guidelines(
    session: Session,
    check_sets: Sequence[Sequence[GuidelineCheck]],
    crawl_run_id: int | None = None,
    level: str = "domains",
) -> tuple[int, list[list[CheckResult]]]:
    """Each set of guideline checks over the stored observations of a crawl run (default:
    the newest with site results, or with `level` "websites" the newest website crawl):
    nothing is fetched, nothing is written."""
    if level == "websites":
        from audit.website_status import classify_website

        run = latest_run(session, "websites", crawl_run_id)
        return run.id, evaluate_sets(check_sets, guideline_sites(session, run.id, classify_website))
    run = latest_run(session, "sites", crawl_run_id)
    return run.id, evaluate_sets(check_sets, guideline_sites(session, run.id))


def gather(
    session: Session, policy: Policy, waivers: list[Waiver], crawl_run_id: int | None = None
) -> AuditInput:
    snapshots, registry = _snapshots(session)
    data = AuditInput(
        policy=policy,
        waivers=waivers,
        snapshots=snapshots,
        registry=registry,
        rdap=_rdap(session),
        first_captures=_first_captures(session),
    )
    try:
        run = latest_run(session, "sites", crawl_run_id)
    except NoData:
        run = None
    try:
        # The /open check of the same kind as the site crawl (live, or the same archives
        # as of the same date): never an archived one beside a live one.
        open_run = latest_run(session, "open", crawl_run_id, like=run)
    except NoData:
        open_run = None
    if crawl_run_id is not None and run is None and open_run is None:
        raise NoData(f"crawl run {crawl_run_id} does not exist or has no site or /open results")
    if run is not None:
        data.crawl_run_id = run.id
        data.sites = sites_rows(session, run.id)
        agency_of = {s["domain"]: s["agency"] for s in data.sites}
        fetched = {s["domain"]: s["fetched_at"] for s in data.sites}
        for link in session.scalars(
            select(LinkObservation)
            .where(LinkObservation.run_id == run.id, LinkObservation.kind == "gov-unlisted")
            .order_by(LinkObservation.id)
        ):
            target = registrable_domain(link.to_host or "")
            if target and target not in data.unlisted:
                data.unlisted[target] = {
                    "crawl_run": run.id,
                    "from_url": link.from_url,
                    "to_url": link.to_url,
                    "linking_domain": link.domain,
                    "agency": agency_of.get(link.domain),
                    "fetched_at": fetched.get(link.domain),
                }
        for domain, first_run, first_at in session.execute(
            select(
                SiteObservation.domain,
                func.min(SiteObservation.run_id),
                func.min(SiteObservation.fetched_at),
            )
            .where(
                SiteObservation.homepage_url.is_not(None),
                # fetched_at of a crawl of web archives is not when the site was up
                SiteObservation.run_id.in_(select(CrawlRun.id).where(CrawlRun.as_of.is_(None))),
            )
            .group_by(SiteObservation.domain)
        ):
            data.first_alive[domain] = {
                "crawl_run": first_run,
                "fetched_at": first_at.isoformat(timespec="seconds"),
            }
        checks = checks_at(policy.guideline_checks, "domains")
        if checks:
            data.guideline_results = evaluate_sets([checks], guideline_sites(session, run.id))[0]
    if open_run is not None:
        data.open_run_id = open_run.id
        plans = policy.section("plans")
        checks = judged_plan_checks(session, open_run.id, PlanPolicy.from_section(plans))
        data.plan_checks = checks
        data.plans = plans_rows(session, open_run.id, policy.plan_deadline, plans, checks)
    _gather_a11y(session, data)
    _gather_dns(session, data)
    return data


def _store_plan_checks(session: Session, data: AuditInput, audit_run_id: int) -> None:
    """Keep this audit's plan judgement in `plan_check` for SQL readers: one row per agency
    the /open crawl observed, replacing an earlier audit's."""
    if data.open_run_id is None:
        return
    run_id = data.open_run_id
    observed = set(
        session.scalars(select(OpenObservation.agency).where(OpenObservation.run_id == run_id))
    )
    if not observed:
        return
    checks = [c for agency, c in data.plan_checks.items() if agency in observed]
    session.execute(
        PlanCheck.__table__.delete().where(
            PlanCheck.run_id == run_id, PlanCheck.agency.in_(sorted(observed))
        )
    )
    if checks:
        session.execute(
            PlanCheck.__table__.insert(),
            [{**check, "audit_run_id": audit_run_id} for check in checks],
        )


def _gather_a11y(session: Session, data: AuditInput) -> None:
    """The newest accessibility run's pages, when `govaudit a11y` has run."""
    from audit.a11y import a11y_pages

    try:
        a11y_run = latest_run(session, "a11y")
    except NoData:
        return
    data.a11y_run_id = a11y_run.id
    data.a11y_pages = a11y_pages(session, a11y_run.id)


def _gather_dns(session: Session, data: AuditInput) -> None:
    """The newest DNS run's domains judged under the policy's [email] section."""
    from audit.dns_results import dns_observations, homepage_hosts, judged_rows
    from audit.email_dns import EmailPolicy

    try:
        dns_run = latest_run(session, "dns")
    except NoData:
        return
    data.dns_run_id = dns_run.id
    data.dns_rows = judged_rows(
        dns_observations(session, dns_run.id),
        EmailPolicy.from_section(data.policy.section("email")),
        homepage_hosts(session, data.crawl_run_id),
    )


def evaluate(data: AuditInput, rules: list[str] | None = None) -> list[FindingDraft]:
    drafts: list[FindingDraft] = []
    for rule_id, rule in RULES.items():
        if rules and rule_id not in rules:
            continue
        drafts.extend(rule.check(data))
    return drafts


def summary(data: AuditInput, drafts: list[FindingDraft]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    rows = []
    for row in data.freeze_rows:
        c = row.classification
        counts[c.window.name][c.classification] += 1
        # Outside by an archived capture is shown too: the capture is its evidence.
        if (c.classification != "outside" or c.basis == "archive") and (
            c.basis != "snapshots" or c.classification != "unknown"
        ):
            rows.append(row.as_json())
    newest = data.snapshots[-1] if data.snapshots else None
    return {
        "crawl_run_id": data.crawl_run_id,
        "open_run_id": data.open_run_id,
        "snapshot": {
            "id": newest.id,
            "source_name": newest.source_name,
            "as_of": newest.as_of.isoformat(),
        }
        if newest
        else None,
        "windows": [
            {
                "name": w.name,
                "start": w.start.isoformat(),
                "end": w.end.isoformat(),
                "authority": w.authority,
            }
            for w in data.policy.windows
        ],
        "freeze_counts": {w: dict(c) for w, c in counts.items()},
        "freeze_rows": rows,
        "plan_counts": dict(Counter(p["status"] for p in data.plans)),
        "rule_counts": dict(Counter(d.rule for d in drafts)),
        # Per guideline check: counts fleet-wide and per agency (failures are findings).
        "guidelines": {
            "pack": data.policy.guideline_pack,
            "checks": [
                {k: v for k, v in t.items() if k not in ("failing", "couldnt_check_sites")}
                for t in tally(
                    checks_at(data.policy.guideline_checks, "domains"), data.guideline_results
                )
            ],
        },
    }


def run_audit(
    db: Database,
    policy: Policy,
    waivers: list[Waiver],
    crawl_run_id: int | None = None,
    waivers_source: str | None = None,
) -> tuple[int, list[FindingDraft], AuditInput]:
    with db.session() as session:
        data = gather(session, policy, waivers, crawl_run_id)
    drafts = evaluate(data)
    with db.session() as session:
        newest = data.snapshots[-1] if data.snapshots else None
        run = AuditRun(
            crawl_run_id=data.crawl_run_id,
            snapshot_id=newest.id if newest else None,
            policy=policy.as_json(),
            policy_hash=policy.sha256,
            policy_sources=[*policy.sources, *([waivers_source] if waivers_source else [])],
            summary=summary(data, drafts),
        )
        session.add(run)
        session.flush()
        _store_plan_checks(session, data, run.id)
        if drafts:
            session.execute(
                Finding.__table__.insert(),
                [
                    {
                        "audit_run_id": run.id,
                        "rule": d.rule,
                        "severity": d.severity,
                        "domain": d.domain,
                        "agency": d.agency,
                        "window": d.window,
                        "classification": d.classification,
                        "waiver": d.waiver,
                        "summary": d.summary,
                        "evidence": d.evidence,
                    }
                    for d in drafts
                ],
            )
        run_id = run.id
    return run_id, drafts, data
