"""Classifying a domain from what its endpoints answered.

The categories are those of the 2011 "State of the Federal Web" report, which OMB M-11-24
commissioned to count and clean up the federal web: a domain is an **active** site, a
**redirect** to another domain, **parked** (registered but showing a placeholder), in
**error** (the server answers, but only with errors), or **unreachable** (nothing answers).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from audit import reason_words as words
from audit.domain_names import DomainError, normalise_host, registrable_domain

StatusName = Literal["active", "parked", "redirect", "error", "unreachable", "not-archived"]


@dataclass(frozen=True)
class EndpointObservation:
    url: str  # e.g. "https://www.usda.gov/"
    status: int | None  # final HTTP status after following redirects; None if connection failed
    # "dns" | "refused" | "tls" | "timeout" | "other" when it failed; "robots" when
    # robots.txt forbade fetching it (never fetched)
    error_kind: str | None
    final_url: str | None  # where the redirect chain ended (may be another domain, not fetched)
    title: str | None = None
    body_text: str | None = None  # visible text of the final page, truncated


@dataclass(frozen=True)
class SiteStatus:
    status: StatusName
    reason: str
    redirect_target: str | None


# Placeholders specific enough to trust anywhere in a page of any length.
_PARKING = re.compile(
    r"this\s+domain(?:\s+name)?\s+(?:is|has\s+been|may\s+be)\s+(?:parked|for\s+sale|registered)"
    r"|domain(?:\s+name)?\s+is\s+for\s+sale|buy\s+this\s+domain|parked\s+(?:free|domain)"
    r"|domain\s+parking|parkingcrew|sedoparking|bodis\.com"
    r"|this\s+web\s*page\s+is\s+parked",
    re.IGNORECASE,
)
_DEFAULT_SERVER_PAGE = re.compile(
    r"apache2?\s+(?:debian|ubuntu|centos)?\s*default\s+page"
    r"|apache\s+http\s+server\s+test\s+page|test\s+page\s+for\s+the\s+(?:apache|nginx)"
    r"|welcome\s+to\s+nginx!?|iis\s+windows\s+server|internet\s+information\s+services"
    r"|welcome\s+to\s+centos|web\s+server'?s\s+default\s+page|default\s+web\s+site\s+page"
    r"|your\s+azure\s+web\s+app\s+is\s+up\s+and\s+running",
    re.IGNORECASE,
)
# Weak phrases: a placeholder when they are the title or most of a short page, but a real
# homepage may well say "new features coming soon" somewhere.
_PLACEHOLDER = re.compile(
    r"coming\s+soon|under\s+construction|future\s+home\s+of|site\s+not\s+(?:yet\s+)?configured",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w")
_IT_WORKS = re.compile(r"^\s*it\s+works!?\s*$", re.IGNORECASE)
_IT_WORKS_START = re.compile(r"^\s*it\s+works!", re.IGNORECASE)
SHORT_PAGE_CHARS = 600
NEARLY_EMPTY_CHARS = 25
_SCAN_CHARS = 5000


def _collapse(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def parked_reason(title: str | None, body_text: str | None) -> str | None:
    """Why a page looks like a placeholder rather than a site, or None.

    In order: a domain-parking page (anywhere in the title or text); a web server's default
    page (Apache "It works!", nginx, IIS...); a "coming soon" / "under construction" title, or
    that phrase in a short page; a nearly empty page (no words at all, or no title and fewer
    than NEARLY_EMPTY_CHARS characters of text). A short page with a title and a heading is
    small, not a placeholder. ``body_text=None`` means the text is unknown, which is not
    evidence of anything.
    """
    head = _collapse(title)
    text = _collapse(body_text)[:_SCAN_CHARS]
    for field in (head, text):
        match = _PARKING.search(field)
        if match:
            return f"domain parking page: {match.group(0)}"
    for field in (head, text):
        match = _DEFAULT_SERVER_PAGE.search(field)
        if match:
            return f"default web server page: {match.group(0)}"
    if _IT_WORKS.match(head) or (_IT_WORKS_START.match(text) and len(text) < SHORT_PAGE_CHARS):
        return "default web server page: It works!"
    match = _PLACEHOLDER.search(head)
    if match is None and len(text) < SHORT_PAGE_CHARS:
        match = _PLACEHOLDER.search(text)
    if match:
        return f"placeholder page: {match.group(0)}"
    if body_text is not None and (
        not _WORD.search(text) or (not head and len(text) < NEARLY_EMPTY_CHARS)
    ):
        return f"nearly empty page ({len(text)} characters of text)"
    return None


def _registrable(url: str | None) -> tuple[str, str]:
    """(registrable domain, host) of a URL; the host stands in when there is no eTLD+1."""
    if not url:
        return "", ""
    try:
        raw = urlsplit(url.strip()).hostname or ""
        host = normalise_host(raw) if raw else ""
    except (ValueError, DomainError):
        return "", ""
    if not host:
        return "", ""
    return registrable_domain(host) or host, host


def _own_domain(domain: str) -> str:
    try:
        host = normalise_host(domain)
    except DomainError:
        host = domain.strip().lower()
    return registrable_domain(host) or host


def _is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


BLOCKED_BY_ROBOTS = "blocked: robots.txt forbids the crawler every endpoint"


def could_not_check(status: str | None, reason: str | None) -> bool:
    """True for a site the crawl could not check: nothing answered (`unreachable`), or it
    refused us (`error` with a reason starting "blocked": 401/403 everywhere, or robots.txt).
    Such a site is never counted as lacking anything."""
    return status in ("unreachable", "not-archived") or (reason or "").startswith("blocked")


def _placeholder(reason: str) -> str:
    """parked_reason's "kind: match" as a sentence about the homepage."""
    kind, _, match = reason.partition(": ")
    what = {
        "domain parking page": "a domain parking page",
        "default web server page": "a web server's default page",
        "placeholder page": "a placeholder",
    }.get(kind)
    if what is None:
        return f"the homepage is a {reason}"
    return f'the homepage is {what} ("{match}")' if match else f"the homepage is {what}"


def _failures(endpoints: Sequence[EndpointObservation], domain: str) -> list[str]:
    """Endpoints that did not answer, in words: "both http endpoints (www and bare) refuse
    the connection"."""
    by_kind: dict[str, list[str]] = {}
    for e in endpoints:
        by_kind.setdefault(e.error_kind or "other", []).append(words.origin_of(e.url))
    return [
        f"{words.endpoints(origins, domain)} {words.outcome(kind, len(origins) > 1)}"
        for kind, origins in by_kind.items()
    ]


def classify_site(
    domain: str, endpoints: Sequence[EndpointObservation], as_of: dt.date | None = None
) -> SiteStatus:
    """Classify ``domain`` (e.g. "usda.gov") from its endpoint observations.

    Rules, first match wins (categories of the 2011 State of the Federal Web report):

    1. **active** / **parked** — some endpoint ends, after redirects, with 2xx on the domain's
       own registrable domain (``www.usda.gov`` counts for ``usda.gov``). If every such page is a
       placeholder (:func:`parked_reason`) the domain is *parked* with that reason; otherwise it
       is *active*, reason "the homepage answers <status> at <final URL>" for the first real
       page.
    2. **redirect** — some endpoint ends on a different registrable domain with 2xx or 3xx (the
       crawler does not follow redirects off the domain, so 3xx there is normal).
       ``redirect_target`` is the most common such domain (first seen wins ties); reason
       "the homepage redirects to <target>".
    3. **error** — endpoints answered, but with nothing usable (HTTP >= 400, or a redirect
       that never settled on the domain). Reason "blocked: ..." when every answer is 401/403
       (the site exists but refuses us, typically a WAF), else which endpoints answered what,
       "all four endpoints (www and bare, https and http) answer 404".
    4. **unreachable** — no endpoint answered; reason "no endpoint answers: " and the
       connection failures, e.g. "all four endpoints (...) have no DNS address".

    In a crawl of web archives, a domain none of whose endpoints has a capture near the
    as-of date is **not-archived** (couldn't check, like unreachable).

    Before all of these: when robots.txt forbade every endpoint (``error_kind`` "robots"),
    nothing was fetched and the site could not be checked: **error**, reason
    :data:`BLOCKED_BY_ROBOTS`. A robots refusal beside other endpoints counts as a failure of
    kind "other".
    """
    if endpoints and all(e.error_kind == "robots" for e in endpoints):
        return SiteStatus("error", BLOCKED_BY_ROBOTS, None)
    if endpoints and all(e.error_kind == "not-archived" for e in endpoints):
        # A crawl of web archives (`as_of`) with no capture of any endpoint: couldn't check.
        return SiteStatus("not-archived", f"no endpoint was archived near {as_of}", None)
    # Words name each failure as it was (robots.txt too); the rules count robots as "other".
    unanswered = [e for e in endpoints if e.status is None]
    endpoints = [
        replace(e, error_kind="other") if e.error_kind == "robots" else e for e in endpoints
    ]
    own = _own_domain(domain)
    answered = [e for e in endpoints if e.status is not None]

    on_site = [
        e for e in answered if _is_2xx(e.status) and _registrable(e.final_url or e.url)[0] == own
    ]
    if on_site:
        first_parked: str | None = None
        for endpoint in on_site:
            reason = parked_reason(endpoint.title, endpoint.body_text)
            if reason is None:
                where = endpoint.final_url or endpoint.url
                return SiteStatus(
                    "active", f"the homepage answers {endpoint.status} at {where}", None
                )
            first_parked = first_parked or reason
        return SiteStatus("parked", _placeholder(first_parked or "placeholder page"), None)

    targets: Counter[str] = Counter()
    for endpoint in answered:
        target, _ = _registrable(endpoint.final_url or endpoint.url)
        status = endpoint.status or 0
        if target and target != own and 200 <= status < 400:
            targets[target] += 1
    if targets:
        # Counter.most_common keeps insertion order among equal counts: first seen wins.
        target = targets.most_common(1)[0][0]
        return SiteStatus("redirect", f"the homepage redirects to {target}", target)

    if answered:
        codes = [e.status for e in answered if e.status is not None]
        by_code: dict[int, list[str]] = {}
        for e in answered:
            by_code.setdefault(e.status or 0, []).append(words.origin_of(e.url))
        said = [
            f"{words.endpoints(origins, domain)} {words.outcome(str(code), len(origins) > 1)}"
            for code, origins in sorted(by_code.items())
        ]
        said += _failures(unanswered, domain)
        if all(code in (401, 403) for code in codes):
            return SiteStatus("error", "blocked: " + "; ".join(said), None)
        return SiteStatus("error", "; ".join(said), None)

    if not endpoints:
        return SiteStatus("unreachable", "no endpoint was checked", None)
    return SiteStatus(
        "unreachable", "no endpoint answers: " + "; ".join(_failures(unanswered, domain)), None
    )
