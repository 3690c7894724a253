"""What every govaudit spider shares: units of work, hand-followed redirects, failures.

A spider works on units (a domain, an agency). Each request belongs to one unit; a unit
counts its requests in flight and, when none is left, moves to its next phase or emits its
single result item. Redirects (HTTP 3xx and, where asked, `<meta http-equiv=refresh>`) are
followed here rather than by Scrapy so that every hop is recorded and no hop leaves the
unit's scope. Every request has an errback; a request Scrapy drops without calling either
(a spider or downloader middleware filtering it) is found when the engine goes idle with
units still waiting, and ends in an observation like any failure. An exception in a
callback marks the unit failed with the error: it is never stored as a finished unit with
facts missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from audit.domain_names import registrable_domain
from audit.models import utcnow
from crawler.fetch_errors import failure_kind, proxy_failure
from crawler.middlewares import OriginRobotsTxtMiddleware
from crawler.parsing.homepage import PageFacts, parse_page, parse_refresh
from crawler.parsing.urls import fetch_refusal, host_of
from crawler.tls import certificate_check

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_HOPS = 10
MAX_REFRESH_DELAY = 10.0
HTML_TYPES = ("text/html", "application/xhtml")


@dataclass
class UnitState:
    key: str
    domain: str
    pending: int = 0
    phase: str = "start"
    finished: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    # ticket -> the request made for it, while no callback or errback has seen it
    tickets: dict[int, Request] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # exceptions of our own callbacks


DROPPED = "dropped by the crawler without an answer"
MAX_IDLE_ROUNDS = 5


@dataclass
class Fetch:
    """One logical fetch: the URL asked for, every hop, and how it ended."""

    url: str
    purpose: str
    final_url: str | None
    status: int | None
    response: Response | None
    error_kind: str | None
    error: str | None
    chain: list[dict[str, Any]]
    fetched_at: dt.datetime
    latency_ms: float | None
    meta: dict[str, Any]
    left_scope: bool = False
    facts: PageFacts | None = None
    # certificate check of the fetch's first answer when https (crawler/tls.py)
    tls: dict[str, Any] | None = None
    # requests made for the last hop: 1, or more when the answer was retried (5xx, 429...)
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str | None:
        if self.response is None:
            return None
        raw = self.response.headers.get(b"Content-Type")
        return raw.decode("latin-1") if raw else None

    @property
    def is_html(self) -> bool:
        ctype = (self.content_type or "").lower()
        return any(t in ctype for t in HTML_TYPES) or (
            not ctype
            and self.response is not None
            and b"<html" in self.response.body[:2048].lower()
        )

    def header(self, name: str) -> str | None:
        if self.response is None:
            return None
        raw = self.response.headers.get(name.encode())
        return raw.decode("latin-1") if raw else None

    def page_facts(self) -> PageFacts | None:
        if self.facts is None and self.response is not None and self.is_html:
            encoding = self.response.encoding if isinstance(self.response, TextResponse) else None
            self.facts = parse_page(self.response.body, self.final_url or self.url, encoding)
        return self.facts

    def record(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "error": self.error_kind and f"{self.error_kind}: {self.error}",
            "fetched_at": self.fetched_at.isoformat(timespec="seconds"),
            "chain": self.chain,
        }


class UnitSpider(scrapy.Spider):
    """Base for spiders that work unit by unit. Subclasses implement `handle` and `idle`."""

    # A refresh (meta tag or Refresh header) is followed when its delay is at most this.
    max_refresh_delay: float = MAX_REFRESH_DELAY

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units: dict[str, UnitState] = {}
        self._tickets = itertools.count(1)
        self._idle_rounds = 0
        self._room: asyncio.Event | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> UnitSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_engine_idle, signal=signals.spider_idle)
        return spider

    # ------------------------------------------------------------------ silent drops
    def _on_engine_idle(self) -> None:
        """Nothing is queued or downloading: a unit still waiting lost its requests to a
        filter that called no errback. Their observations are made in a callback (only a
        callback can yield items), reached by an internal `data:` request."""
        if not any(not s.finished and s.tickets for s in self.units.values()):
            return
        self._idle_rounds += 1
        if self._idle_rounds > MAX_IDLE_ROUNDS:
            # Even the internal request vanished: close; the units stay pending for --resume.
            logger.error("govaudit: could not release dropped requests; closing")
            return
        self._ask_release()
        raise DontCloseSpider

    def _ask_release(self) -> None:
        assert self.crawler.engine is not None
        self.crawler.engine.crawl(
            Request(
                "data:,",
                callback=self._release_dropped,
                errback=self._release_dropped,
                dont_filter=True,
                meta={"govaudit_internal": True, "dont_obey_robotstxt": True},
            )
        )

    # ------------------------------------------------------------------ open units
    async def room_for_unit(self) -> None:
        """Wait until fewer than GOVAUDIT_MAX_OPEN_UNITS units are open.

        Scrapy consumes `start()` as fast as it can, whether or not the downloader has room
        (scrapy/core/engine.py, `_start_request_processing`), so a spider that opened a unit
        per start item had the whole task list open at once: 16,539 domains' states and
        queued requests, and no domain finished before all had started. Opening units as
        others finish keeps memory flat in the number of domains, and each domain's pages
        are fetched together."""
        limit = self._open_units_limit()
        while len(self.units) >= limit and self._unfinished_units() >= limit:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            try:
                await asyncio.wait_for(self._room.wait(), 1.0)
            except TimeoutError:
                # Nothing downloads or waits, yet units stay open: their requests were
                # dropped silently. The engine is not idle while start() waits, so the
                # idle signal that releases them never comes: ask for it here.
                if self._nothing_in_flight():
                    self._idle_rounds += 1
                    if self._idle_rounds > MAX_IDLE_ROUNDS:
                        # Even the internal request vanished: open the next unit anyway
                        # rather than wait for ever; the stuck units stay pending for --resume.
                        logger.error("govaudit: could not release dropped requests")
                        return
                    self._ask_release()

    def _open_units_limit(self) -> int:
        settings = getattr(getattr(self, "crawler", None), "settings", None)
        if settings is None:
            return 256
        default = 4 * settings.getint("CONCURRENT_REQUESTS", 64)
        return max(1, settings.getint("GOVAUDIT_MAX_OPEN_UNITS", default))

    def _unfinished_units(self) -> int:
        return sum(1 for s in self.units.values() if not s.finished)

    def _nothing_in_flight(self) -> bool:
        engine = self.crawler.engine
        if engine is None or engine.downloader.active:
            return False
        scheduler = getattr(engine, "scheduler", None)  # public from Scrapy 2.19
        if scheduler is not None:
            return not scheduler.has_pending_requests()
        # Before 2.19 the scheduler's own stats (documented keys) say the same.
        stats = self.crawler.stats
        enqueued = stats.get_value("scheduler/enqueued", 0)
        return bool(enqueued <= stats.get_value("scheduler/dequeued", 0))

    def _release_dropped(self, _: Any) -> Iterator[Any]:
        self._idle_rounds = 0  # the internal request got through: later drops get rounds too
        for state in list(self.units.values()):
            if state.finished:
                continue
            for ticket, request in list(state.tickets.items()):
                del state.tickets[ticket]
                logger.warning("govaudit: %s: %s", DROPPED, request.url[:200])
                try:
                    yield from self._deliver(
                        state, request, None, request.url, "refused-url", DROPPED, None
                    )
                except Exception as exc:
                    self._note_error(state, exc, request.url)
                yield from self._settle(state)

    def _note_error(self, state: UnitState, exc: BaseException, url: str) -> None:
        logger.error("govaudit: error handling %s", url, exc_info=exc)
        state.errors.append(f"{type(exc).__name__}: {exc} (handling {url[:300]})")

    # ------------------------------------------------------------------ scope
    def unit_scope(self, state: UnitState) -> set[str]:
        """Registrable domains the unit may fetch from (its own, by default)."""
        return {state.domain}

    def in_scope(self, host: str) -> bool:
        """Used by ScopeGuardMiddleware for requests the spider did not make itself."""
        return registrable_domain(host) in self.scope_domains

    @property
    def scope_domains(self) -> set[str]:
        if not hasattr(self, "_scope_cache"):
            self._scope_cache: set[str] = set()
        return self._scope_cache

    def may_fetch(self, state: UnitState, url: str) -> bool:
        if fetch_refusal(url) is not None:
            return False
        return registrable_domain(host_of(url)) in self.unit_scope(state)

    # ------------------------------------------------------------------ requests
    def fetch(
        self,
        state: UnitState,
        url: str,
        purpose: str,
        *,
        follow_refresh: bool = False,
        priority: int = 0,
        obey_robots: bool = True,
        **meta: Any,
    ) -> Request:
        for reg in self.unit_scope(state):
            self.scope_domains.add(reg)
        ticket = next(self._tickets)
        request = Request(
            url,
            callback=self._on_response,
            errback=self._on_error,
            dont_filter=True,
            priority=priority,
            meta={
                "dont_redirect": True,
                "handle_httpstatus_all": True,
                "dont_obey_robotstxt": not obey_robots,
                "unit": state.key,
                "purpose": purpose,
                "origin": meta.pop("origin", url),
                "chain": meta.pop("chain", []),
                "follow_refresh": follow_refresh,
                "ticket": ticket,
                "extra": meta,
            },
        )
        state.pending += 1
        state.tickets[ticket] = request
        return request

    def _take_ticket(self, state: UnitState, request: Request) -> bool:
        """True the first time an answer for this request arrives (retries carry the same
        ticket; a request already given up as dropped is ignored)."""
        return state.tickets.pop(request.meta.get("ticket", -1), None) is not None

    def _hop(self, request: Request, url: str) -> Request:
        state = self.units[request.meta["unit"]]
        meta = request.meta
        hop = self.fetch(
            state,
            url,
            meta["purpose"],
            follow_refresh=meta["follow_refresh"],
            priority=request.priority,
            obey_robots=not meta.get("dont_obey_robotstxt"),
            origin=meta["origin"],
            chain=meta["chain"],
            **meta["extra"],
        )
        hop.meta["first_tls"] = meta.get("first_tls")
        return hop

    def _on_response(self, response: Response) -> Iterator[Any]:
        request = response.request
        assert request is not None
        state = self.units[request.meta["unit"]]
        if not self._take_ticket(state, request):
            return
        try:
            yield from self._dispatch_response(state, request, response)
        except Exception as exc:
            self._note_error(state, exc, response.url)
        yield from self._settle(state)

    def _dispatch_response(
        self, state: UnitState, request: Request, response: Response
    ) -> Iterator[Any]:
        meta = request.meta
        chain: list[dict[str, Any]] = meta["chain"]
        latency = meta.get("download_latency")
        kind = proxy_failure(response)
        if kind is not None:
            token = response.headers.get(b"Proxy-Status", b"").decode("latin-1")
            yield from self._deliver(
                state, request, None, None, kind, f"proxy: {token or response.status}", latency
            )
            return
        location = response.headers.get(b"Location")
        next_url: str | None = None
        hop_status: int | str = response.status
        if response.status in REDIRECT_STATUSES and location:
            next_url = urljoin(response.url, location.decode("latin-1").strip())
        facts: PageFacts | None = None
        if next_url is None and meta["follow_refresh"] and 200 <= response.status < 300:
            probe = Fetch(
                response.url,
                meta["purpose"],
                response.url,
                response.status,
                response,
                None,
                None,
                chain,
                utcnow(),
                None,
                meta["extra"],
            )
            facts = probe.page_facts()
            header = response.headers.get(b"Refresh")
            refresh, kind = (facts.meta_refresh if facts else None), "meta-refresh"
            if refresh is None and header:
                refresh = parse_refresh(header.decode("latin-1"), response.url)
                kind = "refresh-header"
            if refresh and refresh[0] <= self.max_refresh_delay:
                target = refresh[1]
                if target.split("#")[0] != response.url.split("#")[0]:
                    next_url, hop_status = target, kind
        if next_url is not None:
            hop: dict[str, Any] = {"url": response.url, "status": hop_status, "location": next_url}
            hsts = response.headers.get(b"Strict-Transport-Security")
            if hsts:
                hop["hsts"] = hsts.decode("latin-1")
            # The certificate of the fetch's first answer (kept out of the chain, which is
            # evidence in its own right).
            meta.setdefault("first_tls", certificate_check(response))
            chain.append(hop)
            if len(chain) > MAX_HOPS:
                yield from self._deliver(
                    state, request, response, response.url, "other", "too many redirects", latency
                )
            elif self.may_fetch(state, next_url):
                yield self._hop(request, next_url)
            else:
                # Recorded, not fetched: another domain, or a URL the crawler refuses.
                yield from self._deliver(
                    state,
                    request,
                    None,
                    next_url,
                    None,
                    None,
                    latency,
                    left_scope=True,
                    status=response.status,
                )
            return
        yield from self._deliver(
            state, request, response, response.url, None, None, latency, facts=facts
        )

    def _on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        state = self.units[request.meta["unit"]]
        if not self._take_ticket(state, request):
            return
        kind, message = failure_kind(failure.value)
        try:
            yield from self._deliver(state, request, None, request.url, kind, message, None)
        except Exception as exc:
            self._note_error(state, exc, request.url)
        yield from self._settle(state)

    def _deliver(
        self,
        state: UnitState,
        request: Request,
        response: Response | None,
        final_url: str | None,
        error_kind: str | None,
        error: str | None,
        latency: float | None,
        *,
        left_scope: bool = False,
        status: int | None = None,
        facts: PageFacts | None = None,
    ) -> Iterator[Any]:
        meta = request.meta
        fetch = Fetch(
            url=meta["origin"],
            purpose=meta["purpose"],
            final_url=final_url,
            status=response.status if response is not None else status,
            response=response,
            error_kind=error_kind,
            error=error,
            chain=list(meta["chain"]),
            fetched_at=utcnow(),
            latency_ms=round(latency * 1000, 1) if latency is not None else None,
            meta=meta["extra"],
            left_scope=left_scope,
            facts=facts,
            attempts=int(meta.get("retry_times", 0)) + 1,
            tls=meta["first_tls"]
            if "first_tls" in meta
            else certificate_check(response)
            if response is not None
            else None,
        )
        result = self.handle(state, fetch)
        if result is not None:
            yield from result

    def _settle(self, state: UnitState) -> Iterator[Any]:
        state.pending -= 1
        if state.pending == 0 and not state.finished:
            if state.errors:
                # Facts are missing where the callback failed: "couldn't check", never
                # "absent". The unit is failed with the error, not stored as done.
                state.finished = True
                yield from self.failed(state, state.errors[0])
                return
            try:
                yield from self.idle(state)
            except Exception as exc:
                logger.exception("govaudit: error finishing %s", state.key)
                state.finished = True
                yield from self.failed(state, f"{type(exc).__name__}: {exc}")
        if state.finished and state.pending == 0:
            self.forget(state)

    def forget(self, state: UnitState) -> None:
        """Drop what was kept for a finished unit, so that memory stays flat in the number
        of units: its state, and Scrapy's parsed robots.txt of its hosts (kept per host for
        the whole crawl otherwise). No request of the unit is left in flight."""
        self.units.pop(state.key, None)
        if self._room is not None:
            self._room.set()
        robots = self._robots_middleware()
        if robots is not None:
            robots.forget_hosts(self.unit_hosts(state))

    def unit_hosts(self, state: UnitState) -> Iterable[str]:
        """Hosts whose robots.txt only this unit uses."""
        return ()

    def _robots_middleware(self) -> Any:
        if not hasattr(self, "_robots_mw"):
            engine = getattr(getattr(self, "crawler", None), "engine", None)
            middlewares = engine.downloader.middleware.middlewares if engine else ()
            self._robots_mw = next(
                (m for m in middlewares if isinstance(m, OriginRobotsTxtMiddleware)), None
            )
        return self._robots_mw

    # ------------------------------------------------------------------ subclass API
    def handle(self, state: UnitState, fetch: Fetch) -> Iterable[Any] | None:
        raise NotImplementedError

    def idle(self, state: UnitState) -> Iterator[Any]:
        """Called when the unit has nothing in flight: start the next phase or finish."""
        raise NotImplementedError

    def failed(self, state: UnitState, error: str) -> Iterator[Any]:
        """The unit's item marking it failed with `error`, and no observations."""
        raise NotImplementedError
