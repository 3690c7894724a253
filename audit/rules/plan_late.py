"""plan-late: the plan appeared after the deadline."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, plan_findings

RULE_ID = "plan-late"
SEVERITY = "medium"
DESCRIPTION = (
    "The plan's stated publication date is after the deadline in policy.toml [deadlines] "
    "customer_service_plan. A plan that states no date is not judged late (unknown)."
)
POLICY = "EO 13571 sec. 2 (plan within 180 days: 2011-10-24)"


def check(data: AuditInput) -> list[FindingDraft]:
    deadline = data.policy.plan_deadline
    return plan_findings(
        data,
        RULE_ID,
        SEVERITY,
        lambda r: r["late"] is True,
        lambda r: f"{r['agency']}: plan dated {r['stated_date']}, after the deadline {deadline}",
    )
