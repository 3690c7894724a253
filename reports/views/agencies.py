"""agencies.html: every agency with domains, crawled sites, a plan check or findings."""

from __future__ import annotations

from typing import Any

from reports.views.report_index import ReportIndex


def agencies_view(ix: ReportIndex) -> dict[str, Any]:
    return {**ix.common, "agencies": ix.agency_rows}
