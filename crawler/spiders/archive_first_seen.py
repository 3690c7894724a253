"""First captures: when a web archive first saw each domain (`govaudit archive first-seen`).

Per domain and archive, one CDX query for the captures of the domain and its subdomains
(`matchType=domain`, at most `cdx_limit` lines); the earliest listed is stored with its
capture URL. It bounds the registration ("registered no later than"); the audit judges it
(audit/freeze.py). The requests go to the archive's own download slot at its pace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request

from crawler.archive import ARCHIVE_REQUEST, Archive, parse_cdx
from crawler.items import FirstSeenObservation
from crawler.spiders.base import Fetch, UnitSpider, UnitState


def first_seen_row(archive: Archive, domain: str, fetch: Fetch) -> dict[str, Any]:
    """The `archive_first_seen` row of one CDX answer: found (with the earliest capture),
    none (the archive lists no capture), or the failure's kind."""
    row: dict[str, Any] = {
        "archive": archive.prefix,
        "query_url": fetch.url,
        "fetched_at": fetch.fetched_at,
        "state": "none",
        "first_capture": None,
        "capture_url": None,
        "captured_url": None,
        "error": None,
    }
    if fetch.error_kind is not None:
        return {**row, "state": fetch.error_kind, "error": fetch.error}
    if fetch.status == 200 and fetch.response is not None:
        try:
            captures = parse_cdx(fetch.response.body)
        except ValueError as exc:
            return {**row, "state": "malformed", "error": str(exc)}
        if not captures:
            return row
        first = min(captures, key=lambda c: c.timestamp)
        return {
            **row,
            "state": "found",
            "first_capture": first.when,
            "capture_url": archive.replay_url(first.timestamp, first.url, raw=False),
            "captured_url": first.url,
        }
    return {**row, "state": "http-error", "error": f"HTTP {fetch.status} for {domain}"}


class FirstSeenSpider(UnitSpider):
    name = "archive_first_seen"

    def __init__(
        self,
        run_id: int | None,
        domains: list[str],
        archives: list[str],
        cdx_limit: int = 10000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.domains = domains
        self.archives = [Archive.from_url(u) for u in archives]
        self.cdx_limit = cdx_limit
        self.hosts = {(urlsplit(a.cdx_url).netloc or "").lower() for a in self.archives}

    def _is_archive(self, url: str) -> bool:
        return (urlsplit(url).netloc or "").lower() in self.hosts

    def in_scope(self, host: str) -> bool:
        return False  # every request of this spider is marked as the archive's

    def may_fetch(self, state: UnitState, url: str) -> bool:
        return self._is_archive(url)

    def unit_scope(self, state: UnitState) -> set[str]:
        return set()

    async def start(self) -> Any:
        for domain in self.domains:
            await self.room_for_unit()
            state = UnitState(key=domain, domain=domain)
            state.data = {"rows": []}
            self.units[domain] = state
            for archive in self.archives:
                query = archive.cdx_query(domain, "domain", limit=self.cdx_limit)
                yield self._archive_fetch(state, query, archive)

    def _archive_fetch(self, state: UnitState, url: str, archive: Archive) -> Request:
        request = self.fetch(state, url, "cdx", obey_robots=False, archive=archive.prefix)
        request.meta[ARCHIVE_REQUEST] = archive.slot
        return request

    def handle(self, state: UnitState, fetch: Fetch) -> Iterable[Any] | None:
        archive = next(a for a in self.archives if a.prefix == fetch.meta["archive"])
        state.data["rows"].append(first_seen_row(archive, state.domain, fetch))
        return None

    def idle(self, state: UnitState) -> Iterator[Any]:
        state.finished = True
        yield FirstSeenObservation(self.run_id, state.domain, state.data["rows"])

    def failed(self, state: UnitState, error: str) -> Iterator[Any]:
        yield FirstSeenObservation(self.run_id, state.domain, [], state="failed", error=error)
