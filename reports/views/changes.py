"""changes.html: sites, plan statuses and findings against the previous runs."""

from __future__ import annotations

from typing import Any

from reports.views.report_index import ReportIndex


def changes_view(ix: ReportIndex) -> dict[str, Any]:
    return {
        **ix.common,
        "changes": ix.changes,
        "previous_crawl_run": ix.data["previous_crawl_run"],
        "previous_audit_run": ix.data["previous_audit_run"],
    }
