"""Open Government page spider: each agency's /open page and its Customer Service Plan.

M-11-24 required each agency to publish a Customer Service Plan on www.AGENCY.gov/open. Per
agency (its primary domain from agencies.csv): take the site's homepage and its answer for a
random path, find the real /open page, find plan candidates on it and one link deeper, fetch
them (HTML or PDF) and check their text against the plan elements of policy.toml.

The status words are the public interface (`plan_check.status`): published, incomplete,
no-plan, no-open-page, unreachable. "Couldn't check" is never reported as "absent".
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from crawler.items import PlanResult
from crawler.parsing.plan import (
    check_elements,
    extract_text,
    find_plan_candidates,
    find_stated_date,
    open_gov_extras,
)
from crawler.parsing.soft404 import Fingerprint, fingerprint, is_soft_404, similarity
from crawler.parsing.urls import canonical_url
from crawler.spiders.base import Fetch, UnitSpider, UnitState
from crawler.spiders.sites import endpoint_urls, probe_path

MAX_CANDIDATES = 6
CONNECTION_KINDS = {"dns", "refused", "tls", "timeout", "other"}
# HTTP answers that say nothing about whether a page exists: access refused, rate limited,
# server trouble. A page that answered one of these could not be checked.
UNCHECKED_STATUSES = {401, 403, 407, 408, 429}
# A link (text, title attribute, URL) or a page title that names the Customer Service Plan.
PLAN_NAME = re.compile(r"customer[\s_+.-]*service[\s_+.-]*plan", re.IGNORECASE)


class OpenPagesSpider(UnitSpider):
    name = "open_pages"

    def __init__(
        self,
        run_id: int,
        tasks: list[tuple[str, str]],
        agency_domains: dict[str, set[str]],
        plans: dict[str, Any],
        keep_evidence: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.tasks = tasks
        self.agency_domains = agency_domains
        self.open_paths: list[str] = list(plans.get("open_paths", ["/open", "/open/"]))
        self.patterns: list[str] = list(plans.get("candidate_patterns", []))
        self.elements: dict[str, list[str]] = dict(plans.get("elements", {}))
        self.required: list[str] = list(plans.get("required_elements", list(self.elements)))
        self.max_bytes = int(plans.get("max_document_bytes", 10 * 1024 * 1024))
        self.follow_depth = int(plans.get("follow_depth", 1))
        self.threshold = float(plans.get("soft_404_threshold", 0.9))
        self.inline_min_elements = int(plans.get("inline_min_elements", 3))
        self.keep_evidence = keep_evidence

    def unit_scope(self, state: UnitState) -> set[str]:
        return state.data["scope"]

    async def start(self) -> Any:
        for agency, domain in self.tasks:
            scope = set(self.agency_domains.get(agency, set())) | {domain}
            state = UnitState(key=agency, domain=domain, phase="homepage")
            state.data = {
                "scope": scope,
                "visits": [],
                "homes": endpoint_urls(domain),
                "open_tries": [],
                "docs": {},
                "dead": [],
                "seen": set(),
                "blobs": [],
                "notes": [],
            }
            self.units[agency] = state
            yield self._next_home(state)

    # ------------------------------------------------------------------ phases
    def _next_home(self, state: UnitState) -> Any:
        return self.fetch(state, state.data["homes"].pop(0), "home", follow_refresh=True)

    def handle(self, state: UnitState, fetch: Fetch) -> Iterable[Any] | None:
        state.data["visits"].append({**fetch.record(), "latency_ms": fetch.latency_ms})
        return getattr(self, f"_on_{fetch.purpose}")(state, fetch)

    def _on_home(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        data = state.data
        data.setdefault("home_results", []).append(fetch)
        # A timeout means the host is there but slow: asking its other names costs a timeout
        # each and tells nothing new.
        if fetch.error_kind in CONNECTION_KINDS - {"timeout"} and data["homes"]:
            yield self._next_home(state)
            return
        if fetch.response is None and not fetch.left_scope:
            return
        final = fetch.final_url or fetch.url
        data["home"] = fetch
        parts = urlsplit(final if not fetch.left_scope else fetch.url)
        data["origin"] = f"{parts.scheme}://{parts.netloc}"
        yield self.fetch(
            state,
            data["origin"] + probe_path(state.domain, self.run_id),
            "probe",
            follow_refresh=True,
        )

    def _on_probe(self, state: UnitState, fetch: Fetch) -> None:
        if fetch.response is not None:
            facts = fetch.page_facts()
            state.data["probe"] = fingerprint(
                fetch.status or 0, fetch.response.body, facts.title if facts else None
            )
        state.data["probe_fetch"] = fetch

    def _open_urls(self, state: UnitState) -> list[str]:
        origins = [state.data["origin"]] if "origin" in state.data else []
        origins += [
            f"https://www.{state.domain}",
            f"https://{state.domain}",
            f"http://www.{state.domain}",
            f"http://{state.domain}",
        ]
        urls: list[str] = []
        for origin in origins:
            for path in self.open_paths:
                url = origin + path
                if url not in urls:
                    urls.append(url)
        return urls

    def _on_open(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        data = state.data
        verdict = self._judge_open(state, fetch)
        data["open_tries"].append((fetch, verdict))
        if verdict == "real":
            data["open"] = fetch
            assert fetch.response is not None
            if self.keep_evidence:
                data["blobs"].append(_blob(fetch))
            extras = open_gov_extras(fetch.response.body, fetch.final_url or fetch.url)
            data["extras"] = {
                "open_gov_plan_url": extras.open_gov_plan_url,
                "feedback_url": extras.feedback_url,
            }
            data["seen"].add(canonical_url(fetch.final_url or fetch.url))
            self._consider_open_as_plan(state, fetch)
            yield from self._fetch_candidates(state, fetch, depth=1)
            return
        remaining = data["open_queue"]
        errors = sum(1 for _, v in data["open_tries"] if v.startswith("error:"))
        if remaining and errors < 2:
            yield self.fetch(state, remaining.pop(0), "open")

    def _judge_open(self, state: UnitState, fetch: Fetch) -> str:
        """real | missing (HTTP 4xx/5xx) | soft-404 | homepage | left-scope | error:KIND."""
        if fetch.error_kind is not None:
            return f"error:{fetch.error_kind}"
        if fetch.left_scope:
            return "left-scope"
        if not fetch.ok or fetch.response is None:
            return f"http-{fetch.status}"
        home: Fetch | None = state.data.get("home")
        final = canonical_url(fetch.final_url or fetch.url)
        if home is not None and home.final_url and final == canonical_url(home.final_url):
            return "homepage"
        home_host = urlsplit(home.final_url).hostname if home and home.final_url else None
        if urlsplit(final).path in ("", "/") and urlsplit(final).hostname == home_host:
            return "homepage"
        facts = fetch.page_facts()
        page = fingerprint(fetch.status or 0, fetch.response.body, facts.title if facts else None)
        probe: Fingerprint | None = state.data.get("probe")
        if is_soft_404(page, probe, self.threshold):
            return "soft-404"
        if home is not None and home.response is not None:
            home_fp = fingerprint(home.status or 0, home.response.body, None)
            if similarity(page, home_fp) >= 0.98:
                return "homepage"
        return "real"

    def _fetch_candidates(self, state: UnitState, page: Fetch, depth: int) -> Iterator[Any]:
        assert page.response is not None
        found = find_plan_candidates(page.response.body, page.final_url or page.url, self.patterns)
        state.data.setdefault("candidates", [])
        for cand in found[:MAX_CANDIDATES]:
            key = canonical_url(cand.url)
            if key in state.data["seen"]:
                continue
            state.data["seen"].add(key)
            named = _names_plan(cand.text, unquote(cand.url))
            state.data["candidates"].append(
                {
                    "url": cand.url,
                    "text": cand.text,
                    "match": cand.match,
                    "depth": depth,
                    "from": page.final_url or page.url,
                    "names_plan": named,
                }
            )
            if not self.may_fetch(state, cand.url):
                state.data["notes"].append(
                    f"candidate {cand.url} is outside the agency's domains: recorded, not fetched"
                )
                continue
            yield self.fetch(
                state,
                cand.url,
                "doc",
                depth=depth,
                rank=len(state.data["candidates"]),
                names_plan=named,
            )

    def _consider_open_as_plan(self, state: UnitState, fetch: Fetch) -> None:
        """Some agencies put the plan on /open itself: count the page as the plan document
        when its own text holds enough of the plan's elements (policy: inline_min_elements),
        so a page that merely mentions "customer service" is not taken for a plan."""
        assert fetch.response is not None
        extracted = extract_text(fetch.response.body[: self.max_bytes], fetch.content_type)
        found = check_elements(extracted.text, self.elements) if extracted.text else {}
        if sum(1 for v in found.values() if v) >= self.inline_min_elements:
            self._add_doc(state, fetch, extracted.kind, extracted.error, found, rank=0, named=False)
            state.data["docs"][fetch.url]["stated_date"] = find_stated_date(extracted.text)

    def _add_doc(
        self,
        state: UnitState,
        fetch: Fetch,
        kind: str,
        error: str | None,
        found: dict[str, str | None],
        rank: int,
        named: bool,
    ) -> None:
        assert fetch.response is not None
        state.data["docs"][fetch.url] = {
            "fetch": fetch,
            "rank": rank,
            "named": named,
            "kind": kind,
            "error": error,
            "elements": found,
            "hash": hashlib.sha256(fetch.response.body).hexdigest(),
            "stated_date": None,
            "body": fetch.response.body if self.keep_evidence else None,
        }

    def _on_doc(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        depth = int(fetch.meta.get("depth", 1))
        if not fetch.ok or fetch.response is None:
            state.data["dead"].append(
                {
                    "url": fetch.url,
                    "status": fetch.status,
                    "error": fetch.error_kind,
                    "final_url": fetch.final_url,
                    "names_plan": bool(fetch.meta.get("names_plan")),
                    # dead: the link's target does not exist (404, 410, ...). unchecked: it
                    # could not be fetched (timeout, 5xx, 403, ...) or leads outside the
                    # agency's domains, so nothing is known about it.
                    "verdict": "unchecked" if _unchecked_fetch(fetch) else "dead",
                }
            )
            return
        body = fetch.response.body[: self.max_bytes]
        extracted = extract_text(body, fetch.content_type)
        found = check_elements(extracted.text, self.elements) if extracted.text else {}
        facts = fetch.page_facts() if extracted.kind == "html" else None
        self._add_doc(
            state,
            fetch,
            extracted.kind,
            extracted.error,
            found,
            rank=int(fetch.meta.get("rank", 99)),
            named=bool(fetch.meta.get("names_plan")) or _names_plan(facts.title if facts else None),
        )
        state.data["docs"][fetch.url]["stated_date"] = (
            find_stated_date(extracted.text) if extracted.text else None
        )
        if extracted.kind == "html" and depth < 1 + self.follow_depth:
            yield from self._fetch_candidates(state, fetch, depth=depth + 1)

    def idle(self, state: UnitState) -> Iterator[Any]:
        data = state.data
        if state.phase == "homepage":
            state.phase = "open"
            if "home" not in data:
                state.finished = True
                yield self._result(state)
                return
            data["open_queue"] = self._open_urls(state)
            yield self.fetch(state, data["open_queue"].pop(0), "open")
            return
        state.finished = True
        yield self._result(state)

    # ------------------------------------------------------------------ verdict
    def _verdict(self, state: UnitState) -> dict[str, Any]:
        data = state.data
        homes: list[Fetch] = data.get("home_results", [])
        if "home" not in data:
            kinds = sorted({h.error_kind or "?" for h in homes})
            if kinds == ["robots"]:
                return {
                    "status": "unreachable",
                    "reason": "robots.txt forbids the auditor: could not be checked",
                }
            return {"status": "unreachable", "reason": f"no homepage answered ({', '.join(kinds)})"}
        if "open" not in data:
            return self._no_open_verdict(state)
        docs = [d for d in data["docs"].values() if self._is_plan(d)]
        if not docs:
            return self._no_plan_verdict(state)
        best = max(
            docs, key=lambda d: (sum(1 for n in self.required if d["elements"].get(n)), -d["rank"])
        )
        missing = [n for n in self.required if not best["elements"].get(n)]
        status = "incomplete" if missing else "published"
        reason = (
            f"plan misses {', '.join(missing)}" if missing else "plan has every required element"
        )
        return {"status": status, "reason": reason, "best": best, "missing": missing}

    def _no_open_verdict(self, state: UnitState) -> dict[str, str]:
        """No real /open page: absent (no-open-page) only when the site said so; when the
        site's own /open could not be checked (errors, 401/403/429, 5xx), unreachable."""
        data = state.data
        tries: list[tuple[Fetch, str]] = data["open_tries"]
        statuses = [f.status for f, _ in tries if f.status is not None]
        home: Fetch = data["home"]
        if home.status in (401, 403) and statuses and all(s in (401, 403) for s in statuses):
            return {"status": "unreachable", "reason": "blocked"}
        if tries and all(v.startswith("error:") for _, v in tries):
            kinds = sorted({v.split(":", 1)[1] for _, v in tries})
            return {
                "status": "unreachable",
                "reason": f"/open could not be fetched ({', '.join(kinds)})",
            }
        described = "; ".join(f"{f.url}: {v}" for f, v in tries)
        # The site's own origin (where its homepage answered) is the one that counts: an
        # unanswered http:// variant of an https-only site proves nothing either way.
        origin = data.get("origin", "")
        unchecked = [
            (f, v)
            for f, v in tries
            if _unchecked_verdict(v) and (f.url.startswith(origin + "/") or not origin)
        ]
        if unchecked or (tries and all(_unchecked_verdict(v) for _, v in tries)):
            return {"status": "unreachable", "reason": f"/open could not be checked: {described}"}
        return {"status": "no-open-page", "reason": described or "no /open URL tried"}

    def _is_plan(self, doc: dict[str, Any]) -> bool:
        """A fetched document counts as the plan when it holds enough of the plan's elements
        (inline_min_elements, as for /open itself), or at least one when its link, URL or
        title names a Customer Service Plan. So a "Customer Service" contact page or a hub
        that only mentions EO 13571 is not taken for an (incomplete) plan."""
        count = sum(1 for v in doc["elements"].values() if v)
        return count >= self.inline_min_elements or (count >= 1 and doc["named"])

    def _no_plan_verdict(self, state: UnitState) -> dict[str, str]:
        """A real /open page but no plan document. A plan link that could not be fetched
        (timeout, 5xx, 403, off the agency's domains) means the plan could not be checked."""
        data = state.data
        failed: list[dict[str, Any]] = data["dead"]

        def listed(entries: list[dict[str, Any]]) -> str:
            return ", ".join(f"{d['url']} ({d['status'] or d['error']})" for d in entries)

        named_unchecked = [d for d in failed if d["names_plan"] and d["verdict"] == "unchecked"]
        if named_unchecked:
            return {
                "status": "unreachable",
                "reason": f"plan link could not be checked: {listed(named_unchecked)}",
            }
        named_dead = [d for d in failed if d["names_plan"] and d["verdict"] == "dead"]
        if named_dead:
            return {"status": "no-plan", "reason": f"plan link is dead: {listed(named_dead)}"}
        if data.get("candidates"):
            reason = "candidate links contain none of the plan elements"
            if failed:
                reason += f" (not answered: {listed(failed)})"
            return {"status": "no-plan", "reason": reason}
        return {"status": "no-plan", "reason": "no Customer Service Plan linked from /open"}

    def _result(self, state: UnitState) -> PlanResult:
        data = state.data
        verdict = self._verdict(state)
        best = verdict.get("best")
        open_fetch: Fetch | None = data.get("open")
        probe: Fingerprint | None = data.get("probe")
        blobs = list(data["blobs"])
        if best is not None and best["body"] is not None:
            blob = _blob(best["fetch"])
            # The plan may be /open itself, whose body is kept already.
            if not any(b["url"] == blob["url"] and b["sha256"] == blob["sha256"] for b in blobs):
                blobs.append(blob)
        check = {
            "domain": state.domain,
            "status": verdict["status"],
            "reason": verdict["reason"],
            "open_page_url": (open_fetch.final_url or open_fetch.url) if open_fetch else None,
            "plan_url": best["fetch"].url if best else None,
            "plan_content_type": best["fetch"].content_type if best else None,
            "plan_hash": best["hash"] if best else None,
            "stated_date": best["stated_date"] if best else None,
            "elements": dict(best["elements"]) if best else {},
            "extras": {
                **data.get("extras", {}),
                "candidates": data.get("candidates", []),
                "missing": verdict.get("missing", []),
            },
            "evidence": {
                "visits": data["visits"],
                "homepage_url": (data["home"].final_url if "home" in data else None),
                "soft_404": (
                    {
                        "status": probe.status,
                        "title": probe.title,
                        "content_hash": probe.content_hash,
                    }
                    if probe
                    else None
                ),
                "open_redirect_chain": open_fetch.chain if open_fetch else [],
                "open_tries": [
                    {"url": f.url, "verdict": v, "status": f.status, "final_url": f.final_url}
                    for f, v in data["open_tries"]
                ],
                "dead_links": data["dead"],
                "notes": data["notes"],
                "plan_kind": best["kind"] if best else None,
                "scope": sorted(data["scope"])[:50],
            },
        }
        result = PlanResult(self.run_id, state.key, check, blobs)
        state.data = {}
        return result

    def failed(self, state: UnitState, error: str) -> Iterator[Any]:
        state.data = {}
        yield PlanResult(self.run_id, state.key, {}, state="failed", error=error)


def _blob(fetch: Fetch) -> dict[str, Any]:
    assert fetch.response is not None
    body = fetch.response.body
    return {
        "url": fetch.final_url or fetch.url,
        "content_type": fetch.content_type,
        "sha256": hashlib.sha256(body).hexdigest(),
        "body": zlib.compress(body, 6),
        "fetched_at": fetch.fetched_at,
    }


def _names_plan(*texts: str | None) -> bool:
    return any(t and PLAN_NAME.search(t) for t in texts)


def _unchecked_verdict(verdict: str) -> bool:
    """An /open verdict that says nothing about whether the page exists."""
    if verdict.startswith("error:"):
        return True
    if verdict.startswith("http-"):
        code = verdict[5:]
        return not code.isdigit() or int(code) in UNCHECKED_STATUSES or int(code) >= 500
    return False


def _unchecked_fetch(fetch: Fetch) -> bool:
    """A failed document fetch that says nothing about whether the document exists."""
    if fetch.error_kind is not None or fetch.left_scope or fetch.status is None:
        return True
    return fetch.status in UNCHECKED_STATUSES or fetch.status >= 500
