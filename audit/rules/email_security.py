"""email-security: a domain whose email is not protected as BOD 18-01 asks."""

from __future__ import annotations

from audit.email_dns import NOT_COMPLIANT
from audit.findings import AuditInput, FindingDraft

RULE_ID = "email-security"
SEVERITY = "medium"
DESCRIPTION = (
    "A domain's stored DNS answers (`govaudit dns`) show email that anyone can spoof: no "
    "valid SPF record (or one ending in +all), or DMARC below the policy's requirement "
    "(p=reject at pct=100 with CISA's address among the aggregate report recipients). "
    "Domains whose DNS could not be checked are not findings."
)
POLICY = "CISA BOD 18-01 (Enhance Email and Web Security), required actions 1.a.i and 1.a.iii"


def check(data: AuditInput) -> list[FindingDraft]:
    out = []
    directive = str(data.policy.section("email").get("directive") or "CISA BOD 18-01")
    for row in data.dns_rows:
        if row["email_verdict"] != NOT_COMPLIANT:
            continue
        evidence = row["evidence"]
        # the DNS question the first failed part rests on (RFC 4501 dns: URI)
        asked = row["domain"] if row["email_failures"][:1] == ["spf"] else row["dmarc_location"]
        out.append(
            FindingDraft(
                rule=RULE_ID,
                severity=SEVERITY,
                summary=f"{row['domain']}: email not compliant with {directive}: "
                f"{row['email_reason']}",
                domain=row["domain"],
                agency=row["agency"],
                evidence={
                    "url": f"dns:{asked}?type=TXT",
                    "fetched_at": row["checked_at"],
                    "resolver": row["resolver"],
                    "spf": row["spf"],
                    "spf_error": row["spf_error"],
                    "dmarc": row["dmarc"],
                    "failed": row["email_failures"],
                    "dns_run": evidence.get("dns_run"),
                    "answers": {
                        k: v
                        for k, v in evidence["answers"].items()
                        if k.endswith(" TXT") or k.endswith(" MX")
                    },
                },
            )
        )
    return out
