"""The freeze classification (audit/freeze.py) and the freeze rules on hand-made AuditInput.

Pure tests: no database, no network. Dates follow the issue: a domain first listed in
snapshot F and absent from the newest covering snapshot P before it was registered in
(P, F]; a domain in the oldest snapshot was registered "before" it; RDAP's registration
date settles the question when there is one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.audit_run import evaluate
from audit.findings import AuditInput, FindingDraft
from audit.freeze import (
    IN_FREEZE,
    LATE_WAIVER,
    NO_WAIVER,
    OUTSIDE,
    POSSIBLY,
    UNKNOWN,
    WAIVED,
    Evidence,
    RdapView,
    SnapshotView,
    appearances,
    classify,
    freeze_table,
    waiver_status,
)
from audit.policy_file import FreezeWindow, Policy
from audit.rules import RULES
from audit.waivers_file import Waiver

D = dt.date
FETCHED = dt.datetime(2026, 9, 1, 12, 0, 0)

W2011 = FreezeWindow("initial", D(2011, 6, 13), D(2011, 9, 11), "OMB M-11-24")
W2012 = FreezeWindow("extension", D(2012, 1, 1), D(2014, 12, 8), "OMB M-11-24")


def snap(sid: int, day: D, *domains: str, kind: str = "federal") -> SnapshotView:
    return SnapshotView(sid, day, f"{kind}-{day}.csv", kind, frozenset(domains))


def rdap(state: str = "registered", when: D | None = None) -> RdapView:
    registration = dt.datetime(when.year, when.month, when.day, 14, 0) if when else None
    return RdapView(state, registration, FETCHED, "https://rdap.test.gov/rdap/domain/x.gov")


def waiver(domain: str, granted: D, reference: str = "W-1") -> Waiver:
    return Waiver(domain, granted, "Federal CIO", reference, "", f"waivers.csv:{granted.day}")


def policy(*windows: FreezeWindow) -> Policy:
    return Policy(
        data={
            "freeze": {
                "windows": [
                    {"name": w.name, "start": w.start, "end": w.end, "authority": w.authority}
                    for w in windows
                ]
            }
        },
        sources=("test-policy.toml",),
    )


def evidence(
    domain: str,
    snapshots: list[SnapshotView],
    federal: bool = True,
    answer: RdapView | None = None,
) -> Evidence:
    apps, oldest = appearances(domain, snapshots, federal)
    return Evidence(domain, apps, oldest, answer)


def classify_one(
    snapshots: list[SnapshotView],
    window: FreezeWindow,
    domain: str = "x.gov",
    federal: bool = True,
    answer: RdapView | None = None,
) -> str:
    return classify(evidence(domain, snapshots, federal, answer), window).classification


# A registry history used by several tests: x.gov appears in the 2012-06-01 snapshot.
HISTORY = [
    snap(1, D(2011, 1, 1), "old.gov"),
    snap(2, D(2012, 6, 1), "old.gov", "x.gov"),
    snap(3, D(2013, 6, 1), "old.gov", "x.gov"),
]


# ---------------------------------------------------------------- evidence from snapshots


def test_first_listing_and_the_newest_absent_snapshot_give_the_interval() -> None:
    apps, oldest = appearances("x.gov", HISTORY)
    assert oldest == D(2011, 1, 1)
    [app] = apps
    assert app.interval == (D(2011, 1, 1), D(2012, 6, 1))
    assert app.first.source_name == "federal-2012-06-01.csv"
    assert app.previous is not None and app.previous.source_name == "federal-2011-01-01.csv"
    assert not app.returned


def test_domain_in_the_oldest_snapshot_is_registered_before_it() -> None:
    [app], oldest = appearances("old.gov", HISTORY)
    assert app.interval == (None, D(2011, 1, 1)) and oldest == D(2011, 1, 1)
    ev = evidence("old.gov", HISTORY)
    # The window starts after the oldest snapshot: the registration came before it.
    later = FreezeWindow("later", D(2011, 1, 2), D(2011, 12, 31), "")
    assert classify(ev, later).classification == OUTSIDE
    # A window that may precede the oldest snapshot cannot be settled without RDAP.
    for window in (
        FreezeWindow("before", D(2009, 1, 1), D(2010, 12, 31), ""),
        FreezeWindow("across", D(2010, 6, 1), D(2011, 6, 1), ""),
        FreezeWindow("same day", D(2011, 1, 1), D(2011, 3, 1), ""),
    ):
        c = classify(ev, window)
        assert c.classification == UNKNOWN, window.name
        assert "oldest snapshot" in c.note and "2011-01-01" in c.note


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # interval (2011-01-01, 2012-06-01] = registration day in 2011-01-02 .. 2012-06-01
        (D(2011, 1, 2), D(2012, 6, 1), IN_FREEZE),  # exactly the interval
        (D(2010, 1, 1), D(2013, 1, 1), IN_FREEZE),  # wholly inside a wider window
        (D(2011, 1, 3), D(2012, 6, 1), POSSIBLY),  # misses the first possible day
        (D(2011, 1, 2), D(2012, 5, 31), POSSIBLY),  # misses the last possible day
        (D(2011, 6, 13), D(2011, 9, 11), POSSIBLY),  # window inside the interval
        (D(2012, 6, 1), D(2013, 1, 1), POSSIBLY),  # touches the last day
        (D(2010, 1, 1), D(2011, 1, 2), POSSIBLY),  # touches the first day
        (D(2010, 1, 1), D(2011, 1, 1), OUTSIDE),  # ends on the day it was still absent
        (D(2012, 6, 2), D(2013, 1, 1), OUTSIDE),  # starts after it was listed
    ],
)
def test_interval_against_window_boundaries(start: D, end: D, expected: str) -> None:
    c = classify(evidence("x.gov", HISTORY), FreezeWindow("w", start, end, ""))
    assert c.classification == expected
    assert c.basis == "snapshots" and c.interval == (D(2011, 1, 1), D(2012, 6, 1))
    assert c.registration_date is None


def test_a_domain_that_disappears_and_comes_back_is_a_new_registration() -> None:
    history = [
        snap(1, D(2010, 1, 1), "back.gov"),
        snap(2, D(2011, 1, 1)),
        snap(3, D(2011, 10, 1), "back.gov"),
        snap(4, D(2012, 10, 1), "back.gov"),
    ]
    first, second = appearances("back.gov", history)[0]
    assert first.interval == (None, D(2010, 1, 1)) and not first.returned
    assert second.interval == (D(2011, 1, 1), D(2011, 10, 1)) and second.returned
    ev = evidence("back.gov", history)
    # The return overlaps the 2011 window: possibly; it says it is a return.
    c = classify(ev, W2011)
    assert c.classification == POSSIBLY
    assert c.interval == (D(2011, 1, 1), D(2011, 10, 1))
    assert "came back" in c.note and "new registration" in c.note
    # Wholly inside a window around the return: in-freeze.
    around = FreezeWindow("around", D(2010, 12, 1), D(2011, 12, 31), "")
    assert classify(ev, around).classification == IN_FREEZE
    # A window after the return: both registrations are outside.
    assert classify(ev, W2012).classification == OUTSIDE
    # A window before the oldest snapshot: the first registration may be in it.
    early = FreezeWindow("early", D(2008, 1, 1), D(2008, 12, 31), "")
    assert classify(ev, early).classification == UNKNOWN
    snaps = ev.as_json()["snapshots"]
    assert [s["returned"] for s in snaps] == [False, True]
    assert snaps[1]["previous_absent"] == "2011-01-01"
    assert snaps[1]["first_listed"] == "2011-10-01"


def test_federal_files_say_nothing_of_a_non_federal_domain() -> None:
    history = [
        snap(1, D(2011, 1, 1), "usda.gov"),
        snap(2, D(2012, 1, 1), "usda.gov"),
        snap(3, D(2013, 1, 1), "usda.gov", "city.gov", kind="full"),
    ]
    # The city's domain is in the only list that covers it: "before 2013-01-01".
    [app], oldest = appearances("city.gov", history, federal=False)
    assert app.interval == (None, D(2013, 1, 1)) and oldest == D(2013, 1, 1)
    assert classify_one(history, W2012, "city.gov", federal=False) == UNKNOWN
    # Read as federal (wrongly), the federal files' silence would look like an absence.
    [wrong], _ = appearances("city.gov", history, federal=True)
    assert wrong.interval == (D(2012, 1, 1), D(2013, 1, 1))
    # A federal domain is covered by both kinds.
    assert appearances("usda.gov", history, federal=True)[1] == D(2011, 1, 1)


def test_a_federal_domain_new_in_the_full_list_is_dated_by_the_federal_file_before() -> None:
    history = [
        snap(1, D(2026, 8, 18), "usda.gov"),
        snap(2, D(2026, 8, 22), "usda.gov", "new.gov", "city.gov", kind="full"),
    ]
    [app], _ = appearances("new.gov", history, federal=True)
    assert app.interval == (D(2026, 8, 18), D(2026, 8, 22))


def test_snapshots_of_one_date_are_one_observation() -> None:
    """Two files of the same date (e.g. a corrected re-export) that disagree: the domain
    was listed that day; no empty interval (D, D], no false disappearance, whatever the load
    order (snapshot ids)."""
    before = snap(1, D(2011, 1, 1))
    after = snap(9, D(2013, 1, 1), "x.gov")
    for listing_id, silent_id in ((2, 3), (3, 2)):
        same_day = [snap(listing_id, D(2012, 1, 1), "x.gov"), snap(silent_id, D(2012, 1, 1))]
        apps, _ = appearances("x.gov", [before, *same_day, after])
        assert [a.interval for a in apps] == [(D(2011, 1, 1), D(2012, 1, 1))], listing_id
        assert not apps[0].returned


# ---------------------------------------------------------------- RDAP evidence


def test_rdap_registration_date_settles_the_question() -> None:
    # The snapshots only say "possibly"; RDAP says exactly when.
    inside = classify(evidence("x.gov", HISTORY, answer=rdap(when=D(2011, 7, 4))), W2011)
    assert inside.classification == IN_FREEZE
    assert inside.basis == "rdap" and inside.registration_date == D(2011, 7, 4)
    assert inside.interval is None and "RDAP registration 2011-07-04" in inside.note
    outside = classify(evidence("x.gov", HISTORY, answer=rdap(when=D(2011, 12, 1))), W2011)
    assert outside.classification == OUTSIDE and outside.basis == "rdap"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2011, 6, 12), OUTSIDE),
        (D(2011, 6, 13), IN_FREEZE),  # windows are inclusive
        (D(2011, 9, 11), IN_FREEZE),
        (D(2011, 9, 12), OUTSIDE),
    ],
)
def test_rdap_date_on_window_boundaries(day: D, expected: str) -> None:
    assert classify_one([], W2011, answer=rdap(when=day)) == expected


@pytest.mark.parametrize(
    "state", ["not-registered", "rate-limited", "malformed", "timeout", "http-error", "dns"]
)
def test_rdap_without_a_date_falls_back_to_snapshots_or_unknown(state: str) -> None:
    answer = rdap(state)
    assert classify_one(HISTORY, W2011, answer=answer) == POSSIBLY
    c = classify(evidence("nowhere.gov", HISTORY, answer=answer), W2011)
    assert c.classification == UNKNOWN and c.basis == "none"
    assert f"RDAP: {state}" in c.note


def test_evidence_json_records_the_rdap_answer_with_its_fetch_time() -> None:
    ev = evidence("x.gov", HISTORY, answer=rdap(when=D(2011, 7, 4)))
    doc = ev.as_json()["rdap"]
    assert doc == {
        "state": "registered",
        "registration": "2011-07-04T14:00:00",
        "fetched_at": "2026-09-01T12:00:00",
        "url": "https://rdap.test.gov/rdap/domain/x.gov",
    }


# ---------------------------------------------------------------- waivers


def _rdap_class(day: D) -> Any:
    return classify(evidence("x.gov", [], answer=rdap(when=day)), W2011)


def test_waiver_in_time_late_or_missing() -> None:
    c = _rdap_class(D(2011, 7, 4))
    assert waiver_status(c, []) == (NO_WAIVER, None)
    early, same_day, late = (
        waiver("x.gov", D(2011, 7, 1), "early"),
        waiver("x.gov", D(2011, 7, 4), "same"),
        waiver("x.gov", D(2011, 7, 5), "late"),
    )
    assert waiver_status(c, [early]) == (WAIVED, early)
    assert waiver_status(c, [same_day]) == (WAIVED, same_day)  # "on or before"
    assert waiver_status(c, [late]) == (LATE_WAIVER, late)
    # With several, the one in time wins, whatever their order.
    assert waiver_status(c, [late, same_day]) == (WAIVED, same_day)
    later = waiver("x.gov", D(2011, 8, 1), "later")
    assert waiver_status(c, [later, late]) == (LATE_WAIVER, late)


def test_waiver_against_a_snapshot_interval_uses_the_interval_start() -> None:
    """The interval is (2011-01-01, 2012-06-01]; a waiver must be granted on or before its
    start (2011-01-01, the newest date the domain was seen absent) to count as in time.
    Any later waiver may postdate the registration: late-waiver (the conservative reading)."""
    c = classify(evidence("x.gov", HISTORY), W2011)
    assert c.reference_date == D(2011, 1, 1)
    assert waiver_status(c, [waiver("x.gov", D(2010, 12, 1))])[0] == WAIVED
    assert waiver_status(c, [waiver("x.gov", D(2011, 1, 1))])[0] == WAIVED
    assert waiver_status(c, [waiver("x.gov", D(2011, 3, 1))])[0] == LATE_WAIVER


def test_freeze_table_sets_a_waiver_status_only_for_in_or_possibly() -> None:
    rows = freeze_table(
        {"x.gov": ("Agency X", True), "old.gov": ("Agency O", True)},
        HISTORY,
        {},
        [W2011],
        [waiver("old.gov", D(2011, 7, 1))],
    )
    by = {r.domain: r for r in rows}
    assert by["x.gov"].classification.classification == POSSIBLY
    assert by["x.gov"].waiver == NO_WAIVER and by["x.gov"].agency == "Agency X"
    assert by["old.gov"].classification.classification == OUTSIDE
    assert by["old.gov"].waiver is None
    assert by["x.gov"].as_json() == {
        "domain": "x.gov",
        "agency": "Agency X",
        "federal": True,
        "window": "initial",
        "classification": POSSIBLY,
        "waiver": NO_WAIVER,
        "registration_date": None,
        "interval": ["2011-01-01", "2012-06-01"],
        "basis": "snapshots",
        "note": by["x.gov"].classification.note,
    }


# ---------------------------------------------------------------- the rules


def audit_input(
    windows: list[FreezeWindow],
    snapshots: list[SnapshotView],
    registry: dict[str, tuple[str | None, bool]],
    answers: dict[str, RdapView] | None = None,
    waivers: list[Waiver] | None = None,
    unlisted: dict[str, dict[str, Any]] | None = None,
) -> AuditInput:
    return AuditInput(
        policy=policy(*windows),
        waivers=waivers or [],
        snapshots=snapshots,
        registry=registry,
        rdap=answers or {},
        unlisted=unlisted or {},
    )


def by_key(drafts: list[FindingDraft], rule: str) -> dict[tuple[str | None, str | None], Any]:
    return {(d.domain, d.window): d for d in drafts if d.rule == rule}


# One world for the rule tests: five domains registered in 2011-2012 (RDAP), one possibly.
WORLD_SNAPSHOTS = [
    snap(1, D(2010, 1, 1), "old.gov"),
    snap(2, D(2013, 1, 1), "old.gov", "nowaiver.gov", "intime.gov", "late.gov", "maybe.gov"),
]
WORLD_REGISTRY = {
    d: ("Agency " + d.split(".")[0], True)
    for d in ("old.gov", "nowaiver.gov", "intime.gov", "late.gov", "maybe.gov")
}
WORLD_RDAP = {
    "nowaiver.gov": rdap(when=D(2011, 7, 1)),
    "intime.gov": rdap(when=D(2011, 8, 1)),
    "late.gov": rdap(when=D(2012, 3, 1)),
    "maybe.gov": rdap("rate-limited"),
    "old.gov": rdap(when=D(1997, 1, 1)),
    "never.gov": rdap("not-registered"),
}
WORLD_WAIVERS = [
    waiver("intime.gov", D(2011, 7, 15), "W-intime"),
    waiver("late.gov", D(2012, 4, 1), "W-late"),
    waiver("never.gov", D(2011, 7, 1), "W-never"),
    waiver("typo.gov", D(2011, 7, 1), "W-typo"),
]


def world(*windows: FreezeWindow) -> AuditInput:
    return audit_input(
        list(windows or (W2011, W2012)),
        WORLD_SNAPSHOTS,
        dict(WORLD_REGISTRY),
        dict(WORLD_RDAP),
        list(WORLD_WAIVERS),
        unlisted={
            "brandnew.gov": {"from_url": "https://www.intime.gov/", "agency": "Agency intime"},
            "broken.gov": {"from_url": "https://www.late.gov/", "agency": "Agency late"},
            "old.gov": {"from_url": "https://www.late.gov/"},  # listed: not unlisted
        },
    )


def test_freeze_registration_severity_and_fields() -> None:
    data = world()
    data.rdap["brandnew.gov"] = rdap(when=D(2013, 2, 1))
    data.rdap["broken.gov"] = rdap("not-registered")
    found = by_key(evaluate(data), "freeze-registration")
    assert set(found) == {
        ("nowaiver.gov", "initial"),
        ("intime.gov", "initial"),
        ("late.gov", "extension"),
        ("maybe.gov", "initial"),
        ("maybe.gov", "extension"),
        ("brandnew.gov", "extension"),  # unlisted, dated by RDAP
    }
    expect = {
        ("nowaiver.gov", "initial"): (IN_FREEZE, NO_WAIVER, "high"),
        ("intime.gov", "initial"): (IN_FREEZE, WAIVED, "info"),
        ("late.gov", "extension"): (IN_FREEZE, LATE_WAIVER, "medium"),
        ("maybe.gov", "initial"): (POSSIBLY, NO_WAIVER, "medium"),
        # In no snapshot, so its type is unknown: at most medium.
        ("brandnew.gov", "extension"): (IN_FREEZE, NO_WAIVER, "medium"),
    }
    for key, (classification, status, severity) in expect.items():
        d = found[key]
        assert (d.classification, d.waiver, d.severity) == (classification, status, severity), key
        assert d.rule == "freeze-registration" and d.domain == key[0] and d.window == key[1]
        assert d.evidence["basis"] in ("rdap", "snapshots") and d.evidence["note"]
    assert found[("nowaiver.gov", "initial")].agency == "Agency nowaiver"
    assert (
        found[("nowaiver.gov", "initial")].evidence["rdap"]["registration"].startswith("2011-07-01")
    )
    assert found[("intime.gov", "initial")].evidence["waiver"]["granted_on"] == "2011-07-15"
    maybe = found[("maybe.gov", "initial")]
    assert maybe.evidence["basis"] == "snapshots"
    assert maybe.evidence["rdap"]["state"] == "rate-limited"
    assert maybe.evidence["snapshots"][0]["previous_absent"] == "2010-01-01"


def test_late_waiver_finding() -> None:
    found = by_key(evaluate(world()), "late-waiver")
    assert set(found) == {("late.gov", "extension")}
    d = found[("late.gov", "extension")]
    assert (d.severity, d.classification, d.waiver) == ("medium", IN_FREEZE, LATE_WAIVER)
    assert d.evidence["waiver"]["granted_on"] == "2012-04-01"
    assert d.evidence["waiver"]["reference"] == "W-late"
    assert d.evidence["reference_date"] == "2012-03-01"


def test_orphan_waiver_finding() -> None:
    found = by_key(evaluate(world()), "orphan-waiver")
    assert set(found) == {("never.gov", None), ("typo.gov", None)}
    never = found[("never.gov", None)]
    assert never.evidence["rdap"]["state"] == "not-registered"
    assert never.evidence["waiver"]["reference"] == "W-never"
    assert "not-registered" in never.summary
    assert found[("typo.gov", None)].evidence["rdap"] is None
    # A domain RDAP knows as registered is no orphan, even if no snapshot lists it.
    data = world()
    data.rdap["typo.gov"] = rdap(when=D(2014, 1, 1))
    assert ("typo.gov", None) not in by_key(evaluate(data), "orphan-waiver")


def test_unlisted_domain_finding() -> None:
    data = world()
    data.rdap["broken.gov"] = rdap("not-registered")
    found = by_key(evaluate(data), "unlisted-domain")
    assert set(found) == {("brandnew.gov", None), ("broken.gov", None)}
    assert "no RDAP answer yet" in found[("brandnew.gov", None)].summary
    assert "not registered" in found[("broken.gov", None)].summary
    assert found[("broken.gov", None)].agency == "Agency late"
    assert found[("broken.gov", None)].evidence["from_url"] == "https://www.late.gov/"
    # Unlisted and without a date: unknown, so no freeze finding for it.
    freeze = by_key(evaluate(data), "freeze-registration")
    assert not any(domain in ("brandnew.gov", "broken.gov") for domain, _ in freeze)


def test_another_policy_changes_the_findings_from_the_same_observations() -> None:
    before = evaluate(world())
    future = FreezeWindow("future", D(2030, 1, 1), D(2030, 12, 31), "")
    y1997 = FreezeWindow("1997", D(1997, 1, 1), D(1997, 12, 31), "")
    after = evaluate(world(future, y1997))
    assert by_key(before, "freeze-registration") and by_key(before, "late-waiver")
    freeze = by_key(after, "freeze-registration")
    assert set(freeze) == {("old.gov", "1997")}
    assert freeze[("old.gov", "1997")].severity == "high"
    assert not by_key(after, "late-waiver")
    # Waivers that name unregistered domains do not depend on the windows.
    assert set(by_key(after, "orphan-waiver")) == set(by_key(before, "orphan-waiver"))


def test_the_freeze_rules_are_registered_with_their_ids() -> None:
    for rule_id in ("freeze-registration", "late-waiver", "orphan-waiver", "unlisted-domain"):
        assert RULES[rule_id].id == rule_id and RULES[rule_id].description
    assert evaluate(world(), ["orphan-waiver"]) == [
        d for d in evaluate(world()) if d.rule == "orphan-waiver"
    ]


# ---------------------------------------------------------------- properties

BASE = D(2010, 1, 1)
days = st.integers(min_value=0, max_value=120)


@st.composite
def histories(draw: Any) -> list[SnapshotView]:
    """Up to 7 snapshots on small day offsets (dates may repeat), listing x.gov or not."""
    n = draw(st.integers(min_value=1, max_value=7))
    offsets = draw(st.lists(days, min_size=n, max_size=n))
    listed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    ids = draw(st.permutations(list(range(1, n + 1))))
    return [
        snap(ids[i], BASE + dt.timedelta(days=offsets[i]), *(["x.gov"] if listed[i] else []))
        for i in range(n)
    ]


@st.composite
def windows(draw: Any) -> FreezeWindow:
    a, b = sorted(draw(st.lists(days, min_size=2, max_size=2)))
    return FreezeWindow("w", BASE + dt.timedelta(days=a), BASE + dt.timedelta(days=b), "")


@settings(max_examples=300, deadline=None)
@given(lo=days, length=st.integers(min_value=1, max_value=60), window=windows())
def test_property_an_interval_wholly_inside_a_window_is_never_outside(
    lo: int, length: int, window: FreezeWindow
) -> None:
    low, high = BASE + dt.timedelta(days=lo), BASE + dt.timedelta(days=lo + length)
    history = [snap(1, low), snap(2, high, "x.gov")]
    c = classify_one(history, window)
    first_day = low + dt.timedelta(days=1)
    if window.start <= first_day and high <= window.end:
        assert c == IN_FREEZE
    assert c != UNKNOWN


@settings(max_examples=300, deadline=None)
@given(history=histories(), window=windows(), order=st.randoms(use_true_random=False))
def test_property_classification_is_invariant_to_snapshot_order(
    history: list[SnapshotView], window: FreezeWindow, order: Any
) -> None:
    shuffled = list(history)
    order.shuffle(shuffled)
    assert classify(evidence("x.gov", shuffled), window) == classify(
        evidence("x.gov", history), window
    )


@settings(max_examples=300, deadline=None)
@given(history=histories(), window=windows(), relabel=st.randoms(use_true_random=False))
def test_property_classification_does_not_depend_on_load_order(
    history: list[SnapshotView], window: FreezeWindow, relabel: Any
) -> None:
    """Snapshot ids are the load order; two files of one date may be loaded either way."""
    ids = [s.id for s in history]
    relabel.shuffle(ids)
    renumbered = [snap(i, s.as_of, *s.domains) for i, s in zip(ids, history, strict=True)]
    a = classify(evidence("x.gov", history), window)
    b = classify(evidence("x.gov", renumbered), window)
    assert (a.classification, a.interval) == (b.classification, b.interval)


def _oracle(history: list[SnapshotView], window: FreezeWindow) -> str:
    """The classification by brute force over every possible registration day."""
    listed_days = sorted({s.as_of for s in history if "x.gov" in s.domains})
    all_days = sorted({s.as_of for s in history})
    if not listed_days:
        return UNKNOWN
    verdicts = []
    was_listed = False
    previous: D | None = None
    for day in all_days:
        listed = day in listed_days
        if listed and not was_listed:
            if previous is None:
                verdicts.append(OUTSIDE if window.start > day else UNKNOWN)
            else:
                possible = [
                    previous + dt.timedelta(days=k) for k in range(1, (day - previous).days + 1)
                ]
                hits = [window.contains(p) for p in possible]
                verdicts.append(IN_FREEZE if all(hits) else POSSIBLY if any(hits) else OUTSIDE)
        was_listed = listed
        previous = day
    rank = [IN_FREEZE, POSSIBLY, UNKNOWN, OUTSIDE]
    return min(verdicts, key=rank.index)


@settings(max_examples=500, deadline=None)
@given(history=histories(), window=windows())
def test_property_matches_brute_force_over_possible_registration_days(
    history: list[SnapshotView], window: FreezeWindow
) -> None:
    assert classify_one(history, window) == _oracle(history, window)


@settings(max_examples=200, deadline=None)
@given(history=histories(), window=windows(), day=days)
def test_property_an_rdap_date_overrides_the_snapshots(
    history: list[SnapshotView], window: FreezeWindow, day: int
) -> None:
    when = BASE + dt.timedelta(days=day)
    c = classify(evidence("x.gov", history, answer=rdap(when=when)), window)
    assert c.classification == (IN_FREEZE if window.contains(when) else OUTSIDE)
    assert c.basis == "rdap" and c.registration_date == when


def test_a_federal_freeze_does_not_judge_other_domain_types() -> None:
    """M-11-24 bound federal agencies: a city's domain registered in the window is no finding,
    unless the policy says `[freeze] federal_only = false`."""
    import datetime as _dt

    from audit.audit_run import evaluate
    from audit.findings import AuditInput
    from audit.freeze import RdapView, SnapshotView
    from audit.policy_file import load_policy

    before = SnapshotView(1, _dt.date(2010, 1, 1), "full-2010.csv", "full", frozenset())
    after = SnapshotView(
        2, _dt.date(2012, 1, 1), "full-2012.csv", "full", frozenset({"city.gov", "fed.gov"})
    )
    when = _dt.datetime(2011, 7, 1)
    rdap = {
        d: RdapView("registered", when, when, f"https://rdap/{d}") for d in ("city.gov", "fed.gov")
    }

    def flagged(policy: object) -> set[str]:
        data = AuditInput(
            policy=policy,
            waivers=[],
            snapshots=[before, after],  # type: ignore[arg-type]
            registry={"city.gov": ("City of X", False), "fed.gov": ("A", True)},
            rdap=rdap,
        )
        return {f.domain or "" for f in evaluate(data, ["freeze-registration"])}

    assert flagged(load_policy()) == {"fed.gov"}
    from audit.policy_file import Policy

    everyone = load_policy()
    everyone = Policy(
        {**everyone.data, "freeze": {**everyone.data["freeze"], "federal_only": False}},
        everyone.sources,
    )
    assert flagged(everyone) == {"city.gov", "fed.gov"}
