"""Host names by UTS #46, as browsers read them, in the registry and at the fetch gate.

Each name here is one where Python's IDNA 2003 codec and UTS #46 (non-transitional, the
WHATWG URL Standard's choice) disagree; the first test shows that they do, so that the
others test something the old code got wrong.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.domain_names import (
    DomainError,
    normalise_gov_domain,
    normalise_host,
    normalise_registry_domain,
)
from crawler.parsing.urls import canonical_url, fetch_refusal, host_of, join_url

ZWJ, ZWNJ = "\u200d", "\u200c"
# name -> its UTS #46 form (Punycode from the standard library's codec), None when refused
DIFFERING = {
    "faß.gov": "xn--fa-hia.gov",  # ß kept (IDNA 2003: fass.gov)
    "FAẞ.gov": "xn--fa-hia.gov",  # capital sharp s maps to ß (IDNA 2003: fass.gov)
    "ςοφία.gov": "xn--kxae4blv.gov",  # final sigma kept (IDNA 2003: σ)
    f"usa{ZWJ}.gov": None,  # a joiner outside its context is an error (IDNA 2003: dropped)
    f"us{ZWNJ}a.gov": None,
    f"www.usa{ZWJ}.gov": None,
    # a joiner after a virama is allowed by IDNA 2008 and kept (IDNA 2003: dropped)
    f"\u0915\u094d{ZWJ}.gov": "xn--11b6iy14e.gov",
}


@pytest.mark.parametrize("name", sorted(DIFFERING))
def test_idna_2003_and_uts46_differ_on_these_names(name: str) -> None:
    old = name.lower().encode("idna").decode("ascii")
    assert old != DIFFERING[name]


@pytest.mark.parametrize(("name", "expected"), sorted(DIFFERING.items()))
def test_host_names_follow_uts46(name: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(DomainError, match="not a valid IDNA name"):
            normalise_host(name)
    else:
        assert normalise_host(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WWW.BÜCHER.gov", "www.xn--bcher-kva.gov"),  # upper-case Unicode maps to lower
        ("ÉNERGIE.gov", "xn--nergie-9ua.gov"),
        ("bücher．gov", "xn--bcher-kva.gov"),  # fullwidth full stop separates labels
        ("bücher。gov", "xn--bcher-kva.gov"),  # ideographic full stop
        ("bücher｡gov．", "xn--bcher-kva.gov"),  # halfwidth ideographic, trailing dot
        ("XN--BCHER-KVA.GOV", "xn--bcher-kva.gov"),  # an A-label is checked, lower-cased
        ("my_site.example.gov", "my_site.example.gov"),  # ASCII as browsers keep it
        ("ab--cd.bücher.gov", "ab--cd.xn--bcher-kva.gov"),
    ],
)
def test_mapping_case_dots_and_ascii_labels(name: str, expected: str) -> None:
    assert normalise_host(name) == expected


@pytest.mark.parametrize("name", ["xn--a.gov", "xn--zz-.gov", "☃.gov", "a" * 64 + ".gov", "a..gov"])
def test_names_uts46_refuses(name: str) -> None:
    with pytest.raises(DomainError):
        normalise_host(name)


def test_the_registry_reads_names_the_same_way() -> None:
    assert normalise_gov_domain("faß.gov") == "xn--fa-hia.gov"
    assert normalise_registry_domain("FAß.GOV") == "xn--fa-hia.gov"
    # an A-label does not take the plain-ASCII short cut: it is decoded and checked
    assert normalise_registry_domain("xn--fa-hia.gov") == "xn--fa-hia.gov"
    with pytest.raises(DomainError):
        normalise_registry_domain("xn--a.gov")
    with pytest.raises(DomainError):
        normalise_gov_domain(f"usa{ZWJ}.gov")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://faß.gov/", "xn--fa-hia.gov"),
        ("https://ΣΟΦΊΑ.gov/", "xn--kxae4bpq.gov"),  # capital sigma maps to σ, not ς
        ("https://ςοφία.gov/", "xn--kxae4blv.gov"),
        ("https://www．usa．gov/", "www.usa.gov"),
    ],
)
def test_urls_use_the_same_host_names(url: str, host: str) -> None:
    assert fetch_refusal(url) is None
    assert host_of(url) == host
    assert canonical_url(url) == f"https://{host}/"
    assert join_url("https://www.usa.gov/", url) == f"https://{host}/"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # IDNA 2003 dropped the joiner and fetched www.usa.gov; a browser would not
        (f"https://www.usa{ZWJ}.gov/", "malformed"),
        # IDNA 2003 made these localhost and 127.0.0.1: refused either way, never fetched
        (f"http://local{ZWJ}host/", "malformed"),
        (f"http://127{ZWNJ}.0.0.1/", "malformed"),
        # mapped forms of private addresses and localhost stay refused
        ("http://１２７．０．０．１/", "ip-literal"),
        ("http://169。254。169。254/latest/meta-data/", "ip-literal"),
        ("http://ⓛocalhost/", "localhost"),
        ("http://LOCAL\u00adHOST/", "localhost"),  # soft hyphen is ignored by both
        ("http://0x7f．1/", "ip-literal"),
    ],
)
def test_the_fetch_gate_on_mapped_and_joined_hosts(url: str, reason: str) -> None:
    assert fetch_refusal(url) == reason


_SPECIALS = st.sampled_from(
    ["\u200d", "\u200c", "\u00ad", "．", "。", "｡", "ß", "ẞ", "ς", "Σ", "１", "２", "７", "ⓛ", "ｏ"]
)
_PIECES = st.one_of(_SPECIALS, st.sampled_from(list("localhost0127.x")))


@given(st.lists(_PIECES, min_size=1, max_size=14).map("".join))
def test_a_host_the_gate_lets_through_is_a_plain_dns_name(host: str) -> None:
    url = f"http://{host}/"
    if fetch_refusal(url) is not None:
        return
    name = host_of(url)
    assert name.isascii() and name == normalise_host(host)
    assert name != "localhost" and not name.endswith(".localhost")
    with pytest.raises(ValueError):
        ipaddress.ip_address(name)
