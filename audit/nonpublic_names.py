"""Host names the Federal Website Index drops as non-public (staging, authentication, webmail,
website components...), from its criteria files (seeds/website-index/criteria/).

As the index applies them (GSA/federal-website-index, builder utilities): a leading `www.` is
removed first; a name is non-public when it begins with an entry of `ignore-list-begins.csv`
(`[5 or more numerals]` meaning five digits), or contains an entry of
`ignore-list-contains.csv` with a character other than a letter or digit on each side
(`.dev.`, `-stage.`); except the names listed in `ignore-except.csv`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

FIVE_DIGITS = "[5 or more numerals]"


def criteria_dir() -> Path:
    return Path(str(resources.files("seeds"))) / "website-index" / "criteria"


@dataclass(frozen=True)
class NonPublicNames:
    begins: re.Pattern[str] | None
    contains: re.Pattern[str] | None
    reasons: dict[str, str]  # pattern -> the index's reason ("staging and development")
    exceptions: frozenset[str]

    def match(self, host: str) -> str | None:
        """The pattern a host matches, described ("begins with 'staging.': staging and
        development"), or None."""
        if host in self.exceptions:
            return None
        name = host.removeprefix("www.")
        if name in self.exceptions:
            return None
        if self.begins is not None and (found := self.begins.match(name)):
            pattern = FIVE_DIGITS if found.group(0).isdigit() else found.group(0)
            return _described("begins with", pattern, self.reasons.get(pattern))
        if self.contains is not None and (found := self.contains.search(name)):
            pattern = found.group(1)
            return _described("contains", pattern, self.reasons.get(pattern))
        return None


def _described(how: str, pattern: str, reason: str | None) -> str:
    return f"{how} {pattern!r}" + (f": {reason}" if reason else "")


def _rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    out = []
    for row in rows[1:]:
        if not row or not row[0].strip():
            continue
        out.append((row[0].strip().lower(), row[1].strip() if len(row) > 1 else ""))
    return out


def load_nonpublic_names(folder: Path) -> NonPublicNames:
    """The criteria of a folder holding the index's three files (a missing file: no rule)."""
    reasons: dict[str, str] = {}
    begins: list[str] = []
    contains: list[str] = []
    exceptions: set[str] = set()
    if (folder / "ignore-list-begins.csv").is_file():
        for pattern, reason in _rows(folder / "ignore-list-begins.csv"):
            begins.append(pattern)
            reasons.setdefault(pattern, reason)
    if (folder / "ignore-list-contains.csv").is_file():
        for pattern, reason in _rows(folder / "ignore-list-contains.csv"):
            contains.append(pattern)
            reasons.setdefault(pattern, reason)
    if (folder / "ignore-except.csv").is_file():
        for name, _ in _rows(folder / "ignore-except.csv"):
            exceptions.add(name.split(":", 1)[0].rstrip("."))
    alternatives = [r"\d{5}" if p == FIVE_DIGITS else re.escape(p) for p in begins]
    # Longest first: the pattern reported is the most specific one that matched.
    alternatives.sort(key=len, reverse=True)
    contained = sorted((re.escape(p) for p in contains), key=len, reverse=True)
    return NonPublicNames(
        begins=re.compile("|".join(alternatives)) if alternatives else None,
        contains=re.compile(rf"[^a-z0-9]({'|'.join(contained)})[^a-z0-9]") if contained else None,
        reasons=reasons,
        exceptions=frozenset(exceptions),
    )


@lru_cache(maxsize=1)
def bundled_nonpublic_names() -> NonPublicNames:
    return load_nonpublic_names(criteria_dir())
