"""Tests for crawler.parsing.rdap."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.parsing.rdap import RdapDomain, RdapError, parse_rdap_domain

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def domain_json(**overrides: object) -> bytes:
    data: dict[str, object] = {
        "objectClassName": "domain",
        "ldhName": "ssa.gov",
        "events": [{"eventAction": "registration", "eventDate": "1995-01-12T05:00:00Z"}],
    }
    data.update(overrides)
    return json.dumps(data).encode()


def test_usda_fixture() -> None:
    parsed = parse_rdap_domain((FIXTURES / "rdap_usda_gov.json").read_bytes())
    assert parsed == RdapDomain(
        ldh_name="usda.gov",
        registration=datetime(1997, 4, 24, 4, 0, tzinfo=UTC),
        last_changed=datetime(2024, 3, 15, 18, 2, 41, 123456, tzinfo=UTC),
        expiration=datetime(2025, 9, 30, 4, 0, tzinfo=UTC),  # -04:00 converted to UTC
        status=("active", "server transfer prohibited"),
    )
    assert parsed.expiration is not None and parsed.expiration.utcoffset().total_seconds() == 0


def test_not_found() -> None:
    with pytest.raises(RdapError) as info:
        parse_rdap_domain((FIXTURES / "rdap_not_found.json").read_bytes())
    assert info.value.kind == "not-found"


def test_other_error_codes_are_not_not_found() -> None:
    with pytest.raises(RdapError) as info:
        parse_rdap_domain(b'{"errorCode": 429, "title": "Too Many Requests"}')
    assert info.value.kind == "error"
    assert "429" in info.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>not json</html>",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'"domain"',
        b"null",
        b"[" * 100_000,
        domain_json(objectClassName="entity"),
        domain_json(objectClassName=None),
        domain_json(ldhName=""),
        domain_json(events={"eventAction": "registration"}),
        domain_json(events=["registration"]),
        domain_json(events=[{"eventAction": "registration", "eventDate": "24 April 1997"}]),
        domain_json(events=[{"eventAction": "expiration", "eventDate": 1997}]),
        domain_json(events=[{"eventAction": "last changed"}]),
        domain_json(status="active"),
    ],
)
def test_malformed(body: bytes) -> None:
    with pytest.raises(RdapError) as info:
        parse_rdap_domain(body)
    assert info.value.kind == "malformed"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2011-10-24T12:00:00Z", datetime(2011, 10, 24, 12, tzinfo=UTC)),
        ("2011-10-24T12:00:00z", datetime(2011, 10, 24, 12, tzinfo=UTC)),
        ("2011-10-24T08:00:00-04:00", datetime(2011, 10, 24, 12, tzinfo=UTC)),
        ("2011-10-24T12:00:00.5Z", datetime(2011, 10, 24, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2011-10-24T12:00:00.123456789Z", datetime(2011, 10, 24, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2011-10-24T12:00:00", datetime(2011, 10, 24, 12, tzinfo=UTC)),
    ],
)
def test_date_forms(date: str, expected: datetime) -> None:
    parsed = parse_rdap_domain(
        domain_json(events=[{"eventAction": "registration", "eventDate": date}])
    )
    assert parsed.registration == expected
    assert parsed.registration is not None and parsed.registration.tzinfo is not None


def test_missing_events_and_unknown_actions() -> None:
    parsed = parse_rdap_domain(
        domain_json(
            ldhName="SSA.GOV.",
            events=[{"eventAction": "transfer", "eventDate": "not even checked"}],
        )
    )
    assert parsed.ldh_name == "ssa.gov"
    assert parsed.registration is None and parsed.last_changed is None
    assert parsed.status == ()


def test_first_event_of_each_kind_wins() -> None:
    parsed = parse_rdap_domain(
        domain_json(
            events=[
                {"eventAction": "registration", "eventDate": "1995-01-12T05:00:00Z"},
                {"eventAction": "Registration", "eventDate": "2001-01-01T00:00:00Z"},
            ]
        )
    )
    assert parsed.registration == datetime(1995, 1, 12, 5, tzinfo=UTC)
