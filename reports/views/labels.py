"""The words the report uses for statuses, classifications and rules, in display order."""

from __future__ import annotations

from audit.fleet_figures import SITE_STATUSES

__all__ = [
    "CLASSIFICATIONS",
    "DNS_STATE_LABELS",
    "EMAIL_VERDICT_LABELS",
    "FLAGGED_CLASSIFICATIONS",
    "FREEZE_RULES",
    "PLAN_STATUSES",
    "PLAN_STATUS_LABELS",
    "RULE_LABELS",
    "SEVERITIES",
    "SITE_STATUSES",
    "STATUS_LABELS",
]

PLAN_STATUSES = ["published", "incomplete", "no-plan", "no-open-page", "unreachable"]
CLASSIFICATIONS = ["in-freeze", "possibly-in-freeze", "outside", "unknown"]
FLAGGED_CLASSIFICATIONS = ("in-freeze", "possibly-in-freeze")
SEVERITIES = ["high", "medium", "low", "info"]
FREEZE_RULES = ("freeze-registration", "late-waiver", "orphan-waiver", "unlisted-domain")
RULE_LABELS = {
    "freeze-registration": "Registered during a freeze",
    "late-waiver": "Waiver granted after registration",
    "orphan-waiver": "Waiver for a domain not in the registry",
    "unlisted-domain": "Linked .gov domain not in the registry",
    "open-page-missing": "No Open Government page",
    "plan-missing": "No Customer Service Plan",
    "plan-incomplete": "Customer Service Plan incomplete",
    "plan-late": "Customer Service Plan late",
    "site-unreachable": "Site unreachable",
    "email-security": "Email not protected (BOD 18-01)",
}
STATUS_LABELS = {
    "active": "Active",
    "redirect": "Redirect",
    "error": "Error",
    "unreachable": "Unreachable",
    "parked": "Parked",
    "not-archived": "Not archived",
    "not-crawled": "Not crawled",
}
PLAN_STATUS_LABELS = {
    "published": "Published",
    "incomplete": "Incomplete",
    "no-plan": "No plan",
    "no-open-page": "No /open page",
    "unreachable": "Unreachable",
}
EMAIL_VERDICT_LABELS = {
    "compliant": "Compliant",
    "not-compliant": "Not compliant",
    "couldn't-check": "Couldn't check",
}
DNS_STATE_LABELS = {
    "ok": "OK",
    "unreachable": "Unreachable",
    "couldn't-check": "Couldn't check",
}
