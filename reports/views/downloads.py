"""downloads.html: the CSV and JSON files with their row counts."""

from __future__ import annotations

from typing import Any

from reports.views.report_index import ReportIndex


def downloads_view(ix: ReportIndex) -> dict[str, Any]:
    return {
        **ix.common,
        "files": [
            {
                "name": "findings.csv",
                "rows": len(ix.findings),
                "about": "Findings of the audit, highest severity first.",
            },
            {
                "name": "sites.csv",
                "rows": len(ix.sites),
                "about": "One row per crawled domain (as `govaudit export sites`).",
            },
            {
                "name": "plans.csv",
                "rows": len(ix.plans),
                "about": "One row per agency: its /open page and Customer Service Plan check.",
            },
            {
                "name": "inventory.csv",
                "rows": len(ix.inventory),
                "about": "Every domain of the registry snapshot, with its site status.",
            },
            {
                "name": "report.json",
                "rows": None,
                "about": "Everything in this report as data (keys documented in docs/report.md).",
            },
        ],
    }
