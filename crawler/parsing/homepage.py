"""Facts about one HTML page (normally a site's homepage) for the audit.

The checks follow what OMB M-11-24 / M-17-06 and the 21st Century IDEA Act expect of a federal
homepage: the required footer links, the Digital Analytics Program (DAP) tag, site search and
the U.S. Web Design System "official website" banner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from lxml import etree
from parsel import Selector

from crawler.parsing._html import (
    base_url_of,
    collapse,
    decode_body,
    element_text,
    page_title,
    raw_title,
    selector_from_text,
)
from crawler.parsing.urls import host_of, join_url


@dataclass(frozen=True)
class LinkRule:
    """How to recognise one required link. All patterns are case-insensitive regexes.

    ``text`` is searched in the link text (with image alt text and aria-label) and in the
    ``title`` attribute; ``path`` in the percent-decoded URL path; ``host`` in the URL host.
    """

    text: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    host: tuple[str, ...] = ()


# The links OMB expects on every federal homepage (M-17-06 "Required links"; the Open
# Government page from M-10-06). A link matches a rule when any of its patterns matches;
# the first matching link in document order wins.
REQUIRED_LINK_PATTERNS: dict[str, LinkRule] = {
    "privacy": LinkRule(
        text=(r"\bprivacy\b", r"\bprivacidad\b"),
        path=(r"(?:^|/)privacy(?:[-_ ]?(?:policy|program|statement|notice))?(?:/|\.\w+)?$",),
    ),
    "accessibility": LinkRule(
        text=(r"\baccessibility\b", r"\bsection\s*508\b"),
        path=(r"(?:^|/)(?:accessibility|section[-_]?508|508)(?:[-_ ]?statement)?(?:/|\.\w+)?$",),
    ),
    "foia": LinkRule(
        text=(r"\bFOIA\b", r"\bfreedom\s+of\s+information\b"),
        path=(r"(?:^|/)foia(?:/|\.\w+)?$",),
    ),
    "no_fear": LinkRule(
        text=(r"\bno\s*-?\s*fear\b",),
        path=(r"(?:^|/)no[-_]?fear(?:[-_]act)?(?:[-_]data)?(?:/|\.\w+)?$",),
    ),
    "inspector_general": LinkRule(
        text=(r"\binspector\s+general\b", r"\bOIG\b"),
        path=(r"(?:^|/)oig(?:/|\.\w+)?$",),
        host=(r"^(?:www\.)?oig\.", r"oig\.oversight\.gov$"),
    ),
    "usa_gov": LinkRule(
        text=(r"\busa\.gov\b",),
        host=(r"^(?:www\.)?usa\.gov$",),
    ),
    "about": LinkRule(
        text=(r"^about\b", r"\babout\s+us\b", r"^acerca\s+de\b"),
        path=(r"(?:^|/)about(?:[-_]us)?(?:/|\.\w+)?$",),
    ),
    "contact": LinkRule(
        text=(r"^contact\b", r"\bcontact\s+us\b", r"^cont[aá]ct(?:enos|o)\b"),
        path=(r"(?:^|/)contact(?:[-_]?us)?(?:/|\.\w+)?$",),
    ),
    "open_gov": LinkRule(
        text=(r"\bopen\s+government\b", r"^open\s*gov\b"),
        path=(r"^/open(?:gov(?:ernment)?)?(?:/|\.\w+)?$",),
    ),
}


def _compile_group(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    # One alternation per group: a page has hundreds of links and nine rules to try on each.
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_COMPILED_RULES: dict[str, tuple[re.Pattern[str] | None, ...]] = {
    name: (_compile_group(r.text), _compile_group(r.path), _compile_group(r.host))
    for name, r in REQUIRED_LINK_PATTERNS.items()
}
# Every rule's patterns in one alternation per field: most links match no rule, and one
# search per field rules them out (profiled: the nine-rule loop ran on every link).
_ANY_RULE: tuple[re.Pattern[str] | None, ...] = tuple(
    _compile_group(tuple(p for r in REQUIRED_LINK_PATTERNS.values() for p in getattr(r, f)))
    for f in ("text", "path", "host")
)
# lxml directly: parsel wraps every match in a Selector, a cost paid per link on every page.
_ANCHORS = etree.XPath("//a[@href] | //area[@href]")
# An http(s) base's origin, when it is plain (no userinfo, backslash or odd character).
_PLAIN_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?=/|$)")

# Substrings of the raw HTML that betray the content management system; checked in order.
GENERATOR_MARKERS: tuple[tuple[str, str], ...] = (
    ("/sites/default/files", "Drupal"),
    ("Drupal.settings", "Drupal"),
    ("drupalSettings", "Drupal"),
    ("data-drupal-", "Drupal"),
    ("/wp-content/", "WordPress"),
    ("/wp-includes/", "WordPress"),
    ("_layouts/15", "SharePoint"),
    ("_layouts/1033", "SharePoint"),
    ("/etc.clientlibs", "AEM"),
    ("/content/dam/", "AEM"),
    ("/-/media/", "Sitecore"),
    ("/media/jui/", "Joomla"),
    ("/DesktopModules/", "DNN"),
)

# Known products as named in <meta name="generator">, mapped to the marker names above.
_GENERATOR_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), name)
    for p, name in (
        (r"\bdrupal\b", "Drupal"),
        (r"\bwordpress\b", "WordPress"),
        (r"\bsharepoint\b", "SharePoint"),
        (r"\badobe\s+experience\s+manager\b|\bAEM\b", "AEM"),
        (r"\bjoomla\b", "Joomla"),
        (r"\bsitecore\b", "Sitecore"),
        (r"\b(?:dnn|dotnetnuke)\b", "DNN"),
        (r"\bhugo\b", "Hugo"),
        (r"\bjekyll\b", "Jekyll"),
        (r"\bgatsby\b", "Gatsby"),
        (r"\bplone\b", "Plone"),
    )
)

_DAP_RE = re.compile(r"dap\.digitalgov\.gov|Universal-Federated-Analytics", re.IGNORECASE)
_BANNER_TEXT_RE = re.compile(
    r"an\s+official\s+website\s+of\s+the\s+united\s+states\s+government", re.IGNORECASE
)
_SEARCH_ACTION_RE = re.compile(r"search\.usa\.gov|/search\b", re.IGNORECASE)
_SEARCH_INPUT_NAMES = frozenset({"q", "query", "search", "s", "keys", "keyword", "keywords"})
_REFRESH_RE = re.compile(
    r"\s*(?P<int>\d*)(?P<frac>(?:\.[\d.]*)?)\s*[;,]?\s*(?P<rest>.*)$", re.DOTALL
)
_REFRESH_URL_RE = re.compile(r"^url\s*=\s*", re.IGNORECASE)
_MAX_LINKS = 10_000


@dataclass(frozen=True)
class PageFacts:
    """What parse_page found. URLs are absolute and canonical (see urls.canonical_url).

    ``required_links`` has exactly the keys of REQUIRED_LINK_PATTERNS, None where no link
    matched. ``links`` holds the http(s) ``<a>``/``<area>`` targets in document order, without
    fragments or duplicates, at most 10,000. ``meta_refresh`` is (delay seconds, target URL).
    """

    title: str | None
    description: str | None
    language: str | None
    canonical_url: str | None
    generator_hints: tuple[str, ...]
    dap: bool
    site_search: bool
    uswds_banner: bool
    required_links: dict[str, str | None] = field(hash=False)
    links: tuple[str, ...]
    meta_refresh: tuple[float, str] | None


def _lower_attr(el: etree._Element, name: str) -> str:
    return (el.get(name) or "").strip().lower()


def _meta(sel: Selector, name: str) -> str | None:
    for meta in sel.xpath("//meta"):
        el = meta.root
        if _lower_attr(el, "name") == name or _lower_attr(el, "property") == name:
            content = collapse(el.get("content"))
            if content:
                return content
    return None


def _generator_hints(sel: Selector, raw: str) -> tuple[str, ...]:
    hints: list[str] = []
    for meta in sel.xpath("//meta"):
        if _lower_attr(meta.root, "name") != "generator":
            continue
        content = collapse(meta.root.get("content"))
        if not content:
            continue
        for pattern, product in _GENERATOR_NAMES:
            if pattern.search(content):
                hints.append(product)
                break
        else:
            hints.append(content[:100])
    for marker, product in GENERATOR_MARKERS:
        if marker in raw:
            hints.append(product)
    return tuple(dict.fromkeys(hints))


def _has_site_search(sel: Selector) -> bool:
    if any("search" in _lower_attr(s.root, "role").split() for s in sel.xpath("//*[@role]")):
        return True
    if sel.xpath("//search"):
        return True
    for form in sel.xpath("//form"):
        if _SEARCH_ACTION_RE.search(form.root.get("action") or ""):
            return True
        for inp in form.xpath(".//input"):
            kind = _lower_attr(inp.root, "type")
            if kind == "search":
                return True
            name = _lower_attr(inp.root, "name")
            if kind in ("", "text") and (
                name in _SEARCH_INPUT_NAMES
                or "search" in name
                or "search" in _lower_attr(inp.root, "id")
            ):
                return True
    return False


def _has_banner(sel: Selector, raw: str) -> bool:
    for cls in sel.xpath("//*[@class]/@class").getall():
        if "usa-banner" in cls.split():
            return True
    return bool(_BANNER_TEXT_RE.search(raw))


def parse_refresh(content: str, base: str) -> tuple[float, str] | None:
    """Parse a refresh value ("0; url='/home'") as the HTML standard does.

    None when there is no delay or no target: a refresh of the page itself is not a redirect.
    """
    match = _REFRESH_RE.match(content)
    if not match or not (match.group("int") or match.group("frac")):
        return None
    try:
        delay = float((match.group("int") or "0") + match.group("frac"))
    except ValueError:
        delay = float(match.group("int") or 0)
    target = _REFRESH_URL_RE.sub("", match.group("rest"), count=1).strip()
    if target[:1] in ("'", '"'):
        target = target[1:].split(target[0], 1)[0]
    absolute = join_url(base, target) if target else None
    return (delay, absolute) if absolute else None


def _meta_refresh(sel: Selector, base: str) -> tuple[float, str] | None:
    # Browsers ignore refresh tags inside <noscript> when scripting is on; so do we.
    for meta in sel.xpath("//meta[not(ancestor::noscript)]"):
        if _lower_attr(meta.root, "http-equiv") == "refresh":
            found = parse_refresh(meta.root.get("content") or "", base)
            if found:
                return found
    return None


def _rule_matches(name: str, text: str, title: str, path: str, host: str) -> bool:
    text_re, path_re, host_re = _COMPILED_RULES[name]
    if text_re and ((text and text_re.search(text)) or (title and text_re.search(title))):
        return True
    if path_re and path != "/" and path_re.search(path):
        return True
    return bool(host_re and host and host_re.search(host))


@lru_cache(maxsize=65536)
def _rule_path(url: str) -> str:
    """The percent-decoded path the rules read (a site's links repeat on every page)."""
    return unquote(urlsplit(url).path).rstrip("/") or "/"


def _may_match_a_rule(text: str, title: str, path: str, host: str) -> bool:
    text_re, path_re, host_re = _ANY_RULE
    if text_re and ((text and text_re.search(text)) or (title and text_re.search(title))):
        return True
    if path_re and path != "/" and path_re.search(path):
        return True
    return bool(host_re and host and host_re.search(host))


def _join_link(base: str, href: str) -> str | None:
    """join_url, resolved against the origin for a site-absolute href ("/about").

    The answer does not depend on the rest of the base then, and join_url's cache is hit by
    every page of a site instead of once per page (profiled: a third of parse_page).
    """
    plain = href.isprintable() and "\\" not in href and href == href.strip()
    if plain and href.startswith("/") and not href.startswith("//"):
        origin = _PLAIN_ORIGIN.match(base)
        if origin is not None:
            return join_url(origin.group(0) + "/", href)
    return join_url(base, href)


def parse_page(body: bytes | str, url: str, encoding: str | None = None) -> PageFacts:
    """Extract :class:`PageFacts` from an HTML body fetched from ``url``.

    ``encoding`` is the charset from the HTTP header; a BOM or the page's own declaration is
    used when it is absent, as browsers do. Never raises on bad input: an empty or binary body
    gives a PageFacts with nothing found.
    """
    raw = decode_body(body, encoding)
    sel = selector_from_text(raw, url)
    base = base_url_of(sel, url)

    canonical = None
    for link in sel.xpath("//link[@href]"):
        if "canonical" in _lower_attr(link.root, "rel").split():
            canonical = join_url(base, link.root.get("href") or "")
            if canonical:
                break

    lang = sel.xpath("/html/@lang").get() or sel.xpath("/html/@xml:lang").get()

    links: list[str] = []
    seen: set[str] = set()
    required: dict[str, str | None] = dict.fromkeys(REQUIRED_LINK_PATTERNS)
    try:
        anchors = _ANCHORS(sel.root) if isinstance(sel.root, etree._Element) else []
    except etree.XPathError:
        anchors = []
    for el in anchors:
        absolute = _join_link(base, el.get("href") or "")
        if absolute is None:
            continue
        if absolute not in seen and len(links) < _MAX_LINKS:
            seen.add(absolute)
            links.append(absolute)
        missing = [name for name, found in required.items() if found is None]
        if not missing:
            continue
        text = element_text(el)
        title = collapse(el.get("title"))
        path = _rule_path(absolute)
        host = host_of(absolute)
        if not _may_match_a_rule(text, title, path, host):
            continue
        for name in missing:
            if _rule_matches(name, text, title, path, host):
                required[name] = absolute

    return PageFacts(
        title=raw_title(raw) or page_title(sel),
        description=_meta(sel, "description"),
        language=collapse(lang) or None,
        canonical_url=canonical,
        generator_hints=_generator_hints(sel, raw),
        dap=any(_DAP_RE.search(src) for src in sel.xpath("//script/@src").getall()),
        site_search=_has_site_search(sel),
        uswds_banner=_has_banner(sel, raw),
        required_links=required,
        links=tuple(links),
        meta_refresh=_meta_refresh(sel, base),
    )
