"""Secrets in crawled URLs, masked wherever rows leave the store (exports, the report, the
audit's evidence): a crawled URL may hold someone's session or token."""

from __future__ import annotations

import re
from typing import Any

# Query parameters carrying credentials or sessions, by name: their values are masked in
# exports (a crawled URL may hold someone's session).
_SECRET_NAME = re.compile(
    r"token|session|sessid|secret|passw|auth|apikey|api_key|api-key|signature|credential|ticket"
    r"|^(?:sid|sess|pwd|sig|key)$",
    re.IGNORECASE,
)

_QUERY_PARAM = re.compile(r"([?&;])([^=&#?;\s\"'<>]+)=([^&#?;\s\"'<>]*)")

MASK = "***"


def mask_url_secrets(text: str) -> str:
    """`text` with the values of token- or session-like query parameters replaced by ***."""
    if "=" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        sep, name, value = match.groups()
        if value and _SECRET_NAME.search(name):
            return f"{sep}{name}={MASK}"
        return match.group(0)

    return _QUERY_PARAM.sub(replace, text)


def masked(value: Any) -> Any:
    """`value` (a row, or anything in one) with secrets in URLs masked."""
    if isinstance(value, str):
        return mask_url_secrets(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value
