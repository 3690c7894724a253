"""What changed from one run to the next: sites, plan statuses, findings.

Pure functions over rows already read from the store (`audit.site_rows` sites,
`audit.plan_rows` plans and `audit.export` findings rows); the report only displays what
they return. Every result is either `{"available": False, "reason": ...}` (nothing to
compare with) or the comparison itself.

A partial crawl run (a named run that did not finish) proves nothing about the sites it did
not reach: it has new and changed sites, but never "removed" ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.run_selection import JobProgress

Row = dict[str, Any]

SITE_CHANGE_FIELDS = ("status", "https", "http_redirects_to_https", "hsts", "title")


def site_changes(
    current_run: int | None,
    previous_run: int | None,
    current: Sequence[Row],
    previous: Sequence[Row],
    progress: JobProgress | None = None,
) -> dict[str, Any]:
    """New, removed and changed sites between two crawl runs. `progress` is the current
    run's: when it is partial, sites it did not reach are not reported as removed."""
    if current_run is None:
        return {"available": False, "reason": "No crawl yet."}
    if previous_run is None:
        return {
            "available": False,
            "reason": f"No previous crawl run before run {current_run}: nothing to compare with.",
        }
    cur = {r["domain"]: r for r in current}
    old = {r["domain"]: r for r in previous}
    changed = [
        {
            "domain": domain,
            "agency": cur[domain]["agency"],
            "field": field,
            "old": old[domain][field],
            "new": cur[domain][field],
        }
        for domain in sorted(cur.keys() & old.keys())
        for field in SITE_CHANGE_FIELDS
        if old[domain][field] != cur[domain][field]
    ]
    partial = progress is not None and progress.partial
    removed = (
        []
        if partial
        else [
            {"domain": d, "agency": old[d]["agency"], "status": old[d]["status"]}
            for d in sorted(old.keys() - cur.keys())
        ]
    )
    return {
        "available": True,
        "previous_run": previous_run,
        "current_run": current_run,
        "new": [
            {"domain": d, "agency": cur[d]["agency"], "status": cur[d]["status"]}
            for d in sorted(cur.keys() - old.keys())
        ],
        "removed": removed,
        "changed": changed,
        "partial": (
            {"done": progress.done, "total": progress.total}
            if partial and progress is not None
            else None
        ),
    }


def plan_changes(
    current_run: int | None,
    previous_run: int | None,
    current: Sequence[Row],
    previous: Sequence[Row],
) -> dict[str, Any]:
    """Agencies whose plan status differs from the previous /open check (or is new)."""
    if current_run is None:
        return {"available": False, "reason": "No /open check yet."}
    if previous_run is None:
        return {
            "available": False,
            "reason": f"No previous /open check before run {current_run}.",
        }
    old = {p["agency"]: p for p in previous}
    return {
        "available": True,
        "previous_run": previous_run,
        "current_run": current_run,
        "changed": [
            {
                "agency": p["agency"],
                "old": old[p["agency"]]["status"] if p["agency"] in old else None,
                "new": p["status"],
            }
            for p in current
            if p["agency"] not in old or old[p["agency"]]["status"] != p["status"]
        ],
    }


def finding_key(f: Row) -> tuple[str, str, str, str]:
    """What identifies a finding across audits: rule, domain, agency, window."""
    return (f["rule"], f["domain"] or "", f["agency"] or "", f["window"] or "")


def finding_changes(
    current_audit: int | None,
    previous_audit: int | None,
    current: Sequence[Row],
    previous: Sequence[Row],
) -> dict[str, Any]:
    """Findings new in this audit, and those of the previous audit no longer made."""
    if current_audit is None:
        return {"available": False, "reason": "No audit yet."}
    if previous_audit is None:
        return {
            "available": False,
            "reason": f"No previous audit run before audit {current_audit}.",
        }
    cur = {finding_key(f): f for f in current}
    old = {finding_key(f): f for f in previous}
    return {
        "available": True,
        "previous_audit": previous_audit,
        "current_audit": current_audit,
        "new": [f for k, f in cur.items() if k not in old],
        "resolved": [f for k, f in old.items() if k not in cur],
    }
