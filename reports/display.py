"""How stored values are shown: ISO dates and times, which URLs become links, evidence and
settings as rows of a definition list or a two-column table."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlsplit


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def parse_day(value: Any) -> dt.date | None:
    """A date from an ISO string (date or datetime), a date, or None when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def is_web_url(value: Any) -> bool:
    """True for an absolute http(s) URL: the only crawled URLs the report makes links of."""
    if not isinstance(value, str) or not value:
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    return slug or "agency"


def evidence_items(evidence: Any) -> list[dict[str, Any]]:
    """A finding's evidence as (key, text, url?) items for a definition list."""
    if not isinstance(evidence, dict):
        return (
            []
            if evidence in (None, "")
            else [{"key": "evidence", "text": str(evidence), "url": None, "code": False}]
        )
    items = []
    for key, value in evidence.items():
        if isinstance(value, dict | list):
            items.append(
                {
                    "key": str(key),
                    "text": json.dumps(value, default=str, indent=1),
                    "url": None,
                    "code": True,
                }
            )
        else:
            text = "" if value is None else str(value)
            items.append(
                {
                    "key": str(key),
                    "text": text,
                    "url": text if is_web_url(text) else None,
                    "code": False,
                }
            )
    return items


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts/lists as (dotted.key, text) rows for a two-column table."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        if not value and prefix:
            rows.append((prefix, "{}"))
        for k, v in value.items():
            rows.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            rows.extend(flatten(v, f"{prefix}[{i}]"))
    elif isinstance(value, list):
        rows.append((prefix, ", ".join(str(v) for v in value) if value else "(none)"))
    else:
        rows.append((prefix, "" if value is None else str(value)))
    return rows


def stats_table(stats: dict[str, Any]) -> dict[str, Any]:
    """Per-worker Scrapy stats as one table: stat name x worker."""
    workers = sorted(k for k, v in stats.items() if isinstance(v, dict))
    names: set[str] = set()
    flat: dict[str, dict[str, str]] = {}
    for w in workers:
        flat[w] = dict(flatten(stats[w]))
        names |= flat[w].keys()
    return {
        "workers": workers,
        "rows": [
            {"name": n, "values": [flat[w].get(n, "") for w in workers]} for n in sorted(names)
        ],
    }
