"""An agency's /open page and Customer Service Plan, judged from what the /open crawl stored.

M-11-24 required each agency to publish a Customer Service Plan on www.AGENCY.gov/open. The
crawl stores what it saw (homepage answers, each /open try with its fingerprint, each
candidate document with its extracted text and dates); this module decides, under the
`[plans]` policy in force, whether the /open page is real, which document is the plan, which
elements it has, the date it states, and the status word:

published, incomplete, no-plan, no-open-page, unreachable.

"Couldn't check" (connection errors, 401/403/429/5xx, a redirect off the agency's domains, a
page that only renders with JavaScript) is `unreachable` with the reason, never absence.
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

from audit.page_similarity import Fingerprint, is_soft_404, similarity
from audit.plan_text import DateMention, check_elements, stated_date

STATUSES = ("published", "incomplete", "no-plan", "no-open-page", "unreachable")
HAS_PLAN = ("published", "incomplete")
# HTTP answers that say nothing about whether a page exists: access refused, rate limited,
# server trouble. A page that answered one of these could not be checked.
UNCHECKED_STATUSES = {401, 403, 407, 408, 429}
# A link (text, title attribute, URL) or a page title that names the Customer Service Plan.
PLAN_NAME = re.compile(r"customer[\s_+.-]*service[\s_+.-]*plan", re.IGNORECASE)
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
        }
        for link in facts.failed_links
    ]
    if facts.homepage is None:
        kinds = sorted({h.get("error_kind") or "?" for h in facts.homepage_tries})
        if kinds == ["robots"]:
            reason = "robots.txt forbids the auditor: could not be checked"
        elif kinds == ["not-archived"]:
            reason = f"not archived near {facts.as_of}: no capture of the homepage"
        else:
            reason = f"no homepage answered ({', '.join(kinds)})"
        return PlanJudgement("unreachable", reason, verdicts, dead_links=dead)
    open_try = next((t for t, v in zip(facts.tries, verdicts, strict=True) if v == "real"), None)
    if open_try is None:
        status, reason = _no_open(facts, verdicts)
        return PlanJudgement(status, reason, verdicts, dead_links=dead)
    judged = [(doc, document_elements(doc, policy)) for doc in facts.documents]
    plans = [(doc, found) for doc, found in judged if _is_plan(doc, found, policy)]
    if not plans:
        status, reason = _no_plan(facts, dead)
        return PlanJudgement(status, reason, verdicts, open_try, dead_links=dead)
    best, found = max(
        plans, key=lambda p: (sum(1 for n in policy.required if p[1].get(n)), -p[0].rank)
    )
    missing = [n for n in policy.required if not found.get(n)]
    status = "incomplete" if missing else "published"
    reason = f"plan misses {', '.join(missing)}" if missing else "plan has every required element"
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


def _no_open(facts: PlanFacts, verdicts: Sequence[str]) -> tuple[str, str]:
    """No real /open page: absent (no-open-page) only when the site said so; when the
    site's own /open could not be checked (errors, 401/403/429, 5xx, a redirect off the
    agency's domains, a page that needs JavaScript), unreachable."""
    tries = list(zip(facts.tries, verdicts, strict=True))
    statuses = [t.status for t in facts.tries if t.status is not None]
    home_status = (facts.homepage or {}).get("status")
    if home_status in (401, 403) and statuses and all(s in (401, 403) for s in statuses):
        return "unreachable", "blocked"
    if tries and all(v.startswith("error:") for _, v in tries):
        kinds = sorted({v.split(":", 1)[1] for _, v in tries})
        if kinds == ["not-archived"]:
            return "unreachable", f"not archived near {facts.as_of}: no capture of /open"
        return "unreachable", f"/open could not be fetched ({', '.join(kinds)})"
    # The site's own origin (where its homepage answered) is the one that counts: an
    # unanswered http:// variant of an https-only site proves nothing either way.
    origin = facts.origin or ""
    own = [(t, v) for t, v in tries if not origin or t.url.startswith(origin + "/")]
    left = [t for t, v in own if v == "left-scope"]
    if left:
        return "unreachable", f"left scope: {left[0].final_url}"
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
        return "unreachable", "script-only page"
    described = "; ".join(f"{t.url}: {v}" for t, v in tries)
    if any(_unchecked_verdict(v) for _, v in own) or (
        tries and all(_unchecked_verdict(v) for _, v in tries)
    ):
        return "unreachable", f"/open could not be checked: {described}"
    return "no-open-page", described or "no /open URL tried"


def _no_plan(facts: PlanFacts, dead: list[dict[str, Any]]) -> tuple[str, str]:
    """A real /open page but no plan document. A plan link that could not be fetched
    (timeout, 5xx, 403, off the agency's domains) means the plan could not be checked."""

    def listed(entries: list[dict[str, Any]]) -> str:
        return ", ".join(f"{d['url']} ({d['status'] or d['error']})" for d in entries)

    named_unchecked = [d for d in dead if d["names_plan"] and d["verdict"] == "unchecked"]
    if named_unchecked:
        return "unreachable", f"plan link could not be checked: {listed(named_unchecked)}"
    named_dead = [d for d in dead if d["names_plan"] and d["verdict"] == "dead"]
    if named_dead:
        return "no-plan", f"plan link is dead: {listed(named_dead)}"
    if facts.candidates:
        reason = "candidate links contain none of the plan elements"
        if dead:
            reason += f" (not answered: {listed(dead)})"
        return "no-plan", reason
    return "no-plan", "no Customer Service Plan linked from /open"


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
        "scope": facts.scope,
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
