"""DNS observations read back and judged: the rows of `govaudit export dns`, the report's
Email and DNS page and the audit's email findings.

`dns_observations` and `homepage_hosts` read the database; the rest are pure functions of
their rows and the policy (judging is audit/email_dns.py's).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.email_dns import (
    COMPLIANT,
    COULDNT,
    EMAIL_VERDICTS,
    NOT_COMPLIANT,
    EmailPolicy,
    judge,
)
from audit.models import DnsObservation, SiteObservation

# `govaudit export dns`, in this order (the public interface: add at the end only).
DNS_COLUMNS = [
    "domain",
    "agency",
    "dns_state",
    "ns",
    "mx",
    "spf",
    "spf_valid",
    "spf_error",
    "dmarc",
    "dmarc_policy",
    "dmarc_subdomain_policy",
    "dmarc_pct",
    "dmarc_rua",
    "email_verdict",
    "email_reason",
    "ipv6",
    "dnssec",
    "resolver",
    "checked_at",
    "evidence",
]
BOOLEAN_COLUMNS = ("spf_valid", "ipv6", "dnssec")
NO_AGENCY = "(no agency)"
# The parts of BOD 18-01 email compliance a domain can fail (audit.email_dns.email_verdict).
FAILURE_LABELS = {
    "spf": "No valid SPF record (or +all)",
    "dmarc": "No valid DMARC record",
    "dmarc_policy": "DMARC policy or pct weaker than asked",
    "dmarc_reports": "DMARC aggregate reports not sent where asked (CISA)",
}


def dns_observations(session: Session, run_id: int) -> list[dict[str, Any]]:
    """One dict per domain observed in a DNS run, as stored."""
    rows = session.scalars(
        select(DnsObservation)
        .where(DnsObservation.run_id == run_id)
        .order_by(DnsObservation.domain)
    )
    return [
        {
            "run_id": run_id,
            "domain": r.domain,
            "agency": r.agency,
            "checked_at": r.checked_at.isoformat(timespec="seconds"),
            "resolver": r.resolver,
            "seconds": r.seconds,
            "answers": list(r.answers or []),
            "spf": dict(r.spf or {}),
            "dmarc": dict(r.dmarc or {}),
        }
        for r in rows
    ]


def homepage_hosts(session: Session, sites_run_id: int | None) -> dict[str, str]:
    """domain -> the host of its homepage in a site crawl (for the IPv6 judgement)."""
    if sites_run_id is None:
        return {}
    out = {}
    for domain, url in session.execute(
        select(SiteObservation.domain, SiteObservation.homepage_url).where(
            SiteObservation.run_id == sites_run_id, SiteObservation.homepage_url.is_not(None)
        )
    ):
        host = urlsplit(url).hostname
        if host:
            out[domain] = host.lower()
    return out


def judged_rows(
    observations: Iterable[Mapping[str, Any]],
    policy: EmailPolicy | None = None,
    hosts: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Each observation judged (audit.email_dns.judge): the export row and its reasons."""
    hosts = hosts or {}
    return [judge(o, policy, hosts.get(o["domain"])) for o in observations]


def csv_words(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for CSV: booleans as `true` / `false` (empty when not known), as JSON has them."""
    return [
        {
            **r,
            **{
                c: (None if r.get(c) is None else ("true" if r[c] else "false"))
                for c in BOOLEAN_COLUMNS
            },
        }
        for r in rows
    ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def email_summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Fleet and per-agency counts: email verdicts, DNS states, IPv6 and DNSSEC.

    Shares leave out what could not be checked: compliant / (compliant + not compliant)."""
    rows = list(rows)

    def counts(group: list[Mapping[str, Any]]) -> dict[str, Any]:
        verdicts = Counter(r["email_verdict"] for r in group)
        judged = verdicts[COMPLIANT] + verdicts[NOT_COMPLIANT]
        six = [r["ipv6"] for r in group if r["ipv6"] is not None]
        signed = [r["dnssec"] for r in group if r["dnssec"] is not None]
        return {
            "domains": len(group),
            "compliant": verdicts[COMPLIANT],
            "not_compliant": verdicts[NOT_COMPLIANT],
            "couldnt_check": verdicts[COULDNT],
            "compliant_share": _share(verdicts[COMPLIANT], judged),
            "dns_states": dict(Counter(r["dns_state"] for r in group)),
            "ipv6": sum(six),
            "ipv6_known": len(six),
            "dnssec": sum(signed),
            "dnssec_known": len(signed),
        }

    by_agency: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_agency[r["agency"] or NO_AGENCY].append(r)
    failures = Counter(part for r in rows for part in r.get("email_failures") or [])
    return {
        **counts(rows),
        "verdicts": list(EMAIL_VERDICTS),
        "by_agency": [{"agency": a, **counts(g)} for a, g in sorted(by_agency.items())],
        "failures": [
            {"part": part, "label": FAILURE_LABELS[part], "domains": failures[part]}
            for part in FAILURE_LABELS
            if failures[part]
        ],
    }
