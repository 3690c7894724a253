"""Tests for crawler.parsing.urls: the fetch gate and URL canonicalisation."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.parsing.urls import canonical_url, fetch_refusal, host_of, join_url


@pytest.mark.parametrize(
    "url",
    [
        "https://www.usda.gov/",
        "http://www.ssa.gov/open/customerserviceplan/",
        "HTTPS://WWW.USDA.GOV/Open",
        "https://www.usda.gov:8443/path?q=1#frag",
        "https://search.usa.gov/search?affiliate=usda&query=snap",
        "https://www.usda.gov./",
        "https://xn--bcher-kva.example.gov/",
        "https://my_site.example.gov/",
    ],
)
def test_fetchable_urls_are_not_refused(url: str) -> None:
    assert fetch_refusal(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mailto:open@ssa.gov", "scheme"),
        ("javascript:void(0)", "scheme"),
        ("JavaScript:window.print()", "scheme"),
        ("ftp://ftp.census.gov/", "scheme"),
        ("data:text/html,<h1>hi</h1>", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.gov/", "scheme"),
        ("http://127.0.0.1/", "ip-literal"),
        ("http://2130706433/", "ip-literal"),
        ("http://0x7f.1/", "ip-literal"),
        ("http://0177.0.0.1/", "ip-literal"),
        ("http://127.1/", "ip-literal"),
        ("http://0x7f000001/", "ip-literal"),
        ("http://169.254.169.254/latest/meta-data/", "ip-literal"),
        ("http://127.0.0.1.:8080/", "ip-literal"),
        ("http://%31%32%37.0.0.1/", "ip-literal"),
        ("http://１２７.0.0.1/", "ip-literal"),
        ("http://[::1]/", "ip-literal"),
        ("http://[::ffff:169.254.169.254]/", "ip-literal"),
        ("http://[fe80::1%25eth0]:80/", "ip-literal"),
        ("http://localhost/", "localhost"),
        ("http://LOCALHOST:8000/admin", "localhost"),
        ("http://localhost./", "localhost"),
        ("http://metadata.localhost/", "localhost"),
        ("http://user:pass@www.usda.gov/", "userinfo"),
        ("http://user@www.usda.gov/", "userinfo"),
        ("http://www.usda.gov@127.0.0.1/", "userinfo"),
        ("http:///path-only", "malformed"),
        ("http://", "malformed"),
        ("www.usda.gov/open", "malformed"),
        ("/open", "malformed"),
        ("", "malformed"),
        ("http://www.usda.gov:99999/", "malformed"),
        ("http://www.usda.gov:80a/", "malformed"),
        ("http://[::1/", "malformed"),
        ("http://[not-an-ip]/", "malformed"),
        ("http://1.2.3.999/", "malformed"),
        ("http://www..usda.gov/", "malformed"),
        ("http://www usda.gov/", "malformed"),
        ("http://evil.example\\@127.0.0.1/", "malformed"),
    ],
)
def test_refusals(url: str, reason: str) -> None:
    assert fetch_refusal(url) == reason


def test_tab_and_newline_inside_url_are_ignored_like_browsers() -> None:
    assert fetch_refusal("http://127.0.\n0.1/") == "ip-literal"
    assert fetch_refusal("  https://www.usda.gov/\t") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.USDA.GOV:443/Open#top", "https://www.usda.gov/Open"),
        ("http://www.usda.gov:80", "http://www.usda.gov/"),
        ("http://www.usda.gov:443/", "http://www.usda.gov:443/"),
        ("https://www.usda.gov/search?B=2&a=1#x", "https://www.usda.gov/search?B=2&a=1"),
        ("https://www.usda.gov/a b/é", "https://www.usda.gov/a%20b/%C3%A9"),
        ("https://www.usda.gov/%7e%2f", "https://www.usda.gov/%7E%2F"),
        ("https://www.usda.gov./", "https://www.usda.gov/"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("mailto:open@ssa.gov", "mailto:open@ssa.gov"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_keeps_query_order() -> None:
    assert canonical_url("https://a.gov/?z=1&a=2") != canonical_url("https://a.gov/?a=2&z=1")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.USDA.gov./x", "www.usda.gov"),
        ("http://[::1]:8080/", "::1"),
        ("https://bücher.example.gov/", "xn--bcher-kva.example.gov"),
        ("mailto:x@y.gov", ""),
        ("not a url", ""),
        ("", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("base", "href", "expected"),
    [
        ("https://www.ssa.gov/open/", "plan.html", "https://www.ssa.gov/open/plan.html"),
        ("https://www.ssa.gov/open/", "../foia/#req", "https://www.ssa.gov/foia/"),
        ("https://www.ssa.gov/open/", "//www.USA.gov", "https://www.usa.gov/"),
        ("https://www.ssa.gov/open/", "  /agency/\n", "https://www.ssa.gov/agency/"),
        ("https://www.ssa.gov/open/", "?page=2", "https://www.ssa.gov/open/?page=2"),
        ("https://www.ssa.gov/open/", "#main", None),
        ("https://www.ssa.gov/open/", "", None),
        ("https://www.ssa.gov/open/", "javascript:void(0)", None),
        ("https://www.ssa.gov/open/", " JAVASCRIPT:alert(1)", None),
        ("https://www.ssa.gov/open/", "mailto:open@ssa.gov", None),
        ("https://www.ssa.gov/open/", "tel:+18007721213", None),
        ("https://www.ssa.gov/open/", "http://[::1", None),
    ],
)
def test_join_url(base: str, href: str, expected: str | None) -> None:
    assert join_url(base, href) == expected


# --- property tests -----------------------------------------------------------------------


def _ipv4_number(value: int, style: str) -> str:
    if style == "hex":
        return hex(value)
    if style == "HEX":
        return "0X" + format(value, "X")
    if style == "octal":
        return "0" + format(value, "o")
    return str(value)


@st.composite
def ipv4_literals(draw: st.DrawFn) -> str:
    """Any IPv4 address written in any form inet_aton/WHATWG accept."""
    address = int(draw(st.ip_addresses(v=4)))
    octets = list(ipaddress.IPv4Address(address).packed)
    parts_count = draw(st.integers(min_value=1, max_value=4))
    # a.b.c.d, a.b.(16 bits), a.(24 bits), (32 bits)
    head = octets[: parts_count - 1]
    tail = int.from_bytes(bytes(octets[parts_count - 1 :]), "big")
    styles = st.sampled_from(["dec", "hex", "HEX", "octal"])
    parts = [_ipv4_number(n, draw(styles)) for n in [*head, tail]]
    host = ".".join(parts)
    if draw(st.booleans()):
        host += "."
    port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")))
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    path = draw(st.sampled_from(["", "/", "/latest/meta-data/", "?x=1", "#f"]))
    return f"{scheme}://{host}{port}{path}"


@settings(max_examples=400)
@given(ipv4_literals())
def test_no_ipv4_literal_is_ever_fetchable(url: str) -> None:
    assert fetch_refusal(url) == "ip-literal", url


@settings(max_examples=200)
@given(st.ip_addresses(v=6))
def test_no_ipv6_literal_is_ever_fetchable(address: ipaddress.IPv6Address) -> None:
    assert fetch_refusal(f"http://[{address}]/") == "ip-literal"


_url_parts = st.tuples(
    st.sampled_from(["http", "HTTP", "https", "HtTpS", "ftp", "mailto", ""]),
    st.sampled_from(["://", ":", ":///", "//"]),
    st.text(alphabet="aAbB.-_:@[]%1\\0é ", max_size=15),
    st.text(max_size=20),
    st.sampled_from(["", "?", "?a=1&b=%2f", "#", "#frag", "?q=é#x"]),
)


@settings(max_examples=500)
@given(st.one_of(_url_parts.map("".join), st.text()))
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@settings(max_examples=300)
@given(st.text())
def test_fetch_refusal_never_raises(url: str) -> None:
    assert fetch_refusal(url) in (
        None,
        "scheme",
        "ip-literal",
        "localhost",
        "userinfo",
        "malformed",
    )
