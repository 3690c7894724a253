"""plans.html: agencies by plan status, then one row per agency's /open and plan check."""

from __future__ import annotations

from typing import Any

from reports.views.report_index import ReportIndex


def archived_tables(ix: ReportIndex) -> list[dict[str, Any]]:
    """The plan tables of crawls of web archives, each row with the capture it stands on
    (the plan's, else the /open page's)."""
    tables = []
    for table in ix.data.get("archived_plans") or []:
        rows = []
        for plan in table["plans"]:
            shown = (plan.get("evidence") or {}).get("archive") or {}
            capture = shown.get("plan") or shown.get("open_page")
            rows.append({**plan, "capture": capture})
        tables.append({**table, "plans": rows})
    return tables


def plans_view(ix: ReportIndex) -> dict[str, Any]:
    return {
        **ix.common,
        "plans": ix.plans,
        "archived_plans": archived_tables(ix),
        "plan_counts": ix.plan_status_groups(),
        "deadline": ix.data["deadline"],
        "required_elements": list(
            (ix.data["policy"].get("plans") or {}).get("required_elements") or []
        ),
    }
