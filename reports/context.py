"""The report's data: read from the database once, then shaped into plain dicts for templates.

Two steps. `gather` is the only function that queries: it reuses the row builders of
`audit.export` and `audit.inventory` (so the report shows the same numbers as `govaudit
export`) and returns plain data. Everything else here is a pure function of that data:
per-page template contexts, fleet-wide figures, changes since the previous run, and the
content of `report.json`. Templates never query and never compute anything but layout.

"Couldn't check" is never "absent": sites that did not answer (unreachable, or blocked by
robots.txt) are left out of every absence count, and each figure states its denominator.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.export import (
    NoData,
    findings_rows,
    latest_audit,
    latest_run,
    plans_rows,
    previous_run,
    sites_rows,
)
from audit.inventory import SnapshotNotFound, entry_rows, find_snapshot
from audit.models import AuditRun, CrawlRun, CrawlTask, RegistrySnapshot
from audit.seeds import AgencySeed, Policy, load_agencies, load_policy

REPORT_FORMAT = "govaudit-report/1"

SITE_STATUSES = ["active", "redirect", "error", "unreachable", "parked"]
PLAN_STATUSES = ["published", "incomplete", "no-plan", "no-open-page", "unreachable"]
CLASSIFICATIONS = ["in-freeze", "possibly-in-freeze", "outside", "unknown"]
FLAGGED_CLASSIFICATIONS = ("in-freeze", "possibly-in-freeze")
SEVERITIES = ["high", "medium", "low", "info"]
FREEZE_RULES = ("freeze-registration", "late-waiver", "orphan-waiver", "unlisted-domain")
RULE_LABELS = {
    "freeze-registration": "Registered during a freeze",
    "late-waiver": "Waiver granted after registration",
    "orphan-waiver": "Waiver for a domain not in the registry",
    "unlisted-domain": "Linked .gov domain not in the registry",
    "open-page-missing": "No Open Government page",
    "plan-missing": "No Customer Service Plan",
    "plan-incomplete": "Customer Service Plan incomplete",
    "plan-late": "Customer Service Plan late",
    "site-unreachable": "Site unreachable",
}
STATUS_LABELS = {
    "active": "Active",
    "redirect": "Redirect",
    "error": "Error",
    "unreachable": "Unreachable",
    "parked": "Parked",
    "not-crawled": "Not crawled",
}
PLAN_STATUS_LABELS = {
    "published": "Published",
    "incomplete": "Incomplete",
    "no-plan": "No plan",
    "no-open-page": "No /open page",
    "unreachable": "Unreachable",
}
# The homepage links OMB expects, in the order of SITE row `required_links`, with sources.
REQUIRED_LINKS: list[tuple[str, str, str]] = [
    ("privacy", "Privacy policy", "OMB M-17-06; E-Government Act of 2002 §208"),
    ("accessibility", "Accessibility", "Section 508 (29 U.S.C. 794d); OMB M-17-06"),
    ("foia", "FOIA", "Freedom of Information Act (5 U.S.C. 552); OMB M-17-06"),
    ("no_fear", "No FEAR Act", "No FEAR Act of 2002; OMB M-17-06"),
    (
        "inspector_general",
        "Inspector General",
        "Inspector General Act (as amended 2016); OMB M-17-06",
    ),
    ("usa_gov", "USA.gov", "OMB M-17-06"),
    ("about", "About", "OMB M-17-06"),
    ("contact", "Contact", "OMB M-17-06; 21st Century IDEA"),
    ("open_gov", "Open Government", "OMB M-10-06 (Open Government Directive); OMB M-11-24"),
]
TOP_FINDINGS = 20
CHART_AGENCIES = 12
TIMELINE_MAX = 40
# With JavaScript, the inventory shows at most this many matching rows at once (sorting
# 16,000 table rows re-lays out the whole table, which takes seconds); "Show all" lifts it.
INVENTORY_PAGE_SIZE = 2000


# ---------------------------------------------------------------------------- small helpers


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def parse_day(value: Any) -> dt.date | None:
    """A date from an ISO string (date or datetime), a date, or None when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def is_web_url(value: Any) -> bool:
    """True for an absolute http(s) URL: the only crawled URLs the report makes links of."""
    if not isinstance(value, str) or not value:
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    return slug or "agency"


def is_federal(entry: dict[str, Any]) -> bool:
    kind = entry.get("domain_type")
    return not kind or str(kind).lower().startswith("federal")


def share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _run_info(run: CrawlRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "status": run.status,
        "snapshot_id": run.snapshot_id,
        "settings": run.settings or {},
        "stats": run.stats or {},
    }


def _audit_info(audit: AuditRun | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    return {
        "id": audit.id,
        "started_at": iso(audit.started_at),
        "crawl_run_id": audit.crawl_run_id,
        "snapshot_id": audit.snapshot_id,
        "policy_hash": audit.policy_hash,
        "policy_sources": list(audit.policy_sources or []),
    }


def _snapshot_info(snap: RegistrySnapshot | None) -> dict[str, Any] | None:
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


def _open_run_upto(session: Session, run_id: int) -> CrawlRun | None:
    """The newest run up to `run_id` that checked /open pages."""
    return session.scalars(
        select(CrawlRun)
        .join(CrawlTask, CrawlTask.run_id == CrawlRun.id)
        .where(CrawlTask.job == "open", CrawlTask.state != "pending", CrawlRun.id <= run_id)
        .order_by(CrawlRun.id.desc())
        .limit(1)
    ).first()


def _windows(raw: Iterable[Any]) -> list[dict[str, Any]]:
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


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# ---------------------------------------------------------------------------- gather (queries)


def gather(
    session: Session,
    run_id: int | None = None,
    audit_run_id: int | None = None,
    *,
    policy: Policy | None = None,
    agency_seeds: Sequence[AgencySeed] | None = None,
) -> dict[str, Any]:
    """Everything the report shows, read with the export/inventory row builders.

    An explicit `run_id` or `audit_run_id` that does not exist raises `NoData`; anything
    merely not there yet (no crawl, no audit, no snapshot) gives empty sections.

    Which runs: `run_id` when given; else, with an explicit `audit_run_id`, the crawl that
    audit used; else the newest crawl with site results (and the newest with /open results).
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
    open_run: CrawlRun | None = None
    if open_id is not None:
        open_run = session.get(CrawlRun, open_id)
    elif run_id is not None:
        open_run = _open_run_upto(session, run_id)
    else:
        try:
            open_run = latest_run(session, "open")
        except NoData:
            open_run = None

    if audit is not None and sites_run is not None:
        used = summary.get("crawl_run_id") or audit.crawl_run_id
        if used is not None and used != sites_run.id:
            notes.append(
                f"The audit (run {audit.id}) was computed from crawl run {used}; the site "
                f"tables show crawl run {sites_run.id}. Run `govaudit audit` to bring them "
                "in line."
            )

    # Policy: the one the audit used, else the configured one.
    policy_json: dict[str, Any] = {}
    policy_sources: list[str] = []
    if audit is not None and audit.policy:
        policy_json = _json_safe(audit.policy)
        policy_sources = [str(s) for s in audit.policy_sources or []]
    else:
        if policy is None:
            try:
                policy = load_policy()
            except Exception as exc:  # a broken seed file must not stop the report
                notes.append(f"Policy could not be read: {exc}")
        if policy is not None:
            policy_json = policy.as_json()
            policy_sources = [str(s) for s in policy.sources]
            notes.append("No audit yet: the policy shown is the configured one.")
    deadline = parse_day((policy_json.get("deadlines") or {}).get("customer_service_plan"))
    windows = _windows(summary.get("windows") or (policy_json.get("freeze") or {}).get("windows"))

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

    return {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "crawl_run": _run_info(sites_run),
        "open_run": _run_info(open_run),
        "audit_run": _audit_info(audit),
        "previous_crawl_run": _run_info(prev_sites_run),
        "previous_open_run": _run_info(prev_open_run),
        "previous_audit_run": _audit_info(prev_audit),
        "snapshot": _snapshot_info(snap),
        "policy": policy_json,
        "policy_sources": policy_sources,
        "deadline": iso(deadline),
        "windows": windows,
        "summary": _json_safe(summary),
        "agency_seeds": seeds,
        "inventory": inventory,
        "sites": sites,
        "plans": plans,
        "findings": findings,
        "previous_sites": sites_rows(session, prev_sites_run.id) if prev_sites_run else [],
        "previous_plans": plans_rows(session, prev_open_run.id, deadline) if prev_open_run else [],
        "previous_findings": findings_rows(session, prev_audit.id) if prev_audit else [],
        "notes": notes,
    }


# ---------------------------------------------------------------------------- derived data


def freeze_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit's freeze table; rebuilt from freeze findings when the summary lacks it."""
    rows = data["summary"].get("freeze_rows")
    if isinstance(rows, list) and rows:
        out = []
        for r in rows:
            if not isinstance(r, dict):
                continue
            interval = r.get("interval")
            out.append(
                {
                    "domain": r.get("domain"),
                    "agency": r.get("agency"),
                    "window": r.get("window"),
                    "classification": r.get("classification") or "unknown",
                    "waiver": r.get("waiver"),
                    "registration_date": r.get("registration_date"),
                    "interval": list(interval) if isinstance(interval, list | tuple) else None,
                    "basis": r.get("basis") or "none",
                    "note": r.get("note") or "",
                }
            )
        return out
    out = []
    for f in data["findings"]:
        if f["rule"] != "freeze-registration":
            continue
        ev = f.get("evidence") or {}
        interval = ev.get("interval")
        out.append(
            {
                "domain": f["domain"],
                "agency": f["agency"],
                "window": f["window"],
                "classification": f["classification"] or "unknown",
                "waiver": f["waiver"],
                "registration_date": ev.get("registration_date"),
                "interval": list(interval) if isinstance(interval, list | tuple) else None,
                "basis": ev.get("basis") or "none",
                "note": ev.get("note") or "",
            }
        )
    return out


def freeze_counts(data: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """window -> classification -> count (the audit's own counts when it stored them)."""
    stored = data["summary"].get("freeze_counts")
    if isinstance(stored, dict) and stored:
        return {str(w): {str(k): int(v) for k, v in (c or {}).items()} for w, c in stored.items()}
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        win = counts.setdefault(str(r["window"]), {})
        win[r["classification"]] = win.get(r["classification"], 0) + 1
    return counts


def finding_key(f: dict[str, Any]) -> tuple[str, str, str, str]:
    return (f["rule"], f["domain"] or "", f["agency"] or "", f["window"] or "")


SITE_CHANGE_FIELDS = ("status", "https", "http_redirects_to_https", "hsts", "title")


def compute_changes(data: dict[str, Any]) -> dict[str, Any]:
    """New, removed and changed sites; plan status changes; new and resolved findings."""
    result: dict[str, Any] = {}
    prev = data["previous_crawl_run"]
    cur_sites = {r["domain"]: r for r in data["sites"]}
    if data["crawl_run"] is None:
        result["sites"] = {"available": False, "reason": "No crawl yet."}
    elif prev is None:
        result["sites"] = {
            "available": False,
            "reason": f"No previous crawl run before run {data['crawl_run']['id']}: "
            "nothing to compare with.",
        }
    else:
        old_sites = {r["domain"]: r for r in data["previous_sites"]}
        changed = []
        for domain in sorted(cur_sites.keys() & old_sites.keys()):
            for field in SITE_CHANGE_FIELDS:
                before, after = old_sites[domain][field], cur_sites[domain][field]
                if before != after:
                    changed.append(
                        {
                            "domain": domain,
                            "agency": cur_sites[domain]["agency"],
                            "field": field,
                            "old": before,
                            "new": after,
                        }
                    )
        result["sites"] = {
            "available": True,
            "previous_run": prev["id"],
            "current_run": data["crawl_run"]["id"],
            "new": [
                {"domain": d, "agency": cur_sites[d]["agency"], "status": cur_sites[d]["status"]}
                for d in sorted(cur_sites.keys() - old_sites.keys())
            ],
            "removed": [
                {"domain": d, "agency": old_sites[d]["agency"], "status": old_sites[d]["status"]}
                for d in sorted(old_sites.keys() - cur_sites.keys())
            ],
            "changed": changed,
        }
    prev_open = data["previous_open_run"]
    if data["open_run"] is None:
        result["plans"] = {"available": False, "reason": "No /open check yet."}
    elif prev_open is None:
        result["plans"] = {
            "available": False,
            "reason": f"No previous /open check before run {data['open_run']['id']}.",
        }
    else:
        old_plans = {p["agency"]: p for p in data["previous_plans"]}
        result["plans"] = {
            "available": True,
            "previous_run": prev_open["id"],
            "current_run": data["open_run"]["id"],
            "changed": [
                {
                    "agency": p["agency"],
                    "old": old_plans[p["agency"]]["status"] if p["agency"] in old_plans else None,
                    "new": p["status"],
                }
                for p in data["plans"]
                if p["agency"] not in old_plans or old_plans[p["agency"]]["status"] != p["status"]
            ],
        }
    prev_audit = data["previous_audit_run"]
    if data["audit_run"] is None:
        result["findings"] = {"available": False, "reason": "No audit yet."}
    elif prev_audit is None:
        result["findings"] = {
            "available": False,
            "reason": f"No previous audit run before audit {data['audit_run']['id']}.",
        }
    else:
        cur = {finding_key(f): f for f in data["findings"]}
        old = {finding_key(f): f for f in data["previous_findings"]}
        result["findings"] = {
            "available": True,
            "previous_audit": prev_audit["id"],
            "current_audit": data["audit_run"]["id"],
            "new": [f for k, f in cur.items() if k not in old],
            "resolved": [f for k, f in old.items() if k not in cur],
        }
    return result


def _site_populations(sites: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    blocked = [s for s in sites if (s["status_reason"] or "").startswith("blocked")]
    blocked_ids = {id(s) for s in blocked}
    unreachable = [s for s in sites if s["status"] == "unreachable"]
    answered = [s for s in sites if s["status"] != "unreachable" and id(s) not in blocked_ids]
    live = [s for s in answered if s["status"] == "active"]
    return {
        "all": sites,
        "answered": answered,
        "live": live,
        "unreachable": unreachable,
        "blocked": blocked,
    }


def guideline_facts(sites: list[dict[str, Any]], inventory: list[dict[str, Any]]) -> dict[str, Any]:
    """Fleet-wide figures for the .gov guidelines task force, each with its source."""
    pops = _site_populations(sites)
    answered, live = pops["answered"], pops["live"]
    facts: list[dict[str, Any]] = []

    def add(key: str, label: str, population: str, count: int, source: str) -> None:
        denom = len(pops[population])
        facts.append(
            {
                "key": key,
                "label": label,
                "population": population,
                "count": count,
                "denominator": denom,
                "share": share(count, denom),
                "source": source,
            }
        )

    add(
        "https",
        "Serve HTTPS",
        "answered",
        sum(s["https"] for s in answered),
        "OMB M-15-13 (HTTPS-Only Standard)",
    )
    add(
        "https_enforced",
        "Redirect HTTP to HTTPS",
        "answered",
        sum(s["http_redirects_to_https"] for s in answered),
        "OMB M-15-13",
    )
    add(
        "hsts",
        "Send HSTS",
        "answered",
        sum(s["hsts"] for s in answered),
        "OMB M-15-13; CISA BOD 18-01",
    )
    add(
        "redirect",
        "Redirect to another domain (consolidated)",
        "answered",
        sum(s["status"] == "redirect" for s in answered),
        "OMB M-11-24 / State of the Federal Web report (consolidation)",
    )
    for key, label, source in REQUIRED_LINKS:
        add(
            f"link_{key}",
            f"Homepage links to {label}",
            "live",
            sum(bool((s["required_links"] or {}).get(key)) for s in live),
            source,
        )
    add(
        "robots_txt",
        "Publish robots.txt",
        "live",
        sum(s["robots_txt"] for s in live),
        "OMB M-17-06 (search engine optimization)",
    )
    add(
        "sitemap_xml",
        "Publish sitemap.xml",
        "live",
        sum(s["sitemap_xml"] for s in live),
        "OMB M-17-06 (search engine optimization)",
    )
    add(
        "security_txt",
        "Publish security.txt",
        "live",
        sum(s["security_txt"] for s in live),
        "CISA BOD 20-01 (vulnerability disclosure)",
    )
    add(
        "dap",
        "Use the Digital Analytics Program",
        "live",
        sum(s["dap"] for s in live),
        "OMB M-17-06; OMB M-23-22",
    )
    add(
        "site_search",
        "Offer site search",
        "live",
        sum(s["site_search"] for s in live),
        "OMB M-17-06; OMB M-23-22",
    )
    add(
        "uswds_banner",
        "Show the USWDS .gov banner",
        "live",
        sum(s["uswds_banner"] for s in live),
        "21st Century IDEA; OMB M-23-22",
    )
    add(
        "soft_404",
        "Answer 200 for a missing page (soft 404)",
        "live",
        sum(s["soft_404"] for s in live),
        "OMB M-17-06 (search engine optimization)",
    )

    # Federal agencies only: with the full registry list every city and county is its own
    # "agency", which would drown the table; they are summed in `non_federal`.
    per_agency: dict[str, dict[str, Any]] = {}
    nf_domains = 0
    nf_orgs: set[str] = set()
    for entry in inventory:
        name = entry["agency"] or "(no agency)"
        if not is_federal(entry):
            nf_domains += 1
            nf_orgs.add(name)
            continue
        row = per_agency.setdefault(name, _agency_count_row(name))
        row["registered"] += 1
    for s in sites:
        name = s["agency"] or "(no agency)"
        row = per_agency.setdefault(name, _agency_count_row(name))
        row["crawled"] += 1
        row[s["status"]] = row.get(s["status"], 0) + 1
    agency_rows = sorted(
        per_agency.values(), key=lambda r: (-r["registered"], -r["crawled"], r["agency"])
    )
    registered = sorted(r["registered"] for r in agency_rows if r["registered"])
    median = registered[len(registered) // 2] if registered else 0
    return {
        "populations": {
            "all": len(sites),
            "answered": len(answered),
            "live": len(live),
            "unreachable": len(pops["unreachable"]),
            "blocked": len(pops["blocked"]),
        },
        "facts": facts,
        "sites_per_agency": agency_rows,
        "agencies_with_domains": len(registered),
        "median_domains_per_agency": median,
        "max_domains_per_agency": registered[-1] if registered else 0,
        "non_federal": {"domains": nf_domains, "organizations": len(nf_orgs)},
    }


def _agency_count_row(name: str) -> dict[str, Any]:
    return {"agency": name, "registered": 0, "crawled": 0, **dict.fromkeys(SITE_STATUSES, 0)}


def evidence_items(evidence: Any) -> list[dict[str, Any]]:
    """A finding's evidence as (key, text, url?) items for a definition list."""
    if not isinstance(evidence, dict):
        return (
            []
            if evidence in (None, "")
            else [{"key": "evidence", "text": str(evidence), "url": None, "code": False}]
        )
    items = []
    for key, value in evidence.items():
        if isinstance(value, dict | list):
            items.append(
                {
                    "key": str(key),
                    "text": json.dumps(value, default=str, indent=1),
                    "url": None,
                    "code": True,
                }
            )
        else:
            text = "" if value is None else str(value)
            items.append(
                {
                    "key": str(key),
                    "text": text,
                    "url": text if is_web_url(text) else None,
                    "code": False,
                }
            )
    return items


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts/lists as (dotted.key, text) rows for a two-column table."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        if not value and prefix:
            rows.append((prefix, "{}"))
        for k, v in value.items():
            rows.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            rows.extend(flatten(v, f"{prefix}[{i}]"))
    elif isinstance(value, list):
        rows.append((prefix, ", ".join(str(v) for v in value) if value else "(none)"))
    else:
        rows.append((prefix, "" if value is None else str(value)))
    return rows


def _stats_table(stats: dict[str, Any]) -> dict[str, Any]:
    """Per-worker Scrapy stats as one table: stat name x worker."""
    workers = sorted(k for k, v in stats.items() if isinstance(v, dict))
    names: set[str] = set()
    flat: dict[str, dict[str, str]] = {}
    for w in workers:
        flat[w] = dict(flatten(stats[w]))
        names |= flat[w].keys()
    return {
        "workers": workers,
        "rows": [
            {"name": n, "values": [flat[w].get(n, "") for w in workers]} for n in sorted(names)
        ],
    }


# ---------------------------------------------------------------------------- the model


def build(data: dict[str, Any]) -> dict[str, Any]:
    """Every page's context and the report.json document, from `gather`'s data."""
    seeds_by_name = {s["agency"]: s for s in data["agency_seeds"]}
    inventory = data["inventory"]
    sites = data["sites"]
    plans = data["plans"]
    findings = data["findings"]
    frows = freeze_rows(data)
    fcounts = freeze_counts(data, frows)

    inv_by_domain = {e["domain"]: e for e in inventory}
    site_by_domain = {s["domain"]: s for s in sites}
    plan_by_agency = {p["agency"]: p for p in plans}

    def site_agency(s: dict[str, Any]) -> str | None:
        return s["agency"] or (inv_by_domain.get(s["domain"]) or {}).get("agency")

    # --- agencies and slugs
    names: set[str] = set()
    names |= {e["agency"] for e in inventory if e["agency"] and is_federal(e)}
    names |= {a for a in (site_agency(s) for s in sites) if a}
    names |= {p["agency"] for p in plans if p["agency"]}
    names |= {f["agency"] for f in findings if f["agency"]}
    names |= {r["agency"] for r in frows if r.get("agency")}
    used = {s["slug"] for s in data["agency_seeds"] if s["agency"] in names}
    slugs: dict[str, str] = {}
    for name in sorted(names):
        seed = seeds_by_name.get(name)
        if seed is not None:
            slugs[name] = seed["slug"]
            continue
        base = slugify(name)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        slugs[name] = slug
    pages = {name: f"agencies/{slug}.html" for name, slug in slugs.items()}

    # --- changes
    changes = compute_changes(data)

    # --- per-agency groupings
    domains_of: dict[str, set[str]] = defaultdict(set)
    for e in inventory:
        if e["agency"] in slugs:
            domains_of[e["agency"]].add(e["domain"])
    for s in sites:
        a = site_agency(s)
        if a in slugs:
            domains_of[a].add(s["domain"])
    agency_of_domain: dict[str, str] = {}
    for a, ds in domains_of.items():
        for d in ds:
            agency_of_domain.setdefault(d, a)

    def owner(row: dict[str, Any]) -> str | None:
        if row.get("agency") in slugs:
            return row["agency"]
        return agency_of_domain.get(row.get("domain") or "")

    findings_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        a = owner(f)
        if a:
            findings_of[a].append(f)
    frows_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in frows:
        a = owner(r)
        if a:
            frows_of[a].append(r)

    status_counts = Counter(s["status"] for s in sites)
    plan_counts = Counter(p["status"] for p in plans)
    severity_counts = Counter(f["severity"] for f in findings)
    rule_counts = Counter(f["rule"] for f in findings)

    # --- agency summaries (the agencies index and report.json)
    agency_rows = []
    for name in sorted(slugs):
        ds = domains_of.get(name, set())
        counts = Counter(site_by_domain[d]["status"] for d in ds if d in site_by_domain)
        plan = plan_by_agency.get(name)
        seed = seeds_by_name.get(name)
        agency_rows.append(
            {
                "agency": name,
                "slug": slugs[name],
                "page": pages[name],
                "primary_domain": seed["primary_domain"] if seed else None,
                "domains": len(ds),
                "crawled": sum(counts.values()),
                "sites_by_status": {k: counts.get(k, 0) for k in SITE_STATUSES},
                "plan_status": plan["status"] if plan else None,
                "findings": len(findings_of.get(name, [])),
            }
        )

    common = {
        "generated_at": data["generated_at"],
        "crawl_run": data["crawl_run"],
        "open_run": data["open_run"],
        "audit_run": data["audit_run"],
        "snapshot": data["snapshot"],
        "notes": data["notes"],
        "agency_pages": pages,
        "status_labels": STATUS_LABELS,
        "plan_status_labels": PLAN_STATUS_LABELS,
        "rule_labels": RULE_LABELS,
        "site_statuses": SITE_STATUSES,
        "plan_statuses": PLAN_STATUSES,
        "classifications": CLASSIFICATIONS,
        "required_links": [
            {"key": k, "label": lbl, "source": src} for k, lbl, src in REQUIRED_LINKS
        ],
    }

    # --- overview
    by_agency_status: dict[str, Counter[str]] = defaultdict(Counter)
    for s in sites:
        by_agency_status[site_agency(s) or "(no agency)"][s["status"]] += 1
    top_agencies = sorted(by_agency_status.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    chart_agencies = [
        {"agency": a, "counts": {k: c.get(k, 0) for k in SITE_STATUSES}, "total": sum(c.values())}
        for a, c in top_agencies[:CHART_AGENCIES]
    ]
    class_totals: Counter[str] = Counter()
    for counts in fcounts.values():
        class_totals.update(counts)
    dated = [r for r in frows if r["registration_date"] or r["interval"]]
    plans_by_status = {
        k: [p["agency"] for p in plans if p["status"] == k]
        for k in [*PLAN_STATUSES, *sorted(set(plan_counts) - set(PLAN_STATUSES))]
    }
    overview = {
        **common,
        "site_status_counts": [
            {"status": k, "count": status_counts.get(k, 0)}
            for k in [*SITE_STATUSES, *sorted(set(status_counts) - set(SITE_STATUSES))]
        ],
        "sites_total": len(sites),
        "inventory_total": len(inventory),
        "chart_agencies": chart_agencies,
        "agencies_with_sites": len(by_agency_status),
        "plan_counts": [
            {"status": k, "count": len(v), "agencies": v} for k, v in plans_by_status.items()
        ],
        "plans_total": len(plans),
        "freeze_windows": data["windows"],
        "freeze_counts": fcounts,
        "freeze_class_totals": [
            {"classification": c, "count": class_totals.get(c, 0)} for c in CLASSIFICATIONS
        ],
        "timeline_rows": timeline_rows(dated)[:TIMELINE_MAX],
        "dated_total": len(dated),
        "severity_counts": [
            {"severity": s, "count": severity_counts.get(s, 0)} for s in SEVERITIES
        ],
        "top_findings": findings[:TOP_FINDINGS],
        "findings_total": len(findings),
        "changes": changes,
    }

    # --- agency pages
    evidence_by_fw: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if f["rule"] in ("freeze-registration", "late-waiver"):
            evidence_by_fw[(f["domain"] or "", f["window"] or "")].append(f)
    agency_pages = []
    for row in agency_rows:
        name = row["agency"]
        ds = sorted(domains_of.get(name, set()))
        domain_rows = []
        for d in ds:
            e = inv_by_domain.get(d)
            s = site_by_domain.get(d)
            domain_rows.append(
                {
                    "domain": d,
                    "anchor": "d-" + re.sub(r"[^a-z0-9.-]", "-", d.lower()),
                    "in_registry": e is not None,
                    "domain_type": e["domain_type"] if e else None,
                    "organization": e["organization"] if e else None,
                    "site": s,
                    "status": s["status"] if s else "not-crawled",
                }
            )
        ag_findings = findings_of.get(name, [])
        ag_frows = [
            {**r, "findings": evidence_by_fw.get((r["domain"] or "", r["window"] or ""), [])}
            for r in frows_of.get(name, [])
            if r["classification"] in FLAGGED_CLASSIFICATIONS
        ]
        ag_domains = set(ds)
        ag_changes = _filter_changes(changes, name, ag_domains)
        plan = plan_by_agency.get(name)
        agency_pages.append(
            {
                **common,
                "agency": row,
                "seed": seeds_by_name.get(name),
                "domains": domain_rows,
                "live_sites": [r for r in domain_rows if r["status"] == "active"],
                "hostnames": sorted(
                    {h for r in domain_rows if r["site"] for h in (r["site"]["hostnames"] or [])}
                ),
                "plan": plan_view(plan) if plan else None,
                "freeze_rows": ag_frows,
                "freeze_findings": [f for f in ag_findings if f["rule"] in FREEZE_RULES],
                "other_findings": [f for f in ag_findings if f["rule"] not in FREEZE_RULES],
                "changes": ag_changes,
            }
        )

    # --- freeze page
    flagged = [
        {**r, "findings": evidence_by_fw.get((r["domain"] or "", r["window"] or ""), [])}
        for r in frows
        if r["classification"] in FLAGGED_CLASSIFICATIONS
    ]
    flagged.sort(
        key=lambda r: (
            CLASSIFICATIONS.index(r["classification"]),
            r["window"] or "",
            r["domain"] or "",
        )
    )
    unlisted_links: dict[str, set[str]] = defaultdict(set)
    for s in sites:
        for d in s["unlisted_gov_domains"] or []:
            unlisted_links[str(d)].add(s["domain"])
    freeze = {
        **common,
        "windows": data["windows"],
        "freeze_counts": fcounts,
        "freeze_class_totals": overview["freeze_class_totals"],
        "flagged": flagged,
        "rows_total": len(frows),
        "timeline_rows": overview["timeline_rows"],
        "dated_total": len(dated),
        "registration_findings": [f for f in findings if f["rule"] == "freeze-registration"],
        "late_waivers": [f for f in findings if f["rule"] == "late-waiver"],
        "orphan_waivers": [f for f in findings if f["rule"] == "orphan-waiver"],
        "unlisted_findings": [f for f in findings if f["rule"] == "unlisted-domain"],
        "unlisted_links": [
            {"domain": d, "linked_from": sorted(v)} for d, v in sorted(unlisted_links.items())
        ],
    }

    # --- plans page
    plans_page = {
        **common,
        "plans": plans,
        "plan_counts": overview["plan_counts"],
        "deadline": data["deadline"],
        "required_elements": list(
            (data["policy"].get("plans") or {}).get("required_elements") or []
        ),
    }

    # --- inventory page: rows built here, light on markup
    inv_rows = []
    for e in inventory:
        s = site_by_domain.get(e["domain"])
        agency = e["agency"]
        inv_rows.append(
            {
                "domain": e["domain"],
                "domain_type": e["domain_type"] or "",
                "agency": agency or "",
                "agency_page": pages.get(agency) if agency else None,
                "organization": e["organization"] or "",
                "state": e["state"] or "",
                "status": s["status"] if s else "not-crawled",
                "https": None if s is None else s["https"],
            }
        )
    inventory_page = {
        **common,
        "rows": inv_rows,
        "page_size": INVENTORY_PAGE_SIZE,
        "federal": sum(1 for e in inventory if is_federal(e)),
    }

    # --- guidelines, about, changes, downloads
    guidelines = {**common, **guideline_facts(sites, inventory)}
    crawl_run = data["crawl_run"] or {}
    open_run = data["open_run"] or {}
    settings = crawl_run.get("settings") or {}
    about = {
        **common,
        "policy": data["policy"],
        "policy_rows": flatten(data["policy"]),
        "policy_json": json.dumps(data["policy"], indent=2, sort_keys=True),
        "policy_sources": data["policy_sources"],
        "windows": data["windows"],
        "deadline": data["deadline"],
        "settings_rows": flatten(settings),
        "stats": _stats_table(crawl_run.get("stats") or {}),
        "open_stats": (
            _stats_table(open_run.get("stats") or {})
            if open_run and open_run.get("id") != crawl_run.get("id")
            else None
        ),
    }
    changes_page = {
        **common,
        "changes": changes,
        "previous_crawl_run": data["previous_crawl_run"],
        "previous_audit_run": data["previous_audit_run"],
    }
    downloads = {
        **common,
        "files": [
            {
                "name": "findings.csv",
                "rows": len(findings),
                "about": "Findings of the audit, highest severity first.",
            },
            {
                "name": "sites.csv",
                "rows": len(sites),
                "about": "One row per crawled domain (as `govaudit export sites`).",
            },
            {
                "name": "plans.csv",
                "rows": len(plans),
                "about": "One row per agency: its /open page and Customer Service Plan check.",
            },
            {
                "name": "inventory.csv",
                "rows": len(inventory),
                "about": "Every domain of the registry snapshot, with its site status.",
            },
            {
                "name": "report.json",
                "rows": None,
                "about": "Everything in this report as data (keys documented in docs/report.md).",
            },
        ],
    }
    agencies_index = {**common, "agencies": agency_rows}

    inventory_export = [
        {
            **e,
            "site_status": (
                site_by_domain[e["domain"]]["status"] if e["domain"] in site_by_domain else None
            ),
            "https": (
                site_by_domain[e["domain"]]["https"] if e["domain"] in site_by_domain else None
            ),
        }
        for e in inventory
    ]
    report_json = {
        "format": REPORT_FORMAT,
        "generated_at": data["generated_at"],
        "scope": {
            "crawl_run": _strip_run(data["crawl_run"]),
            "open_run": _strip_run(data["open_run"]),
            "audit_run": data["audit_run"],
            "snapshot": data["snapshot"],
            "previous_crawl_run": _strip_run(data["previous_crawl_run"]),
            "previous_open_run": _strip_run(data["previous_open_run"]),
            "previous_audit_run": data["previous_audit_run"],
            "notes": data["notes"],
        },
        "policy": {
            "data": data["policy"],
            "sources": data["policy_sources"],
            "plan_deadline": data["deadline"],
            "freeze_windows": data["windows"],
        },
        "counts": {
            "inventory_domains": len(inventory),
            "sites": len(sites),
            "sites_by_status": {k: status_counts.get(k, 0) for k in SITE_STATUSES}
            | {k: v for k, v in status_counts.items() if k not in SITE_STATUSES},
            "plans_by_status": {k: plan_counts.get(k, 0) for k in PLAN_STATUSES}
            | {k: v for k, v in plan_counts.items() if k not in PLAN_STATUSES},
            "findings_by_severity": {k: severity_counts.get(k, 0) for k in SEVERITIES},
            "findings_by_rule": dict(sorted(rule_counts.items())),
            "freeze_by_window": fcounts,
            "freeze_by_classification": {c: class_totals.get(c, 0) for c in CLASSIFICATIONS},
        },
        "agencies": agency_rows,
        "sites": sites,
        "plans": plans,
        "findings": findings,
        "freeze_rows": frows,
        "inventory": inventory_export,
        "guidelines": {k: v for k, v in guidelines.items() if k not in common},
        "changes": changes,
        "crawl": {
            "settings": settings,
            "stats": crawl_run.get("stats") or {},
            "open_settings": open_run.get("settings") or {},
            "open_stats": open_run.get("stats") or {},
        },
    }
    return {
        "overview": overview,
        "agencies_index": agencies_index,
        "agency_pages": agency_pages,
        "freeze": freeze,
        "plans": plans_page,
        "inventory": inventory_page,
        "changes": changes_page,
        "guidelines": guidelines,
        "about": about,
        "downloads": downloads,
        "report_json": report_json,
        "csv": {
            "sites": sites,
            "plans": plans,
            "findings": findings,
            "inventory": inventory_export,
        },
    }


def _strip_run(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {k: v for k, v in run.items() if k not in ("settings", "stats")}


def _filter_changes(changes: dict[str, Any], agency: str, domains: set[str]) -> dict[str, Any]:
    def mine(row: dict[str, Any]) -> bool:
        return row.get("agency") == agency or (row.get("domain") or "") in domains

    out: dict[str, Any] = {}
    for part, value in changes.items():
        if not value.get("available"):
            out[part] = value
            continue
        out[part] = {
            k: ([r for r in v if mine(r)] if isinstance(v, list) else v) for k, v in value.items()
        }
    return out


def timeline_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dated freeze rows for the timeline, one per domain: flagged first, then by date."""

    def start(r: dict[str, Any]) -> str:
        if r["registration_date"]:
            return str(r["registration_date"])[:10]
        lo = (r["interval"] or [None])[0]
        return str(lo or "")[:10]

    order = {c: i for i, c in enumerate(CLASSIFICATIONS)}
    ranked = sorted(
        rows, key=lambda r: (order.get(r["classification"], 9), start(r), r["domain"] or "")
    )
    seen: set[str] = set()
    out = []
    for r in ranked:  # one line per domain: its most serious classification
        if r["domain"] in seen:
            continue
        seen.add(r["domain"])
        out.append(r)
    return out


def plan_view(plan: dict[str, Any]) -> dict[str, Any]:
    """A plans row with its evidence arranged for display."""
    ev = plan.get("evidence") or {}
    snippets = ev.get("snippets") or {}
    elements = [
        {"name": name, "found": bool(found), "snippet": snippets.get(name)}
        for name, found in (plan.get("elements") or {}).items()
    ]
    for name in plan.get("missing_elements") or []:
        if name not in (plan.get("elements") or {}):
            elements.append({"name": name, "found": False, "snippet": None})
    visits = []
    for v in ev.get("visits") or []:
        if not isinstance(v, dict):
            continue
        chain = v.get("chain") or []
        visits.append(
            {
                "url": v.get("url"),
                "final_url": v.get("final_url"),
                "status": v.get("status"),
                "error": v.get("error"),
                "fetched_at": v.get("fetched_at"),
                "chain": [
                    {"url": h.get("url"), "status": h.get("status"), "location": h.get("location")}
                    for h in chain
                    if isinstance(h, dict)
                ],
            }
        )
    chain = [
        {"url": h.get("url"), "status": h.get("status"), "location": h.get("location")}
        for h in ev.get("open_redirect_chain") or []
        if isinstance(h, dict)
    ]
    known = {
        "visits",
        "snippets",
        "candidates",
        "dead_links",
        "open_tries",
        "soft_404",
        "open_redirect_chain",
        "notes",
        "plan_hash",
    }
    soft = ev.get("soft_404")
    return {
        **plan,
        "element_rows": elements,
        "visits": visits,
        "open_chain": chain,
        "open_tries": [t for t in ev.get("open_tries") or [] if isinstance(t, dict)],
        "candidates": [c for c in ev.get("candidates") or [] if isinstance(c, dict)],
        "dead_links": [d for d in ev.get("dead_links") or [] if isinstance(d, dict)],
        "notes": [str(n) for n in ev.get("notes") or []],
        "soft_404_probe": evidence_items(soft) if isinstance(soft, dict) else [],
        "plan_hash": ev.get("plan_hash"),
        "other_evidence": evidence_items(
            {k: v for k, v in ev.items() if k not in known and v not in (None, "", [], {})}
        ),
    }
