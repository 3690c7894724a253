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

# With JavaScript at most this many matching rows show at once, drawn from the page's data
# (30,000 table rows as elements made a page no browser tool could check: 470,000 nodes);
# without it, the first this many.
WEBSITES_PAGE_SIZE = 1000
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
    labels = ix.common["status_labels"]

    def website(r: Row) -> list[Any]:
        return [r["host"], ", ".join(r.get("sources") or [])]

    def agency(r: Row) -> list[Any]:
        name = r.get("agency") or ""
        return [name, "", (ix.pages.get(name) or "") if name else ""]

    def status(r: Row) -> list[Any]:
        return [labels.get(_status(r), _status(r)), r.get("status_reason") or ""]

    def https(r: Row) -> str:
        return "—" if r.get("https") is None else ("Yes" if r["https"] else "No")

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
        "add": data_table([[r["host"], agency(r), r.get("first_seen") or ""] for r in add]),
        "retire": data_table(
            [[website(r), status(r), r.get("since") or "—", agency(r)] for r in retire]
        ),
        "all": data_table(
            [[website(r), agency(r), status(r), https(r), r.get("candidate") or ""] for r in rows]
        ),
        "page_size": WEBSITES_PAGE_SIZE,
    }


def data_table(rows: list[list[Any]]) -> Row:
    """A table drawn from data (report.js `data-rows`): every row as cells (a string or
    [text, second line, link]) and the first page of them, which the page itself shows
    (all there is without JavaScript)."""
    return {"data": {"rows": rows}, "first": rows[:WEBSITES_PAGE_SIZE], "total": len(rows)}


def websites_export(ix: ReportIndex) -> list[Row]:
    """websites.csv: the rows of `govaudit export websites`."""
    return export_rows(ix.data.get("websites") or [])
