"""Accessibility results read back, and the figures the audit and the report draw from them.

`a11y_pages` is the only function here that reads the database; the rest are pure functions
of its rows. A page "couldn't check" is never counted as having no violations. A page is
checked once per run whatever roles it plays (homepage, /open page, plan: `roles`); every
figure that counts pages of a role counts it in each of its roles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import A11yCheck, CrawlTask

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
    "roles",
]
IMPACTS = ("minor", "moderate", "serious", "critical")
# The reason of a page whose check failed inside govaudit (a failed unit).
INTERNAL_ERROR = "internal error"
# A page whose worst violation is at or above this impact fails the `accessibility` rule.
SERIOUS = ("serious", "critical")


def impact_rank(impact: str | None) -> int:
    return IMPACTS.index(impact) if impact in IMPACTS else -1


def a11y_pages(session: Session, run_id: int) -> list[dict[str, Any]]:
    """One dict per page of an a11y run (violations as stored).

    A failed unit (its check raised, or its row was refused: the task `failed`, no row) is a
    page "couldn't check" with the reason "internal error", never left out.
    """
    rows = session.scalars(select(A11yCheck).where(A11yCheck.run_id == run_id))
    pages = [
        {
            "domain": r.domain,
            "agency": r.agency,
            "url": r.url,
            "kind": r.kind,
            "roles": list(r.roles or [r.kind]),
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
    seen = {p["url"] for p in pages}
    for domain, agency, key, finished_at in session.execute(
        select(CrawlTask.domain, CrawlTask.agency, CrawlTask.key, CrawlTask.finished_at)
        .where(CrawlTask.run_id == run_id, CrawlTask.job == "a11y", CrawlTask.state == "failed")
        .order_by(CrawlTask.id)
    ):
        roles, _, url = key.partition(" ")
        if url in seen:
            continue
        seen.add(url)
        names = roles.split(",")
        pages.append(
            {
                "domain": domain,
                "agency": agency,
                "url": url,
                "kind": names[0],
                "roles": names,
                "state": "couldn't check",
                "reason": INTERNAL_ERROR,
                "final_url": None,
                "http_status": None,
                "axe_version": None,
                "checked_at": finished_at.isoformat(timespec="seconds") if finished_at else "",
                "violations": [],
                "a11y_run": run_id,
            }
        )
    return sorted(pages, key=lambda p: (p["domain"], p["url"]))


def has_role(page: dict[str, Any], role: str) -> bool:
    return role in (page.get("roles") or [page["kind"]])


def worst_impact(page: dict[str, Any]) -> str | None:
    impacts = [v.get("impact") for v in page["violations"]]
    return max(impacts, key=impact_rank, default=None)


def export_rows(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`export a11y`: one row per violated rule per page; a clean page has one empty row.
    `roles` is every role the page plays, space-separated (homepage open plan).

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
            "roles": " ".join(page.get("roles") or [page["kind"]]),
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
    homepages = [p for p in pages if has_role(p, "homepage")]
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
    worst = Counter(worst_impact(p) or "none" for p in pages if p["state"] == "checked")
    return {
        "pages": len(pages),
        "homepages": len(homepages),
        # Every checked page (any role) by its worst violation: none, minor ... critical.
        "by_worst_impact": [{"impact": name, "pages": worst[name]} for name in ("none", *IMPACTS)],
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
