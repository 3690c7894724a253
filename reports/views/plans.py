"""plans.html: agencies by plan status, then one row per agency's /open and plan check."""

from __future__ import annotations

from typing import Any

from reports.views.report_index import ReportIndex


def plans_view(ix: ReportIndex) -> dict[str, Any]:
    return {
        **ix.common,
        "plans": ix.plans,
        "plan_counts": ix.plan_status_groups(),
        "deadline": ix.data["deadline"],
        "required_elements": list(
            (ix.data["policy"].get("plans") or {}).get("required_elements") or []
        ),
    }
