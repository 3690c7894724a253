"""govaudit's download handler for http and https: Scrapy's HTTP/1.1 handler that records
every certificate's state and closes idle connections after seconds, not minutes.

Its public shape, for whatever sits beside it (a downloader middleware that answers a
request itself, e.g. from an archive, never reaches it):

- `DOWNLOAD_HANDLERS` maps "http" and "https" to `RecordingDownloadHandler`; it downloads
  exactly as Scrapy's `HTTP11DownloadHandler` does (proxies, CONNECT tunnels, size limits,
  signals) and takes the same settings.
- Every https connection it opens is verified and never refused (crawler/tls.py);
  `crawler.tls.certificate_check(response)` gives the state of the certificate that the
  response came with. A response that no connection of this handler carried (one made by
  a middleware) has no recorded check: `certificate_check` says so (`other`, "no
  certificate check recorded") for https and returns None for http.
- Idle connections close after `CONNECTION_KEEPALIVE_TIMEOUT` seconds (15). Twisted's
  connection pool keeps an idle persistent connection for 240 s. A crawl of many domains
  reuses a connection only while its domain is being crawled (a few seconds), so each
  finished domain left its connections (TLS state, buffers, a file descriptor) open for
  four minutes: in the full-list benchmark a crawler process held about 1,800 idle
  connections and their memory. A domain's own pages still share its connections.

Scrapy has no public hook for either: its 2.15 notes deprecate `DOWNLOADER_CLIENTCONTEXTFACTORY`
and say to subclass the download handler instead (scrapy/scrapy#7352, #7379), and a handler
subclass can only replace the policy and the pool's timeout that `__init__` builds. These
two attribute assignments are the override; each names what it waits for.
"""

from __future__ import annotations

import scrapy
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler

from crawler.settings import IDLE_CONNECTION_SECONDS
from crawler.tls import RecordingTLSPolicy


class RecordingDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        for name in ("_contextFactory", "_pool"):
            if not hasattr(self, name):  # a Scrapy release moved them: fail at start-up
                raise RuntimeError(
                    f"Scrapy {scrapy.__version__}'s HTTP11DownloadHandler has no {name}: "
                    "crawler/download_handler.py must be updated for it"
                )
        # Waits for a public TLS hook on the download handler: none exists or is proposed
        # upstream yet (scrapy/scrapy#7352 recommends subclassing; #3573 asked for
        # verification errors on the response and got only the leaf, response.certificate).
        self._contextFactory = RecordingTLSPolicy.from_settings(crawler.settings)
        # Waits for scrapy/scrapy#7932 (the CONNECTION_KEEPALIVE_TIMEOUT setting, for
        # #5618): this reads that setting already, so a release that has it needs only
        # these lines removed.
        self._pool.cachedConnectionTimeout = crawler.settings.getfloat(
            "CONNECTION_KEEPALIVE_TIMEOUT", IDLE_CONNECTION_SECONDS
        )
