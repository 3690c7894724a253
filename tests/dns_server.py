"""Planted DNS zones for the `govaudit dns` tests, served by simweb's dnslib server on
127.0.0.1 and a free port (UDP and TCP). Nothing here reaches a real resolver: every test
passes `--nameserver` with the server's address.

Each planted domain models one case of issue 23; PLANTED says what `govaudit export dns`
must make of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simweb.dns_server import SimulatedDNS
from tests.crawl_world import registry_csv

CISA = "mailto:reports@dmarc.cyber.dhs.gov"
REJECT = f"v=DMARC1; p=reject; pct=100; rua={CISA}"
KEY = (
    "257 3 13 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
    "OTo7PD0+Pw=="
)
DIGEST = "2371 13 2 1F987CC6583E92DF0890718C42E8B4A2E2F9AE2A8B3A0E3A9B1C0D1E2F3A4B5C"

DEFAULTS: dict[str, Any] = {
    "@": {
        "SOA": "ns1.{zone}. hostmaster.{zone}. 1 3600 600 604800 300",
        "NS": ["ns1.{zone}.", "ns2.{zone}."],
        "MX": "10 mail.{zone}.",
        "TXT": "v=spf1 mx ip4:192.0.2.0/24 -all",
        "A": "192.0.2.10",
        "AAAA": "2001:db8::10",
        "DS": DIGEST,
        "DNSKEY": KEY,
        "CAA": '0 issue "letsencrypt.org"',
    },
    "www": {"A": "192.0.2.10", "AAAA": "2001:db8::10"},
    "mail": {"A": "192.0.2.25"},
    "_dmarc": {"TXT": REJECT},
}

ELEVEN = " ".join(f"include:_s{i}.spflookups.gov" for i in range(1, 9))

ZONES: dict[str, Any] = {
    "gov": {"$defaults": False, "@": {"SOA": "a.ns.gov. hostmaster.gov. 1 1800 900 604800 86400"}},
    # CISA's report address accepts reports for every domain (RFC 7489 § 7.1)
    "dhs.gov": {
        "dmarc.cyber": {"MX": "10 mail.dhs.gov."},
        "*._report._dmarc.dmarc.cyber": {"TXT": "v=DMARC1"},
    },
    "compliant.gov": {},
    "dmarcnone.gov": {"_dmarc": {"TXT": f"v=DMARC1; p=none; rua={CISA}"}},
    "norua.gov": {"_dmarc": {"TXT": "v=DMARC1; p=reject; rua=mailto:dmarc@norua.gov"}},
    # 3 lookups at the top (mx, a, include) + 8 includes below it = 11
    "spflookups.gov": {
        "@": {"TXT": "v=spf1 mx a include:_spf.spflookups.gov -all"},
        "_spf": {"TXT": f"v=spf1 {ELEVEN} -all"},
        **{f"_s{i}": {"TXT": f"v=spf1 ip4:198.51.100.{i} -all"} for i in range(1, 9)},
    },
    "spfall.gov": {"@": {"TXT": "v=spf1 +all"}},
    "nodmarc.gov": {"_dmarc": None},
    "dmarctimeout.gov": {"$silent": ["_dmarc"]},
    "wwwonly6.gov": {"@": {"AAAA": None}},
    "unsigned.gov": {"@": {"DS": None, "DNSKEY": None}},
    # beyond the issue's list
    "nomail.gov": {"@": {"MX": None, "TXT": "v=spf1 -all"}},
    "nospf.gov": {"@": {"TXT": "google-site-verification=abc"}},
    "lame.gov": {"$lame": True},
    "dmarcservfail.gov": {"$servfail": ["_dmarc"]},
    "spftimeout.gov": {
        "@": {"TXT": "v=spf1 include:_spf.spftimeout.gov -all"},
        "$silent": ["_spf"],
    },
    "pct50.gov": {"_dmarc": {"TXT": f"v=DMARC1; p=reject; pct=50; rua={CISA}"}},
    "spnone.gov": {"_dmarc": {"TXT": f"v=DMARC1; p=reject; sp=none; rua={CISA}"}},
    "keynods.gov": {"@": {"DS": None}},
    # a subdomain with no DMARC record of its own gets inherit.gov's sp=
    "inherit.gov": {
        "_dmarc": {"TXT": f"v=DMARC1; p=reject; sp=quarantine; rua={CISA}"},
        "mail.sub": {"A": "192.0.2.26"},
        "sub": {"A": "192.0.2.27", "MX": "10 mail.sub.inherit.gov.", "TXT": "v=spf1 -all"},
    },
}

# domain -> what `govaudit export dns` must say (a subset of its columns)
PLANTED: dict[str, dict[str, Any]] = {
    "compliant.gov": {
        "dns_state": "ok",
        "email_verdict": "compliant",
        "spf_valid": True,
        "dmarc_policy": "reject",
        "dmarc_pct": 100,
        "ipv6": True,
        "dnssec": True,
    },
    "dmarcnone.gov": {"email_verdict": "not-compliant", "dmarc_policy": "none", "spf_valid": True},
    "norua.gov": {
        "email_verdict": "not-compliant",
        "dmarc_policy": "reject",
        "dmarc_rua": "mailto:dmarc@norua.gov",
    },
    "spflookups.gov": {"email_verdict": "not-compliant", "spf_valid": False},
    "spfall.gov": {"email_verdict": "not-compliant", "spf_valid": False},
    "nodmarc.gov": {"email_verdict": "not-compliant", "dmarc": "", "dmarc_policy": ""},
    "dmarctimeout.gov": {"dns_state": "ok", "email_verdict": "couldn't-check", "spf_valid": True},
    "wwwonly6.gov": {"email_verdict": "compliant", "ipv6": True, "dnssec": True},
    "unsigned.gov": {"email_verdict": "compliant", "dnssec": False},
    "nomail.gov": {"email_verdict": "compliant", "mx": "", "spf_valid": True},
    "nospf.gov": {"email_verdict": "not-compliant", "spf_valid": False, "spf": ""},
    "lame.gov": {"dns_state": "unreachable", "email_verdict": "couldn't-check", "ipv6": None},
    "dmarcservfail.gov": {"email_verdict": "couldn't-check"},
    "spftimeout.gov": {"email_verdict": "couldn't-check", "spf_valid": None},
    "pct50.gov": {"email_verdict": "not-compliant", "dmarc_pct": 50},
    # CISA judged p= alone; `[email] subdomain_policy = true` judges sp= too (test_dns.py)
    "spnone.gov": {"email_verdict": "compliant", "dmarc_subdomain_policy": "none"},
    "keynods.gov": {"dnssec": False},
    "notindns.gov": {"dns_state": "unreachable", "email_verdict": "couldn't-check"},
}
AGENCY = "Department of Planted Zones"


@contextmanager
def planted_dns(**kwargs: Any) -> Iterator[SimulatedDNS]:
    """The planted zones on 127.0.0.1 and a free port (stopped on exit)."""
    with SimulatedDNS(ZONES, defaults=DEFAULTS, **kwargs) as server:
        yield server


def planted_registry(path: Path, domains: list[str] | None = None) -> Path:
    """A registry file listing the planted domains (and one not in DNS at all)."""
    return registry_csv(path, domains if domains is not None else [*PLANTED, "inherit.gov"], AGENCY)
