"""guidelines.html: the fleet figures of `audit.fleet_figures`, each with its denominator."""

from __future__ import annotations

from typing import Any

from audit.fleet_figures import fleet_figures
from reports.views.report_index import ReportIndex


def guidelines_view(ix: ReportIndex) -> dict[str, Any]:
    return {**ix.common, **fleet_figures(ix.sites, ix.inventory)}
