"""Shared helpers for the HTML parsers in this package (decoding, selectors, link text).

Private to ``crawler.parsing``: the public modules re-export nothing from here.
"""

from __future__ import annotations

import html
import inspect
import re

from lxml import etree
from parsel import Selector
from w3lib.encoding import html_to_unicode

from crawler.parsing.urls import join_url

_WS = re.compile(r"\s+")
# lxml refuses NUL and most C0 controls; garbage bodies (binary served as text/html) contain them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAG_LIKE = re.compile(r"</?[A-Za-z][^<>]*>")
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TEXT_XPATH = etree.XPath(".//text()[not(ancestor::script or ancestor::style)] | .//img/@alt")


def collapse(text: str | None) -> str:
    """Collapse runs of white space (including NBSP, which ``\\s`` covers) to one space."""
    if not text:
        return ""
    return _WS.sub(" ", text).strip()


def _auto_detect(data: bytes) -> str:
    # Undeclared pages on old federal sites are mostly UTF-8 or Windows-1252; UTF-8 is strict
    # enough that a clean decode is strong evidence, and cp1252 never fails on real text.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


# w3lib 2.6 sniffs an undeclared body as browsers do (UTF-8 when it decodes, else by the
# URL's TLD: windows-1252 for .gov) and deprecates auto_detect_fun; older releases need ours.
_SNIFF: dict[str, object] = (
    {}
    if "url" in inspect.signature(html_to_unicode).parameters
    else {"auto_detect_fun": _auto_detect}
)


def decode_body(body: bytes | str, encoding: str | None = None) -> str:
    """Decode an HTML body the way a browser would: BOM, then declared charset, then a sniff.

    ``encoding`` is the charset from the Content-Type header, if any; an unknown name is
    ignored rather than raised, because headers on the open web are often wrong.
    """
    if isinstance(body, str):
        text = body
    else:
        header = f"text/html; charset={encoding}" if encoding else None
        try:
            _, text = html_to_unicode(header, body, **_SNIFF)
        except (LookupError, ValueError):
            text = body.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return _XML_ILLEGAL.sub("", text)


def make_selector(body: bytes | str, url: str, encoding: str | None = None) -> Selector:
    return selector_from_text(decode_body(body, encoding), url)


def selector_from_text(text: str, url: str) -> Selector:
    try:
        return Selector(text=text, type="html", base_url=url)
    except (ValueError, etree.LxmlError):
        return Selector(text="<html></html>", type="html", base_url=url)


def element_text(el: etree._Element) -> str:
    """Visible text of an element, whitespace-collapsed, including ``img alt`` and aria-label.

    Footer links to USA.gov and Inspector General offices are often logos, so the alt text is
    the only text they have.
    """
    parts: list[str] = []
    label = el.get("aria-label")
    if label:
        parts.append(label)
    try:
        found = _TEXT_XPATH(el)
    except etree.XPathError:
        found = []
    parts.extend(str(item) for item in found)
    return collapse(" ".join(parts))


def is_heading(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.tag.lower() in _HEADING_TAGS


def base_url_of(sel: Selector, url: str) -> str:
    """The document base: the first ``<base href>`` resolved against the page URL, if usable.

    Only the first ``<base>`` counts, as in browsers; a javascript: or empty one is ignored.
    """
    hrefs = sel.xpath("//base/@href").getall()
    if hrefs:
        joined = join_url(url, hrefs[0])
        if joined:
            return joined
    return url


_VISIBLE_XPATH = (
    "//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::head)]"
)


def visible_text(sel: Selector) -> str:
    """The text a reader would see, whitespace-collapsed (no script, style or head content)."""
    try:
        parts = sel.xpath(_VISIBLE_XPATH).getall()
    except ValueError:
        return ""
    return collapse(" ".join(parts))


_RCDATA_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SVG_OPEN = re.compile(r"<svg\b", re.IGNORECASE)


def raw_title(raw: str) -> str | None:
    """The title as a browser shows it: <title> holds raw text (RCDATA) up to the first
    </title>, so "<script>alert(1)</script>" in it is the title's text, not markup. Kept
    verbatim as evidence; the report escapes it. None when the first title is inside SVG."""
    match = _RCDATA_TITLE.search(raw, 0, 262144)
    if match is None or _SVG_OPEN.search(raw, 0, match.start()):
        return None
    return collapse(html.unescape(match.group(1))) or None


def page_title(sel: Selector) -> str | None:
    """The document title, whitespace-collapsed; an SVG ``<title>`` is not the page's."""
    nodes = sel.xpath("//head/title") or sel.xpath("//title[not(ancestor::svg)]")
    if not nodes:
        return None
    text = nodes[0].xpath("string()").get() or ""
    # <title> is raw text to an HTML parser, so stray markup in it ("Agency <b>Home</b>", or
    # everything after an unclosed title) arrives as text; keep only the words.
    return collapse(_TAG_LIKE.sub(" ", text)) or None
