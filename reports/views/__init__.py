"""One view per page kind: each module is a plain function from the report's shared index
(`report_index.build_index`) to the context its template renders. Views never query and
never judge: figures, changes and statuses come from audit/."""

from __future__ import annotations

from typing import Any

from audit.a11y import export_rows as a11y_export_rows
from audit.dns_results import email_summary
from audit.fleet_figures import fleet_figures
from reports.views.accessibility import accessibility_view
from reports.views.agencies import agencies_view
from reports.views.agency import agency_views
from reports.views.changes import changes_view
from reports.views.downloads import downloads_view
from reports.views.email_dns import email_dns_view
from reports.views.freeze import freeze_view
from reports.views.guidelines import guidelines_view
from reports.views.inventory import inventory_export, inventory_view
from reports.views.methodology import methodology_view
from reports.views.overview import overview_view
from reports.views.plans import plans_view
from reports.views.report_index import build_index
from reports.views.report_json import report_document
from reports.views.websites import websites_export, websites_view


def build(data: dict[str, Any]) -> dict[str, Any]:
    """Every page's context, the downloads' rows and report.json, from `gather`'s data."""
    ix = build_index(data)
    inventory = inventory_export(ix)
    return {
        "overview": overview_view(ix),
        "agencies_index": agencies_view(ix),
        "agency_pages": agency_views(ix),
        "freeze": freeze_view(ix),
        "plans": plans_view(ix),
        "inventory": inventory_view(ix),
        "changes": changes_view(ix),
        "guidelines": guidelines_view(ix),
        "accessibility": accessibility_view(ix),
        "email_dns": email_dns_view(ix),
        "websites": websites_view(ix),
        "about": methodology_view(ix),
        "downloads": downloads_view(ix),
        "report_json": {
            **report_document(ix, fleet_figures(ix.sites, ix.inventory), inventory),
            "guideline_checks": ix.data.get("guideline_checks") or {},
            "email_dns": {
                "dns_run": ix.data["dns_run"],
                "summary": email_summary(ix.data["dns_rows"]) if ix.data["dns_run"] else None,
            },
        },
        "csv": {
            "sites": ix.sites,
            "plans": ix.plans,
            "findings": ix.findings,
            "inventory": inventory,
            "a11y": a11y_export_rows(ix.data["a11y_pages"]),
            "dns": ix.data["dns_rows"],
            "websites": websites_export(ix),
        },
    }
