"""simweb's DNS server (simweb/dns_server.py) and the demo world's zones: answers over UDP
and TCP on 127.0.0.1, the behaviours (lame zone, silent name, SERVFAIL, REFUSED outside every
zone, DS from the parent, wildcards, CNAMEs, latency), bad zone data refused with the zone and
the record, and every demo domain having a zone."""

from __future__ import annotations

import time
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest
import yaml

from simweb.dns_server import DEMO_DNS_FILE, SimulatedDNS, ZoneError
from simweb.sites import DEMO_WORLD_FILE


@pytest.fixture(scope="module")
def demo_dns() -> Any:
    with SimulatedDNS.demo() as server:
        yield server


def ask(server: SimulatedDNS, name: str, rtype: str, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=server.port, timeout=2)


def records(reply: dns.message.Message) -> list[str]:
    return [r.to_text() for rrset in reply.answer for r in rrset]


def test_answers_over_udp_and_tcp(demo_dns: SimulatedDNS) -> None:
    for tcp in (False, True):
        reply = ask(demo_dns, "_dmarc.ssa.gov", "TXT", tcp=tcp)
        assert reply.rcode() == dns.rcode.NOERROR
        assert records(reply) == [
            '"v=DMARC1; p=reject; pct=100; rua=mailto:reports@dmarc.cyber.dhs.gov"'
        ]
    assert records(ask(demo_dns, "ssa.gov", "NS")) == ["ns1.ssa.gov.", "ns2.ssa.gov."]
    assert demo_dns.nameserver == f"127.0.0.1:{demo_dns.port}"
    assert ("_dmarc.ssa.gov", "TXT") in demo_dns.queries()


def test_missing_names_and_types(demo_dns: SimulatedDNS) -> None:
    missing = ask(demo_dns, "_dmarc.va.gov", "TXT")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.authority and missing.authority[0].rdtype == dns.rdatatype.SOA
    nodata = ask(demo_dns, "sba.gov", "DS")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and nodata.authority
    assert ask(demo_dns, "example.com", "A").rcode() == dns.rcode.REFUSED
    assert ask(demo_dns, "no-such-domain.gov", "A").rcode() == dns.rcode.NXDOMAIN


def test_behaviours(demo_dns: SimulatedDNS) -> None:
    # nrc.gov's nameservers do not answer, but the parent still answers its DS
    assert ask(demo_dns, "nrc.gov", "SOA").rcode() == dns.rcode.SERVFAIL
    ds = ask(demo_dns, "nrc.gov", "DS")
    assert ds.rcode() == dns.rcode.NOERROR and records(ds)
    assert ask(demo_dns, "_dmarc.commerce.gov", "TXT").rcode() == dns.rcode.SERVFAIL
    started = time.monotonic()
    with pytest.raises(dns.exception.Timeout):
        ask_with_timeout = dns.message.make_query("_dmarc.usaid.gov", "TXT")
        dns.query.udp(ask_with_timeout, "127.0.0.1", port=demo_dns.port, timeout=0.5)
    assert time.monotonic() - started >= 0.5
    # CISA authorizes reports for any domain: a wildcard
    for name in (
        "ssa.gov._report._dmarc.dmarc.cyber.dhs.gov",
        "*._report._dmarc.dmarc.cyber.dhs.gov",
    ):
        assert records(ask(demo_dns, name, "TXT")) == ['"v=DMARC1"']


def test_cname_latency_and_bad_data() -> None:
    zones = {
        "gov": {"@": {"SOA": "a.gov. h.gov. 1 2 3 4 5"}},
        "x.gov": {
            "@": {"SOA": "ns.x.gov. h.x.gov. 1 2 3 4 5", "TXT": "x" * 300},
            "www": {"CNAME": "host.x.gov."},
            "host": {"A": "192.0.2.1"},
        },
    }
    with SimulatedDNS(zones, latency=0.2) as server:
        started = time.monotonic()
        reply = ask(server, "www.x.gov", "A")
        assert time.monotonic() - started >= 0.2
        assert records(reply) == ["host.x.gov.", "192.0.2.1"]
        # a TXT longer than 255 bytes is several strings, joined by the reader
        txt = ask(server, "x.gov", "TXT", tcp=True).answer[0][0]
        assert b"".join(txt.strings) == b"x" * 300
    with pytest.raises(ZoneError, match=r"zone y\.gov: no SOA"):
        SimulatedDNS({"y.gov": {"@": {"A": "192.0.2.1"}}})
    with pytest.raises(ZoneError, match=r"unknown record type 'BOGUS'"):
        SimulatedDNS({"y.gov": {"@": {"SOA": "a. b. 1 2 3 4 5", "BOGUS": "x"}}})
    with pytest.raises(ZoneError, match=r"y\.gov\. 300 IN A not-an-address"):
        SimulatedDNS({"y.gov": {"@": {"SOA": "a. b. 1 2 3 4 5", "A": "not-an-address"}}})
    with pytest.raises(ZoneError, match=r"unknown behaviour '\$lamee'"):
        SimulatedDNS({"y.gov": {"$lamee": True}})


def test_every_demo_domain_has_a_zone() -> None:
    world = yaml.safe_load(DEMO_WORLD_FILE.read_text(encoding="utf-8"))
    zones = yaml.safe_load(DEMO_DNS_FILE.read_text(encoding="utf-8"))["zones"]
    demo_domains = {d["domain"] for d in world["domains"]}
    assert demo_domains <= set(zones)
    assert set(zones) - demo_domains == {"gov"}
