"""site-unreachable: a site the crawl could not check at all.

It comes from the site crawl's own observations: every crawled site whose status says it
could not be checked (`unreachable`, or `error` because it blocked us: 401/403 everywhere or
robots.txt). An agency whose /open check could not reach its site is reported too when the
site crawl has no such observation of that domain (an /open-only crawl, or a site that went
down between the two). Never a finding of absence.
"""

from __future__ import annotations

from typing import Any

from audit.findings import AuditInput, FindingDraft, plan_evidence
from audit.site_status import could_not_check

RULE_ID = "site-unreachable"
SEVERITY = "low"
DESCRIPTION = (
    "The site could not be reached or blocked the auditor, so nothing on it (nor the "
    "agency's /open page and plan) could be checked. Not a finding of absence."
)
POLICY = "OMB M-11-24 (the audit needs every agency's site and /open page)"


def site_evidence(row: dict[str, Any]) -> dict[str, Any]:
    """What the site crawl saw: the status and why, where the homepage ended, when."""
    return {
        "source": "site crawl",
        "status": row["status"],
        "status_reason": row["status_reason"],
        "final_url": row["final_url"],
        "crawl_run": row["crawl_run"],
        "fetched_at": row["fetched_at"],
    }


def check(data: AuditInput) -> list[FindingDraft]:
    drafts: list[FindingDraft] = []
    # Every domain the site crawl observed: its own status decides. A site that answered
    # but whose /open page or plan could not be checked is no unreachable site.
    seen: set[str] = {row["domain"] for row in data.sites}
    for row in data.sites:
        if not could_not_check(row["status"], row["status_reason"]):
            continue
        who = f"{row['agency']}: " if row["agency"] else ""
        drafts.append(
            FindingDraft(
                rule=RULE_ID,
                severity=SEVERITY,
                domain=row["domain"],
                agency=row["agency"],
                summary=f"{who}{row['domain']} could not be checked ({row['status_reason']})",
                evidence=site_evidence(row),
            )
        )
    for row in data.plans:
        if row["status"] != "unreachable" or row["domain"] in seen:
            continue
        seen.add(row["domain"])
        drafts.append(
            FindingDraft(
                rule=RULE_ID,
                severity=SEVERITY,
                domain=row["domain"],
                agency=row["agency"],
                summary=f"{row['agency']}: {row['domain']} could not be checked "
                f"({row['status_reason']})",
                evidence={"source": "/open check", **plan_evidence(row)},
            )
        )
    return drafts
