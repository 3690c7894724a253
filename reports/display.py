"""How stored values are shown: ISO dates and times, which URLs become links, evidence and
settings as rows of a definition list or a two-column table."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import PurePosixPath, PureWindowsPath
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


def short_url(value: Any, limit: int = 40) -> str:
    """A URL as a reader scans it in a table cell: no scheme, the host and the path's ends.

    >>> short_url("https://www.example.gov/open/plans/2011/customer-service-plan-final.pdf")
    'www.example.gov/…/customer-service-plan-final.pdf'
    """
    text = str(value or "")
    parts = urlsplit(text) if is_web_url(text) else None
    if parts is None:
        return text if len(text) <= limit else text[: limit - 1] + "…"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    short = parts.netloc + (path if path != "/" else "")
    if len(short) <= limit:
        return short
    last = path.rstrip("/").rsplit("/", 1)[-1]
    short = f"{parts.netloc}/…/{last}"
    return short if len(short) <= limit + 20 else short[: limit + 19] + "…"


# govaudit's own packages: a file inside one is named from the package down, wherever the
# package is installed (a checkout, a venv's site-packages).
_PACKAGE_ROOT = PurePosixPath(str(resources.files("seeds"))).parent
_PACKAGES = {"seeds", "simweb", "audit", "crawler", "reports", "govaudit", "examples"}


def shown_path(value: Any) -> Any:
    """A file or folder named in the report without the rendering machine's absolute path.

    A file of govaudit's own packages by its package path (`seeds/policies/m-23-22.toml`), a
    relative path as the user gave it, any other absolute path by its last two parts
    (`…/govaudit/policy.toml`): the report may be published, the machine's layout is not.

    >>> shown_path("relative/draft.toml")
    'relative/draft.toml'
    >>> shown_path("/etc/govaudit/policy.toml")
    '…/govaudit/policy.toml'
    """
    if not isinstance(value, str) or not value:
        return value
    if PureWindowsPath(value).drive:
        parts = PureWindowsPath(value).parts
        return "…/" + "/".join(parts[-2:]) if len(parts) > 2 else value
    path = PurePosixPath(value)
    if not path.is_absolute():
        return value
    if path.is_relative_to(_PACKAGE_ROOT):
        inner = path.relative_to(_PACKAGE_ROOT)
        if inner.parts and inner.parts[0] in _PACKAGES:
            return inner.as_posix()
    parts = path.parts[1:]
    return "…/" + "/".join(parts[-2:]) if len(parts) > 2 else value


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
