"""SPF and DMARC records read with checkdmarc, as observations (`govaudit dns`).

checkdmarc parses and validates the records found in the stored answers; for SPF it resolves
includes, redirects, a and mx terms (counting them against the limit of ten), for DMARC it
checks the report destinations, through a resolver of ours that asks the same nameservers and
notes every lookup that got no answer (an SPF include that timed out makes the record
uncheckable, not invalid). What it says is stored; judging is audit/email_dns.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dns.rdatatype
import dns.resolver

from crawler.dns_query import NOT_ANSWERED, Nameserver, configure_resolver, failure_of


class RecordingResolver(dns.resolver.Resolver):
    """The synchronous resolver handed to checkdmarc: the same nameservers and timeout, and
    a note of every lookup it made that got no answer (an SPF include that timed out makes
    the SPF record uncheckable, not invalid)."""

    def __init__(self, nameservers: Sequence[Nameserver], timeout: float) -> None:
        super().__init__(configure=False)
        configure_resolver(self, nameservers, timeout)
        self.failures: list[str] = []

    def resolve(self, qname: Any, rdtype: Any = "A", *args: Any, **kwargs: Any) -> Any:
        try:
            return super().resolve(qname, rdtype, *args, **kwargs)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            raise
        except Exception as exc:
            _outcome, _rcode, message = failure_of(exc)
            name = str(qname).rstrip(".")
            kind = rdtype if isinstance(rdtype, str) else dns.rdatatype.to_text(rdtype)
            self.failures.append(f"{name} {kind}: {message}")
            raise


def _library_version() -> str:
    from checkdmarc import __version__

    return f"checkdmarc {__version__}"


def read_spf(
    domain: str, txt: dict[str, Any], nameservers: Sequence[Nameserver], timeout: float
) -> dict[str, Any]:
    """The SPF record among the domain's TXT answer, as checkdmarc reads it (its includes,
    redirects, a and mx terms resolved and counted). Empty when the TXT query got no answer:
    the answer itself says why."""
    from checkdmarc.spf import SPFError, parse_spf_record

    if txt["outcome"] in NOT_ANSWERED:
        return {}
    records = [r for r in txt["records"] if r.lower().split(" ", 1)[0] == "v=spf1"]
    facts: dict[str, Any] = {"records": records, "record": None, "library": _library_version()}
    if not records:
        return facts
    if len(records) > 1:
        return {**facts, "valid": False, "error": "more than one SPF record (RFC 7208 § 4.5)"}
    resolver = RecordingResolver(nameservers, timeout)
    facts["record"] = records[0]
    try:
        parsed = parse_spf_record(records[0], domain, resolver=resolver, timeout=timeout)
    except SPFError as exc:
        facts.update(valid=False, error=str(exc.args[0]), warnings=list(exc.warnings))
        facts.update({k: v for k, v in (exc.data or {}).items() if k in ("dns_lookups",)})
    else:
        facts.update(
            valid="error" not in parsed,
            error=parsed.get("error"),
            dns_lookups=parsed["dns_lookups"],
            void_lookups=parsed["void_dns_lookups"],
            all=parsed["parsed"]["all"],
            warnings=list(parsed["warnings"]),
        )
    facts["lookup_failures"] = resolver.failures
    return facts


def dmarc_records(txt: dict[str, Any]) -> list[str]:
    return [r for r in txt["records"] if r.replace(" ", "").lower().startswith("v=dmarc1")]


def read_dmarc(
    location: str, txt: dict[str, Any], nameservers: Sequence[Nameserver], timeout: float
) -> dict[str, Any]:
    """The DMARC record of one `_dmarc.` answer as checkdmarc reads it: every tag with its
    value (defaults filled in, `sp` from `p` when not given), plus `pct`, which RFC 9989
    dropped and the library no longer returns but BOD 18-01 still asks for."""
    from checkdmarc.dmarc import DMARC_TAG_VALUE_REGEX, DMARCError, parse_dmarc_record

    domain = location.removeprefix("_dmarc.")
    facts: dict[str, Any] = {"location": location, "records": [], "record": None}
    if txt["outcome"] in NOT_ANSWERED:
        return facts
    records = dmarc_records(txt)
    facts.update(records=records, library=_library_version())
    if txt["records"] and not records:
        facts["other_txt"] = list(txt["records"])
    if not records:
        return facts
    if len(records) > 1:
        return {**facts, "valid": False, "error": "more than one DMARC record (RFC 7489 § 6.6.3)"}
    record = records[0]
    facts["record"] = record
    resolver = RecordingResolver(nameservers, timeout)
    explicit = {k.lower(): v.strip() for k, v in DMARC_TAG_VALUE_REGEX.findall(record)}
    try:
        parsed = parse_dmarc_record(record, domain, resolver=resolver, timeout=timeout)
    except DMARCError as exc:
        facts.update(valid=False, error=str(exc.args[0]) if exc.args else type(exc).__name__)
    else:
        tags = parsed["tags"]
        rua = [f"{u['scheme']}:{u['address']}" for u in tags.get("rua", {}).get("value") or []]
        facts.update(
            valid=True,
            p=tags["p"]["value"],
            sp=tags["sp"]["value"],
            sp_explicit=bool(tags["sp"]["explicit"]),
            pct=explicit.get("pct"),
            rua=rua,
            warnings=list(parsed["warnings"]),
        )
    facts["lookup_failures"] = resolver.failures
    return facts


def organizational_domain(name: str) -> str:
    """The registrable domain under the Public Suffix List (checkdmarc's list)."""
    from checkdmarc.utils import get_base_domain

    return str(get_base_domain(name))


def clear_library_cache() -> None:
    """checkdmarc caches answers per name for the process, whatever nameserver gave them: a
    run must not reuse another run's (or another server's) answers."""
    from checkdmarc.utils import DNS_CACHE

    DNS_CACHE.clear()
