"""plan-incomplete: a Customer Service Plan missing required elements."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, plan_findings

RULE_ID = "plan-incomplete"
SEVERITY = "medium"
DESCRIPTION = (
    "The published plan lacks elements policy.toml requires (signature initiative, "
    "feedback mechanisms, service standards, timeline, EO 13571 reference, "
    "performance goals)."
)
POLICY = "EO 13571 sec. 2; OMB M-11-24 (contents of the Customer Service Plan)"


def check(data: AuditInput) -> list[FindingDraft]:
    return plan_findings(
        data,
        RULE_ID,
        SEVERITY,
        lambda r: r["status"] == "incomplete",
        lambda r: f"{r['agency']}: plan {r['plan_url']} misses {', '.join(r['missing_elements'])}",
    )
