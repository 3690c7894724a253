"""Finding and reading an agency's Customer Service Plan (EO 13571, OMB M-11-24).

M-11-24 asked each agency to publish its Customer Service Plan on its Open Government page
(``www.AGENCY.gov/open``) by October 24, 2011. The functions here find candidate links on that
page, the frames that are part of a page, and extract the text of whatever they point to
(HTML, PDF, Word, RTF, plain text: `crawler/parsing/document_text.py`). Whether that text is a
plan, which elements it holds and when it was published is the audit's judgement
(`audit/plan_text.py`, `audit/plan_status.py`), made from the stored text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote, urlsplit

from lxml import etree

from crawler.parsing._html import (
    base_url_of,
    collapse,
    element_text,
    is_heading,
    make_selector,
)
from crawler.parsing.document_text import READ_FORMATS, read_document, sniff_format
from crawler.parsing.urls import canonical_url, join_url

TextKind = Literal["html", "pdf", "docx", "doc", "rtf", "text", "other"]

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
MAX_FRAMES = 10


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
    format: str = "other"  # document_text.FORMAT_NAMES' keys, or "other"


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


def find_frames(body: bytes | str, url: str) -> list[str]:
    """The http(s) URLs of a page's ``<iframe>`` and ``<frame>`` elements, in document order,
    each once, at most MAX_FRAMES. A frame inside ``<noscript>`` is left out (a browser that
    runs scripts does not show it); so is a frame of the page itself."""
    sel = make_selector(body, url)
    base = base_url_of(sel, url)
    page = canonical_url(url)
    found: list[str] = []
    try:
        frames = sel.xpath("//iframe[@src][not(ancestor::noscript)] | //frame[@src]")
    except ValueError:
        return found
    for frame in frames:
        target = join_url(base, frame.root.get("src") or "")
        if target is None or target == page or target in found:
            continue
        found.append(target)
        if len(found) >= MAX_FRAMES:
            break
    return found


def extract_text(
    body: bytes, content_type: str | None, max_chars: int = 500_000, max_bytes: int | None = None
) -> ExtractedText:
    """The readable text of a fetched document, at most ``max_chars`` characters.

    The format is taken from the bytes first (servers mislabel documents), then from the
    Content-Type (`crawler.parsing.document_text`). ``kind`` is the format when govaudit reads
    it (html, pdf, docx, doc, rtf, text), else "other"; ``format`` names it either way.
    A document that cannot be read has an empty text and the reason in ``error``, never an
    exception; partial PDF text is kept alongside the error of the first bad page. A body
    over ``max_bytes`` is read as far as that when it is text or HTML, and not at all when it
    is a binary format (a cut PDF or Word file is damaged).
    """
    body = body or b""
    over = max_bytes is not None and len(body) > max_bytes
    if over:
        assert max_bytes is not None
        fmt = sniff_format(body[:4096], content_type)
        if fmt not in ("html", "text", "other"):
            limit = f"{max_bytes / 1048576:g} MiB" if max_bytes >= 1048576 else f"{max_bytes} bytes"
            return ExtractedText(
                text="",
                kind=fmt if fmt in READ_FORMATS else "other",
                error=f"larger than the {limit} read limit: not read",
                format=fmt,
            )
        body = body[:max_bytes]
    try:
        fmt, text, error = read_document(body, content_type, max_chars)
    except (ValueError, LookupError, RecursionError) as exc:
        return ExtractedText(
            text="", kind="other", error=f"{type(exc).__name__}: {exc}"[:300], format="other"
        )
    return ExtractedText(
        text=text, kind=fmt if fmt in READ_FORMATS else "other", error=error, format=fmt
    )


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
