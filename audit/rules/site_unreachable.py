"""site-unreachable: the agency's site could not be checked at all."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, plan_findings

RULE_ID = "site-unreachable"
SEVERITY = "low"
DESCRIPTION = (
    "The agency's primary site could not be reached or blocked the auditor, so its "
    "/open page and plan could not be checked. Not a finding of absence."
)
POLICY = "OMB M-11-24 (the audit needs every agency's /open page)"


def check(data: AuditInput) -> list[FindingDraft]:
    return plan_findings(
        data,
        RULE_ID,
        SEVERITY,
        lambda r: r["status"] == "unreachable",
        lambda r: f"{r['agency']}: {r['domain']} could not be checked ({r['status_reason']})",
    )
