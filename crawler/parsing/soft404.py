"""Soft-404 detection: sites that answer "200 OK" for pages that do not exist.

Before trusting that ``/open`` exists because it returned 200, the crawler also fetches a path
that cannot exist (``/govaudit-<random>``) on the same site. If the site answers that with 2xx
and the same page, a 2xx for ``/open`` proves nothing. Pages are compared by hashed word
shingles of their visible text, which survive the per-request noise (timestamps, CSRF tokens,
request ids in markup) that defeats a byte comparison.
"""

from __future__ import annotations

import hashlib
import re

from parsel import Selector

from audit.page_similarity import SHINGLE_CAP, Fingerprint, is_soft_404, similarity
from crawler.parsing._html import collapse, make_selector, page_title, visible_text

__all__ = ["SHINGLE_CAP", "Fingerprint", "fingerprint", "is_soft_404", "similarity"]

SHINGLE_WORDS = 4
_WORD = re.compile(r"\w+")


def _hash64(text: str) -> int:
    # blake2b rather than hash(): fingerprints are stored and compared across processes.
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _shingles(text: str) -> frozenset[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return frozenset()
    if len(words) <= SHINGLE_WORDS:
        grams = [" ".join(words)]
    else:
        grams = [
            " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
        ]
    hashes = {_hash64(g) for g in grams}
    if len(hashes) > SHINGLE_CAP:
        hashes = set(sorted(hashes)[:SHINGLE_CAP])
    return frozenset(hashes)


def fingerprint(status: int, body: bytes, title: str | None) -> Fingerprint:
    """Fingerprint a response: status, title, hash of the visible text, and its shingles.

    When ``title`` is None it is read from the body. Bodies that are not HTML are read as text.
    """
    sel = make_selector(body or b"", "http://fingerprint.invalid/")
    text = visible_text(sel)
    if title is None:
        title = page_title(sel)
    return Fingerprint(
        status=status,
        title=collapse(title) or None,
        content_hash=hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest(),
        shingles=_shingles(text),
        words=len(_WORD.findall(text)),
        scripts=_script_count(sel),
    )


def _script_count(sel: Selector) -> int:
    try:
        return len(sel.xpath("//script"))
    except ValueError:
        return 0
