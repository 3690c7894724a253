"""report.json: everything the report shows, as data (keys documented in docs/report.md)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from reports.views.labels import CLASSIFICATIONS, PLAN_STATUSES, SEVERITIES, SITE_STATUSES
from reports.views.report_index import ReportIndex

REPORT_FORMAT = "govaudit-report/1"


def _strip_run(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {k: v for k, v in run.items() if k not in ("settings", "stats")}


def _known_first(counts: Counter[str], known: list[str]) -> dict[str, int]:
    return {k: counts.get(k, 0) for k in known} | {
        k: v for k, v in counts.items() if k not in known
    }


def report_document(
    ix: ReportIndex,
    guidelines: dict[str, Any],
    inventory: list[dict[str, Any]],
) -> dict[str, Any]:
    """The document; `guidelines` is the fleet figures and `inventory` the inventory.csv
    rows, both as the pages show them."""
    data = ix.data
    crawl_run = data["crawl_run"] or {}
    open_run = data["open_run"] or {}
    class_totals = ix.class_totals()
    return {
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
            "inventory_domains": len(ix.inventory),
            "sites": len(ix.sites),
            "sites_by_status": _known_first(ix.status_counts(), SITE_STATUSES),
            "plans_by_status": _known_first(ix.plan_counts(), PLAN_STATUSES),
            "findings_by_severity": {
                k: sum(f["severity"] == k for f in ix.findings) for k in SEVERITIES
            },
            "findings_by_rule": dict(sorted(Counter(f["rule"] for f in ix.findings).items())),
            "freeze_by_window": ix.freeze_counts,
            "freeze_by_classification": {c: class_totals.get(c, 0) for c in CLASSIFICATIONS},
        },
        "agencies": ix.agency_rows,
        "sites": ix.sites,
        "plans": ix.plans,
        "findings": ix.findings,
        "freeze_rows": ix.freeze_rows,
        "inventory": inventory,
        "guidelines": guidelines,
        "changes": ix.changes,
        "crawl": {
            "settings": crawl_run.get("settings") or {},
            "stats": crawl_run.get("stats") or {},
            "open_settings": open_run.get("settings") or {},
            "open_stats": open_run.get("stats") or {},
        },
    }
