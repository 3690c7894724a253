"""Judging websites (issue 21 item 3): status words per host, consolidation, candidates."""

from __future__ import annotations

import pytest

from audit.site_status import EndpointObservation as E
from audit.website_status import candidate, classify_website, source_counts, status_counts

HOME = "Official website of the Office of Science. " * 5


def ep(url: str, status: int | None, final: str | None = None, kind: str | None = None) -> E:
    return E(url, status, kind, final or url, "Science", HOME if status == 200 else None)


@pytest.mark.parametrize(
    ("endpoints", "status", "target"),
    [
        ([ep("https://s.nasa.gov/", 200), ep("http://s.nasa.gov/", 200)], "active", None),
        (
            [ep("https://s.nasa.gov/", None, kind="tls"), ep("http://s.nasa.gov/", 200)],
            "active",
            None,
        ),
        (
            [
                ep("https://s.nasa.gov/", 200, "https://www.nasa.gov/science"),
                ep("http://s.nasa.gov/", 200, "https://www.nasa.gov/science"),
            ],
            "redirect",
            "www.nasa.gov",
        ),
        (
            [ep("https://s.nasa.gov/", 301, "https://science.gov/")],
            "redirect",
            "science.gov",
        ),
        (
            [
                ep("https://s.nasa.gov/", None, kind="dns"),
                ep("http://s.nasa.gov/", None, kind="dns"),
            ],
            "unreachable",
            None,
        ),
        ([ep("https://s.nasa.gov/", 403), ep("http://s.nasa.gov/", 403)], "error", None),
        ([ep("https://s.nasa.gov/", 500), ep("http://s.nasa.gov/", 404)], "error", None),
        (
            [
                ep("https://s.nasa.gov/", None, kind="robots"),
                ep("http://s.nasa.gov/", None, kind="robots"),
            ],
            "error",
            None,
        ),
    ],
)
def test_status_words_per_host(endpoints: list[E], status: str, target: str | None) -> None:
    judged = classify_website("s.nasa.gov", endpoints)
    assert (judged.status, judged.redirect_target) == (status, target)
    assert judged.reason


def test_a_placeholder_on_the_host_is_parked_and_blocked_says_so() -> None:
    parked = E(
        "https://p.nasa.gov/", 200, None, "https://p.nasa.gov/", "Coming soon", "Coming soon"
    )
    assert classify_website("p.nasa.gov", [parked]).status == "parked"
    blocked = classify_website("s.nasa.gov", [ep("https://s.nasa.gov/", 403)])
    assert blocked.reason.startswith("blocked")
    robots = classify_website("s.nasa.gov", [ep("https://s.nasa.gov/", None, kind="robots")])
    assert "robots" in robots.reason


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"host": "n.nasa.gov", "status": "active", "sources": ["crawl"]}, "add"),
        ({"host": "n.nasa.gov", "status": "error", "sources": ["crawl"]}, None),
        ({"host": "n.nasa.gov", "status": "active", "sources": ["crawl", "pulse"]}, None),
        ({"host": "o.nasa.gov", "status": "unreachable", "sources": ["pulse"]}, "retire"),
        ({"host": "o.nasa.gov", "status": "parked", "sources": ["dap", "crawl"]}, "retire"),
        (
            {
                "host": "o.nasa.gov",
                "status": "redirect",
                "redirect_target": "www.nasa.gov",
                "sources": ["pulse"],
            },
            "retire",
        ),
        # www. and bare of one name are one site: no consolidation to act on.
        (
            {
                "host": "nasa.gov",
                "status": "redirect",
                "redirect_target": "www.nasa.gov",
                "sources": ["gov"],
            },
            None,
        ),
        ({"host": "www.x.gov", "status": "unreachable", "sources": ["registry"]}, None),
        ({"host": "o.nasa.gov", "status": "error", "sources": ["pulse"]}, None),
        ({"host": "o.nasa.gov", "status": None, "sources": ["pulse"]}, None),
    ],
)
def test_candidates(row: dict, expected: str | None) -> None:
    assert candidate(row) == expected


def test_counts_per_agency() -> None:
    rows = [
        {"agency": "NASA", "status": "active", "sources": ["pulse", "registry"]},
        {"agency": "NASA", "status": None, "sources": ["crawl"]},
        {"agency": None, "status": "active", "sources": ["pulse"]},
    ]
    assert status_counts(rows)["NASA"] == {"active": 1, "not-crawled": 1}
    assert source_counts(rows)["NASA"] == {"pulse": 1, "registry": 1, "crawl": 1}
    assert status_counts(rows)["(no agency)"] == {"active": 1}
