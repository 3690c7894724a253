"""When did a domain come into existence, and does that fall inside a freeze window?

The public registry file has no registration date, so the date is established from
evidence, with its certainty stated:

1. RDAP: the `registration` event (RFC 9083). Exact; it settles the question when present.
2. Registry snapshots: the domain first appears in snapshot F, and the newest covering
   snapshot before F (P) does not list it: registration in (P.as_of, F.as_of]. A domain in
   the oldest snapshot was registered "before <oldest date>". A domain that disappears and
   comes back is a new registration at its return. A snapshot covers a domain when it lists
   domains of its kind: a federal-only file says nothing of a city's domain.
3. Web archives (`govaudit archive first-seen`): the earliest capture of any page of the
   domain proves it existed by then, a "registered no later than" bound. Without an RDAP
   date it narrows the interval: a domain captured before a window began is `outside` it,
   whatever the snapshots say later; a capture inside the interval ends it there.
4. Crawls: an unlisted .gov domain seen linked from agency sites exists (or is a broken
   link) but has no date; without RDAP or a capture it is `unknown`.

All functions here are pure: the audit runner gathers the inputs from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from audit.policy_file import FreezeWindow
from audit.waivers_file import Waiver

# Classification words (public interface).
IN_FREEZE = "in-freeze"
POSSIBLY = "possibly-in-freeze"
OUTSIDE = "outside"
UNKNOWN = "unknown"
# Waiver status words (public interface).
WAIVED = "waived"
LATE_WAIVER = "late-waiver"
NO_WAIVER = "no-waiver"

_RANK = {IN_FREEZE: 0, POSSIBLY: 1, UNKNOWN: 2, OUTSIDE: 3}


@dataclass(frozen=True)
class SnapshotView:
    """What the audit needs of one registry snapshot."""

    id: int
    as_of: dt.date
    source_name: str
    kind: str  # "federal" lists only federal domains; "full" lists every type
    domains: frozenset[str]

    def covers(self, federal: bool) -> bool:
        return self.kind == "full" or federal


@dataclass(frozen=True)
class RdapView:
    state: str  # registered | not-registered | malformed | rate-limited | timeout | ...
    registration: dt.datetime | None
    fetched_at: dt.datetime
    url: str


@dataclass(frozen=True)
class FirstCapture:
    """A domain's earliest capture in a web archive: it existed (served a page) by then."""

    when: dt.datetime
    capture_url: str | None
    archive: str
    fetched_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "first_capture": self.when.isoformat(timespec="seconds"),
            "capture_url": self.capture_url,
            "archive": self.archive,
            "asked_at": self.fetched_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class Appearance:
    """One stretch of consecutive covering snapshots that list the domain."""

    first: SnapshotView
    previous: SnapshotView | None  # newest covering snapshot before `first` (absent there)
    returned: bool  # the domain had been listed before and disappeared

    @property
    def interval(self) -> tuple[dt.date | None, dt.date]:
        return (self.previous.as_of if self.previous else None, self.first.as_of)


@dataclass(frozen=True)
class Evidence:
    domain: str
    appearances: tuple[Appearance, ...]
    oldest_covering: dt.date | None
    rdap: RdapView | None
    crawl: dict[str, Any] = field(default_factory=dict)
    first_capture: FirstCapture | None = None

    def as_json(self) -> dict[str, Any]:
        archived = {"archive": self.first_capture.as_json()} if self.first_capture else {}
        return {
            "snapshots": [
                {
                    "first_listed": a.first.as_of.isoformat(),
                    "first_file": a.first.source_name,
                    "previous_absent": a.previous.as_of.isoformat() if a.previous else None,
                    "previous_file": a.previous.source_name if a.previous else None,
                    "returned": a.returned,
                }
                for a in self.appearances
            ],
            "oldest_snapshot": self.oldest_covering.isoformat() if self.oldest_covering else None,
            "rdap": (
                {
                    "state": self.rdap.state,
                    "registration": self.rdap.registration.isoformat()
                    if self.rdap.registration
                    else None,
                    "fetched_at": self.rdap.fetched_at.isoformat(timespec="seconds"),
                    "url": self.rdap.url,
                }
                if self.rdap
                else None
            ),
            "crawl": self.crawl,
            **archived,
        }


def appearances(
    domain: str, snapshots: Sequence[SnapshotView], federal: bool | None = True
) -> tuple[tuple[Appearance, ...], dt.date | None]:
    """Stretches in which the domain is listed, over the snapshots that cover it.

    Snapshots of one date are one observation: the domain is listed that day when any of
    them lists it, and `previous` is always of an earlier date. Otherwise two files of one
    date that disagree (a corrected re-export) would give an empty interval (D, D] or a
    false disappearance, depending on the order they were loaded in.
    """
    # A domain of unknown type (in no snapshot) is looked for in every snapshot.
    covering = sorted(
        (s for s in snapshots if s.covers(federal is not False)), key=lambda s: (s.as_of, s.id)
    )
    found: list[Appearance] = []
    previous: SnapshotView | None = None
    listed_before = False
    in_stretch = False
    for _, same_day in groupby(covering, key=lambda s: s.as_of):
        group = list(same_day)
        listing = [s for s in group if domain in s.domains]
        listed = bool(listing)
        if listed and not in_stretch:
            found.append(Appearance(listing[0], previous, returned=listed_before))
        in_stretch = listed
        listed_before = listed_before or listed
        previous = group[-1]
    return tuple(found), (covering[0].as_of if covering else None)


@dataclass(frozen=True)
class Classification:
    window: FreezeWindow
    classification: str
    basis: str  # rdap | snapshots | archive | none
    registration_date: dt.date | None  # exact (RDAP) when known
    interval: tuple[dt.date | None, dt.date] | None  # (exclusive, inclusive]
    note: str

    @property
    def reference_date(self) -> dt.date | None:
        """The date a waiver must precede: the registration, or the interval's start."""
        if self.registration_date is not None:
            return self.registration_date
        if self.interval is not None:
            return self.interval[0]
        return None


def _classify_interval(
    lo: dt.date | None, hi: dt.date, window: FreezeWindow, oldest: dt.date | None
) -> tuple[str, str]:
    if lo is None:
        # Listed in the oldest covering snapshot: registered on or before it.
        if window.start > hi:
            return OUTSIDE, f"listed in the oldest snapshot ({hi}), before the window"
        return UNKNOWN, (
            f"listed in the oldest snapshot ({hi}); the window may precede it "
            "(only an RDAP date can settle this)"
        )
    first_day = lo + dt.timedelta(days=1)
    if hi < window.start or first_day > window.end:
        return OUTSIDE, f"registered between {first_day} and {hi}, outside the window"
    if first_day >= window.start and hi <= window.end:
        return IN_FREEZE, f"registered between {first_day} and {hi}, wholly inside the window"
    return POSSIBLY, f"registered between {first_day} and {hi}, which overlaps the window"


def classify(evidence: Evidence, window: FreezeWindow) -> Classification:
    rdap = evidence.rdap
    if rdap is not None and rdap.state == "registered" and rdap.registration is not None:
        day = rdap.registration.date()
        inside = window.contains(day)
        return Classification(
            window,
            IN_FREEZE if inside else OUTSIDE,
            "rdap",
            day,
            None,
            f"RDAP registration {day} is {'inside' if inside else 'outside'} the window",
        )
    first = evidence.first_capture
    if (
        first is not None
        and first.when.date() < window.start
        and not any(app.returned for app in evidence.appearances)
    ):
        return Classification(
            window,
            OUTSIDE,
            "archive",
            None,
            (None, first.when.date()),
            f"archived on {first.when.date()} ({first.capture_url or first.archive}), before "
            f"the window: registered no later than that",
        )
    if evidence.appearances:
        results = []
        for app in evidence.appearances:
            lo, hi = app.interval
            basis, captured = "snapshots", first.when.date() if first is not None else None
            if (
                captured is not None
                and not app.returned
                and (lo is None or captured > lo)
                and captured < hi
            ):
                # Captured inside the interval: registered by the capture's day.
                hi, basis = captured, "archive"
            word, note = _classify_interval(lo, hi, window, evidence.oldest_covering)
            if basis == "archive" and first is not None:
                note += f" (the end is its first archived capture, {first.capture_url})"
            if app.returned:
                note += " (it had disappeared from the registry and came back: a new registration)"
            results.append(Classification(window, word, basis, None, (lo, hi), note))
        return min(results, key=lambda c: _RANK[c.classification])
    note = "no snapshot lists it and RDAP gave no date"
    if first is not None:
        note += f"; first archived capture {first.when.date()} ({first.capture_url})"
    if rdap is not None:
        note += f" (RDAP: {rdap.state})"
    return Classification(window, UNKNOWN, "none", None, None, note)


def waiver_status(
    classification: Classification, waivers: Sequence[Waiver]
) -> tuple[str, Waiver | None]:
    """waived (granted on or before the registration / interval start), late-waiver, no-waiver."""
    if not waivers:
        return NO_WAIVER, None
    reference = classification.reference_date
    ordered = sorted(waivers, key=lambda w: w.granted_on)
    if reference is not None:
        for waiver in ordered:
            if waiver.granted_on <= reference:
                return WAIVED, waiver
    return LATE_WAIVER, ordered[0]


@dataclass(frozen=True)
class FreezeRow:
    domain: str
    agency: str | None
    classification: Classification
    waiver: str | None
    waiver_used: Waiver | None
    evidence: Evidence
    federal: bool | None = True  # None: in no registry snapshot, so its type is unknown

    def as_json(self) -> dict[str, Any]:
        c = self.classification
        first = self.evidence.first_capture
        return {
            "domain": self.domain,
            "agency": self.agency,
            "federal": self.federal,
            "window": c.window.name,
            "classification": c.classification,
            "waiver": self.waiver,
            "registration_date": c.registration_date.isoformat() if c.registration_date else None,
            "interval": [
                c.interval[0].isoformat() if c.interval[0] else None,
                c.interval[1].isoformat(),
            ]
            if c.interval
            else None,
            "basis": c.basis,
            "note": c.note,
            **({"first_capture": first.as_json()} if first is not None else {}),
        }


def freeze_table(
    domains: dict[str, tuple[str | None, bool | None]],
    snapshots: Sequence[SnapshotView],
    rdap: dict[str, RdapView],
    windows: Sequence[FreezeWindow],
    waivers: Sequence[Waiver],
    crawl: dict[str, dict[str, Any]] | None = None,
    first_captures: dict[str, FirstCapture] | None = None,
) -> list[FreezeRow]:
    """Classify every domain (name -> (agency, is_federal or None when unknown)) against
    every window; `first_captures`: each domain's earliest archived capture, if asked."""
    by_domain: dict[str, list[Waiver]] = {}
    for w in waivers:
        by_domain.setdefault(w.domain, []).append(w)
    rows: list[FreezeRow] = []
    for domain in sorted(domains):
        agency, federal = domains[domain]
        apps, oldest = appearances(domain, snapshots, federal)
        evidence = Evidence(
            domain,
            apps,
            oldest,
            rdap.get(domain),
            (crawl or {}).get(domain, {}),
            (first_captures or {}).get(domain),
        )
        for window in windows:
            c = classify(evidence, window)
            status, used = (None, None)
            if c.classification in (IN_FREEZE, POSSIBLY):
                status, used = waiver_status(c, by_domain.get(domain, []))
            rows.append(FreezeRow(domain, agency, c, status, used, evidence, federal))
    return rows
