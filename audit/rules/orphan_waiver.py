"""orphan-waiver: a waiver for a domain that was never registered."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft, waiver_evidence

RULE_ID = "orphan-waiver"
SEVERITY = "low"
DESCRIPTION = (
    "A waiver in waivers.csv for a domain that no registry snapshot lists and RDAP "
    "does not know as registered: the waiver allowed nothing, or names the wrong domain."
)
POLICY = "OMB M-11-24 (waivers are for new domain registrations)"


def check(data: AuditInput) -> list[FindingDraft]:
    findings = []
    for w in data.waivers:
        rdap = data.rdap.get(w.domain)
        if w.domain in data.registry or (rdap is not None and rdap.state == "registered"):
            continue
        findings.append(
            FindingDraft(
                rule=RULE_ID,
                severity=SEVERITY,
                domain=w.domain,
                summary=f"waiver {w.reference or ''} ({w.granted_on}) names {w.domain}, which no "
                "snapshot lists" + (f" and RDAP answers {rdap.state}" if rdap else ""),
                evidence={
                    "waiver": waiver_evidence(w),
                    "snapshots_checked": [s.source_name for s in data.snapshots],
                    "rdap": (
                        {
                            "state": rdap.state,
                            "url": rdap.url,
                            "fetched_at": rdap.fetched_at.isoformat(timespec="seconds"),
                        }
                        if rdap
                        else None
                    ),
                },
            )
        )
    return findings
