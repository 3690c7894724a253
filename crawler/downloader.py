"""The downloader: Scrapy's, with a concurrency limit that counts the requests on the wire,
so that slow hosts' waiting requests do not take the whole crawl's concurrency.

Scrapy stops handing requests to the downloader when CONCURRENT_REQUESTS of them are in it,
counting those queued behind their host's limit or waiting in a middleware (robots.txt,
Retry-After) as well as those on the wire. A few hosts that never answer held most of the
64 (their robots.txt and endpoint requests wait a whole timeout each), and the rest of the
crawl went at 0.71x its speed (benchmarks/slow_host.py). Here the limit counts the
requests on the wire, and a wider bound (HELD_FACTOR x) caps everything held. This is the
one override: `needs_backout` is the downloader's public method for that decision, and the
`DOWNLOADER` setting the public way to replace it (Scrapy has no setting for it; no
upstream issue asks for one yet).

The per-host limit, CONCURRENT_REQUESTS_PER_DOMAIN, needs no override but a setting:
`DOWNLOAD_DELAY` is MIN_DOWNLOAD_DELAY (1 ms), not 0. Scrapy 2.14 to 2.19 schedule each
queued download as an asyncio task and count it as transferring only when the task starts
(the change came with scrapy/scrapy#7008); with a delay of 0 the slot's queue is drained
before any task has started, so the limit is not enforced (8-10 requests in flight with a
limit of 2, measured). With any delay the downloader starts one request of a slot per
delay, by then the previous one is counted, and the limit holds. The 1 ms costs nothing
(AutoThrottle's delays are larger). No upstream issue reports the bug yet (the closest,
scrapy/scrapy#6476, is about the rate at delay 0): when a Scrapy release fixes it, the
setting can go back to 0. Tested against the simulated web's request log
(tests/test_crawl_sites.py::test_per_host_concurrency_never_above_the_setting, which fails
with a delay of 0 on Scrapy 2.19).
"""

from __future__ import annotations

from scrapy.core.downloader import Downloader

HELD_FACTOR = 4


class PoliteDownloader(Downloader):
    def needs_backout(self) -> bool:
        if self.total_concurrency <= 0:  # 0: no limit, as in Scrapy
            return False
        if len(self.active) >= HELD_FACTOR * self.total_concurrency:
            return True
        on_the_wire = sum(len(slot.transferring) for slot in self.slots.values())
        return on_the_wire >= self.total_concurrency
