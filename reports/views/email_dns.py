"""email-dns.html: each domain's email and DNS as the newest `govaudit dns` run saw it,
judged by audit/email_dns.py (BOD 18-01 email, IPv6, DNSSEC), per agency and per domain."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from audit.dns_results import FAILURE_LABELS, NO_AGENCY, email_summary
from audit.email_dns import CISA_REPORTS
from reports.views.labels import DNS_STATE_LABELS, EMAIL_VERDICT_LABELS
from reports.views.report_index import ReportIndex

Row = dict[str, Any]
# Answers shown in a domain's details besides the failed ones: what the verdict rests on.
KEY_ANSWERS = ("TXT", "MX", "NS")
# How audit.email_dns.answer_lines begins an answer that is not one.
NOT_ANSWERED = ("timeout", "SERVFAIL", "REFUSED", "NXDOMAIN", "error")


def domain_view(row: Row) -> Row:
    """A judged row with what its details show: the key answers and every failed one."""
    answers = row["evidence"].get("answers") or {}
    return {
        **row,
        "answers_shown": {
            name: text
            for name, text in answers.items()
            if name.rsplit(" ", 1)[-1] in KEY_ANSWERS or text.startswith(NOT_ANSWERED)
        },
    }


def email_dns_view(ix: ReportIndex) -> dict[str, Any]:
    rows = [domain_view(r) for r in ix.data["dns_rows"]]
    by_agency: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_agency[r["agency"] or NO_AGENCY].append(r)
    policy = ix.data.get("email_policy") or {}
    return {
        **ix.common,
        "dns_run": ix.data["dns_run"],
        "summary": email_summary(rows),
        "agencies": [{"agency": a, "rows": by_agency[a]} for a in sorted(by_agency)],
        "failure_labels": FAILURE_LABELS,
        "verdict_labels": EMAIL_VERDICT_LABELS,
        "state_labels": DNS_STATE_LABELS,
        "directive": policy.get("directive") or "CISA BOD 18-01",
        "directive_url": policy.get("url"),
        "report_addresses": policy.get("report_addresses") or [CISA_REPORTS],
        "dmarc_policy": policy.get("dmarc_policy") or "reject",
        "dmarc_pct": policy.get("dmarc_pct", 100),
    }


def agency_dns(ix: ReportIndex, agency: str, domains: set[str]) -> list[Row]:
    """An agency's domains in the DNS run (for its agency page)."""
    return [
        domain_view(r)
        for r in ix.data["dns_rows"]
        if r["agency"] == agency or (not r["agency"] and r["domain"] in domains)
    ]
