"""RDAP spider: the registration date of each domain from the registry's RDAP service.

The public registry CSV has no registration date; RDAP (RFC 9083) does, as the
`registration` event. Requests go through Scrapy with the crawl's politeness, proxy and
retry settings; every answer, good or bad, is stored with its state and fetch time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from crawler.items import RdapObservation
from crawler.parsing.rdap import RdapError, parse_rdap_domain
from crawler.spiders.base import Fetch, UnitSpider, UnitState

MAX_BODY_CHARS = 20000


def rdap_url(base_url: str, domain: str) -> str:
    return base_url.rstrip("/") + "/domain/" + domain


def rdap_state(
    status: int | None,
    error_kind: str | None,
    body: bytes,
    error: str | None = None,
    retry_after: str | None = None,
) -> dict[str, Any]:
    """State words: registered, not-registered, rate-limited, malformed, http-error, or the
    connection failure kind (timeout, dns, refused, tls, other).

    `error` is the failure's message and `retry_after` the server's Retry-After header: both
    are kept in the stored error text so that a bad answer says what happened.
    """
    if error_kind is not None:
        text = f"{error_kind}: {error}" if error else error_kind
        return {"state": error_kind, "registration": None, "error": text}
    if status == 404:
        return {"state": "not-registered", "registration": None, "error": None}
    if status == 429:
        wait = f" (Retry-After: {retry_after})" if retry_after else ""
        return {"state": "rate-limited", "registration": None, "error": f"HTTP 429{wait}"}
    if status is None or not 200 <= status < 300:
        return {"state": "http-error", "registration": None, "error": f"HTTP {status}"}
    try:
        parsed = parse_rdap_domain(body)
    except RdapError as exc:
        # An RDAP error object (RFC 9083 section 6) is an answer, not a malformed one.
        state = {"not-found": "not-registered", "error": "http-error"}.get(exc.kind, "malformed")
        return {"state": state, "registration": None, "error": str(exc)}
    if parsed.registration is None:
        return {
            "state": "malformed",
            "registration": None,
            "error": "no registration event in the answer",
        }
    return {
        "state": "registered",
        "registration": parsed.registration.replace(tzinfo=None),
        "error": None,
    }


class RdapSpider(UnitSpider):
    name = "rdap"

    def __init__(self, run_id: int | None, domains: list[str], base_url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.run_id = run_id
        self.domains = domains
        self.base_url = base_url
        self.rdap_host = (urlsplit(base_url).hostname or "").lower()

    def in_scope(self, host: str) -> bool:
        return host == self.rdap_host

    def may_fetch(self, state: UnitState, url: str) -> bool:
        return (urlsplit(url).hostname or "").lower() == self.rdap_host

    def unit_scope(self, state: UnitState) -> set[str]:
        return set()

    async def start(self) -> Any:
        for domain in self.domains:
            await self.room_for_unit()
            state = UnitState(key=domain, domain=domain)
            self.units[domain] = state
            yield self.fetch(state, rdap_url(self.base_url, domain), "rdap", obey_robots=False)

    def handle(self, state: UnitState, fetch: Fetch) -> Iterable[Any] | None:
        body = fetch.response.body if fetch.response is not None else b""
        state.data = {
            "url": fetch.url,
            "fetched_at": fetch.fetched_at,
            "http_status": fetch.status,
            "body": body.decode("utf-8", "replace")[:MAX_BODY_CHARS] if body else None,
            **rdap_state(
                fetch.status, fetch.error_kind, body, fetch.error, fetch.header("Retry-After")
            ),
        }
        return None

    def idle(self, state: UnitState) -> Iterator[Any]:
        state.finished = True
        yield RdapObservation(self.run_id, state.domain, state.data)

    def failed(self, state: UnitState, error: str) -> Iterator[Any]:
        yield RdapObservation(self.run_id, state.domain, {}, state="failed", error=error)
