"""Accessibility results read back, and the figures the audit and the report draw from them.

`a11y_pages` is the only function here that reads the database; the rest are pure functions
of its rows. A page "couldn't check" is never counted as having no violations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import A11yCheck

A11Y_COLUMNS = [
    "domain",
    "url",
    "rule",
    "impact",
    "wcag",
    "nodes",
    "example",
    "axe_version",
    "checked_at",
]
IMPACTS = ("minor", "moderate", "serious", "critical")
# A page whose worst violation is at or above this impact fails the `accessibility` rule.
SERIOUS = ("serious", "critical")


def impact_rank(impact: str | None) -> int:
    return IMPACTS.index(impact) if impact in IMPACTS else -1


def a11y_pages(session: Session, run_id: int) -> list[dict[str, Any]]:
    """One dict per page checked in an a11y run (violations as stored)."""
    rows = session.scalars(
        select(A11yCheck)
        .where(A11yCheck.run_id == run_id)
        .order_by(A11yCheck.domain, A11yCheck.url)
    )
    return [
        {
            "domain": r.domain,
            "agency": r.agency,
            "url": r.url,
            "kind": r.kind,
            "state": r.state,
            "reason": r.reason,
            "final_url": r.final_url,
            "http_status": r.http_status,
            "axe_version": r.axe_version,
            "checked_at": r.checked_at.isoformat(timespec="seconds"),
            "violations": list(r.violations or []),
            "a11y_run": run_id,
        }
        for r in rows
    ]


def worst_impact(page: dict[str, Any]) -> str | None:
    impacts = [v.get("impact") for v in page["violations"]]
    return max(impacts, key=impact_rank, default=None)


def export_rows(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`export a11y`: one row per violated rule per page; a clean page has one empty row.

    A page that could not be checked has one row too, its `rule` empty and the reason in
    `example` prefixed "couldn't check:", so it is never read as a clean page.
    """
    rows: list[dict[str, Any]] = []
    for page in pages:
        base = {
            "domain": page["domain"],
            "url": page["url"],
            "axe_version": page["axe_version"] or "",
            "checked_at": page["checked_at"],
        }
        if page["state"] != "checked":
            rows.append(
                {
                    **base,
                    "rule": "",
                    "impact": "",
                    "wcag": "",
                    "nodes": "",
                    "example": f"couldn't check: {page['reason']}",
                }
            )
            continue
        if not page["violations"]:
            rows.append({**base, "rule": "", "impact": "", "wcag": "", "nodes": 0, "example": ""})
        for v in page["violations"]:
            rows.append(
                {
                    **base,
                    "rule": v["rule"],
                    "impact": v.get("impact") or "",
                    "wcag": " ".join(v.get("wcag") or []),
                    "nodes": v.get("nodes", 0),
                    "example": " ".join(
                        part for part in (v.get("example_target"), v.get("example_html")) if part
                    ),
                }
            )
    return rows


def fleet_summary(pages: list[dict[str, Any]], top: int = 10) -> dict[str, Any]:
    """Homepages checked, the share with no serious/critical violation, the commonest rules,
    and one row per agency. Pages that could not be checked are counted apart."""
    homepages = [p for p in pages if p["kind"] == "homepage"]
    checked = [p for p in homepages if p["state"] == "checked"]
    clean = [p for p in checked if impact_rank(worst_impact(p)) < impact_rank("serious")]
    rule_sites: Counter[str] = Counter()
    rule_meta: dict[str, dict[str, Any]] = {}
    for page in checked:
        for v in page["violations"]:
            rule_sites[v["rule"]] += 1
            rule_meta.setdefault(v["rule"], {"impact": v.get("impact"), "wcag": v.get("wcag")})
    by_agency: dict[str, dict[str, int]] = defaultdict(
        lambda: {"checked": 0, "clean": 0, "couldnt_check": 0}
    )
    clean_urls = {p["url"] for p in clean}
    for page in homepages:
        row = by_agency[page["agency"] or "(unknown agency)"]
        if page["state"] != "checked":
            row["couldnt_check"] += 1
            continue
        row["checked"] += 1
        row["clean"] += page["url"] in clean_urls
    return {
        "pages": len(pages),
        "homepages": len(homepages),
        "checked": len(checked),
        "couldnt_check": len(homepages) - len(checked),
        "clean": len(clean),
        "clean_share": len(clean) / len(checked) if checked else None,
        "common_rules": [
            {"rule": rule, "sites": n, **rule_meta[rule]} for rule, n in rule_sites.most_common(top)
        ],
        "by_agency": [
            {
                "agency": name,
                **row,
                "clean_share": row["clean"] / row["checked"] if row["checked"] else None,
            }
            for name, row in sorted(by_agency.items())
        ],
    }
