"""Downloader middlewares: scope guard, per-domain download slots, Retry-After."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from audit.domain_names import registrable_domain
from crawler.fetch_errors import FORBIDDEN_ADDRESS, failure_kind, proxy_failure
from crawler.parsing.urls import fetch_refusal, host_of
from crawler.parsing.wellknown import MAX_ROBOTS_BYTES
from crawler.resolver import ForbiddenAddressError

logger = logging.getLogger(__name__)


class ScopeGuardMiddleware:
    """Refuse, before anything connects, every request outside the spider's scope.

    Spiders only yield in-scope requests; this catches the ones made elsewhere (redirects
    followed by Scrapy, the robots.txt middleware's own requests) and is the last line
    against IP literals, localhost and non-http(s) schemes. The spider's `allowed_hosts(host)`
    decides scope.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # Scrapy's UrlLengthMiddleware drops such requests without calling the errback,
        # leaving their unit waiting forever; refused here, they end in an observation.
        self.max_url_length = crawler.settings.getint("URLLENGTH_LIMIT", 2083)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("govaudit_internal"):
            return  # the spider's own `data:` request, see UnitSpider._on_engine_idle
        if self.max_url_length and len(request.url) > self.max_url_length:
            self.crawler.stats.inc_value("govaudit/refused/too long")
            raise IgnoreRequest("too long")
        reason = fetch_refusal(request.url)
        spider = self.crawler.spider
        if (
            reason is None
            and spider is not None
            and hasattr(spider, "in_scope")
            and not spider.in_scope(host_of(request.url))
        ):
            reason = "out of scope"
        if reason is not None:
            self.crawler.stats.inc_value(f"govaudit/refused/{reason}")
            raise IgnoreRequest(f"refused {request.url}: {reason}")


class ResolvedAddressGuardMiddleware:
    """Record a name that resolves to a private address as a refusal, before connecting.

    The resolver (crawler/resolver.py) already fails such lookups, but Twisted reports every
    failed lookup as "no results"; resolving here first (the answer is cached for the
    connection) records why: `refused-url: resolves to a private address`. Requests through a
    proxy are left alone: the proxy resolves the name, not us.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResolvedAddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("proxy"):
            return
        host = host_of(request.url)
        if not host:
            return
        from twisted.internet import reactor

        try:
            await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
        except ForbiddenAddressError:
            self.crawler.stats.inc_value("govaudit/refused/private-address")
            raise IgnoreRequest(FORBIDDEN_ADDRESS) from None
        except Exception:
            return  # any other lookup failure is the download's to report, with its kind


class TooLargeDownload(StopDownload):
    """The body passed DOWNLOAD_MAXSIZE (raised from the bytes_received signal)."""


class DownloadSizeBound:
    """Stop a download the moment its body passes DOWNLOAD_MAXSIZE, saying why.

    Scrapy stops such a download too, but a body without Content-Length ends in a bare
    CancelledError that does not say what happened; this stops it one chunk earlier with
    an error that does, so it is recorded as `too-large`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.received: dict[int, int] = {}
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(self.request_done, signal=signals.request_left_downloader)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadSizeBound:
        return cls(crawler)

    def bytes_received(self, data: bytes, request: Request, spider: Spider | None = None) -> None:
        total = self.received.get(id(request), 0) + len(data)
        self.received[id(request)] = total
        if self.maxsize and total >= self.maxsize:
            raise TooLargeDownload(fail=True)

    def request_done(self, request: Request, spider: Spider | None = None) -> None:
        self.received.pop(id(request), None)


class BoundedProtegoRobotParser(ProtegoRobotParser):
    """Protego on the first MAX_ROBOTS_BYTES of robots.txt only (RFC 9309 section 2.5 lets
    crawlers stop at 500 KiB): parsing a 5 MB file took seconds of the crawl's only thread."""

    def __init__(self, robotstxt_body: bytes, spider: Spider | None) -> None:
        super().__init__(robotstxt_body[:MAX_ROBOTS_BYTES], spider)


class OriginRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with one robots.txt per origin, as RFC 9309 says.

    Scrapy keys robots.txt by host alone, so when https://www.D/robots.txt cannot be fetched
    (an http-only site) every http://www.D/ URL was allowed without ever reading
    http://www.D/robots.txt. Here scheme and host (and port) make the key.

    An origin whose robots.txt ends in a network error (no such name, connection refused,
    timeout) is unreachable: RFC 9309 (2.3.1.4) says to fetch nothing from it, and a second
    try would cost the whole timeout again for the same answer. Its requests end at once
    with that error, recorded under its kind (`timeout`, `refused`, `dns`).

    Only `robot_parser`, the public step that finds a request's parser, is replaced (with
    its own cache, `parsers`); Scrapy's `process_request` still decides, counts and refuses.
    Fetching, parsing, the stats and the `robots_parsed` signal are as in Scrapy 2.19.
    (No Scrapy issue asks for robots.txt per origin yet.)
    """

    UNREACHABLE_KINDS = ("dns", "refused", "timeout")

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.parser_class = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))
        # origin -> its parser, None (no usable robots.txt: allow all), or the Deferred of
        # a robots.txt still being fetched
        self.parsers: dict[str, Any] = {}
        self.unreachable: dict[str, Exception] = {}

    async def robot_parser(self, request: Request) -> Any:
        url = urlparse_cached(request)
        origin = f"{url.scheme}://{url.netloc}"
        if origin not in self.parsers:
            pending: Deferred[Any] = Deferred()
            self.parsers[origin] = pending
            found = None
            try:
                found = await self._fetch(origin, request)
            finally:  # even when cancelled: the requests waiting for it must go on
                self.parsers[origin] = found
                pending.callback(found)
        parser = self.parsers[origin]
        if isinstance(parser, Deferred):
            parser = await maybe_deferred_to_future(parser)
        if origin in self.unreachable:
            raise self.unreachable[origin]
        return parser

    async def _fetch(self, origin: str, request: Request) -> Any:
        """The origin's parsed robots.txt, or None (allow all) when it could not be read."""
        stats = self.crawler.stats
        robots_request = Request(
            f"{origin}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            # Whose fetch it is, for the WARC index (not "unit": no spider callback).
            meta={"dont_obey_robotstxt": True, "for_unit": request.meta.get("unit")},
            callback=NO_CALLBACK,
        )
        parser = None
        try:
            response = await self.crawler.engine.download_async(robots_request)
            stats.inc_value("robotstxt/response_count")
            stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            parser = build_from_crawler(self.parser_class, self.crawler, response.body)
            await self.crawler.signals.send_catch_log_async(
                signal=signals.robots_parsed, robotparser=parser, request=request
            )
        except Exception as exc:
            if not isinstance(exc, IgnoreRequest):
                stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            if failure_kind(exc)[0] in self.UNREACHABLE_KINDS:
                self.unreachable[origin] = exc
        stats.inc_value("robotstxt/request_count")
        return parser

    def forget_hosts(self, hosts: Iterable[str]) -> None:
        """Drop what is kept for the origins of hosts no unit will ask about again; a
        robots.txt still being fetched is left to the request waiting for it."""
        for host in hosts:
            for origin in (f"https://{host}", f"http://{host}"):
                if not isinstance(self.parsers.get(origin), Deferred):
                    self.parsers.pop(origin, None)
                    self.unreachable.pop(origin, None)


class DomainSlotMiddleware:
    """Put every request in the download slot of its registrable domain.

    One slot per registrable domain makes the per-host limit hold whatever the path:
    `www.D` and `D` share it, and so do requests Scrapy made itself (redirects keep the
    original request's slot; the robots.txt middleware's requests have none).

    With a per-registered-domain limit (GOVAUDIT_CONCURRENT_REQUESTS_PER_REGISTERED_DOMAIN
    > 0, the website crawl) each host has its own slot and crawler/domain_limit.py caps the
    domain as a whole.
    """

    def __init__(self, per_host_slots: bool = False) -> None:
        self.per_host_slots = per_host_slots

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DomainSlotMiddleware:
        from crawler.domain_limit import SETTING

        return cls(crawler.settings.getint(SETTING, 0) > 0)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = host_of(request.url)
        if self.per_host_slots:
            request.meta["download_slot"] = host
            return
        request.meta["download_slot"] = registrable_domain(host) or host


class RetryAfterMiddleware(RetryMiddleware):
    """Retry 429/503 with backoff, waiting what the server's Retry-After asks (capped)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("GOVAUDIT_MAX_RETRY_AFTER", 30.0)
        self.base = settings.getfloat("GOVAUDIT_RETRY_BACKOFF", 1.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = super().from_crawler(crawler)
        crawler.signals.connect(middleware._on_downloaded, signal=signals.response_downloaded)
        return middleware

    def _on_downloaded(
        self, response: Response, request: Request, spider: Spider | None = None
    ) -> None:
        """Hold the host as soon as the 429/503 arrives: the downloader hands the freed slot
        to the next queued request before any middleware sees the response."""
        if response.status in (429, 503) and not proxy_failure(response):
            self._hold_slot(request, self._wait_for(request, response))

    def _wait_for(self, request: Request, response: Response) -> float:
        tries = request.meta.get("retry_times", 0)
        header = response.headers.get(b"Retry-After")
        wait = self.base * (2**tries)
        if header:
            text = header.decode("latin-1").strip()
            try:
                wait = float(text)
            except ValueError:
                try:
                    when = parsedate_to_datetime(text)
                    wait = when.timestamp() - time.time()
                except (TypeError, ValueError):
                    pass
        return max(0.0, min(wait, self.max_wait))

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if request.meta.get("dont_retry"):
            return response
        if response.status in (429, 503) and not proxy_failure(response):
            if request.meta.get("retry_times", 0) >= request.meta.get(
                "max_retry_times", self.max_retry_times
            ):
                return response
            wait = self._wait_for(request, response)
            self._hold_slot(request, wait)
            await asyncio.sleep(wait)
            return self._again(request, f"HTTP {response.status}") or response
        if response.status in self.retry_http_codes:
            # A host that does not exist or refuses connections will not get better soon.
            if proxy_failure(response) in ("dns", "refused"):
                return response
            return self._again(request, f"HTTP {response.status}") or response
        return response

    def _again(self, request: Request, reason: str) -> Request | None:
        """The retry of request, or None when its retries are spent (as Scrapy's own)."""
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
        )

    def _hold_slot(self, request: Request, wait: float) -> None:
        """Hold the host's whole download slot for the wait, not just this request: the
        server asked the client to come back later, not one URL. (Scrapy waits until
        `lastseen + delay`; a slot with no delay would not wait at all.)"""
        engine = getattr(self.crawler, "engine", None)
        key = request.meta.get("download_slot")
        slot = engine.downloader.slots.get(key) if engine is not None and key else None
        if slot is None or wait <= 0:
            return
        slot.delay = max(slot.delay, 0.001)
        slot.lastseen = max(slot.lastseen, time.monotonic() + wait - slot.delay)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        # Retrying these costs a whole timeout (or a refusal) again and tells nothing new:
        # a slow host is recorded as slow, a missing one as missing.
        if failure_kind(exception)[0] in ("dns", "refused", "timeout", "robots", "refused-url"):
            return None
        return super().process_exception(request, exception)
