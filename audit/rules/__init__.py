"""The registry of audit rules: one module per rule, each with its id, severity, description,
the policy it comes from, and `check(data: AuditInput) -> list[FindingDraft]`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from audit.findings import AuditInput, FindingDraft
from audit.rules import (
    accessibility,
    email_security,
    freeze_registration,
    guideline_checks,
    late_waiver,
    open_page_missing,
    orphan_waiver,
    plan_incomplete,
    plan_late,
    plan_missing,
    site_unreachable,
    unlisted_domain,
)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str
    policy: str
    check: Callable[[AuditInput], list[FindingDraft]]


def _rule(module: ModuleType) -> Rule:
    return Rule(module.RULE_ID, module.SEVERITY, module.DESCRIPTION, module.POLICY, module.check)


RULES: dict[str, Rule] = {
    r.id: r
    for r in map(
        _rule,
        [
            freeze_registration,
            late_waiver,
            orphan_waiver,
            unlisted_domain,
            open_page_missing,
            plan_missing,
            plan_incomplete,
            plan_late,
            site_unreachable,
            accessibility,
            email_security,
            guideline_checks,
        ],
    )
}
