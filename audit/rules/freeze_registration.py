"""freeze-registration: a domain registered inside a freeze window."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, freeze_finding, waiver_evidence
from audit.freeze import IN_FREEZE, LATE_WAIVER, NO_WAIVER, POSSIBLY, WAIVED

RULE_ID = "freeze-registration"
SEVERITY = "high"
DESCRIPTION = (
    "A .gov domain registered inside a freeze window of policy.toml. High when the evidence "
    "puts it wholly inside and no waiver covers it, medium when it only possibly falls inside "
    "(or a waiver came late), info when a waiver granted in time covers it."
)
POLICY = "OMB M-11-24 (freeze on new .gov domains; new domains only with a Federal CIO waiver)"

_SEVERITY = {
    (IN_FREEZE, NO_WAIVER): "high",
    (IN_FREEZE, LATE_WAIVER): "medium",
    (POSSIBLY, NO_WAIVER): "medium",
    (POSSIBLY, LATE_WAIVER): "medium",
}


def check(data: AuditInput) -> list[FindingDraft]:
    findings = []
    for row in data.freeze_rows:
        c = row.classification
        if c.classification not in (IN_FREEZE, POSSIBLY):
            continue
        severity = "info" if row.waiver == WAIVED else _SEVERITY[(c.classification, row.waiver)]
        if row.federal is None and severity == "high":
            # In no registry snapshot: it may not be a federal domain at all.
            severity = "medium"
        evidence = row.evidence.as_json()
        evidence["basis"] = c.basis
        evidence["note"] = c.note
        if row.federal is None:
            evidence["note"] += "; in no registry snapshot, so its type (federal or not) is unknown"
        if row.waiver_used is not None:
            w = row.waiver_used
            evidence["waiver"] = waiver_evidence(w)
        when = (
            f"on {c.registration_date}"
            if c.registration_date
            else f"between {c.interval[0]} and {c.interval[1]}"
            if c.interval
            else ""
        )
        findings.append(
            freeze_finding(
                row,
                RULE_ID,
                severity,
                f"{row.domain} registered {when} ({c.classification}, "
                f"{c.window.name}): {row.waiver}",
                evidence,
            )
        )
    return findings
