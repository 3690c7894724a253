"""Exports are inert in spreadsheets and never carry a crawled session token in full
(issue 13: injection, secrets)."""

from __future__ import annotations

import csv
import io

import pytest

from audit.export import csv_cell, to_csv
from audit.url_secrets import MASK, mask_url_secrets, masked


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"],
)
def test_formula_cells_are_disarmed(text: str) -> None:
    out = to_csv([{"title": text}], ["title"])
    (row,) = list(csv.DictReader(io.StringIO(out, newline="")))
    assert row["title"] == ("'" + text).replace("\r", "\n")


def test_other_cells_are_kept_as_they_are() -> None:
    bidi = "Agency \u202egnp.exe\u202c <script>alert(1)</script> '; DROP TABLE site; --"
    rows = [{"title": bidi, "n": -5, "none": None, "obj": {"a": "=1"}}]
    (row,) = list(csv.DictReader(io.StringIO(to_csv(rows, ["title", "n", "none", "obj"]))))
    assert row == {"title": bidi, "n": "-5", "none": "", "obj": '{"a": "=1"}'}
    assert csv_cell(12) == 12


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.a.gov/p?sessionid=abc123&page=2",
            f"https://www.a.gov/p?sessionid={MASK}&page=2",
        ),
        # a session id in the path's parameters (Java servlets) is a session id too
        ("https://www.a.gov/;jsessionid=X?q=1", f"https://www.a.gov/;jsessionid={MASK}?q=1"),
        ("https://www.a.gov/x?q=1;JSESSIONID=abc", f"https://www.a.gov/x?q=1;JSESSIONID={MASK}"),
        (
            "https://a.gov/?access_token=t&sid=9&key=k",
            f"https://a.gov/?access_token={MASK}&sid={MASK}&key={MASK}",
        ),
        ("https://a.gov/?PHPSESSID=1#top", f"https://a.gov/?PHPSESSID={MASK}#top"),
        ("https://a.gov/search?keyword=snap&query=x", "https://a.gov/search?keyword=snap&query=x"),
        ("https://a.gov/?auth=", "https://a.gov/?auth="),
    ],
)
def test_session_and_token_values_are_masked(url: str, expected: str) -> None:
    assert mask_url_secrets(url) == expected


def test_masked_reaches_nested_evidence() -> None:
    row = {"url": "https://a.gov/?token=s3cr3t", "evidence": {"chain": ["https://a.gov/?sid=1"]}}
    assert "s3cr3t" not in str(masked(row)) and "sid=1" not in str(masked(row))
