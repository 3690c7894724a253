"""Open Government page spider: each agency's /open page and its Customer Service Plan.

M-11-24 required each agency to publish a Customer Service Plan on www.AGENCY.gov/open. Per
agency (its primary domain from agencies.csv): take the site's homepage and its answer for a
random path, try the /open URLs, take plan candidates from the first page that looks real and
one link deeper, fetch them (HTML, PDF, Word, RTF, text) and store what was seen: every /open
try with its fingerprint, every document with its format, extracted text (or why it could not
be read) and the dates in it.

What a browser follows is part of a page: a refresh (`<meta http-equiv=refresh>` or the
Refresh header, whatever its delay) is a hop of the redirect chain, and the same-site frames
(`<iframe>`, `<frame>`) of the /open page and of plan pages are fetched as parts of them, at
most MAX_FRAME_LEVELS deep; a frame off the agency's domains is recorded, not fetched.

The spider judges nothing it stores: whether /open is real, which document is the plan and
its status word are decided by `audit/plan_status.py` under the policy in force. The policy's
patterns and the soft-404 comparison are used here only to choose what to fetch next.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from audit.plan_status import OFF_SITE_FRAME
from audit.plan_text import date_mentions
from crawler.items import PlanResult
from crawler.parsing.plan import (
    extract_text,
    find_frames,
    find_plan_candidates,
    open_gov_extras,
)
from crawler.parsing.soft404 import Fingerprint, fingerprint, is_soft_404, similarity
from crawler.parsing.urls import canonical_url
from crawler.spiders.base import Fetch, UnitSpider, UnitState
from crawler.spiders.sites import endpoint_urls, probe_path

MAX_CANDIDATES = 6
MAX_DATES = 200
# (not-archived: in a crawl of web archives, the next name of the site may have a capture)
CONNECTION_KINDS = {"dns", "refused", "tls", "timeout", "other", "not-archived"}
# Frames within frames: a hostile or broken site can nest them for ever.
MAX_FRAME_LEVELS = 2


class OpenPagesSpider(UnitSpider):
    name = "open_pages"
    # A browser follows a refresh whatever its delay; a loop ends at MAX_HOPS hops.
    max_refresh_delay = math.inf

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
        self.max_bytes = int(plans.get("max_document_bytes", 10 * 1024 * 1024))
        self.follow_depth = int(plans.get("follow_depth", 1))
        self.threshold = float(plans.get("soft_404_threshold", 0.9))
        self.keep_evidence = keep_evidence

    def unit_scope(self, state: UnitState) -> set[str]:
        return state.data["scope"]

    async def start(self) -> Any:
        for agency, domain in self.tasks:
            await self.room_for_unit()
            scope = set(self.agency_domains.get(agency, set())) | {domain}
            state = UnitState(key=agency, domain=domain, phase="homepage")
            state.data = {
                "scope": scope,
                "visits": [],
                "homes": endpoint_urls(domain),
                "open_tries": [],
                "docs": [],
                "failed": [],
                "candidates": [],
                "seen": set(),
                "blobs": [],
                "notes": [],
                "frames": [],
            }
            self.units[agency] = state
            yield self._next_home(state)

    # ------------------------------------------------------------------ phases
    def _next_home(self, state: UnitState) -> Any:
        return self.fetch(state, state.data["homes"].pop(0), "home", follow_refresh=True)

    def handle(self, state: UnitState, fetch: Fetch) -> Iterable[Any] | None:
        state.data["visits"].append(
            {**fetch.record(), "latency_ms": fetch.latency_ms, "attempts": fetch.attempts}
        )
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
        if fetch.response is not None:
            data["home_fp"] = fingerprint(fetch.status or 0, fetch.response.body, None)
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
        page = None
        if fetch.response is not None and fetch.ok:
            facts = fetch.page_facts()
            page = fingerprint(
                fetch.status or 0, fetch.response.body, facts.title if facts else None
            )
        looks_real = self._looks_real(state, fetch, page)
        data["open_tries"].append(_try_record(fetch, page, followed=looks_real))
        if looks_real:
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
            # Some agencies put the plan on /open itself: its text is kept like any document.
            self._add_doc(state, fetch, source="open", depth=0, rank=0)
            yield from self._fetch_frames(state, fetch, depth=0, level=1)
            yield from self._fetch_candidates(state, fetch, depth=1)
            return
        remaining = data["open_queue"]
        errors = sum(1 for t in data["open_tries"] if t["error_kind"] is not None)
        if remaining and errors < 2:
            yield self.fetch(state, remaining.pop(0), "open", follow_refresh=True)

    def _looks_real(self, state: UnitState, fetch: Fetch, page: Fingerprint | None) -> bool:
        """Whether to take plan candidates from this /open answer: not an error, not the
        homepage, not the site's answer for any path. Steers the crawl only; the audit
        judges the stored fingerprints itself."""
        if fetch.error_kind is not None or fetch.left_scope or page is None:
            return False
        home: Fetch | None = state.data.get("home")
        final = canonical_url(fetch.final_url or fetch.url)
        if home is not None and home.final_url and final == canonical_url(home.final_url):
            return False
        home_host = urlsplit(home.final_url).hostname if home and home.final_url else None
        if urlsplit(final).path in ("", "/") and urlsplit(final).hostname == home_host:
            return False
        if is_soft_404(page, state.data.get("probe"), self.threshold):
            return False
        home_fp: Fingerprint | None = state.data.get("home_fp")
        return home_fp is None or similarity(page, home_fp) < 0.98

    def _fetch_candidates(self, state: UnitState, page: Fetch, depth: int) -> Iterator[Any]:
        assert page.response is not None
        found = find_plan_candidates(page.response.body, page.final_url or page.url, self.patterns)
        for cand in found[:MAX_CANDIDATES]:
            key = canonical_url(cand.url)
            if key in state.data["seen"]:
                continue
            state.data["seen"].add(key)
            state.data["candidates"].append(
                {
                    "url": cand.url,
                    "text": cand.text,
                    "match": cand.match,
                    "depth": depth,
                    "from": page.final_url or page.url,
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
                follow_refresh=True,
                depth=depth,
                rank=len(state.data["candidates"]),
                link_text=cand.text,
            )

    def _fetch_frames(self, state: UnitState, page: Fetch, depth: int, level: int) -> Iterator[Any]:
        """The page's frames, fetched as parts of it (same depth, same link text) when they
        are on the agency's domains; every frame is recorded with whether it was followed."""
        assert page.response is not None
        where = page.final_url or page.url
        for url in find_frames(page.response.body, where):
            key = canonical_url(url)
            record: dict[str, Any] = {"url": url, "from": where, "level": level}
            state.data["frames"].append(record)
            if key in state.data["seen"]:
                record["followed"], record["why"] = False, "already fetched"
            elif level > MAX_FRAME_LEVELS:
                record["followed"], record["why"] = False, "frames nested too deep"
            elif not self.may_fetch(state, url):
                record["followed"], record["why"] = False, OFF_SITE_FRAME
                state.data["notes"].append(
                    f"frame {url} on {where} is outside the agency's domains: recorded, not fetched"
                )
            else:
                record["followed"] = True
                state.data["seen"].add(key)
                yield self.fetch(
                    state,
                    url,
                    "frame",
                    follow_refresh=True,
                    depth=depth,
                    rank=int(page.meta.get("rank", 0)),
                    link_text=page.meta.get("link_text"),
                    level=level,
                )

    def _add_doc(self, state: UnitState, fetch: Fetch, source: str, depth: int, rank: int) -> str:
        assert fetch.response is not None
        body = fetch.response.body
        extracted = extract_text(body, fetch.content_type, max_bytes=self.max_bytes)
        facts = fetch.page_facts() if extracted.kind == "html" else None
        sha = hashlib.sha256(body).hexdigest()
        state.data["docs"].append(
            {
                "url": fetch.url,
                "final_url": fetch.final_url,
                "fetched_at": fetch.fetched_at,
                "status": fetch.status,
                "content_type": fetch.content_type,
                "size": len(body),
                "sha256": sha,
                "text_kind": extracted.kind,
                "format": extracted.format,
                "text_error": extracted.error,
                "text_z": zlib.compress(extracted.text.encode("utf-8", "surrogatepass"), 6),
                "dates": [m.as_json() for m in date_mentions(extracted.text)[:MAX_DATES]],
                "source": source,
                "depth": depth,
                "rank": rank,
                "link_text": fetch.meta.get("link_text"),
                "title": facts.title if facts else None,
            }
        )
        if self.keep_evidence and source != "open":
            state.data["blobs"].append(_blob(fetch))
        return extracted.kind

    def _on_doc(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        yield from self._document(state, fetch, "link")

    def _on_frame(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        yield from self._document(state, fetch, "frame")

    def _document(self, state: UnitState, fetch: Fetch, source: str) -> Iterator[Any]:
        """A candidate document (source "link") or a frame of a page ("frame", at its page's
        depth): stored; an HTML one's frames and links are followed in turn."""
        depth = int(fetch.meta.get("depth", 1))
        if not fetch.ok or fetch.response is None:
            self._failed(state, fetch, frame=source == "frame")
            return
        rank = int(fetch.meta.get("rank", 99))
        if self._add_doc(state, fetch, source=source, depth=depth, rank=rank) == "html":
            level = int(fetch.meta.get("level", 0)) + 1
            yield from self._fetch_frames(state, fetch, depth=depth, level=level)
            if depth < 1 + self.follow_depth:
                yield from self._fetch_candidates(state, fetch, depth=depth + 1)

    def _failed(self, state: UnitState, fetch: Fetch, frame: bool = False) -> None:
        state.data["failed"].append(
            {
                "url": fetch.url,
                "status": fetch.status,
                "error_kind": fetch.error_kind,
                "final_url": fetch.final_url,
                "left_scope": fetch.left_scope,
                "link_text": fetch.meta.get("link_text"),
                "attempts": fetch.attempts,
                **({"frame": True} if frame else {}),
            }
        )

    def idle(self, state: UnitState) -> Iterator[Any]:
        data = state.data
        if state.phase == "homepage":
            state.phase = "open"
            if "home" not in data:
                state.finished = True
                yield self._result(state)
                return
            data["open_queue"] = self._open_urls(state)
            yield self.fetch(state, data["open_queue"].pop(0), "open", follow_refresh=True)
            return
        state.finished = True
        yield self._result(state)

    # ------------------------------------------------------------------ result
    def _result(self, state: UnitState) -> PlanResult:
        data = state.data
        home: Fetch | None = data.get("home")
        probe: Fingerprint | None = data.get("probe")
        home_fp: Fingerprint | None = data.get("home_fp")
        probe_fetch: Fetch | None = data.get("probe_fetch")
        observation = {
            "domain": state.domain,
            "homepage_tries": [_home_record(h) for h in data.get("home_results", [])],
            "homepage": _home_record(home) if home is not None else None,
            "origin": data.get("origin"),
            "homepage_fingerprint": home_fp.as_json() if home_fp else {},
            "probe": {**probe.as_json(), "url": probe_fetch.url if probe_fetch else None}
            if probe
            else {},
            "candidates": data["candidates"],
            "failed_links": data["failed"],
            "extras": {**data.get("extras", {}), "frames": data["frames"]},
            "visits": data["visits"],
            "notes": data["notes"],
            "scope": sorted(data["scope"])[:50],
        }
        tries = [{**t, "seq": i} for i, t in enumerate(data["open_tries"])]
        blobs: list[dict[str, Any]] = []
        for blob in data["blobs"]:
            if not any(b["url"] == blob["url"] and b["sha256"] == blob["sha256"] for b in blobs):
                blobs.append(blob)
        result = PlanResult(self.run_id, state.key, observation, tries, list(data["docs"]), blobs)
        state.data = {}
        return result

    def failed(self, state: UnitState, error: str) -> Iterator[Any]:
        state.data = {}
        yield PlanResult(self.run_id, state.key, {}, state="failed", error=error)


def _home_record(fetch: Fetch) -> dict[str, Any]:
    return {
        "url": fetch.url,
        "status": fetch.status,
        "error_kind": fetch.error_kind,
        "final_url": fetch.final_url,
        "left_scope": fetch.left_scope,
    }


def _try_record(fetch: Fetch, page: Fingerprint | None, followed: bool) -> dict[str, Any]:
    body = fetch.response.body if fetch.response is not None else None
    return {
        "url": fetch.url,
        "fetched_at": fetch.fetched_at,
        "status": fetch.status,
        "error_kind": fetch.error_kind,
        "error": fetch.error,
        "final_url": fetch.final_url,
        "left_scope": fetch.left_scope,
        "redirect_chain": fetch.chain,
        "fingerprint": page.as_json() if page else {},
        "content_type": fetch.content_type,
        "sha256": hashlib.sha256(body).hexdigest() if body is not None else None,
        "followed": followed,
    }


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
