"""accessibility: a page with serious or critical axe-core violations."""

from __future__ import annotations

from audit.a11y import SERIOUS, worst_impact
from audit.findings import AuditInput, FindingDraft

RULE_ID = "accessibility"
SEVERITY = "high"  # critical violations; serious ones are medium
DESCRIPTION = (
    "A checked page (an active site's homepage, an /open page or an HTML plan) has "
    "violations of serious or critical impact in axe-core's WCAG 2 rules. Pages that could "
    "not be checked are not findings."
)
POLICY = "Section 508 (36 CFR 1194, WCAG 2.0 AA); OMB M-23-22 section II"
SEVERITY_BY_IMPACT = {"critical": "high", "serious": "medium"}


def check(data: AuditInput) -> list[FindingDraft]:
    out = []
    for page in data.a11y_pages:
        if page["state"] != "checked":
            continue
        worst = worst_impact(page)
        if worst not in SERIOUS:
            continue
        serious = [v for v in page["violations"] if v.get("impact") in SERIOUS]
        rules = ", ".join(f"{v['rule']} ({v['impact']}, {v['nodes']})" for v in serious)
        out.append(
            FindingDraft(
                rule=RULE_ID,
                severity=SEVERITY_BY_IMPACT[worst],
                summary=f"{page['url']}: {len(serious)} serious or critical rule(s): {rules}",
                domain=page["domain"],
                agency=page["agency"],
                evidence={
                    "url": page["url"],
                    "kind": page["kind"],
                    "roles": page.get("roles") or [page["kind"]],
                    "final_url": page["final_url"],
                    "status": page["http_status"],
                    "fetched_at": page["checked_at"],
                    "axe_version": page["axe_version"],
                    "a11y_run": page["a11y_run"],
                    "violations": serious,
                },
            )
        )
    return out
