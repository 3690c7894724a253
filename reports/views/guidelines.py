"""guidelines.html: the fleet figures of `audit.fleet_figures`, each with its denominator,
and the guideline checks of the report's policy (`audit.guidelines`): every check with its
source and fleet-wide pass share, a per-agency table, the failing sites with evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.fleet_figures import fleet_figures
from reports.views.report_index import ReportIndex


def pack_label(pack: dict[str, Any]) -> str:
    """The guideline set's name, else its file's name."""
    return str(pack.get("name") or Path(str(pack.get("file") or "policy")).name)


def guideline_checks_view(ix: ReportIndex) -> dict[str, Any]:
    section = dict(ix.data.get("guideline_checks") or {"available": False, "checks": []})
    pack = {k: None for k in ("name", "title", "date", "url", "file")} | (section.get("pack") or {})
    checks = section.get("checks") or []
    agencies = sorted({a["agency"] for c in checks for a in c["agencies"]})
    cells = {(c["id"], a["agency"]): a for c in checks for a in c["agencies"]}
    matrix = [
        {
            "agency": name,
            "cells": [cells.get((c["id"], name)) for c in checks],
            "fail": sum((cells.get((c["id"], name)) or {}).get("fail", 0) for c in checks),
        }
        for name in agencies
    ]
    return {
        "available": False,
        "reason": None,
        "crawl_run": None,
        **section,
        "pack": pack,
        "pack_label": pack_label(pack),
        "checks": checks,
        "agency_matrix": matrix,
    }


def guidelines_view(ix: ReportIndex) -> dict[str, Any]:
    return {
        **ix.common,
        **fleet_figures(ix.sites, ix.inventory),
        "guideline_checks": guideline_checks_view(ix),
        "other_reports": ix.data.get("other_reports") or [],
    }
