"""plan-missing: a real /open page, but no Customer Service Plan on it."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, plan_findings

RULE_ID = "plan-missing"
SEVERITY = "high"
DESCRIPTION = (
    "The /open page exists but links no Customer Service Plan (a dead plan link counts as no plan)."
)
POLICY = "OMB M-11-24 and EO 13571 sec. 2 (publish a Customer Service Plan on /open)"


def check(data: AuditInput) -> list[FindingDraft]:
    return plan_findings(
        data,
        RULE_ID,
        SEVERITY,
        lambda r: r["status"] == "no-plan",
        lambda r: (
            f"{r['agency']}: no Customer Service Plan on {r['open_page_url']} "
            f"({r['status_reason']})"
        ),
    )
