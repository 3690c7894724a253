"""Scrapy's HTTP/1.1 download handler with idle connections closed after seconds, not minutes.

Twisted's connection pool keeps an idle persistent connection for 240 s. A crawl of many
domains reuses a connection only while its domain is being crawled (a few seconds), so
each finished domain left its connections (TLS state, buffers, a file descriptor) open for
four minutes: in the full-list benchmark a crawler process held about 1,800 idle
connections and their memory. A domain's own pages still share its connections.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler

IDLE_CONNECTION_SECONDS = 15.0


class ShortKeepAliveDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool.cachedConnectionTimeout = crawler.settings.getfloat(
            "GOVAUDIT_IDLE_CONNECTION_SECONDS", IDLE_CONNECTION_SECONDS
        )
