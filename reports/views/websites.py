"""websites.html: every website of the inventory (hosts under registered federal domains) per
agency by status and by source, the candidates to add and to retire, and one filterable
table of all websites; the rows of websites.csv; each agency page's websites."""

from __future__ import annotations

from collections import Counter
from typing import Any

from audit.website_rows import export_rows
from audit.website_status import source_counts, status_counts
from reports.views.labels import SITE_STATUSES
from reports.views.report_index import ReportIndex

Row = dict[str, Any]

# As the inventory page: with JavaScript at most this many matching rows show at once.
WEBSITES_PAGE_SIZE = 2000
NOT_CRAWLED = "not-crawled"
STATUS_COLUMNS = [*SITE_STATUSES, NOT_CRAWLED]


def _status(row: Row) -> str:
    return row.get("status") or NOT_CRAWLED


def website_table_row(ix: ReportIndex, row: Row) -> Row:
    agency = row.get("agency")
    return {
        "host": row["host"],
        "agency": agency or "",
        "agency_page": ix.pages.get(agency) if agency else None,
        "status": _status(row),
        "status_reason": row.get("status_reason") or "",
        "redirect_target": row.get("redirect_target") or "",
        "https": row.get("https"),
        "sources": ", ".join(row.get("sources") or []),
        "candidate": row.get("candidate") or "",
    }


def websites_of(ix: ReportIndex) -> dict[str, list[Row]]:
    """Agency -> its websites (computed once per report)."""
    cached = ix.data.get("_websites_of")
    if cached is None:
        cached = {}
        for row in ix.data.get("websites") or []:
            if row.get("agency"):
                cached.setdefault(row["agency"], []).append(row)
        ix.data["_websites_of"] = cached
    return cached


def agency_websites(ix: ReportIndex, agency: str) -> Row:
    """What an agency page shows of its websites: counts by status and the list."""
    rows = websites_of(ix).get(agency, [])
    counts = Counter(_status(r) for r in rows)
    return {
        "count": len(rows),
        "by_status": [{"status": s, "count": counts.get(s, 0)} for s in STATUS_COLUMNS],
        "rows": [website_table_row(ix, r) for r in rows],
    }


def websites_view(ix: ReportIndex) -> Row:
    rows = ix.data.get("websites") or []
    statuses = status_counts(rows)
    sources = source_counts(rows)
    all_sources = sorted({s for r in rows for s in r.get("sources") or ()})
    agencies = []
    for name in sorted(statuses, key=lambda a: (-sum(statuses[a].values()), a)):
        by_status = statuses[name]
        agencies.append(
            {
                "agency": name,
                "page": ix.pages.get(name),
                "total": sum(by_status.values()),
                "by_status": [by_status.get(s, 0) for s in STATUS_COLUMNS],
                "by_source": ", ".join(f"{s} {n:,}" for s, n in sources[name].most_common()),
            }
        )
    totals = Counter(_status(r) for r in rows)
    source_totals = Counter(s for r in rows for s in r.get("sources") or ())
    add = [r for r in rows if r.get("candidate") == "add"]
    retire = [r for r in rows if r.get("candidate") == "retire"]
    return {
        **ix.common,
        "website_run": ix.data.get("website_run"),
        "websites_total": len(rows),
        "status_totals": [{"status": s, "count": totals.get(s, 0)} for s in STATUS_COLUMNS],
        "source_totals": [{"source": s, "count": source_totals[s]} for s in all_sources],
        "status_columns": STATUS_COLUMNS,
        "agencies": agencies,
        "add": [{**website_table_row(ix, r), "first_seen": r.get("first_seen")} for r in add],
        "retire": [{**website_table_row(ix, r), "since": r.get("since")} for r in retire],
        "rows": [website_table_row(ix, r) for r in rows],
        "page_size": WEBSITES_PAGE_SIZE,
    }


def websites_export(ix: ReportIndex) -> list[Row]:
    """websites.csv: the rows of `govaudit export websites`."""
    return export_rows(ix.data.get("websites") or [])
