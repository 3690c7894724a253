"""Tests for crawler.parsing.soft404."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsing.soft404 import SHINGLE_CAP, Fingerprint, fingerprint, is_soft_404, similarity

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
def not_found() -> Fingerprint:
    return fingerprint(200, load("soft404_notfound.html"), None)


@pytest.fixture(scope="module")
def probe() -> Fingerprint:
    return fingerprint(200, load("soft404_random_path.html"), None)


@pytest.fixture(scope="module")
def real_page() -> Fingerprint:
    return fingerprint(200, load("ssa_open.html"), None)


def test_fingerprint_fields(not_found: Fingerprint) -> None:
    assert not_found.status == 200
    assert not_found.title == "Page Not Found | Example Agency"
    assert len(not_found.content_hash) == 64
    int(not_found.content_hash, 16)
    assert not_found.shingles and all(isinstance(h, int) for h in not_found.shingles)


def test_content_hash_ignores_markup_and_whitespace() -> None:
    a = fingerprint(200, b"<p>Hello   <b>world</b></p><script>var t=1;</script>", None)
    b = fingerprint(200, b"<div>Hello\n world</div><script>var t=2;</script>", None)
    assert a.content_hash == b.content_hash
    assert similarity(a, b) == 1.0


def test_fingerprints_are_stable_across_calls(not_found: Fingerprint) -> None:
    again = fingerprint(200, load("soft404_notfound.html"), None)
    assert again == not_found


def test_random_path_answer_is_nearly_identical(not_found: Fingerprint, probe: Fingerprint) -> None:
    assert not_found.content_hash != probe.content_hash  # request ids differ
    assert 0.7 < similarity(not_found, probe) < 1.0


def test_unrelated_pages_are_dissimilar(not_found: Fingerprint, real_page: Fingerprint) -> None:
    assert similarity(not_found, real_page) < 0.1
    assert similarity(real_page, not_found) == similarity(not_found, real_page)


def test_soft_404_by_title(real_page: Fingerprint, probe: Fingerprint) -> None:
    # Same title and much the same content (a catch-all page with a varying line): soft 404.
    body = load("soft404_random_path.html").replace(
        b"</body>", b"<p>You asked for /open</p></body>"
    )
    assert is_soft_404(fingerprint(200, body, None), probe) is True
    # A site-wide title alone does not make a real page a catch-all.
    same_title = fingerprint(200, load("ssa_open.html"), "page not found | example agency")
    assert is_soft_404(same_title, probe) is False
    assert is_soft_404(real_page, probe) is False


def test_soft_404_by_similarity() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    page = fingerprint(200, f"<title>A</title><p>{words} extra</p>".encode(), None)
    probe = fingerprint(200, f"<title>B</title><p>{words}</p>".encode(), None)
    assert similarity(page, probe) >= 0.9
    assert is_soft_404(page, probe) is True
    assert is_soft_404(page, probe, threshold=1.0) is False


def test_no_soft_404_when_site_answers_404_for_missing_pages(not_found: Fingerprint) -> None:
    hard_probe = fingerprint(404, load("soft404_random_path.html"), None)
    assert is_soft_404(not_found, hard_probe) is False


def test_no_soft_404_when_page_is_not_2xx(probe: Fingerprint) -> None:
    page = fingerprint(404, load("soft404_notfound.html"), None)
    assert is_soft_404(page, probe) is False


def test_no_soft_404_without_probe(not_found: Fingerprint) -> None:
    assert is_soft_404(not_found, None) is False


def test_empty_and_binary_bodies() -> None:
    empty = fingerprint(200, b"", None)
    also_empty = fingerprint(200, b"<html><body></body></html>", None)
    binary = fingerprint(200, b"\x00\xff\xfe\x89PNG", None)
    assert empty.shingles == frozenset() and empty.title is None
    assert similarity(empty, also_empty) == 1.0
    assert isinstance(binary.content_hash, str)


def test_short_text_has_one_shingle() -> None:
    assert len(fingerprint(200, b"<p>Not found</p>", None).shingles) == 1


def test_shingles_are_capped() -> None:
    words = " ".join(f"w{i}" for i in range(SHINGLE_CAP * 3))
    fp = fingerprint(200, f"<p>{words}</p>".encode(), None)
    assert len(fp.shingles) == SHINGLE_CAP
    assert similarity(fp, fp) == 1.0
