"""index.html: runs and scope, sites by status, plan status, freeze counts and timeline, the
top findings, changes since the previous run."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from reports.views.freeze_table import timeline_rows
from reports.views.labels import SEVERITIES, SITE_STATUSES
from reports.views.report_index import ReportIndex

TOP_FINDINGS = 20
CHART_AGENCIES = 12
TIMELINE_MAX = 40


def chart_agencies(ix: ReportIndex) -> list[dict[str, Any]]:
    """Site status counts of the agencies with most crawled sites."""
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    for s in ix.sites:
        by_agency[ix.site_agency(s) or "(no agency)"][s["status"]] += 1
    top = sorted(by_agency.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return [
        {"agency": a, "counts": {k: c.get(k, 0) for k in SITE_STATUSES}, "total": sum(c.values())}
        for a, c in top[:CHART_AGENCIES]
    ]


def overview_view(ix: ReportIndex) -> dict[str, Any]:
    status_counts = ix.status_counts()
    severity_counts = Counter(f["severity"] for f in ix.findings)
    agencies = chart_agencies(ix)
    dated = ix.dated_freeze_rows()
    return {
        **ix.common,
        "site_status_counts": [
            {"status": k, "count": status_counts.get(k, 0)}
            for k in [*SITE_STATUSES, *sorted(set(status_counts) - set(SITE_STATUSES))]
        ],
        "sites_total": len(ix.sites),
        "inventory_total": len(ix.inventory),
        "chart_agencies": agencies,
        "agencies_with_sites": len({ix.site_agency(s) or "(no agency)" for s in ix.sites}),
        "plan_counts": ix.plan_status_groups(),
        "plans_total": len(ix.plans),
        "freeze_windows": ix.data["windows"],
        "freeze_counts": ix.freeze_counts,
        "freeze_class_totals": ix.freeze_class_totals(),
        "timeline_rows": timeline_rows(dated)[:TIMELINE_MAX],
        "dated_total": len(dated),
        "severity_counts": [
            {"severity": s, "count": severity_counts.get(s, 0)} for s in SEVERITIES
        ],
        "top_findings": ix.findings[:TOP_FINDINGS],
        "findings_total": len(ix.findings),
        "changes": ix.changes,
    }
