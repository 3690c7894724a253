"""accessibility.html: axe-core results of the newest `govaudit a11y` run (audit.a11y)."""

from __future__ import annotations

from typing import Any

from audit.a11y import SERIOUS, fleet_summary, worst_impact
from reports.views.report_index import ReportIndex


def pages_with_serious(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked pages whose worst violation is serious or critical, worst first."""
    flagged = [
        {
            **p,
            "worst": worst_impact(p),
            "serious": [v for v in p["violations"] if v.get("impact") in SERIOUS],
        }
        for p in pages
        if p["state"] == "checked" and worst_impact(p) in SERIOUS
    ]
    return sorted(flagged, key=lambda p: (p["worst"] != "critical", p["domain"], p["url"]))


def accessibility_view(ix: ReportIndex) -> dict[str, Any]:
    pages = ix.data["a11y_pages"]
    return {
        **ix.common,
        "a11y_run": ix.data["a11y_run"],
        "summary": fleet_summary(pages),
        "flagged": pages_with_serious(pages),
        "unchecked": [p for p in pages if p["state"] != "checked"],
        "agency_pages": ix.pages,
        "step_failure": next(
            (s for s in (ix.data["job_run"] or {}).get("failed_steps", []) if s["step"] == "a11y"),
            None,
        ),
    }


def agency_a11y(ix: ReportIndex, agency: str) -> list[dict[str, Any]]:
    """An agency's checked pages with their violations (for its agency page)."""
    return [
        {**p, "worst": worst_impact(p)}
        for p in ix.data["a11y_pages"]
        if (p["agency"] or ix.site_agency({"agency": None, "domain": p["domain"]})) == agency
    ]
