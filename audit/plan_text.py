"""Reading a Customer Service Plan's text: its elements and the date it says it was published.

Pure functions over text the /open crawl extracted and stored (HTML, PDF, Word, RTF, plain
text): the audit judges with them under the policy in force, so changed patterns re-judge
without a crawl. The crawl uses `date_mentions` only to store every date it saw, with its
context.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SNIPPET_CHARS = 160
# Context kept on each side of a date: enough for the keyword reach and a citation's name.
CONTEXT_BEFORE = 100
CONTEXT_AFTER = 40
_KEYWORD_REACH = 40
_WS = re.compile(r"\s+")


def collapse(text: str | None) -> str:
    """Runs of white space (NBSP included) as one space."""
    return _WS.sub(" ", text).strip() if text else ""


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def check_elements(text: str, elements: Mapping[str, Sequence[str]]) -> dict[str, str | None]:
    """For each element, a snippet of ``text`` around the first match of its patterns, or None.

    Patterns are case-insensitive regexes tried in the order given (so list the most telling
    first); the snippet is about SNIPPET_CHARS characters of whitespace-collapsed context
    around the match, cut at word boundaries.
    """
    flat = collapse(text)
    found: dict[str, str | None] = {}
    for name, patterns in elements.items():
        found[name] = None
        for pattern in patterns:
            match = compile_pattern(pattern).search(flat)
            if match:
                found[name] = _snippet(flat, match.start(), match.end())
                break
    return found


def _snippet(text: str, start: int, end: int) -> str:
    room = max(SNIPPET_CHARS - (end - start), 0)
    left = max(start - room // 2, 0)
    right = min(end + room - (start - left), len(text))
    left = max(min(left, right - SNIPPET_CHARS), 0)
    # Move outwards-in to whole words so the snippet does not start or end mid-word.
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else right
    return text[left:right].strip()


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_RE = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"\b{_MONTH_RE}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b",
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH_RE},?\s+(?P<year>(?:19|20)\d\d)\b",
        r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b",
        r"\b(?P<month>\d{1,2})[/-](?P<day>\d{1,2})[/-](?P<year>(?:19|20)\d\d|\d\d)\b",
        rf"\b{_MONTH_RE},?\s+(?P<year>(?:19|20)\d\d)\b",
    )
)
# Words that introduce the date a document was issued. A bare "date" is too common ("Target
# date" in a milestone table), so it needs a colon. "Updated", "last reviewed" are not it.
_STRONG_DATE_WORDS = re.compile(
    r"\b(?:published|publication\s+date|date\s+of\s+(?:publication|issue)|issued|released|"
    r"dated|posted)\b|\bdate\s*:",
    re.IGNORECASE,
)
# A date that belongs to a cited order, memorandum, act or law: "Executive Order 13571 of
# April 27, 2011", "M-11-24 (June 13, 2011)", "Public Law 111-352, January 4, 2011". The
# plan cites them; their dates are not the plan's.
_CITATION_BEFORE = re.compile(
    r"(?:\b(?:order|memorandum|memo|act|law|directive|circular|bulletin|statute|regulation)"
    r"(?:\s+(?:no\.?\s*)?[\w-]*\d[\w-]*)?"
    r"|\bM-\d\d-\d\d\d?|\bE\.?\s?O\.?\s*\d{4,5}|\bP(?:ub)?\.?\s*L\.?\s*\d+-\d+)"
    r"[^.;!?]{0,30}?(?:\bof|\bdated|\bsigned(?:\s+on)?|\bissued(?:\s+on)?|\bfrom|,|\()\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """A date in a document's text, with the text around it (whitespace collapsed)."""

    date: dt.date
    text: str  # as written
    before: str  # up to CONTEXT_BEFORE characters before it
    after: str  # up to CONTEXT_AFTER characters after it

    def as_json(self) -> dict[str, str]:
        return {
            "date": self.date.isoformat(),
            "text": self.text,
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DateMention:
        return cls(
            date=dt.date.fromisoformat(str(data["date"])),
            text=str(data.get("text", "")),
            before=str(data.get("before", "")),
            after=str(data.get("after", "")),
        )

    @property
    def is_citation(self) -> bool:
        return bool(_CITATION_BEFORE.search(self.before))


def date_mentions(text: str) -> list[DateMention]:
    """Every date in ``text``, in order, without overlaps: "October 24, 2011", "Oct. 24,
    2011", "24 October 2011", "2011-10-24", "10/24/2011" (U.S. order), "September 2011"
    (read as the first of the month)."""
    flat = collapse(text)
    found: list[tuple[int, int, dt.date]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(flat):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end, _ in found):
                continue
            groups = match.groupdict()
            year = int(groups["year"])
            if year < 100:
                year += 2000 if year < 70 else 1900
            if groups.get("mon"):
                month = _MONTHS[groups["mon"].lower().rstrip(".")]
            else:
                month = int(groups["month"])
            day = int(groups["day"]) if groups.get("day") else 1
            try:
                date = dt.date(year, month, day)
            except ValueError:
                continue
            found.append((start, end, date))
    found.sort()
    return [
        DateMention(
            date=date,
            text=flat[start:end],
            before=flat[max(start - CONTEXT_BEFORE, 0) : start],
            after=flat[end : end + CONTEXT_AFTER],
        )
        for start, end, date in found
    ]


def stated_date(mentions: Sequence[DateMention]) -> DateMention | None:
    """The date a document states it was published, from its date mentions, or None.

    A date counts only within a few words after published/issued/released/dated/posted or
    "Date:", in the same sentence, and never when it belongs to a cited order, memorandum,
    act or law. An "updated" or "last reviewed" date, a milestone, a citation: None.
    """
    for mention in mentions:
        if mention.is_citation:
            continue
        for keyword in _STRONG_DATE_WORDS.finditer(mention.before):
            between = mention.before[keyword.end() :]
            if len(between) <= _KEYWORD_REACH and not re.search(r"[.!?]\s", between):
                return mention
    return None


def find_stated_date(text: str) -> dt.date | None:
    """The publication date ``text`` states about itself (see `stated_date`), or None."""
    if not text:
        return None
    found = stated_date(date_mentions(text))
    return found.date if found else None
