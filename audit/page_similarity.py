"""Comparing stored page fingerprints: is a 2xx answer really the site's "not found" page?

The crawler fingerprints what it fetched (status, title, a hash of the visible text, hashed
word shingles, how many words and scripts the page has) and stores the fingerprints; the
audit compares them here, so a changed `soft_404_threshold` re-judges without a crawl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Keep the SHINGLE_CAP smallest shingle hashes (a bottom-k sketch): memory and comparison stay
# bounded on huge pages while the similarity stays an unbiased Jaccard estimate.
SHINGLE_CAP = 1024
# A page with scripts and at most this many visible words is an application shell: its
# content appears only once a browser runs the scripts.
SHELL_MAX_WORDS = 15


@dataclass(frozen=True)
class Fingerprint:
    status: int
    title: str | None
    content_hash: str
    shingles: frozenset[int]
    words: int = 0  # words of visible text
    scripts: int = 0  # <script> elements

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "title": self.title,
            "content_hash": self.content_hash,
            "shingles": sorted(self.shingles),
            "words": self.words,
            "scripts": self.scripts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Fingerprint | None:
        if not data:
            return None
        return cls(
            status=int(data.get("status") or 0),
            title=data.get("title"),
            content_hash=str(data.get("content_hash") or ""),
            shingles=frozenset(int(h) for h in data.get("shingles") or ()),
            words=int(data.get("words") or 0),
            scripts=int(data.get("scripts") or 0),
        )

    @property
    def is_script_shell(self) -> bool:
        """A page that shows (almost) nothing without JavaScript."""
        return self.scripts > 0 and self.words <= SHELL_MAX_WORDS


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
