"""A Scrapy downloader that enforces the per-slot concurrency limit whatever the delay.

Scrapy 2.14-2.19 schedules each queued download as an asyncio task and only marks it as
transferring when the task starts. With DOWNLOAD_DELAY = 0, `_process_queue` drains the
whole slot queue before any task has started, so CONCURRENT_REQUESTS_PER_DOMAIN is not
enforced (8-10 in flight with a limit of 2, measured). Marking the request as transferring
before scheduling it closes that gap; `_download` adds it again (a set) and removes it when
the download ends. Tested against the simulated web's request log
(tests/test_crawl_sites.py::test_per_host_concurrency).
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
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
