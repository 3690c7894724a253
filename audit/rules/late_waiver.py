"""late-waiver: a waiver granted after the registration it was meant to allow."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, freeze_finding, waiver_evidence
from audit.freeze import LATE_WAIVER

RULE_ID = "late-waiver"
SEVERITY = "medium"
DESCRIPTION = (
    "A domain registered (or possibly registered) in a freeze window whose waiver was "
    "granted after the registration date or the start of its registration interval."
)
POLICY = "OMB M-11-24 (a new domain needs the Federal CIO's written waiver first)"


def check(data: AuditInput) -> list[FindingDraft]:
    findings = []
    for row in data.freeze_rows:
        if row.waiver != LATE_WAIVER or row.waiver_used is None:
            continue
        c, w = row.classification, row.waiver_used
        findings.append(
            freeze_finding(
                row,
                RULE_ID,
                SEVERITY,
                f"waiver for {row.domain} granted {w.granted_on}, after the registration "
                f"({c.reference_date or 'unknown date'})",
                {
                    **row.evidence.as_json(),
                    "waiver": waiver_evidence(w),
                    "reference_date": c.reference_date.isoformat() if c.reference_date else None,
                },
            )
        )
    return findings
