"""Politeness per registered domain, on top of the per-host download slots.

The website crawl (`govaudit crawl --websites`) gives every host its own download slot (the
per-host limit, CONCURRENT_REQUESTS_PER_DOMAIN) and caps the requests in flight to all hosts
of one registered domain together at GOVAUDIT_CONCURRENT_REQUESTS_PER_REGISTERED_DOMAIN: the
hundreds of websites of nasa.gov often share servers. 0 (the domain crawl) turns it off: there
every request of a domain already shares one slot (crawler/middlewares.DomainSlotMiddleware).

A downloader middleware placed after robots.txt and retries, next to the downloader: a
request waits here for its domain's turn, holds it while it downloads and gives it back when
it leaves the downloader (or ends in an exception or an early response). Its robots.txt
request was made and answered before it got here, so a request never holds its domain while
waiting for another request of that domain.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from audit.domain_names import registrable_domain
from crawler.parsing.urls import host_of

SETTING = "GOVAUDIT_CONCURRENT_REQUESTS_PER_REGISTERED_DOMAIN"


def domain_key(url: str) -> str:
    host = host_of(url)
    return registrable_domain(host) or host


class RegisteredDomainLimitMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.limit = crawler.settings.getint(SETTING, 0)
        self.in_flight: dict[str, int] = {}
        self.waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self.held: dict[int, str] = {}  # id(request) -> its domain, while it holds a turn
        crawler.signals.connect(self._left, signal=signals.request_left_downloader)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RegisteredDomainLimitMiddleware:
        if crawler.settings.getint(SETTING, 0) <= 0:
            # Off: not in the chain at all, so the domain crawl pays nothing for it.
            raise NotConfigured
        return cls(crawler)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("govaudit_internal") or id(request) in self.held:
            return
        key = domain_key(request.url)
        if not key:
            return
        while self.in_flight.get(key, 0) >= self.limit:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting.setdefault(key, deque()).append(waiter)
            if self.stats is not None:
                self.stats.inc_value("govaudit/domain_limit/waits")
            try:
                await waiter
            except asyncio.CancelledError:
                queue = self.waiting.get(key)
                if queue is not None and waiter in queue:
                    queue.remove(waiter)
                raise
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.held[id(request)] = key

    def _release(self, request: Request) -> None:
        key = self.held.pop(id(request), None)
        if key is None:
            return
        left = self.in_flight.get(key, 0) - 1
        if left > 0:
            self.in_flight[key] = left
        else:
            self.in_flight.pop(key, None)
        queue = self.waiting.get(key)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break
        if queue is not None and not queue:
            del self.waiting[key]

    def _left(self, request: Request, spider: Spider | None = None) -> None:
        self._release(request)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        self._release(request)
        return response

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        self._release(request)
        return None

    def state(self) -> dict[str, Any]:
        """In flight and waiting per domain (for tests and debugging)."""
        return {
            "in_flight": dict(self.in_flight),
            "waiting": {k: len(v) for k, v in self.waiting.items()},
        }
