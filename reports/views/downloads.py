"""downloads.html: the CSV and JSON files with their row counts."""

from __future__ import annotations

from typing import Any

from audit.a11y import export_rows
from reports.views.report_index import ReportIndex


def downloads_view(ix: ReportIndex) -> dict[str, Any]:
    # a11y.csv exists only when an accessibility run does (`govaudit a11y` is optional).
    a11y = [
        {
            "name": "a11y.csv",
            "rows": len(export_rows(ix.data["a11y_pages"])),
            "about": "Accessibility: one row per violated axe-core rule per page checked "
            "(as `govaudit export a11y`).",
        }
    ]
    dns = [
        {
            "name": "dns.csv",
            "rows": len(ix.data["dns_rows"]),
            "about": "Email and DNS: one row per domain of the newest DNS run, judged (as "
            "`govaudit export dns`).",
        }
    ]
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
            *(a11y if ix.data["a11y_run"] else []),
            *(dns if ix.data["dns_run"] else []),
            *(
                [
                    {
                        "name": "websites.csv",
                        "rows": len(ix.data["websites"]),
                        "about": "One row per website of the inventory, with its status "
                        "(as `govaudit export websites`).",
                    }
                ]
                if ix.data.get("websites")
                else []
            ),
            {
                "name": "report.json",
                "rows": None,
                "about": "Everything in this report as data (keys documented in docs/report.md).",
            },
        ],
    }
