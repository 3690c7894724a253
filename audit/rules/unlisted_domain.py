"""unlisted-domain: a .gov domain linked from agency sites that no snapshot lists."""

from __future__ import annotations

from audit.findings import AuditInput, FindingDraft

RULE_ID = "unlisted-domain"
SEVERITY = "medium"
DESCRIPTION = (
    "A .gov registrable domain linked from an audited site but absent from every "
    "registry snapshot: newly registered since the last registry file (check it "
    "against the freeze), or a broken link."
)
POLICY = "OMB M-11-24 (inventory of .gov domains; freeze on new domains)"


def check(data: AuditInput) -> list[FindingDraft]:
    findings = []
    for domain, seen in sorted(data.unlisted.items()):
        if domain in data.registry:
            continue
        rdap = data.rdap.get(domain)
        verdict = (
            "RDAP: not registered (a broken link)"
            if rdap and rdap.state == "not-registered"
            else f"RDAP registration {rdap.registration.date()}"
            if rdap and rdap.registration
            else "no RDAP answer yet"
        )
        findings.append(
            FindingDraft(
                rule=RULE_ID,
                severity=SEVERITY,
                domain=domain,
                agency=seen.get("agency"),
                summary=f"{domain} is linked from {seen.get('from_url')} but is in no registry "
                f"snapshot; {verdict}",
                evidence={
                    **seen,
                    "rdap": (
                        {
                            "state": rdap.state,
                            "registration": rdap.registration.isoformat()
                            if rdap.registration
                            else None,
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
