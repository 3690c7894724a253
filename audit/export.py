"""Rows and CSV for `govaudit export` and the report's downloads: pages, links and findings
read back as plain data; cells a spreadsheet would run as formulas disarmed. (Site and plan
rows are audit/site_rows.py and audit/plan_rows.py: the audit reads them too.)

Every column is documented in docs/reference.md ("`govaudit export`"). These functions only read.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.archive_fields import ARCHIVE_COLUMNS, archive_fields
from audit.models import CrawlRun, Finding, LinkObservation, PageObservation
from audit.url_secrets import masked

PAGE_COLUMNS = [
    "domain",
    "url",
    "depth",
    "referrer",
    "status",
    "error_kind",
    "title",
    "content_type",
    "content_hash",
    "fetched_at",
    "crawl_run",
    *ARCHIVE_COLUMNS,
]

LINK_COLUMNS = ["domain", "from_url", "to_url", "to_host", "kind", "status", "crawl_run"]

FINDING_COLUMNS = [
    "rule",
    "severity",
    "domain",
    "agency",
    "window",
    "classification",
    "waiver",
    "summary",
    "evidence",
    "audit_run",
    "warc_file",
    "warc_offset",
    "finding_id",
]

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): crawled
# titles and link texts are the site's words, so such cells get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: JSON for objects and lists, "" for null, formulas disarmed."""
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str)
    if value is None:
        return ""
    if isinstance(value, str):
        if value.startswith(_FORMULA_START):
            value = "'" + value
        # csv quotes a cell holding "\n" (our line end) but not a bare "\r", which readers
        # take as a row end: line breaks are written as "\n".
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """The CSV of `govaudit export` and the report's downloads: JSON for objects and lists,
    an empty cell for null, cells a spreadsheet would run as formulas disarmed."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([csv_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def pages_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    run = session.get(CrawlRun, run_id)
    rows = [
        {
            "domain": p.domain,
            "url": p.url,
            "depth": p.depth,
            "referrer": p.referrer,
            "status": p.status,
            "error_kind": p.error_kind,
            "title": p.title,
            "content_type": p.content_type,
            "content_hash": p.content_hash,
            "fetched_at": p.fetched_at.isoformat(timespec="seconds"),
            "crawl_run": p.run_id,
            **archive_fields(run, p.capture_url, p.memento_datetime),
        }
        for p in session.scalars(
            select(PageObservation)
            .where(PageObservation.run_id == run_id)
            .order_by(PageObservation.domain, PageObservation.url)
        )
    ]
    return masked(rows)


def links_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    rows = [
        {
            "domain": lk.domain,
            "from_url": lk.from_url,
            "to_url": lk.to_url,
            "to_host": lk.to_host,
            "kind": lk.kind,
            "status": lk.status,
            "crawl_run": lk.run_id,
        }
        for lk in session.scalars(
            select(LinkObservation)
            .where(LinkObservation.run_id == run_id)
            .order_by(LinkObservation.domain, LinkObservation.kind, LinkObservation.to_url)
        )
    ]
    return masked(rows)


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def findings_rows(
    session: Session, audit_run_id: int, rule: str | None = None
) -> list[dict[str, Any]]:
    from audit.warc_citations import CitationIndex, finding_run_ids

    query = select(Finding).where(Finding.audit_run_id == audit_run_id)
    if rule:
        query = query.where(Finding.rule == rule)
    findings = list(session.scalars(query))
    index = CitationIndex(session, finding_run_ids(session, findings))
    rows = []
    for f in findings:
        # The first record the finding cites (a plan finding: its /open page).
        cited = index.cited(f)
        rows.append(
            {
                "rule": f.rule,
                "severity": f.severity,
                "domain": f.domain,
                "agency": f.agency,
                "window": f.window,
                "classification": f.classification,
                "waiver": f.waiver,
                "summary": f.summary,
                "evidence": f.evidence,
                "audit_run": f.audit_run_id,
                "warc_file": cited[0].warc_file if cited else None,
                "warc_offset": cited[0].warc_offset if cited else None,
                "finding_id": f.id,
            }
        )
    rows.sort(
        key=lambda r: (
            SEVERITY_ORDER.get(r["severity"], 9),
            r["rule"],
            r["domain"] or "",
            r["window"] or "",
            r["agency"] or "",
        )
    )
    return masked(rows)
