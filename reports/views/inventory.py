"""inventory.html: every domain of the registry snapshot with its site status; and the rows
of inventory.csv."""

from __future__ import annotations

from typing import Any

from audit.fleet_figures import is_federal
from reports.views.report_index import ReportIndex

# With JavaScript, the inventory shows at most this many matching rows at once (sorting
# 16,000 table rows re-lays out the whole table, which takes seconds); "Show all" lifts it.
INVENTORY_PAGE_SIZE = 2000


def inventory_view(ix: ReportIndex) -> dict[str, Any]:
    rows = []
    for e in ix.inventory:
        s = ix.site_by_domain.get(e["domain"])
        agency = e["agency"]
        rows.append(
            {
                "domain": e["domain"],
                "domain_type": e["domain_type"] or "",
                "agency": agency or "",
                "agency_page": ix.pages.get(agency) if agency else None,
                "organization": e["organization"] or "",
                "state": e["state"] or "",
                "status": s["status"] if s else "not-crawled",
                "https": None if s is None else s["https"],
            }
        )
    return {
        **ix.common,
        "rows": rows,
        "page_size": INVENTORY_PAGE_SIZE,
        "federal": sum(1 for e in ix.inventory if is_federal(e)),
    }


def inventory_export(ix: ReportIndex) -> list[dict[str, Any]]:
    """inventory.csv: the snapshot's rows with the crawl's site status and HTTPS (empty when
    the crawl did not include the domain)."""
    out = []
    for e in ix.inventory:
        s = ix.site_by_domain.get(e["domain"])
        out.append(
            {
                **e,
                "site_status": s["status"] if s else None,
                "https": s["https"] if s else None,
            }
        )
    return out
