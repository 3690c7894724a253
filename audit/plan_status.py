"""An agency's /open page and Customer Service Plan, judged from what the /open crawl stored.

M-11-24 required each agency to publish a Customer Service Plan on www.AGENCY.gov/open. The
crawl stores what it saw (homepage answers, each /open try with its fingerprint, each
candidate document with its extracted text and dates); this module decides, under the
`[plans]` policy in force, whether the /open page is real, which document is the plan, which
elements it has, the date it states, and the status word:

published, incomplete, no-plan, no-open-page, unreachable.

"Couldn't check" (connection errors, 401/403/429/5xx, a redirect off the agency's domains, a
page that only renders with JavaScript, a candidate document whose text could not be read) is
`unreachable` with the reason, never absence. A plan document that cannot be read but whose
link, URL or title names a Customer Service Plan is `published` with its elements unknown
("elements: couldn't check, <reason>"): no element is counted missing. Reasons are sentences
(`audit/reason_words.py`); every URL and answer stays in the evidence.
Pure: no database, no network (like `audit/site_status.py`).
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from audit import reason_words as words
from audit.page_similarity import Fingerprint, is_soft_404, similarity
from audit.plan_text import DateMention, check_elements, stated_date

STATUSES = ("published", "incomplete", "no-plan", "no-open-page", "unreachable")
HAS_PLAN = ("published", "incomplete")
# HTTP answers that say nothing about whether a page exists: access refused, rate limited,
# server trouble. A page that answered one of these could not be checked.
UNCHECKED_STATUSES = {401, 403, 407, 408, 429}
# A link (text, title attribute, URL) or a page title that names the Customer Service Plan.
PLAN_NAME = re.compile(r"customer[\s_+.-]*service[\s_+.-]*plan", re.IGNORECASE)
# How the crawl records a frame it did not fetch because it is off the agency's domains.
OFF_SITE_FRAME = "outside the agency's domains"
# A 2xx page this close to the homepage's text is the homepage under another URL.
HOMEPAGE_SIMILARITY = 0.98


@dataclass(frozen=True)
class PlanPolicy:
    """The parts of policy.toml `[plans]` that judge (the rest steer the crawl)."""

    elements: dict[str, list[str]]
    required: list[str]
    inline_min_elements: int = 3
    soft_404_threshold: float = 0.9

    @classmethod
    def from_section(cls, plans: Mapping[str, Any]) -> PlanPolicy:
        elements = {k: list(v) for k, v in dict(plans.get("elements", {})).items()}
        return cls(
            elements=elements,
            required=list(plans.get("required_elements", list(elements))),
            inline_min_elements=int(plans.get("inline_min_elements", 3)),
            soft_404_threshold=float(plans.get("soft_404_threshold", 0.9)),
        )


@dataclass(frozen=True)
class OpenTryFacts:
    """One fetch of a candidate /open URL."""

    url: str
    status: int | None
    error_kind: str | None
    final_url: str | None
    left_scope: bool = False
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: Fingerprint | None = None
    followed: bool = False


@dataclass(frozen=True)
class DocumentFacts:
    """A fetched candidate document (or the /open page itself: source "open")."""

    url: str
    final_url: str | None
    content_type: str | None
    sha256: str
    text_kind: str
    text_error: str | None
    text: str
    dates: tuple[DateMention, ...] = ()
    source: str = "link"
    depth: int = 1
    rank: int = 1
    link_text: str | None = None
    title: str | None = None
    format: str | None = None  # from the bytes; None for documents stored before 0004pf

    @property
    def unread_reason(self) -> str | None:
        """Why no text could be extracted (an unread format, a PDF without a text layer, a
        damaged file), or None when the document was read."""
        if self.text.strip():
            return None
        if self.text_error:
            return self.text_error
        if self.text_kind == "other" and self.format is None:
            # Stored before revision 0004pf: Word and RTF files were kept without their text.
            return "a format the crawl that stored it did not read"
        return None

    @property
    def unread(self) -> bool:
        return self.unread_reason is not None


@dataclass(frozen=True)
class PlanFacts:
    """Everything the /open crawl stored about one agency."""

    agency: str
    domain: str
    fetched_at: dt.datetime
    homepage_tries: list[dict[str, Any]]
    homepage: dict[str, Any] | None
    origin: str | None
    homepage_fingerprint: Fingerprint | None
    probe: Fingerprint | None
    tries: list[OpenTryFacts]
    documents: list[DocumentFacts]
    failed_links: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    visits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    # A crawl of web archives: the date the web was seen as of (its fetches that found no
    # capture near it are `not-archived`).
    as_of: dt.date | None = None


@dataclass(frozen=True)
class PlanJudgement:
    status: str
    reason: str
    verdicts: list[str]  # one per /open try: real | soft-404 | homepage | left-scope | ...
    open_try: OpenTryFacts | None = None
    plan: DocumentFacts | None = None
    elements: dict[str, str | None] = field(default_factory=dict)  # name -> snippet | None
    missing: list[str] = field(default_factory=list)
    stated: DateMention | None = None
    dead_links: list[dict[str, Any]] = field(default_factory=list)
    # Why the plan's elements are unknown: its document could not be read.
    elements_unread: str | None = None

    @property
    def stated_date(self) -> dt.date | None:
        return self.stated.date if self.stated else None


def facts_from_rows(
    observation: Mapping[str, Any],
    tries: Sequence[Mapping[str, Any]],
    documents: Sequence[Mapping[str, Any]],
    as_of: dt.date | None = None,
) -> PlanFacts:
    """PlanFacts from `open_observation`, `open_try` and `plan_document` rows (as mappings
    of column name to value), tries in their order; `as_of`: the archive crawl's date."""
    return PlanFacts(
        agency=str(observation["agency"]),
        domain=str(observation["domain"]),
        fetched_at=observation["fetched_at"],
        homepage_tries=list(observation.get("homepage_tries") or []),
        homepage=observation.get("homepage"),
        origin=observation.get("origin"),
        homepage_fingerprint=Fingerprint.from_json(observation.get("homepage_fingerprint")),
        probe=Fingerprint.from_json(observation.get("probe")),
        tries=[
            OpenTryFacts(
                url=t["url"],
                status=t.get("status"),
                error_kind=t.get("error_kind"),
                final_url=t.get("final_url"),
                left_scope=bool(t.get("left_scope")),
                redirect_chain=list(t.get("redirect_chain") or []),
                fingerprint=Fingerprint.from_json(t.get("fingerprint")),
                followed=bool(t.get("followed")),
            )
            for t in sorted(tries, key=lambda t: t.get("seq", 0))
        ],
        documents=[
            DocumentFacts(
                url=d["url"],
                final_url=d.get("final_url"),
                content_type=d.get("content_type"),
                sha256=d["sha256"],
                text_kind=d["text_kind"],
                text_error=d.get("text_error"),
                text=zlib.decompress(d["text_z"]).decode("utf-8", "surrogatepass"),
                dates=tuple(DateMention.from_json(m) for m in d.get("dates") or []),
                source=d.get("source") or "link",
                depth=int(d.get("depth") or 0),
                rank=int(d.get("rank") or 0),
                link_text=d.get("link_text"),
                title=d.get("title"),
                format=d.get("format"),
            )
            for d in documents
        ],
        failed_links=list(observation.get("failed_links") or []),
        candidates=list(observation.get("candidates") or []),
        extras=dict(observation.get("extras") or {}),
        visits=list(observation.get("visits") or []),
        notes=list(observation.get("notes") or []),
        scope=list(observation.get("scope") or []),
        as_of=as_of,
    )


def names_plan(*texts: str | None) -> bool:
    return any(t and PLAN_NAME.search(t) for t in texts)


def _url_key(url: str | None) -> str:
    """Scheme and host lower-cased, fragment dropped, empty path as "/"."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def try_verdict(t: OpenTryFacts, facts: PlanFacts, policy: PlanPolicy) -> str:
    """real | http-N | soft-404 | homepage | left-scope | error:KIND."""
    if t.error_kind is not None:
        return f"error:{t.error_kind}"
    if t.left_scope:
        return "left-scope"
    if t.status is None or not 200 <= t.status < 300:
        return f"http-{t.status}"
    home = facts.homepage or {}
    home_final = home.get("final_url")
    final = _url_key(t.final_url or t.url)
    if home_final and final == _url_key(home_final):
        return "homepage"
    home_host = urlsplit(home_final).hostname if home_final else None
    parts = urlsplit(final)
    if parts.path in ("", "/") and parts.hostname == home_host:
        return "homepage"
    page = t.fingerprint
    if page is not None:
        if is_soft_404(page, facts.probe, policy.soft_404_threshold):
            return "soft-404"
        home_fp = facts.homepage_fingerprint
        if home_fp is not None and similarity(page, home_fp) >= HOMEPAGE_SIMILARITY:
            return "homepage"
    return "real"


def _unchecked_verdict(verdict: str) -> bool:
    """An /open verdict that says nothing about whether the page exists."""
    if verdict.startswith("error:") or verdict == "left-scope":
        return True
    if verdict.startswith("http-"):
        code = verdict[5:]
        return not code.isdigit() or int(code) in UNCHECKED_STATUSES or int(code) >= 500
    return False


def _link_verdict(link: Mapping[str, Any]) -> str:
    """dead: the link's target does not exist (404, 410, ...). unchecked: it could not be
    fetched (timeout, 5xx, 403, ...) or leads outside the agency's domains."""
    status = link.get("status")
    if link.get("error_kind") or link.get("left_scope") or status is None:
        return "unchecked"
    return "unchecked" if status in UNCHECKED_STATUSES or status >= 500 else "dead"


def document_elements(doc: DocumentFacts, policy: PlanPolicy) -> dict[str, str | None]:
    return check_elements(doc.text, policy.elements) if doc.text else {}


def _is_named(doc: DocumentFacts) -> bool:
    if doc.source == "open":
        return False
    return names_plan(doc.link_text, unquote(doc.url), doc.title)


def _is_plan(doc: DocumentFacts, found: Mapping[str, str | None], policy: PlanPolicy) -> bool:
    """A document is the plan when it holds enough of the plan's elements (as the /open
    page itself must), or at least one when its link, URL or title names a Customer Service
    Plan. So a "Customer Service" contact page or a hub that only mentions EO 13571 is not
    taken for an (incomplete) plan."""
    count = sum(1 for v in found.values() if v)
    return count >= policy.inline_min_elements or (count >= 1 and _is_named(doc))


def judge_plan(facts: PlanFacts, policy: PlanPolicy) -> PlanJudgement:
    verdicts = [try_verdict(t, facts, policy) for t in facts.tries]
    dead = [
        {
            "url": link.get("url"),
            "status": link.get("status"),
            "error": link.get("error_kind"),
            "final_url": link.get("final_url"),
            "names_plan": names_plan(link.get("link_text"), unquote(str(link.get("url", "")))),
            "verdict": _link_verdict(link),
            "attempts": int(link.get("attempts") or 1),
            "left_scope": bool(link.get("left_scope")),
        }
        for link in facts.failed_links
    ]
    if facts.homepage is None:
        return PlanJudgement("unreachable", _no_homepage(facts), verdicts, dead_links=dead)
    open_try = next((t for t, v in zip(facts.tries, verdicts, strict=True) if v == "real"), None)
    if open_try is None:
        status, reason = _no_open(facts, verdicts)
        return PlanJudgement(status, reason, verdicts, dead_links=dead)
    judged = [(doc, document_elements(doc, policy)) for doc in facts.documents]
    plans = [(doc, found) for doc, found in judged if _is_plan(doc, found, policy)]
    best: DocumentFacts | None = None
    found: dict[str, str | None] = {}
    missing: list[str] = []
    if plans:
        best, found = max(
            plans, key=lambda p: (sum(1 for n in policy.required if p[1].get(n)), -p[0].rank)
        )
        missing = [n for n in policy.required if not found.get(n)]
    unread_named = [d for d in facts.documents if d.unread and _is_named(d)]
    if unread_named and (best is None or missing):
        # The link names the plan but its text could not be read: published, its elements
        # unknown. Elements missing from a readable page beside it are not counted (they may
        # well be in the unread document).
        doc = min(unread_named, key=lambda d: d.rank)
        return PlanJudgement(
            "published",
            f"elements: couldn't check, {doc.unread_reason}",
            verdicts,
            open_try,
            doc,
            dict.fromkeys(policy.required),
            [],
            None,
            dead,
            elements_unread=doc.unread_reason,
        )
    if best is None:
        status, reason = _no_plan(facts, dead)
        return PlanJudgement(status, reason, verdicts, open_try, dead_links=dead)
    status = "incomplete" if missing else "published"
    if missing:
        names = [words.element_label(n) for n in missing]
        reason = f"the plan misses {words.number(len(missing))} required "
        reason += f"{words.plural(len(missing), 'element')}: {words.join(names)}"
    else:
        reason = "the plan has every required element"
    return PlanJudgement(
        status,
        reason,
        verdicts,
        open_try,
        best,
        found,
        missing,
        stated_date(best.dates),
        dead,
    )


def _attempts(facts: PlanFacts) -> dict[str, int]:
    """URL -> requests made for its last hop (retries of 5xx, 429, timeouts), from the visits."""
    return {
        str(v.get("url")): int(v.get("attempts") or 1)
        for v in facts.visits
        if isinstance(v, Mapping)
    }


def _group_clauses(
    verdict: str, tries: int, urls: Sequence[str], domain: str
) -> tuple[list[str], bool]:
    """One outcome's URLs in words, and whether that is one plain clause (the same paths on
    a set of endpoints that has a name)."""
    by_origin: dict[str, list[str]] = {}
    for url in urls:
        parts = urlsplit(url)
        paths = by_origin.setdefault(f"{parts.scheme}://{parts.netloc}".lower(), [])
        if (parts.path or "/") not in paths:
            paths.append(parts.path or "/")
    by_paths: dict[tuple[str, ...], list[str]] = {}
    for origin, paths in by_origin.items():
        by_paths.setdefault(tuple(paths), []).append(origin)
    clauses = []
    plain = len(by_paths) == 1
    for paths, where in by_paths.items():
        if verdict == "error:robots":
            clauses.append(f"robots.txt forbids {words.join(paths)}")
            continue
        place = words.endpoints(where, domain)
        plain = plain and (len(where) == 1 or not place.startswith(("http://", "https://")))
        clauses.append(words.clause(list(paths), verdict, place, tries))
    return clauses, plain


def _clauses(
    entries: Sequence[tuple[str, str]], domain: str, attempts: Mapping[str, int]
) -> list[str]:
    """/open tries (url, verdict) in words. Paths with the same outcome on the same endpoints
    make one clause ("/open and /open/ answer 404 on all four endpoints (...)"); when the
    outcomes differ and the most common one has no short name, it is said last, for "the
    other N /open URLs tried"."""
    groups: dict[tuple[str, int], list[str]] = {}
    for url, verdict in entries:
        groups.setdefault((verdict, attempts.get(url, 1)), []).append(url)
    said = {key: _group_clauses(*key, urls, domain) for key, urls in groups.items()}
    rest = max(groups, key=lambda key: len(groups[key])) if len(groups) > 1 else None
    if rest is not None and said[rest][1]:
        rest = None
    clauses = [c for key, (found, _) in said.items() if key != rest for c in found]
    if rest is not None:
        (verdict, tries), n = rest, len(groups[rest])
        if verdict == "error:robots":
            clauses.append(f"robots.txt forbids the other {words.number(n)} /open URLs")
        else:
            subject = f"the other {words.number(n)} /open {words.plural(n, 'URL')} tried"
            clauses.append(f"{subject} {words.outcome(verdict, n > 1, tries)}")
    return clauses


def _no_homepage(facts: PlanFacts) -> str:
    tries = [(str(h.get("url")), h.get("error_kind") or "other") for h in facts.homepage_tries]
    if tries and all(kind == "robots" for _, kind in tries):
        return "robots.txt forbids the homepage, so /open could not be checked"
    if tries and all(kind == "not-archived" for _, kind in tries):
        return f"not archived near {facts.as_of}: no capture of the homepage"
    if not tries:
        return "no homepage answered"
    attempts = _attempts(facts)
    by_kind: dict[tuple[str, int], list[str]] = {}
    for url, kind in tries:
        by_kind.setdefault((kind, attempts.get(url, 1)), []).append(words.origin_of(url))
    said = [
        f"{words.endpoints(where, facts.domain)} {words.outcome(kind, len(where) > 1, tries_made)}"
        for (kind, tries_made), where in by_kind.items()
    ]
    return "no homepage answered: " + "; ".join(said)


def _no_open(facts: PlanFacts, verdicts: Sequence[str]) -> tuple[str, str]:
    """No real /open page: absent (no-open-page) only when the site said so; when the
    site's own /open could not be checked (errors, 401/403/429, 5xx, a redirect off the
    agency's domains, a page that needs JavaScript), unreachable."""
    tries = list(zip(facts.tries, verdicts, strict=True))
    statuses = [t.status for t in facts.tries if t.status is not None]
    home_status = (facts.homepage or {}).get("status")
    attempts = _attempts(facts)
    if home_status in (401, 403) and statuses and all(s in (401, 403) for s in statuses):
        codes = words.join(str(c) for c in sorted(set(statuses)))
        return "unreachable", f"blocked: the homepage and every /open URL answer {codes}"
    described = _clauses([(t.url, v) for t, v in tries], facts.domain, attempts)
    if tries and all(v.startswith("error:") for _, v in tries):
        if all(v == "error:not-archived" for _, v in tries):
            return "unreachable", f"not archived near {facts.as_of}: no capture of /open"
        if all(v == "error:robots" for _, v in tries):
            return "unreachable", "; ".join(described)
        return "unreachable", "/open could not be fetched: " + "; ".join(described)
    # The site's own origin (where its homepage answered) is the one that counts: an
    # unanswered http:// variant of an https-only site proves nothing either way.
    origin = facts.origin or ""
    own = [(t, v) for t, v in tries if not origin or t.url.startswith(origin + "/")]
    left = [t for t, v in own if v == "left-scope"]
    if left:
        where = urlsplit(left[0].final_url or "").hostname or "another site"
        return "unreachable", f"/open leads off the agency's domains, to {where}"
    answered = [(t, v) for t, v in own if not _unchecked_verdict(v)]
    home_fp = facts.homepage_fingerprint
    if (
        answered
        and home_fp is not None
        and home_fp.is_script_shell
        and all(
            v in ("soft-404", "homepage") and t.fingerprint and t.fingerprint.is_script_shell
            for t, v in answered
        )
    ):
        return "unreachable", (
            "script-only page: the site shows /open only to browsers that run JavaScript"
        )
    if any(_unchecked_verdict(v) for _, v in own) or (
        tries and all(_unchecked_verdict(v) for _, v in tries)
    ):
        return "unreachable", "/open could not be checked: " + "; ".join(described)
    return "no-open-page", "; ".join(described) or "no /open URL was tried"


def _link_outcomes(entries: list[dict[str, Any]]) -> str:
    """What plan links answered, in words: "answered 503 three times", "answer 404"."""
    outcomes = []
    for d in entries:
        if d.get("left_scope"):
            verdict = "left-scope"
        elif d.get("error"):
            verdict = str(d["error"])
        else:
            verdict = f"http-{d.get('status')}"
        phrase = words.outcome(verdict, len(entries) > 1, int(d.get("attempts") or 1))
        if phrase not in outcomes:
            outcomes.append(phrase)
    return words.join(outcomes)


def _off_site_frames(facts: PlanFacts) -> list[Mapping[str, Any]]:
    """Frames off the agency's domains (recorded, not fetched) on the /open page, on its
    frames, or on a document whose link names the plan: the plan may be in them."""
    pages = {
        u
        for d in facts.documents
        if d.source == "open" or (d.source == "frame" and d.depth == 0) or _is_named(d)
        for u in (d.url, d.final_url)
        if u
    }
    return [
        f
        for f in facts.extras.get("frames") or []
        if isinstance(f, Mapping)
        and not f.get("followed")
        and f.get("why") == OFF_SITE_FRAME
        and f.get("from") in pages
    ]


def _no_plan(facts: PlanFacts, dead: list[dict[str, Any]]) -> tuple[str, str]:
    """A real /open page but no plan document. A plan link that could not be fetched
    (timeout, 5xx, 403, off the agency's domains), or a candidate document whose text could
    not be read, means the plan could not be checked."""

    def subject(entries: list[dict[str, Any]]) -> str:
        n = len(entries)
        return "the plan link" if n == 1 else f"the {words.number(n)} plan links"

    named_unchecked = [d for d in dead if d["names_plan"] and d["verdict"] == "unchecked"]
    if named_unchecked:
        return "unreachable", (
            f"{subject(named_unchecked)} {_link_outcomes(named_unchecked)}, so the plan "
            "could not be checked"
        )
    unread = [d for d in facts.documents if d.unread and d.source != "open"]
    if unread:
        n = len(unread)
        what = "a candidate document" if n == 1 else f"{words.number(n)} candidate documents"
        reasons = list(dict.fromkeys(str(d.unread_reason) for d in unread))
        return "unreachable", f"couldn't check: {what} could not be read: {'; '.join(reasons)}"
    off_site = _off_site_frames(facts)
    if off_site:
        hosts = list(dict.fromkeys(urlsplit(str(f.get("url"))).hostname or "?" for f in off_site))
        frames = "a frame" if len(off_site) == 1 else "frames"
        return "unreachable", (
            f"couldn't check: /open or the plan page shows {frames} from {words.join(hosts)}, "
            "outside the agency's domains, which the crawler does not fetch"
        )
    named_dead = [d for d in dead if d["names_plan"] and d["verdict"] == "dead"]
    if named_dead:
        return "no-plan", f"{subject(named_dead)} {_link_outcomes(named_dead)}"
    if facts.candidates:
        n = len(facts.candidates)
        if n == 1:
            reason = "the one candidate link holds none of the plan's elements"
        else:
            reason = f"none of the {words.number(n)} candidate links holds the plan's elements"
        if dead:
            reason += f" ({words.number(len(dead))} of them did not answer)"
        return "no-plan", reason
    return "no-plan", "/open links no Customer Service Plan"


def check_fields(facts: PlanFacts, judgement: PlanJudgement) -> dict[str, Any]:
    """The judgement with its evidence, in the shape of a `plan_check` row."""
    best, open_try = judgement.plan, judgement.open_try
    probe = facts.probe
    candidates = [
        {**c, "names_plan": names_plan(c.get("text"), unquote(str(c.get("url", ""))))}
        for c in facts.candidates
    ]
    evidence: dict[str, Any] = {
        "visits": facts.visits,
        "homepage_url": (facts.homepage or {}).get("final_url"),
        "soft_404": (
            {"status": probe.status, "title": probe.title, "content_hash": probe.content_hash}
            if probe
            else None
        ),
        "open_redirect_chain": open_try.redirect_chain if open_try else [],
        "open_tries": [
            {"url": t.url, "verdict": v, "status": t.status, "final_url": t.final_url}
            for t, v in zip(facts.tries, judgement.verdicts, strict=True)
        ],
        "dead_links": judgement.dead_links,
        "notes": facts.notes,
        "plan_kind": best.text_kind if best else None,
        "plan_format": (best.format or best.text_kind) if best else None,
        "scope": facts.scope,
        # Same-site frames were fetched as parts of their page; others recorded only.
        "frames": [f for f in facts.extras.get("frames") or [] if isinstance(f, Mapping)],
        # Documents whose text could not be read, with why: never counted as absent.
        "unread_documents": [
            {
                "url": d.url,
                "format": d.format or d.text_kind,
                "reason": d.unread_reason,
                "names_plan": _is_named(d),
            }
            for d in facts.documents
            if d.unread
        ],
        "elements_unread": judgement.elements_unread,
    }
    if best is not None:
        evidence["plan_text_error"] = best.text_error
        evidence["dates_found"] = [m.as_json() for m in best.dates[:20]]
        if judgement.stated is not None:
            evidence["stated_date_context"] = judgement.stated.as_json()
    return {
        "agency": facts.agency,
        "domain": facts.domain,
        "fetched_at": facts.fetched_at,
        "status": judgement.status,
        "reason": judgement.reason,
        "open_page_url": (open_try.final_url or open_try.url) if open_try else None,
        "plan_url": best.url if best else None,
        "plan_content_type": best.content_type if best else None,
        "plan_hash": best.sha256 if best else None,
        "stated_date": judgement.stated_date,
        "elements": dict(judgement.elements) if best else {},
        "extras": {
            "open_gov_plan_url": facts.extras.get("open_gov_plan_url"),
            "feedback_url": facts.extras.get("feedback_url"),
            "candidates": candidates,
            "missing": list(judgement.missing),
            "elements_unread": judgement.elements_unread,
        },
        "evidence": evidence,
    }


def lateness(
    stated: dt.date | None,
    has_plan: bool,
    deadline: dt.date | None,
    first_seen_run_ended: dt.datetime | None,
) -> tuple[bool | None, str | None]:
    """(late, note). Late when the plan's stated date is after the deadline. Without a
    stated date, unknown (None, "date not stated"), unless the crawl run that first saw the
    plan ended on or before the deadline: then the plan was out in time."""
    if not has_plan or deadline is None:
        return None, None
    if stated is not None:
        return stated > deadline, None
    if first_seen_run_ended is not None and first_seen_run_ended.date() <= deadline:
        return False, "date not stated; first seen by a crawl that ended before the deadline"
    return None, "date not stated"
