"""A Scrapy downloader that enforces the per-slot concurrency limit whatever the delay, and
lets slow hosts' waiting requests not take the whole crawl's concurrency.

Scrapy 2.14-2.19 schedules each queued download as an asyncio task and only marks it as
transferring when the task starts. With DOWNLOAD_DELAY = 0, `_process_queue` drains the
whole slot queue before any task has started, so CONCURRENT_REQUESTS_PER_DOMAIN is not
enforced (8-10 in flight with a limit of 2, measured). Marking the request as transferring
before scheduling it closes that gap; `_download` adds it again (a set) and removes it when
the download ends. Tested against the simulated web's request log
(tests/test_crawl_sites.py::test_per_host_concurrency).

Scrapy stops handing requests to the downloader when CONCURRENT_REQUESTS of them are in it,
counting those queued behind their host's limit or waiting in a middleware (robots.txt,
Retry-After) as well as those on the wire. A few hosts that never answer held most of the
64 (their robots.txt and endpoint requests wait a whole timeout each), and the rest of the
crawl went at 0.71x its speed (benchmarks/slow_host.py). Here the limit counts the
requests on the wire, and a wider bound (HELD_FACTOR x) caps everything held.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro

HELD_FACTOR = 4


class PoliteDownloader(Downloader):
    def needs_backout(self) -> bool:
        if self.total_concurrency <= 0:  # 0: no limit, as in Scrapy
            return False
        if len(self.active) >= HELD_FACTOR * self.total_concurrency:
            return True
        on_the_wire = sum(len(slot.transferring) for slot in self.slots.values())
        return on_the_wire >= self.total_concurrency

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
