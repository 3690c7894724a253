"""The only part of reports/ that reads the store: everything the report shows, as plain data.

It reuses the row builders of `audit.site_rows`, `audit.plan_rows`, `audit.export` and
`audit.inventory` (so the report shows the
same numbers as `govaudit export`); the views in `reports/views/` are pure functions of what
`gather` returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.agencies_file import AgencySeed, load_agencies
from audit.audit_run import judge_guidelines
from audit.export import findings_rows
from audit.guidelines import checks_at, tally
from audit.inventory import SnapshotNotFound, entry_rows, find_snapshot
from audit.models import AuditRun, CrawlRun, RegistrySnapshot
from audit.plan_rows import plans_rows
from audit.policy_file import Policy, load_policy
from audit.run_selection import (
    JobProgress,
    NoData,
    archived_runs,
    job_progress,
    latest_audit,
    latest_run,
    previous_run,
    seen_as,
)
from audit.site_rows import sites_rows
from reports.display import iso, json_safe, parse_day, shown_path


def run_info(run: CrawlRun | None, progress: JobProgress | None = None) -> dict[str, Any] | None:
    """A crawl run as shown: ids and times, settings and stats, and how far its job got
    (`partial` when tasks were still pending: a crawl that did not finish)."""
    if run is None:
        return None
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "status": run.status,
        "snapshot_id": run.snapshot_id,
        "tasks_done": progress.done if progress else None,
        "tasks_total": progress.total if progress else None,
        "partial": bool(progress and progress.partial),
        "settings": shown_settings(run.settings or {}),
        "stats": run.stats or {},
        # a crawl of web archives: "as archived near DATE" (None: the live web)
        "seen_as": seen_as(run),
        "archive": run.archive.split() if run.archive else [],
        "as_of": iso(run.as_of),
    }


# Settings that name files or folders of the machine that crawled (shown_path).
_PATH_SETTINGS = ("policy_sources", "warc_dir", "ca_bundle", "waivers", "agencies")


def shown_settings(settings: dict[str, Any]) -> dict[str, Any]:
    shown = dict(settings)
    for key in _PATH_SETTINGS:
        value = shown.get(key)
        if isinstance(value, list):
            shown[key] = [shown_path(v) for v in value]
        elif value is not None:
            shown[key] = shown_path(value)
    return shown


def audit_info(audit: AuditRun | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    return {
        "id": audit.id,
        "started_at": iso(audit.started_at),
        "crawl_run_id": audit.crawl_run_id,
        "snapshot_id": audit.snapshot_id,
        "policy_hash": audit.policy_hash,
        "policy_sources": [shown_path(str(s)) for s in audit.policy_sources or []],
    }


def snapshot_info(snap: RegistrySnapshot | None) -> dict[str, Any] | None:
    if snap is None:
        return None
    return {
        "id": snap.id,
        "source_name": snap.source_name,
        "as_of": iso(snap.as_of),
        "kind": snap.kind,
        "rows_loaded": snap.rows_loaded,
        "loaded_at": iso(snap.loaded_at),
    }


def freeze_windows(raw: Any) -> list[dict[str, Any]]:
    out = []
    for w in raw or []:
        if not isinstance(w, dict):
            continue
        out.append(
            {
                "name": str(w.get("name") or "(unnamed window)"),
                "start": iso(parse_day(w.get("start"))),
                "end": iso(parse_day(w.get("end"))),
                "authority": str(w.get("authority") or ""),
            }
        )
    return out


def _open_run(
    session: Session, run_id: int | None, open_id: int | None, sites_run: CrawlRun | None
) -> CrawlRun | None:
    """The /open check shown: the audit's, else the named run's own (or the newest finished
    one before it), else the newest finished one; of the same kind as the site crawl shown
    (live, or the same archives as of the same date)."""
    if open_id is not None:
        return session.get(CrawlRun, open_id)
    try:
        if run_id is None:
            return latest_run(session, "open", like=sites_run)
        try:
            return latest_run(session, "open", run_id)
        except NoData:
            return latest_run(session, "open", up_to=run_id, like=sites_run)
    except NoData:
        return None


def archived_plans(
    session: Session, shown: CrawlRun | None, deadline: dt.date | None
) -> list[dict[str, Any]]:
    """Plan tables of crawls of web archives beside the report's own: for each archive and
    as-of date, its newest finished /open check, oldest date first."""
    return [
        {
            "run": run_info(run),
            "seen_as": seen_as(run),
            "plans": plans_rows(session, run.id, deadline),
        }
        for run in archived_runs(session, "open")
        if shown is None or run.id != shown.id
    ]


def guideline_checks(
    session: Session, policy: Policy | None, sites_run: CrawlRun | None, notes: list[str]
) -> dict[str, Any]:
    """The guideline set of the report's policy judged on the reported crawl run (pure
    evaluation over stored observations, nothing is written): per check its counts, per
    agency, and the failing sites with evidence."""
    if policy is None:
        try:
            policy = load_policy()
        except Exception as exc:  # a broken seed file must not stop the report
            notes.append(f"Policy could not be read: {exc}")
            return {"available": False, "reason": "The policy could not be read.", "checks": []}
    pack = dict(policy.guideline_pack or {})
    if pack.get("file"):
        pack["file"] = shown_path(pack["file"])
    checks = checks_at(policy.guideline_checks, "domains")
    if not checks:
        reason = "The policy has no [[guidelines.checks]]."
        return {"available": False, "reason": reason, "pack": pack, "checks": []}
    if sites_run is None:
        reason = "No crawl yet: run `govaudit crawl`."
        return {"available": False, "reason": reason, "pack": pack, "checks": []}
    _, results = judge_guidelines(session, [checks], sites_run.id)
    return {
        "available": True,
        "pack": pack,
        "crawl_run": sites_run.id,
        "checks": tally(checks, results[0]),
    }


def gather(
    session: Session,
    run_id: int | None = None,
    audit_run_id: int | None = None,
    *,
    policy: Policy | None = None,
    agency_seeds: Sequence[AgencySeed] | None = None,
) -> dict[str, Any]:
    """Everything the report shows, read with the export/inventory row builders.

    `policy` (default: the bundled one) gives the guideline checks of the Guidelines page;
    the policy an audit stored wins for everything else.

    An explicit `run_id` or `audit_run_id` that does not exist raises `NoData`; anything
    merely not there yet (no crawl, no audit, no snapshot) gives empty sections.

    Which runs: `run_id` when given (finished or not: an unfinished one is shown as a
    partial run); else, with an explicit `audit_run_id`, the crawl that audit used; else the
    newest finished crawl with site results (and the newest finished /open check).
    """
    notes: list[str] = []
    audit: AuditRun | None = None
    try:
        audit = latest_audit(session, audit_run_id)
    except NoData:
        if audit_run_id is not None:
            raise
    summary: dict[str, Any] = dict((audit.summary or {}) if audit else {})

    sites_id = run_id
    open_id: int | None = None
    if sites_id is None and audit_run_id is not None and audit is not None:
        sites_id = summary.get("crawl_run_id") or audit.crawl_run_id
        open_id = summary.get("open_run_id") or sites_id
    sites_run: CrawlRun | None = None
    try:
        sites_run = latest_run(session, "sites", sites_id)
    except NoData:
        if run_id is not None:
            raise
    open_run = _open_run(session, run_id, open_id, sites_run)

    if audit is not None and sites_run is not None:
        used = summary.get("crawl_run_id") or audit.crawl_run_id
        if used is not None and used != sites_run.id:
            notes.append(
                f"The audit (run {audit.id}) was computed from crawl run {used}; the site "
                f"tables show crawl run {sites_run.id}. Run `govaudit audit` to bring them "
                "in line."
            )

    guidelines = guideline_checks(session, policy, sites_run, notes)
    # Policy: the one the audit used, else the configured one.
    policy_json: dict[str, Any] = {}
    policy_sources: list[str] = []
    if audit is not None and audit.policy:
        policy_json = json_safe(audit.policy)
        policy_sources = [shown_path(str(s)) for s in audit.policy_sources or []]
    else:
        if policy is None:
            try:
                policy = load_policy()
            except Exception as exc:  # a broken seed file must not stop the report
                notes.append(f"Policy could not be read: {exc}")
        if policy is not None:
            policy_json = policy.as_json()
            policy_sources = [shown_path(str(s)) for s in policy.sources]
            notes.append("No audit yet: the policy shown is the configured one.")
    deadline = parse_day((policy_json.get("deadlines") or {}).get("customer_service_plan"))
    windows = freeze_windows(
        summary.get("windows") or (policy_json.get("freeze") or {}).get("windows")
    )

    # Registry snapshot: the audit's, else the crawl's, else the newest.
    snap: RegistrySnapshot | None = None
    snap_id = (summary.get("snapshot") or {}).get("id") or (audit.snapshot_id if audit else None)
    if snap_id is None and sites_run is not None:
        snap_id = sites_run.snapshot_id
    if snap_id is not None:
        snap = session.get(RegistrySnapshot, snap_id)
    if snap is None:
        try:
            snap = find_snapshot(session)
        except SnapshotNotFound:
            snap = None
    inventory = entry_rows(session, snap) if snap is not None else []

    sites = sites_rows(session, sites_run.id) if sites_run else []
    plans = plans_rows(session, open_run.id, deadline) if open_run else []
    findings = findings_rows(session, audit.id) if audit else []

    prev_sites_run = previous_run(session, sites_run, "sites") if sites_run else None
    prev_open_run = previous_run(session, open_run, "open") if open_run else None
    prev_audit: AuditRun | None = None
    if audit is not None:
        prev_audit = session.scalars(
            select(AuditRun).where(AuditRun.id < audit.id).order_by(AuditRun.id.desc()).limit(1)
        ).first()

    if agency_seeds is None:
        try:
            agency_seeds = load_agencies()
        except Exception as exc:
            notes.append(f"Agency list could not be read: {exc}")
            agency_seeds = []
    seeds = [
        {
            "agency": s.agency,
            "slug": s.slug,
            "primary_domain": s.primary_domain,
            "source": s.source,
        }
        for s in agency_seeds
    ]

    a11y = _a11y(session)
    dns = _dns(session, sites_run, policy_json)
    return {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "crawl_run": run_info(
            sites_run, job_progress(session, sites_run.id, "sites") if sites_run else None
        ),
        "open_run": run_info(
            open_run, job_progress(session, open_run.id, "open") if open_run else None
        ),
        "audit_run": audit_info(audit),
        "previous_crawl_run": run_info(prev_sites_run),
        "previous_open_run": run_info(prev_open_run),
        "previous_audit_run": audit_info(prev_audit),
        "snapshot": snapshot_info(snap),
        "policy": policy_json,
        "policy_sources": policy_sources,
        "deadline": iso(deadline),
        "windows": windows,
        "summary": json_safe(summary),
        "agency_seeds": seeds,
        "inventory": inventory,
        "sites": sites,
        "plans": plans,
        "findings": findings,
        "previous_sites": sites_rows(session, prev_sites_run.id) if prev_sites_run else [],
        "previous_plans": plans_rows(session, prev_open_run.id, deadline) if prev_open_run else [],
        "archived_plans": archived_plans(session, open_run, deadline),
        "previous_findings": findings_rows(session, prev_audit.id) if prev_audit else [],
        **a11y,
        **dns,
        **_websites(session),
        "failed_units": _failed_units(
            session,
            [r.id for r in (sites_run, open_run) if r]
            + ([a11y["a11y_run"]["id"]] if a11y["a11y_run"] else [])
            + ([dns["dns_run"]["id"]] if dns["dns_run"] else []),
        ),
        "job_run": _job_run(session, audit),
        "guideline_checks": guidelines,
        "other_reports": [],
        "notes": notes,
    }


def _failed_units(session: Session, run_ids: list[int]) -> list[dict[str, Any]]:
    """Units of the reported crawl and accessibility runs that failed with an internal error:
    couldn't check."""
    from audit.models import CrawlTask

    ids = sorted(set(run_ids))
    if not ids:
        return []
    rows = session.execute(
        select(CrawlTask.run_id, CrawlTask.job, CrawlTask.key, CrawlTask.error)
        .where(CrawlTask.run_id.in_(ids), CrawlTask.state == "failed")
        .order_by(CrawlTask.job, CrawlTask.key)
    )
    return [{"run": r, "job": j, "key": k, "error": e or ""} for r, j, k, e in rows]


def _job_run(session: Session, audit: AuditRun | None) -> dict[str, Any] | None:
    """The `govaudit run` that made this audit, and the steps that failed in it (a `partial`
    run reports without what they would have added)."""
    from audit.models import JobRun

    if audit is None:
        return None
    for job in session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(100)):
        state = job.state or {}
        if state.get("audit_run") == audit.id:
            return {"id": job.id, "failed_steps": list(state.get("failed_steps") or [])}
    return None


def _a11y(session: Session) -> dict[str, Any]:
    """The newest finished accessibility run (`govaudit a11y`), when there is one."""
    from audit.a11y import a11y_pages

    try:
        run = latest_run(session, "a11y")
    except NoData:
        return {"a11y_run": None, "a11y_pages": []}
    return {"a11y_run": run_info(run), "a11y_pages": a11y_pages(session, run.id)}


def _dns(
    session: Session, sites_run: CrawlRun | None, policy_json: dict[str, Any]
) -> dict[str, Any]:
    """The newest finished DNS run (`govaudit dns`), each domain judged under the policy's
    [email] section (IPv6 on the reported crawl's homepage hosts)."""
    from audit.dns_results import dns_observations, homepage_hosts, judged_rows
    from audit.email_dns import EmailPolicy

    try:
        run = latest_run(session, "dns")
    except NoData:
        return {"dns_run": None, "dns_rows": [], "email_policy": {}}
    section = policy_json.get("email") or {}
    rows = judged_rows(
        dns_observations(session, run.id),
        EmailPolicy.from_section(section),
        homepage_hosts(session, sites_run.id if sites_run else None),
    )
    return {"dns_run": run_info(run), "dns_rows": rows, "email_policy": json_safe(section)}


def _websites(session: Session) -> dict[str, Any]:
    """The website inventory judged on the newest finished website crawl (`crawl
    --websites`); empty when no website is known yet (nothing is written here: the registry's
    own websites appear once a website command has run)."""
    from audit.website_rows import judged_websites, website_count

    if not website_count(session):
        return {"website_run": None, "websites": []}
    run, rows = judged_websites(session)
    return {
        "website_run": run_info(run, job_progress(session, run.id, "websites") if run else None),
        "websites": [{k: v for k, v in r.items() if k != "sightings"} for r in rows],
    }
