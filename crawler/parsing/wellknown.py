"""Parsers for the well-known files a site publishes: robots.txt, security.txt, sitemaps.

Servers often answer these paths with their HTML homepage or an error page and status 200, so
every parser here decides for itself whether the body really is the file it claims to be.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from protego import Protego
from scrapy.utils.sitemap import Sitemap

from crawler.parsing._html import decode_body

# RFC 9309 section 2.5: crawlers may stop parsing robots.txt after 500 KiB (Google does).
MAX_ROBOTS_BYTES = 500 * 1024
# A decompressed sitemap may be 50 MB by the sitemaps.org protocol; refuse to inflate more.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_URL_HOST = re.compile(r"^https?://(?:[^/@?#]*@)?([^/:?#\s]+)", re.IGNORECASE)
_ABSOLUTE_HTTP = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
_HTML_TEXT_START = re.compile(r"^\s*(?:<!doctype\s+html|<html|<head|<body|<\?xml)", re.IGNORECASE)
# Protego picks the group with the longest matching product token; "*" contains no token,
# so only the groups naming "*" apply to it.
_ANY_AGENT = "*"
_ARBITRARY_PATH = "/govaudit-any-path"


@dataclass(frozen=True)
class RobotsFacts:
    disallows_all: bool
    crawl_delay: float | None
    sitemaps: tuple[str, ...]


@dataclass(frozen=True)
class SecurityTxtFacts:
    contact: tuple[str, ...]
    policy: str | None
    expires: str | None
    looks_valid: bool


@dataclass(frozen=True)
class SitemapFacts:
    is_index: bool
    url_count: int
    valid: bool
    # Host names of the listed URLs (lower case, first MAX_SITEMAP_HOSTS distinct): a
    # sitemap often lists a domain's other websites.
    hosts: tuple[str, ...] = ()


MAX_SITEMAP_HOSTS = 200


def _url_host(url: str) -> str | None:
    match = _URL_HOST.match(url.strip())
    return match.group(1).lower().rstrip(".") if match else None


def _hosts(urls: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for url in urls:
        host = _url_host(url)
        if host and host not in found:
            found[host] = None
            if len(found) >= MAX_SITEMAP_HOSTS:
                break
    return tuple(found)


def _lines(text: str) -> list[str]:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def parse_robots(text: str) -> RobotsFacts:
    """Read robots.txt with Protego (Scrapy's own parser, RFC 9309).

    Facts are about the ``*`` group (Protego merges every group naming it). ``disallows_all``
    is true when that group forbids both the homepage and an arbitrary path (``Disallow: /``
    or ``/*`` without an ``Allow`` that wins). ``crawl_delay`` (not in the RFC, but widely
    honoured) is taken from the same group. Sitemaps are global and may appear anywhere; only
    absolute http(s) URLs are kept. An HTML page served at /robots.txt says nothing. Only the
    first MAX_ROBOTS_BYTES characters are read.
    """
    text = (text or "")[:MAX_ROBOTS_BYTES]
    if text.startswith("\ufeff"):
        text = text[1:]
    if _HTML_TEXT_START.match(text):
        return RobotsFacts(disallows_all=False, crawl_delay=None, sitemaps=())
    parser = Protego.parse(text)
    disallows_all = not parser.can_fetch("/", _ANY_AGENT) and not parser.can_fetch(
        _ARBITRARY_PATH, _ANY_AGENT
    )
    sitemaps = [url for url in parser.sitemaps if _ABSOLUTE_HTTP.match(url)]
    return RobotsFacts(
        disallows_all=disallows_all,
        crawl_delay=parser.crawl_delay(_ANY_AGENT),
        sitemaps=tuple(dict.fromkeys(sitemaps)),
    )


def _unsign(lines: list[str]) -> list[str]:
    """Strip an OpenPGP cleartext signature (RFC 4880 §7), which RFC 9116 recommends."""
    if not lines or lines[0].strip() != "-----BEGIN PGP SIGNED MESSAGE-----":
        return lines
    body: list[str] = []
    in_headers = True
    for line in lines[1:]:
        if in_headers:
            if not line.strip():
                in_headers = False
            continue
        if line.strip() == "-----BEGIN PGP SIGNATURE-----":
            break
        body.append(line[2:] if line.startswith("- ") else line)
    return body


def _parse_expires(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None


def parse_security_txt(text: str) -> SecurityTxtFacts:
    """Read a security.txt file (RFC 9116).

    ``looks_valid`` means: not an HTML page, at least one ``Contact`` URI, and exactly one
    ``Expires`` field holding an RFC 3339 date-time. Whether that date has passed is left to the
    caller, which knows the time of the fetch.
    """
    text = text or ""
    if _HTML_TEXT_START.match(text) or re.search(r"<html[\s>]", text[:2000], re.IGNORECASE):
        return SecurityTxtFacts(contact=(), policy=None, expires=None, looks_valid=False)
    contacts: list[str] = []
    policy: str | None = None
    expires: list[str] = []
    for line in _unsign(_lines(text)):
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not value:
            continue
        if key == "contact":
            contacts.append(value)
        elif key == "policy" and policy is None:
            policy = value
        elif key == "expires":
            expires.append(value)
    uri_like = all(re.match(r"^[a-z][a-z0-9+.\-]*:", c, re.IGNORECASE) for c in contacts)
    valid = (
        bool(contacts)
        and uri_like
        and len(expires) == 1
        and _parse_expires(expires[0]) is not None
        and "T" in expires[0].upper()
    )
    return SecurityTxtFacts(
        contact=tuple(contacts),
        policy=policy,
        expires=expires[0] if expires else None,
        looks_valid=valid,
    )


def _inflate(body: bytes) -> bytes | None:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(MAX_SITEMAP_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        return None
    return data if len(data) <= MAX_SITEMAP_BYTES else None


def _text_sitemap(body: bytes) -> SitemapFacts | None:
    """The protocol also allows a plain list of URLs, one per line (sitemaps.org, "Text file")."""
    text = decode_body(body)
    urls = [line.strip() for line in text.splitlines() if line.strip()]
    if urls and all(re.match(r"^https?://\S+$", u, re.IGNORECASE) for u in urls):
        return SitemapFacts(is_index=False, url_count=len(urls), valid=True, hosts=_hosts(urls))
    return None


def parse_sitemap(body: bytes) -> SitemapFacts:
    """Read an XML sitemap or sitemap index (sitemaps.org protocol), gzip-compressed or not.

    Parsed by Scrapy's streaming ``Sitemap`` reader (entities never expanded, no network,
    elements freed as they are read). ``url_count`` counts ``<url>`` entries with a ``<loc>``,
    or for an index the ``<sitemap>`` entries. Elements are matched by local name, so missing
    or wrong namespaces are tolerated; an HTML page or any other root element gives
    ``valid=False``. A plain list of URLs, one per line, is a text sitemap.
    """
    invalid = SitemapFacts(is_index=False, url_count=0, valid=False)
    if not body:
        return invalid
    if body[:2] == b"\x1f\x8b":
        inflated = _inflate(body)
        if inflated is None:
            return invalid
        body = inflated
    if _HTML_START.match(body[:1024]):
        return invalid
    try:
        sitemap = Sitemap(body)
    except (etree.XMLSyntaxError, StopIteration, ValueError):
        return _text_sitemap(body) or invalid
    if sitemap.type not in ("urlset", "sitemapindex"):
        return _text_sitemap(body) or invalid
    count = 0
    locs: list[str] = []
    try:
        for entry in sitemap:
            count += 1
            if len(locs) < 50_000 and entry.get("loc"):
                locs.append(entry["loc"])
    except (etree.XMLSyntaxError, ValueError):
        pass  # a truncated file: the entries read so far count
    return SitemapFacts(
        is_index=sitemap.type == "sitemapindex", url_count=count, valid=True, hosts=_hosts(locs)
    )
