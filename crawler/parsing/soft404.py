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
from dataclasses import dataclass

from crawler.parsing._html import collapse, make_selector, page_title, visible_text

SHINGLE_WORDS = 4
# Keep the SHINGLE_CAP smallest shingle hashes (a bottom-k sketch): memory and comparison stay
# bounded on huge pages while the similarity stays an unbiased Jaccard estimate.
SHINGLE_CAP = 1024
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fingerprint:
    status: int
    title: str | None
    content_hash: str
    shingles: frozenset[int]


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
    )


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Jaccard similarity of the two shingle sets; 1.0 when the visible texts are identical.

    With capped sets this is the bottom-k estimator: among the SHINGLE_CAP smallest hashes of
    the union, the share present in both (exact when neither page reached the cap).
    """
    if a.content_hash == b.content_hash:
        return 1.0
    if not a.shingles or not b.shingles:
        return 0.0
    union = sorted(a.shingles | b.shingles)[:SHINGLE_CAP]
    both = sum(1 for h in union if h in a.shingles and h in b.shingles)
    return both / len(union)


def _is_2xx(status: int) -> bool:
    return 200 <= status < 300


def is_soft_404(page: Fingerprint, random_path: Fingerprint | None, threshold: float = 0.9) -> bool:
    """Whether ``page``'s 2xx answer is really the site's "not found" page.

    ``random_path`` is the fingerprint of the site's answer for a path that cannot exist. The
    page is a soft 404 when all of these hold:

    1. the page itself answered 2xx (a 404 is a hard 404, not a soft one);
    2. there is a random-path probe and it also answered 2xx (a site that answers 404 for
       missing paths does not serve soft 404s);
    3. the two look like the same page: shingle similarity at least ``threshold``, or equal
       non-empty titles (case- and space-insensitive) with at least half the content shared
       (a site-wide title alone does not make a real page a catch-all).

    Without a probe there is no evidence, so the answer is False.
    """
    if random_path is None or not _is_2xx(page.status) or not _is_2xx(random_path.status):
        return False
    score = similarity(page, random_path)
    if page.title and random_path.title and page.title.casefold() == random_path.title.casefold():
        return score >= min(0.5, threshold)
    return score >= threshold
