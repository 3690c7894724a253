"""open-page-missing: no real Open Government page at www.AGENCY.gov/open."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, plan_findings

RULE_ID = "open-page-missing"
SEVERITY = "high"
DESCRIPTION = (
    "The agency's /open page does not exist: 404, a soft 404 (answers like a random "
    "path), or a redirect to the homepage."
)
POLICY = "OMB M-10-06 Open Government Directive (www.AGENCY.gov/open); OMB M-11-24"


def check(data: AuditInput) -> list[FindingDraft]:
    return plan_findings(
        data,
        RULE_ID,
        SEVERITY,
        lambda r: r["status"] == "no-open-page",
        lambda r: f"{r['agency']}: no Open Government page on {r['domain']} ({r['status_reason']})",
    )
