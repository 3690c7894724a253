"""One DNS question asked and its answer as govaudit stores it (`govaudit dns`).

An answer is a plain dict: name, type, outcome (`answer`, `nodata`, `nxdomain` are answers
from the DNS; `servfail`, `refused`, `timeout`, `error` are not), rcode, records as text (a
TXT record's strings joined), TTL, the canonical name when a CNAME led elsewhere, the time it
took (ms) and, when there was no answer, why. Questions go through dnspython's resolvers,
configured with the nameservers given as IP[:PORT].
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

# Outcomes of one query. Only the first three are answers from the domain's DNS.
ANSWER, NODATA, NXDOMAIN = "answer", "nodata", "nxdomain"
SERVFAIL, REFUSED, TIMEOUT, ERROR = "servfail", "refused", "timeout", "error"
NOT_ANSWERED = (SERVFAIL, REFUSED, TIMEOUT, ERROR)


class NameserverError(ValueError):
    """A --nameserver value that is not IP[:PORT]."""


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    raw = text.strip()
    address, port = raw, "53"
    if raw.startswith("["):
        address, _, rest = raw[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise NameserverError(f"{text!r}: expected [IPv6]:PORT")
            port = rest[1:]
    elif raw.count(":") == 1:
        address, port = raw.split(":")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise NameserverError(f"{text!r}: not an IP address (IP[:PORT])") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise NameserverError(f"{text!r}: the port must be a number from 1 to 65535")
    return Nameserver(str(ip), int(port))


def system_nameservers() -> list[Nameserver]:
    """The system's resolvers (/etc/resolv.conf), as the default."""
    try:
        configured = dns.resolver.Resolver().nameservers
    except dns.resolver.NoResolverConfiguration:
        return []
    out = []
    for ns in configured:
        text = ns if isinstance(ns, str) else getattr(ns, "address", str(ns))
        port = 53 if isinstance(ns, str) else int(getattr(ns, "port", 53))
        out.append(Nameserver(text, port))
    return out


def configure_resolver(resolver: Any, nameservers: Sequence[Nameserver], timeout: float) -> Any:
    resolver.nameservers = [dns.nameserver.Do53Nameserver(n.address, n.port) for n in nameservers]
    # Two tries of each nameserver within the timeout: one lost UDP datagram is not a timeout.
    resolver.timeout = timeout / 2 if timeout >= 1.0 else timeout
    resolver.lifetime = timeout
    resolver.cache = None
    return resolver


def _rdata_text(rdtype: int, rdata: Any) -> str:
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")
    return str(rdata.to_text())


def failure_of(exc: Exception) -> tuple[str, str | None, str]:
    """(outcome, rcode, message) of a query that got no usable answer."""
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return TIMEOUT, None, f"no answer within {exc.kwargs.get('timeout', 0):.1f} s"
    if isinstance(exc, dns.resolver.NoNameservers):
        rcodes = [e[3] for e in exc.kwargs.get("errors", []) if isinstance(e[3], str)]
        if "REFUSED" in rcodes and "SERVFAIL" not in rcodes:
            return REFUSED, "REFUSED", "REFUSED"
        if rcodes:
            return SERVFAIL, rcodes[0], rcodes[0]
        reasons = [str(e[3]) for e in exc.kwargs.get("errors", []) if e[3] is not None]
        return ERROR, None, "; ".join(reasons) or "no nameserver answered"
    return ERROR, None, f"{type(exc).__name__}: {exc}"


def _answer_entry(name: str, rtype: str, answer: Any, ms: float) -> dict[str, Any]:
    rdtype = dns.rdatatype.from_text(rtype)
    records = [_rdata_text(rdtype, r) for r in answer.rrset] if answer.rrset is not None else []
    entry: dict[str, Any] = {
        "name": name,
        "type": rtype,
        "outcome": ANSWER if records else NODATA,
        "rcode": "NOERROR",
        "records": records,
        "ttl": answer.rrset.ttl if answer.rrset is not None else None,
        "ms": round(ms, 1),
    }
    canonical = str(answer.canonical_name).rstrip(".").lower()
    if canonical != name:
        entry["cname"] = canonical
    return entry


def _failed_entry(name: str, rtype: str, exc: Exception, ms: float) -> dict[str, Any]:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return {
            "name": name,
            "type": rtype,
            "outcome": NXDOMAIN,
            "rcode": "NXDOMAIN",
            "records": [],
            "ttl": None,
            "ms": round(ms, 1),
        }
    outcome, rcode, message = failure_of(exc)
    return {
        "name": name,
        "type": rtype,
        "outcome": outcome,
        "rcode": rcode,
        "records": [],
        "ttl": None,
        "ms": round(ms, 1),
        "error": message,
    }


async def ask(resolver: Any, name: str, rtype: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        answer = await resolver.resolve(name, rtype, raise_on_no_answer=False, search=False)
    except Exception as exc:  # every failure is an observation, not a crash
        return _failed_entry(name, rtype, exc, (time.perf_counter() - started) * 1000)
    return _answer_entry(name, rtype, answer, (time.perf_counter() - started) * 1000)
