"""Keeping a site's final homepage (and robots.txt) response, so that guideline checks written
after the crawl can be judged on it without crawling again.

The body is bounded (KEEP_BODY_BYTES; `truncated` says when it was cut) and compressed here,
so a domain in flight holds a few kilobytes per candidate homepage; the pipeline stores each
distinct body once (by the hash of the kept bytes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from typing import Any, Protocol

KEEP_BODY_BYTES = 1_048_576
MAX_HEADERS = 100
MAX_HEADER_CHARS = 4000


class Fetch(Protocol):
    """What is read of a spider's fetch (crawler.spiders.base.Fetch)."""

    url: str
    final_url: str | None
    status: int | None
    fetched_at: dt.datetime
    response: Any


def response_headers(fetch: Fetch) -> dict[str, str]:
    """Header name (lower case) -> value as received; repeated headers joined with ", "."""
    if fetch.response is None:
        return {}
    headers: dict[str, str] = {}
    for name, values in list(fetch.response.headers.items())[:MAX_HEADERS]:
        key = name.decode("latin-1").lower()
        value = ", ".join(v.decode("latin-1") for v in values)
        headers[key] = value[:MAX_HEADER_CHARS]
    return headers


def kept_response(fetch: Fetch, purpose: str) -> dict[str, Any] | None:
    """The record of one final response for `crawler.items.SiteResult.responses`."""
    if fetch.response is None:
        return None
    raw = fetch.response.body
    body = raw[:KEEP_BODY_BYTES]
    return {
        "purpose": purpose,
        "url": fetch.url,
        "final_url": fetch.final_url,
        "status": fetch.status,
        "fetched_at": fetch.fetched_at,
        "headers": response_headers(fetch),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_length": len(raw),
        "truncated": len(raw) > len(body),
        "compressed_body": zlib.compress(body, 6),
        "kept_size": len(body),
    }
