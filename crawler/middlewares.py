"""Downloader middlewares: scope guard, per-domain download slots, Retry-After."""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from audit.domain_names import registrable_domain
from crawler.fetch_errors import failure_kind, proxy_failure
from crawler.parsing.urls import fetch_refusal, host_of

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


class DomainSlotMiddleware:
    """Put every request in the download slot of its registrable domain.

    One slot per registrable domain makes the per-host limit hold whatever the path:
    `www.D` and `D` share it, and so do requests Scrapy made itself (redirects keep the
    original request's slot; the robots.txt middleware's requests have none).
    """

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = host_of(request.url)
        request.meta["download_slot"] = registrable_domain(host) or host


class RetryAfterMiddleware(RetryMiddleware):
    """Retry 429/503 with backoff, waiting what the server's Retry-After asks (capped)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("GOVAUDIT_MAX_RETRY_AFTER", 30.0)
        self.base = settings.getfloat("GOVAUDIT_RETRY_BACKOFF", 1.0)

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
            return self._retry(request, f"HTTP {response.status}") or response
        if response.status in self.retry_http_codes:
            # A host that does not exist or refuses connections will not get better soon.
            if proxy_failure(response) in ("dns", "refused"):
                return response
            return self._retry(request, f"HTTP {response.status}") or response
        return response

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
