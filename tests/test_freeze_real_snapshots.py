"""The freeze classification on the real registry snapshots, checked against an independent
computation (issue: freeze, done-when (a)).

All eight real files of ../shared/data/dotgov/ are loaded with `govaudit inventory load`;
`govaudit --policy TEST audit freeze --all --format json` classifies every domain against
test windows laid across the snapshot dates; this file recomputes every classification
from the CSV files with the csv module alone (none of govaudit's code) and compares.

What the independent computation has to know about the files (SOURCES.md):
* the domain column is `Domain Name` or `Domain name`; names are UPPER CASE before 2024;
* the 2018 file starts with a BOM; some files are CRLF;
* `.fed.us` names are not .gov domains;
* the agency is `Agency` up to 2024 and `Organization name` from the 2026-01 layout on
  (where `Agency` disappeared and `Organization name` took its values);
* the federal files list only federal domains: for a city's domain only the full list
  counts, and its silence in a federal file means nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

WINDOWS = {
    # the examples: across the snapshot dates, and one starting before the oldest
    "A 2015-2017": (dt.date(2015, 1, 1), dt.date(2017, 12, 31)),
    "B 2019-2021": (dt.date(2019, 6, 1), dt.date(2021, 6, 30)),
    "C before the oldest": (dt.date(2012, 1, 1), dt.date(2014, 12, 8)),
    # wholly contains the interval (2016-07-04, 2018-05-25]: in-freeze cases
    "D 2016-2018": (dt.date(2016, 7, 1), dt.date(2018, 6, 30)),
    # a future freeze between the last federal file and the full list
    "E future": (dt.date(2026, 8, 20), dt.date(2027, 12, 31)),
}
RANK = ["in-freeze", "possibly-in-freeze", "unknown", "outside"]
GOV_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.gov")

WAIVER_IN_TIME = dt.date(2014, 6, 1)  # before every interval that can be in a window
WAIVER_LATE = dt.date(2016, 1, 1)  # inside (2014-12-16, 2016-07-04]: after its start


# ---------------------------------------------------------------- the independent computation


def read_snapshot(path: Path) -> dict[str, tuple[bool, str | None]]:
    """domain -> (federal?, agency) of one file, with the csv module only."""
    text = path.read_bytes().decode("utf-8")
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip().lower() for h in rows[0]]
    name_col = header.index("domain name")
    type_col = header.index("domain type")
    # 2026-01 layout: Agency,Organization name -> Organization name,Suborganization name
    agency_col = header.index("agency") if "agency" in header else header.index("organization name")
    out: dict[str, tuple[bool, str | None]] = {}
    for row in rows[1:]:
        name = row[name_col].strip().lower()
        if not GOV_NAME.fullmatch(name):
            continue  # .fed.us and the like
        agency = " ".join(row[agency_col].split()) or None
        out[name] = (row[type_col].strip().startswith("Federal"), agency)
    return out


def independent(dotgov: Path, waivers: dict[str, dt.date]) -> dict[tuple[str, str], dict]:
    snaps = []
    for path in dotgov.glob("*.csv"):
        day = dt.date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", path.name).group(0))
        snaps.append((day, path.name.startswith("full"), read_snapshot(path)))
    snaps.sort(key=lambda s: s[0])
    assert len({s[0] for s in snaps}) == len(snaps) == 8
    names = set().union(*(s[2] for s in snaps))
    expected: dict[tuple[str, str], dict] = {}
    for name in names:
        # a domain's kind is its type in the newest file that lists it
        federal, agency = [s[2][name] for s in snaps if name in s[2]][-1]
        covering = [s for s in snaps if s[1] or federal]
        stretches: list[tuple[dt.date | None, dt.date, bool]] = []  # (absent, listed, returned)
        previous: dt.date | None = None
        was_listed = ever = False
        for day, _, listed_names in covering:
            listed = name in listed_names
            if listed and not was_listed:
                stretches.append((previous, day, ever))
            was_listed, ever, previous = listed, ever or listed, day
        for wname, (start, end) in WINDOWS.items():
            verdicts = []
            for lo, hi, returned in stretches:
                if lo is None:
                    word = "outside" if start > hi else "unknown"
                else:
                    first = lo + dt.timedelta(days=1)
                    if hi < start or first > end:
                        word = "outside"
                    elif first >= start and hi <= end:
                        word = "in-freeze"
                    else:
                        word = "possibly-in-freeze"
                verdicts.append((RANK.index(word), word, lo, hi, returned))
            _, word, lo, hi, returned = min(verdicts, key=lambda v: v[0])
            status = None
            if word in ("in-freeze", "possibly-in-freeze"):
                granted = waivers.get(name)
                status = (
                    "no-waiver"
                    if granted is None
                    else "waived"
                    if lo is not None and granted <= lo
                    else "late-waiver"
                )
            expected[(name, wname)] = {
                "classification": word,
                "interval": [lo.isoformat() if lo else None, hi.isoformat()],
                "agency": agency,
                "waiver": status,
                "returned": returned,
            }
    return expected


# ---------------------------------------------------------------- running govaudit


def run(db_url: str, *args: str) -> Result:
    from govaudit.cli import cli

    result = CliRunner().invoke(cli, ["--db", db_url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def policy_toml(path: Path) -> Path:
    blocks = [
        f'[[freeze.windows]]\nname = "{name}"\nstart = {start}\nend = {end}\n'
        f'authority = "test policy"\n'
        for name, (start, end) in WINDOWS.items()
    ]
    # Every registry type is classified here (the full list's cities and states too), so the
    # comparison covers all 16,900 domains; the bundled policy judges federal ones only.
    header = "[freeze]\nfederal_only = false\n\n"
    path.write_text(header + "\n".join(blocks), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def real(dotgov_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("real-freeze")
    db_url = f"sqlite:///{tmp}/real.db"
    run(db_url, "inventory", "load", *map(str, sorted(dotgov_dir.glob("*.csv"))))
    # Waivers for two domains possibly registered in window A, and one never registered.
    no_waivers = independent(dotgov_dir, {})
    maybe_a = sorted(
        name
        for (name, window), row in no_waivers.items()
        if window == "A 2015-2017"
        and row["classification"] == "possibly-in-freeze"
        and row["interval"][0] == "2014-12-16"
    )
    waivers = {maybe_a[0]: WAIVER_IN_TIME, maybe_a[1]: WAIVER_LATE}
    waivers_csv = tmp / "waivers.csv"
    waivers_csv.write_text(
        "domain,granted_on,granted_by,reference,note\n"
        + "".join(
            f"{d},{g},Federal CIO,TEST-{i},test\n" for i, (d, g) in enumerate(waivers.items())
        )
        + "never-registered-test.gov,2015-02-01,Federal CIO,TEST-X,never registered\n",
        encoding="utf-8",
    )
    policy = policy_toml(tmp / "policy.toml")
    common = ["--policy", str(policy), "--waivers", str(waivers_csv)]
    rows = json.loads(run(db_url, *common, "audit", "freeze", "--all", "--format", "json").stdout)
    run(db_url, *common, "audit")
    findings = json.loads(run(db_url, "export", "findings", "--format", "json").stdout)
    freeze_csv = run(
        db_url, "export", "findings", "--format", "csv", "--rule", "freeze-registration"
    ).stdout
    return {
        "rows": rows,
        "expected": independent(dotgov_dir, waivers),
        "waivers": waivers,
        "findings": findings,
        "freeze_csv": freeze_csv,
    }


# ---------------------------------------------------------------- the comparisons


def test_every_classification_equals_the_independent_computation(real: dict[str, Any]) -> None:
    rows, expected = real["rows"], real["expected"]
    got = {(r["domain"], r["window"]): r for r in rows}
    assert len(got) == len(rows), "one row per domain and window"
    assert set(got) == set(expected)
    mismatches = [
        (key, want, {k: got[key][k] for k in want if k in got[key]})
        for key, want in expected.items()
        if (got[key]["classification"], got[key]["interval"], got[key]["agency"])
        != (want["classification"], want["interval"], want["agency"])
    ]
    assert not mismatches, f"{len(mismatches)} differ, e.g. {mismatches[:5]}"
    # The comparison means something: every word occurs, in every window where it can.
    counts = Counter((w, e["classification"]) for (_, w), e in expected.items())
    for word in RANK:
        assert any(counts[(w, word)] for w in WINDOWS), word
    assert counts[("D 2016-2018", "in-freeze")] > 10
    assert counts[("A 2015-2017", "possibly-in-freeze")] > 10
    # window C starts before the oldest snapshot: nothing listed in 2014 can be settled
    assert counts[("C before the oldest", "unknown")] > 16000
    assert counts[("C before the oldest", "in-freeze")] == 0
    for row in rows:
        assert row["basis"] == "snapshots" and row["registration_date"] is None


def test_waiver_status_equals_the_independent_computation(real: dict[str, Any]) -> None:
    got = {(r["domain"], r["window"]): r["waiver"] for r in real["rows"]}
    want = {key: e["waiver"] for key, e in real["expected"].items()}
    assert got == want
    first, second = real["waivers"]
    assert got[(first, "A 2015-2017")] == "waived"
    assert got[(second, "A 2015-2017")] == "late-waiver"


def test_domains_in_the_oldest_snapshot_are_before_it(real: dict[str, Any]) -> None:
    got = {(r["domain"], r["window"]): r for r in real["rows"]}
    usda = {w: got[("usda.gov", w)] for w in WINDOWS}  # in every federal file since 2014
    assert usda["C before the oldest"]["classification"] == "unknown"
    assert usda["C before the oldest"]["interval"] == [None, "2014-12-16"]
    assert "oldest snapshot (2014-12-16)" in usda["C before the oldest"]["note"]
    for w in ("A 2015-2017", "B 2019-2021", "D 2016-2018", "E future"):
        assert usda[w]["classification"] == "outside", w


def test_non_federal_domains_are_covered_by_the_full_list_only(real: dict[str, Any]) -> None:
    got = {(r["domain"], r["window"]): r for r in real["rows"]}
    expected = real["expected"]
    non_federal = [
        name
        for (name, w), e in expected.items()
        if w == "E future" and e["interval"] == [None, "2026-08-22"]
    ]
    assert len(non_federal) > 15000
    # A city's domain is "before 2026-08-22": unknown even for the future window that
    # starts two days earlier, while every federal domain is outside it.
    for name in non_federal[:200]:
        assert got[(name, "E future")]["classification"] == "unknown", name
    assert {e["classification"] for (_, w), e in expected.items() if w == "E future"} == {
        "unknown",
        "outside",
    }
    # Listed as federal in 2018-2022, a state body's domain in the full list: govaudit takes
    # the newest type, so the federal files' silence before 2018 is no evidence of absence.
    assert got[("promesa.gov", "B 2019-2021")]["classification"] == "unknown"
    assert got[("promesa.gov", "B 2019-2021")]["interval"] == [None, "2026-08-22"]


def test_a_domain_that_came_back_says_so(real: dict[str, Any]) -> None:
    got = {(r["domain"], r["window"]): r for r in real["rows"]}
    returned = [(key, e) for key, e in real["expected"].items() if e["returned"]]
    assert returned, "the real history has domains that disappear and come back"
    for key, _ in returned:
        assert "came back" in got[key]["note"], key
    for key, e in real["expected"].items():
        if not e["returned"]:
            assert "came back" not in got[key]["note"], key
    # reentry.gov: listed 2014, 2016, absent 2018, back 2020: possibly in window B.
    reentry = got[("reentry.gov", "B 2019-2021")]
    assert reentry["classification"] == "possibly-in-freeze"
    assert reentry["interval"] == ["2018-05-25", "2020-06-25"]


def test_findings_on_the_real_snapshots(real: dict[str, Any]) -> None:
    expected = real["expected"]
    findings = real["findings"]
    freeze = {(f["domain"], f["window"]): f for f in findings if f["rule"] == "freeze-registration"}
    want = {
        key: e
        for key, e in expected.items()
        if e["classification"] in ("in-freeze", "possibly-in-freeze")
    }
    assert set(freeze) == set(want)
    severity = {
        ("in-freeze", "no-waiver"): "high",
        ("possibly-in-freeze", "no-waiver"): "medium",
        ("in-freeze", "waived"): "info",
        ("possibly-in-freeze", "waived"): "info",
    }
    for key, f in freeze.items():
        e = want[key]
        assert (f["classification"], f["waiver"], f["agency"]) == (
            e["classification"],
            e["waiver"],
            e["agency"],
        ), key
        if (e["classification"], e["waiver"]) in severity:
            assert f["severity"] == severity[(e["classification"], e["waiver"])], key
        assert f["evidence"]["snapshots"] and f["evidence"]["basis"] == "snapshots"
    late = [f for f in findings if f["rule"] == "late-waiver"]
    assert {(f["domain"], f["window"]) for f in late} == {
        key for key, e in want.items() if e["waiver"] == "late-waiver"
    }
    orphans = [f["domain"] for f in findings if f["rule"] == "orphan-waiver"]
    assert orphans == ["never-registered-test.gov"]
    # The CSV export has the same freeze findings, with the public columns.
    reader = csv.DictReader(io.StringIO(real["freeze_csv"]))
    assert {
        "rule",
        "severity",
        "domain",
        "agency",
        "window",
        "classification",
        "waiver",
        "evidence",
    } <= set(reader.fieldnames or [])
    csv_rows = list(reader)
    assert {(r["domain"], r["window"]) for r in csv_rows} == set(freeze)
    assert all(r["rule"] == "freeze-registration" for r in csv_rows)
    assert all(json.loads(r["evidence"])["snapshots"] for r in csv_rows)
