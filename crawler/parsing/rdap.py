"""RDAP domain responses (RFC 9083) for the registration dates of .gov domains."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_EVENT_FIELDS = {
    "registration": "registration",
    "last changed": "last_changed",
    "expiration": "expiration",
}


class RdapError(Exception):
    """An RDAP answer that is not a usable domain object.

    ``kind`` is ``"malformed"`` (not JSON, not an object, wrong objectClassName, bad dates),
    ``"not-found"`` (an RDAP error object with errorCode 404) or ``"error"`` (an RDAP error
    object with any other errorCode, e.g. 429 rate limiting).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class RdapDomain:
    ldh_name: str
    registration: datetime | None
    last_changed: datetime | None
    expiration: datetime | None
    status: tuple[str, ...]


def _parse_date(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise RdapError("malformed", f"eventDate {value!r} is not a date string")
    text = value.strip()
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RdapError("malformed", f"unparsable eventDate {value!r}") from exc
    # RFC 9083 requires an offset; a server that leaves it out means UTC in practice.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_rdap_domain(body: bytes) -> RdapDomain:
    """Parse an RDAP domain object into :class:`RdapDomain`.

    The first event of each action ``registration``, ``last changed`` and ``expiration`` is
    used; dates are returned timezone-aware in UTC. ``ldh_name`` is lower-cased without a
    trailing dot (registries differ in case). Raises :class:`RdapError`.
    """
    try:
        data = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:  # incl. JSONDecodeError
        raise RdapError("malformed", f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RdapError("malformed", f"expected a JSON object, got {type(data).__name__}")
    if "errorCode" in data and "objectClassName" not in data:
        code = data.get("errorCode")
        title = data.get("title") or ""
        if code == 404 or code == "404":
            raise RdapError("not-found", f"RDAP error 404 {title}".strip())
        raise RdapError("error", f"RDAP error {code} {title}".strip())
    if data.get("objectClassName") != "domain":
        raise RdapError(
            "malformed", f"objectClassName is {data.get('objectClassName')!r}, not 'domain'"
        )
    name = data.get("ldhName")
    if not isinstance(name, str) or not name.strip():
        raise RdapError("malformed", "domain object without ldhName")

    dates: dict[str, datetime | None] = dict.fromkeys(_EVENT_FIELDS.values())
    events = data.get("events", [])
    if not isinstance(events, list):
        raise RdapError("malformed", "events is not an array")
    for event in events:
        if not isinstance(event, dict):
            raise RdapError("malformed", "event is not an object")
        action = event.get("eventAction")
        field_name = _EVENT_FIELDS.get(action.lower()) if isinstance(action, str) else None
        if field_name and dates[field_name] is None:
            dates[field_name] = _parse_date(event.get("eventDate"))

    raw_status = data.get("status", [])
    if not isinstance(raw_status, list):
        raise RdapError("malformed", "status is not an array")
    return RdapDomain(
        ldh_name=name.strip().rstrip(".").lower(),
        registration=dates["registration"],
        last_changed=dates["last_changed"],
        expiration=dates["expiration"],
        status=tuple(s for s in raw_status if isinstance(s, str)),
    )
