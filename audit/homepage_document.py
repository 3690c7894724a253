"""A kept homepage body read back for guideline checks: its links, meta tags and text.

The crawler's own parser (crawler/parsing/) works while crawling; audit/ may not import it,
and checks written after the crawl ask questions the crawl did not (any link pattern, any
meta tag), so the stored body is read again here, with lxml only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from lxml import etree, html

_WS = re.compile(r"\s+")
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template)]"
)


def _collapse(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def decode_html(body: bytes, header_charset: str | None = None) -> str:
    """Header charset, then a BOM, then the page's own declaration, then UTF-8 or cp1252."""
    if body.startswith(b"\xef\xbb\xbf"):
        return _XML_ILLEGAL.sub("", body[3:].decode("utf-8", "replace"))
    declared = _CHARSET.search(body[:4096])
    for name in (header_charset, declared.group(1).decode("ascii") if declared else None):
        if not name:
            continue
        try:
            return _XML_ILLEGAL.sub("", body.decode(name))
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return _XML_ILLEGAL.sub("", body.decode("utf-8"))
    except UnicodeDecodeError:
        return _XML_ILLEGAL.sub("", body.decode("cp1252", "replace"))


@dataclass(frozen=True)
class Link:
    """An <a>/<area> (or <link rel=alternate>) of the page: absolute URL, text, language."""

    url: str
    text: str
    hreflang: str | None = None


@dataclass(frozen=True)
class MetaTag:
    name: str
    content: str


class HomepageDocument:
    """A kept homepage, parsed once on first use."""

    def __init__(self, body: bytes, url: str, header_charset: str | None = None) -> None:
        self.url = url
        self._text = decode_html(body, header_charset)

    @cached_property
    def _root(self) -> etree._Element | None:
        if not self._text.strip():
            return None
        try:
            return html.document_fromstring(self._text)
        except (etree.ParserError, ValueError):
            return None

    @cached_property
    def base_url(self) -> str:
        root = self._root
        bases = root.xpath("//base/@href") if root is not None else []
        if bases:
            joined = urljoin(self.url, str(bases[0]).strip())
            if urlsplit(joined).scheme in ("http", "https"):
                return joined
        return self.url

    @cached_property
    def links(self) -> list[Link]:
        """http(s) links in document order, with their visible text (and image alt text)."""
        root = self._root
        if root is None:
            return []
        found: list[Link] = []
        for el in root.xpath("//a[@href] | //area[@href] | //link[@href][@hreflang]"):
            href = (el.get("href") or "").strip()
            absolute = urljoin(self.base_url, href)
            if urlsplit(absolute).scheme not in ("http", "https"):
                continue
            parts = [el.get("aria-label") or "", el.get("title") or ""]
            if el.tag != "link":
                parts += [str(t) for t in el.xpath(".//text() | .//img/@alt")]
            found.append(
                Link(absolute, _collapse(" ".join(parts)), el.get("hreflang") or el.get("lang"))
            )
        return found

    @cached_property
    def meta_tags(self) -> list[MetaTag]:
        """<meta name|property|http-equiv content>, names lower-cased."""
        root = self._root
        if root is None:
            return []
        tags = []
        for el in root.xpath("//meta"):
            name = el.get("name") or el.get("property") or el.get("http-equiv")
            if name:
                tags.append(MetaTag(name.strip().lower(), _collapse(el.get("content"))))
        return tags

    @cached_property
    def text(self) -> str:
        """The visible text of the body, whitespace collapsed."""
        root = self._root
        if root is None:
            return ""
        return _collapse(" ".join(str(t) for t in _TEXT(root)))

    @cached_property
    def language(self) -> str | None:
        root = self._root
        return (root.get("lang") or None) if root is not None else None
