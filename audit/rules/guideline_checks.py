"""guideline:<id>: a site fails a guideline check of the policy (`[[guidelines.checks]]`).

One module for the whole family: the checks are data (seeds/policy.toml, or a draft given
with --policy), judged by audit/guidelines.py; each failure is a finding of rule
`guideline:<check id>` with the check's severity. Couldn't check is never a finding.
"""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft
from audit.guideline_predicates import FAIL

RULE_ID = "guideline"
SEVERITY = "per check"
DESCRIPTION = (
    "A site fails a guideline check of the policy in force (the check's title, source and "
    "severity come from the policy file)."
)
POLICY = "the guideline set of the policy file ([[guidelines.checks]])"


def check(data: AuditInput) -> list[FindingDraft]:
    checks = {c.id: c for c in data.policy.guideline_checks}
    drafts = []
    for result in data.guideline_results:
        if result.outcome != FAIL:
            continue
        c = checks[result.check]
        drafts.append(
            FindingDraft(
                rule=c.rule,
                severity=c.severity,
                domain=result.domain,
                agency=result.agency,
                summary=f"{result.domain} fails {c.title!r} ({c.source})",
                evidence={
                    "check": c.id,
                    "title": c.title,
                    "source": c.source,
                    "test": c.test,
                    **result.evidence,
                },
            )
        )
    return drafts
