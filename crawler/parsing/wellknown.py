"""Parsers for the well-known files a site publishes: robots.txt, security.txt, sitemaps.

Servers often answer these paths with their HTML homepage or an error page and status 200, so
every parser here decides for itself whether the body really is the file it claims to be.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from crawler.parsing._html import decode_body

# A decompressed sitemap may be 50 MB by the sitemaps.org protocol; refuse to inflate more.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_ABSOLUTE_HTTP = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
_HTML_TEXT_START = re.compile(r"^\s*(?:<!doctype\s+html|<html|<head|<body|<\?xml)", re.IGNORECASE)


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


def _lines(text: str) -> list[str]:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def parse_robots(text: str) -> RobotsFacts:
    """Read robots.txt as RFC 9309 describes.

    Groups start with one or more ``User-agent`` lines; all groups naming ``*`` are merged.
    ``disallows_all`` is true when that group has ``Disallow: /`` (or ``/*``) and no ``Allow``
    rule of the same length, which by the RFC would win the tie. ``crawl_delay`` (not in the
    RFC, but widely honoured) is taken from the same group. Sitemaps are global and may appear
    anywhere; only absolute http(s) URLs are kept.
    """
    star_rules: list[tuple[str, str]] = []
    star_delay: float | None = None
    sitemaps: list[str] = []
    agents: list[str] = []
    in_rules = False
    if _HTML_TEXT_START.match(text or ""):
        return RobotsFacts(disallows_all=False, crawl_delay=None, sitemaps=())
    for line in _lines(text or ""):
        line = line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        value = value.strip()
        if key == "sitemap":
            if _ABSOLUTE_HTTP.match(value):
                sitemaps.append(value)
            continue
        if key in ("user-agent", "useragent"):
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            continue
        if key not in ("allow", "disallow", "crawl-delay"):
            continue
        in_rules = True
        if "*" not in agents:
            continue
        if key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0 and delay == delay and delay != float("inf"):
                star_delay = delay
        else:
            star_rules.append((key, value))
    disallowed = any(k == "disallow" and v in ("/", "/*") for k, v in star_rules)
    allowed = any(k == "allow" and v in ("/", "/*", "/$") for k, v in star_rules)
    return RobotsFacts(
        disallows_all=disallowed and not allowed,
        crawl_delay=star_delay,
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
        return SitemapFacts(is_index=False, url_count=len(urls), valid=True)
    return None


def _local_name(tag: str) -> str:
    # Not etree.QName: in recover mode lxml keeps tag names that QName rejects.
    return tag.rpartition("}")[2]


def parse_sitemap(body: bytes) -> SitemapFacts:
    """Read an XML sitemap or sitemap index (sitemaps.org protocol), gzip-compressed or not.

    ``url_count`` counts ``<url>`` entries, or for an index the ``<sitemap>`` entries. Elements
    are matched by local name, so missing or wrong namespaces are tolerated; an HTML page or any
    other root element gives ``valid=False``. Entity expansion and network access are disabled.
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
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=True, load_dtd=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None or not isinstance(root.tag, str):
        return _text_sitemap(body) or invalid
    name = _local_name(root.tag)
    if name not in ("urlset", "sitemapindex"):
        return invalid
    child = "url" if name == "urlset" else "sitemap"
    count = sum(1 for el in root if isinstance(el.tag, str) and etree.QName(el).localname == child)
    return SitemapFacts(is_index=name == "sitemapindex", url_count=count, valid=True)
