"""freeze.html: the windows with counts, the timeline, flagged registrations with their
evidence, late and orphan waivers, unlisted domains and where the crawl saw them linked."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reports.views.freeze_table import timeline_rows
from reports.views.labels import CLASSIFICATIONS, FLAGGED_CLASSIFICATIONS
from reports.views.overview import TIMELINE_MAX
from reports.views.report_index import ReportIndex, evidence_by_freeze_row


def freeze_view(ix: ReportIndex) -> dict[str, Any]:
    evidence = evidence_by_freeze_row(ix.findings)
    flagged = [
        {**r, "findings": evidence.get((r["domain"] or "", r["window"] or ""), [])}
        for r in ix.freeze_rows
        if r["classification"] in FLAGGED_CLASSIFICATIONS
    ]
    flagged.sort(
        key=lambda r: (
            CLASSIFICATIONS.index(r["classification"]),
            r["window"] or "",
            r["domain"] or "",
        )
    )
    unlisted_links: dict[str, set[str]] = defaultdict(set)
    for s in ix.sites:
        for d in s["unlisted_gov_domains"] or []:
            unlisted_links[str(d)].add(s["domain"])
    dated = ix.dated_freeze_rows()
    findings = ix.findings
    return {
        **ix.common,
        "windows": ix.data["windows"],
        "freeze_counts": ix.freeze_counts,
        "freeze_class_totals": ix.freeze_class_totals(),
        "flagged": flagged,
        "rows_total": len(ix.freeze_rows),
        "timeline_rows": timeline_rows(dated)[:TIMELINE_MAX],
        "dated_total": len(dated),
        "registration_findings": [f for f in findings if f["rule"] == "freeze-registration"],
        "late_waivers": [f for f in findings if f["rule"] == "late-waiver"],
        "orphan_waivers": [f for f in findings if f["rule"] == "orphan-waiver"],
        "unlisted_findings": [f for f in findings if f["rule"] == "unlisted-domain"],
        "unlisted_links": [
            {"domain": d, "linked_from": sorted(v)} for d, v in sorted(unlisted_links.items())
        ],
    }
