"""Finding and reading an agency's Customer Service Plan (EO 13571, OMB M-11-24).

M-11-24 asked each agency to publish its Customer Service Plan on its Open Government page
(``www.AGENCY.gov/open``) by October 24, 2011. The functions here find candidate links on that
page and extract the text of whatever they point to (HTML or PDF). Whether that text is a
plan, which elements it holds and when it was published is the audit's judgement
(`audit/plan_text.py`, `audit/plan_status.py`), made from the stored text.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from lxml import etree

from crawler.parsing._html import (
    base_url_of,
    collapse,
    decode_body,
    element_text,
    is_heading,
    make_selector,
)
from crawler.parsing.urls import canonical_url, join_url

TextKind = Literal["html", "pdf", "text", "other"]

MAX_PDF_PAGES = 300

# Open Government Directive (M-10-06) expectations of the /open page.
OPEN_GOV_PLAN_PATTERNS: tuple[str, ...] = (
    r"open\s*gov(?:ernment)?\s*plan",
    r"open[-_ ]?gov(?:ernment)?[-_ ]?plan",
    r"\bopen\s*gov(?:ernment)?\b.*\bplan\b",
)
# Ways for the public to give feedback, most telling first. A generic "Contact us" link is
# the weakest evidence and only counts when nothing better (not even a mailto:) is on the page.
FEEDBACK_PATTERNS: tuple[str, ...] = (
    r"\bfeedback\b",
    r"\bcomments?\b",
    r"\bsuggest(?:ions?)?\b",
    r"\btell\s+us\b",
    r"\bshare\s+your\b",
    r"\bideas?\b",
)
CONTACT_PATTERNS: tuple[str, ...] = (r"\bcontact(?:\s+us)?\b",)

_HTML_SNIFF = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"(?:<!doctype\s+html|<html|<head|<body|<meta|<title|<div|<p\b|<h1)",
    re.IGNORECASE | re.DOTALL,
)
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
# fmt: off
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "tr", "ul",
)
# fmt: on
_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "iframe", "svg", "head")


@dataclass(frozen=True)
class PlanCandidate:
    url: str  # absolute, canonical, no fragment
    text: str  # the link text (or title attribute when the link has no text)
    match: str  # the pattern, as given, that ranked this candidate


@dataclass(frozen=True)
class ExtractedText:
    text: str
    kind: TextKind
    error: str | None


@dataclass(frozen=True)
class OpenGovExtras:
    open_gov_plan_url: str | None
    feedback_url: str | None


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _url_texts(url: str) -> tuple[str, str]:
    """The URL's path and query decoded, as is and with separators read as spaces.

    File names such as ``/open/Customer-Service-Plan.pdf`` should match ``customer\\s+service``.
    """
    parts = urlsplit(url)
    decoded = unquote(parts.path + ("?" + parts.query if parts.query else ""))
    return decoded, re.sub(r"[-_+./=&?]+", " ", decoded)


@dataclass
class _Link:
    url: str
    text: str
    title: str
    heading: str
    order: int


def _links_with_headings(body: bytes | str, url: str) -> list[_Link]:
    """Every http(s) link in document order, with the text of the nearest heading before it."""
    sel = make_selector(body, url)
    base = base_url_of(sel, url)
    root = sel.root
    links: list[_Link] = []
    if not isinstance(root, etree._Element):
        return links
    heading = ""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if is_heading(el):
            heading = element_text(el)
        elif el.tag in ("a", "area") and el.get("href") is not None:
            absolute = join_url(base, el.get("href") or "")
            if absolute is None:
                continue
            links.append(
                _Link(
                    url=absolute,
                    text=element_text(el),
                    title=collapse(el.get("title")),
                    heading=heading,
                    order=len(links),
                )
            )
    return links


def find_plan_candidates(
    body: bytes | str, url: str, patterns: Sequence[str]
) -> list[PlanCandidate]:
    """Links on an Open Government page that may lead to the Customer Service Plan.

    A link is a candidate when a pattern (case-insensitive regex) matches its text, its
    ``title`` attribute, its URL path/query, or the nearest heading before it. Candidates are
    ordered by the index of the best pattern they match (put the most specific first), then
    with direct matches (text, title, URL) before heading-only ones, then in document order.
    Each URL appears once; links back to the page itself are left out. Raises ``re.error``
    for an invalid pattern, which is a configuration mistake.
    """
    compiled = [_compile(p) for p in patterns]
    page = canonical_url(url)
    best: dict[str, tuple[tuple[int, int, int], PlanCandidate]] = {}
    for link in _links_with_headings(body, url):
        if link.url == page:
            continue
        url_plain, url_spaced = _url_texts(link.url)
        rank: tuple[int, int, int] | None = None
        for index, pattern in enumerate(compiled):
            direct = any(
                field and pattern.search(field)
                for field in (link.text, link.title, url_plain, url_spaced)
            )
            if direct:
                rank = (index, 0, link.order)
                break
            if rank is None and link.heading and pattern.search(link.heading):
                rank = (index, 1, link.order)
        if rank is None:
            continue
        candidate = PlanCandidate(
            url=link.url, text=link.text or link.title, match=patterns[rank[0]]
        )
        previous = best.get(link.url)
        if previous is None or rank < previous[0]:
            best[link.url] = (rank, candidate)
    return [candidate for _, candidate in sorted(best.values(), key=lambda item: item[0])]


def _html_text(body: bytes, content_type: str | None) -> str:
    markup = decode_body(body, _charset(content_type))
    with warnings.catch_warnings():
        # bs4 warns about XHTML with an XML declaration, or text that looks like a file name;
        # neither matters for reading the text.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    # Line breaks only where the layout has them, so that a sentence with <em> or <a> in it
    # stays on one line for the snippets and date search.
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for tag in soup.find_all(("td", "th")):
        tag.insert_after(" ")
    lines = (collapse(line) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([\w.:\-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def _plain_text(body: bytes, content_type: str | None) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    charset = _charset(content_type)
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _pdf_text(body: bytes, max_chars: int) -> tuple[str, str | None]:
    from pypdf import PdfReader

    # pypdf logs every recoverable defect; a crawl of thousands of PDFs would drown the log.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return "", "encrypted PDF"
        pages = reader.pages
        chunks: list[str] = []
        size = 0
        first_error: str | None = None
        for number, page in enumerate(pages):
            if number >= MAX_PDF_PAGES or size >= max_chars:
                break
            try:
                chunk = page.extract_text() or ""
            except Exception as exc:  # pypdf raises many types on damaged content streams
                first_error = first_error or f"page {number + 1}: {type(exc).__name__}: {exc}"
                continue
            chunks.append(chunk)
            size += len(chunk)
    except Exception as exc:  # a damaged file can fail anywhere in pypdf; never propagate
        return "", f"unreadable PDF: {type(exc).__name__}: {exc}"[:300]
    text = "\n".join(chunks)
    if not text.strip() and first_error is None:
        return "", "no extractable text (scanned image?)"
    return text, first_error[:300] if first_error else None


def _looks_like_pdf(body: bytes) -> bool:
    # The PDF header may be preceded by junk; readers look in the first 1024 bytes.
    return b"%PDF-" in body[:1024]


def extract_text(body: bytes, content_type: str | None, max_chars: int = 500_000) -> ExtractedText:
    """The readable text of a fetched document, at most ``max_chars`` characters.

    The kind is decided by the ``%PDF-`` signature first (servers mislabel PDFs), then by the
    Content-Type, then by sniffing: ``pdf`` (pypdf), ``html`` (BeautifulSoup with lxml; script,
    style, nav and similar non-content elements dropped), ``text`` (decoded as declared, else
    UTF-8, else Windows-1252) or ``other`` (no text). Failures are reported in ``error``, never
    raised; partial PDF text is kept alongside the error of the first bad page.
    """
    body = body or b""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        if _looks_like_pdf(body) or (ctype == "application/pdf" and body):
            if not _looks_like_pdf(body):
                return ExtractedText(text="", kind="pdf", error="not a PDF file (no %PDF- header)")
            text, error = _pdf_text(body, max_chars)
            return ExtractedText(text=text[:max_chars], kind="pdf", error=error)
        sniffed_html = ctype in ("", "application/octet-stream") and bool(
            _HTML_SNIFF.match(body[:2048])
        )
        if ctype in ("text/html", "application/xhtml+xml") or sniffed_html:
            return ExtractedText(
                text=_html_text(body, content_type)[:max_chars], kind="html", error=None
            )
        if ctype.startswith("text/") or (
            ctype in ("", "application/octet-stream")
            and body
            and not _BINARY_BYTES.search(body[:4096])
        ):
            return ExtractedText(
                text=_plain_text(body, content_type)[:max_chars], kind="text", error=None
            )
    except (ValueError, LookupError, RecursionError) as exc:
        return ExtractedText(text="", kind="other", error=f"{type(exc).__name__}: {exc}"[:300])
    return ExtractedText(text="", kind="other", error=None)


def _matches_any(patterns: Sequence[re.Pattern[str]], *fields: str) -> bool:
    return any(field and p.search(field) for p in patterns for field in fields)


def _first_index(patterns: Sequence[re.Pattern[str]], *fields: str) -> int | None:
    for index, pattern in enumerate(patterns):
        if any(field and pattern.search(field) for field in fields):
            return index
    return None


def open_gov_extras(body: bytes | str, url: str) -> OpenGovExtras:
    """What the Open Government Directive (M-10-06) asks of ``/open``, as found on the page.

    ``open_gov_plan_url``: the first link whose text, title or URL names the Open Government
    Plan. ``feedback_url``, by preference: a link (http or mailto) whose text, title or URL
    matches FEEDBACK_PATTERNS (earlier patterns first, then document order); the action of a
    form with a ``<textarea>`` or a feedback-like name; the first ``mailto:`` link; a
    "Contact us" link.
    """
    sel = make_selector(body, url)
    base = base_url_of(sel, url)
    plan_res = [_compile(p) for p in OPEN_GOV_PLAN_PATTERNS]
    feedback_res = [_compile(p) for p in FEEDBACK_PATTERNS]
    contact_res = [_compile(p) for p in CONTACT_PATTERNS]
    plan_url: str | None = None
    feedback: tuple[int, str] | None = None
    first_mailto: str | None = None
    contact: str | None = None
    for anchor in sel.xpath("//a[@href] | //area[@href]"):
        el = anchor.root
        href = (el.get("href") or "").strip()
        text, title = element_text(el), collapse(el.get("title"))
        if href.lower().startswith("mailto:"):
            target: str | None = href
            fields = (text, title, unquote(href))
            first_mailto = first_mailto or href
        else:
            target = join_url(base, href)
            if target is None:
                continue
            fields = (text, title, *_url_texts(target))
            if plan_url is None and _matches_any(plan_res, *fields):
                plan_url = target
        rank = _first_index(feedback_res, *fields)
        if rank is not None and (feedback is None or rank < feedback[0]):
            feedback = (rank, target)
        is_mailto = href.lower().startswith("mailto:")
        if contact is None and not is_mailto and _matches_any(contact_res, *fields):
            contact = target
    form_url: str | None = None
    for form in sel.xpath("//form"):
        el = form.root
        described = " ".join(
            collapse(el.get(attr)) for attr in ("action", "id", "name", "class", "aria-label")
        )
        if form.xpath(".//textarea") or _matches_any(feedback_res, described):
            action = (el.get("action") or "").strip()
            form_url = join_url(base, action) if action else canonical_url(base)
            if form_url:
                break
    return OpenGovExtras(
        open_gov_plan_url=plan_url,
        feedback_url=(feedback[1] if feedback else None) or form_url or first_mailto or contact,
    )
