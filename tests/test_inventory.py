"""The registry inventory on the real snapshots in ../shared/data/dotgov/ (issue: foundation)."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from audit.registry_csv import RegistryFileError, parse_registry
from tests.conftest import CliCall

REAL_FILES = [
    "federal-2014-12-16.csv",
    "federal-2016-07-04.csv",
    "federal-2018-05-25.csv",
    "federal-2020-06-25.csv",
    "federal-2022-06-24.csv",
    "federal-2024-06-25.csv",
    "federal-2026-08-18.csv",
    "full-2026-08-22.csv",
]


def independent_domains(path: Path) -> set[str]:
    """Distinct valid .gov second-level names (and the registry's names under fed.us),
    computed without govaudit's code."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    col = [h.strip().lower() for h in rows[0]].index("domain name")
    out = set()
    for row in rows[1:]:
        if not row or not row[col].strip():
            continue
        name = row[col].strip().lower().rstrip(".")
        labels = name.split(".")
        gov = len(labels) == 2 and labels[1] == "gov"
        fed_us = labels[-2:] == ["fed", "us"] and len(labels) <= 3
        if gov or fed_us:
            out.add(name)
    return out


def file_state(db_url: str) -> tuple[str, bool]:
    path = Path(db_url.removeprefix("sqlite:///"))
    wal = Path(str(path) + "-wal")
    return hashlib.sha256(path.read_bytes()).hexdigest(), wal.exists() and wal.stat().st_size > 0


# ---------------------------------------------------------------- header variants (unit)

HEADERS = {
    "2014": (
        "Domain Name,Domain Type,Agency,City,State",
        "USDA.GOV,Federal Agency,Department of Agriculture,Washington,DC",
    ),
    "2016": (
        "Domain Name,Domain Type,Agency,City,State,Status",
        "USDA.GOV,Federal Agency,Department of Agriculture,Washington,DC,ACTIVE",
    ),
    "2018-bom": (
        "\ufeffDomain Name,Domain Type,Agency,Organization,City,State",
        "USDA.GOV,Federal Agency - Executive,Department of Agriculture,OCIO,Washington,DC",
    ),
    "2020": (
        "Domain Name,Domain Type,Agency,Organization,City,State,Security Contact Email",
        "USDA.GOV,Federal Agency - Executive,Department of Agriculture,OCIO,Washington,DC,(blank)",
    ),
    "2024": (
        "Domain name,Domain type,Agency,Organization name,City,State,Security contact email",
        "usda.gov,Federal - Executive,Department of Agriculture,OCIO,Washington,DC,sec@usda.gov",
    ),
    "2026": (
        "Domain name,Domain type,Organization name,Suborganization name,City,State,"
        "Security contact email",
        "usda.gov,Federal - Executive,Department of Agriculture,OCIO,Washington,DC,sec@usda.gov",
    ),
}


@pytest.mark.parametrize("variant", sorted(HEADERS))
def test_every_header_variant_maps_by_name(variant: str) -> None:
    header, row = HEADERS[variant]
    parsed = parse_registry(f"{header}\r\n{row}\r\n".encode(), f"{variant}.csv")
    [entry] = parsed.rows
    assert entry.domain == "usda.gov"
    assert entry.agency == "Department of Agriculture"
    assert entry.domain_type in ("Federal", "Federal - Executive")
    assert entry.state == "DC"
    if variant in ("2018-bom", "2020", "2024", "2026"):
        assert entry.organization == "OCIO"
    if variant == "2020":
        assert entry.security_contact is None  # "(blank)" is the registry's placeholder
    if variant == "2016":
        assert entry.status == "ACTIVE"


def test_columns_in_another_order_and_quoted_commas() -> None:
    data = (
        'State,City,"Domain name",Agency\n"Washington,",'
        '"patrick, afb",  Bücher.GOV. ,'
        "Some  Agency \n"
    ).encode()
    [entry] = parse_registry(data, "x-2020-01-01.csv").rows
    assert entry.domain == "xn--bcher-kva.gov"
    assert entry.state == "Washington,"
    assert entry.city == "patrick, afb"
    assert entry.agency == "Some Agency"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"Domain name,Agency\n", "header only"),
        (b".gov domain data has moved to https://example.org.", "no 'Domain name' column"),
        (b"Domain name\n\xff\xfe\n", "not UTF-8"),
    ],
)
def test_files_that_are_not_registry_exports(data: bytes, message: str) -> None:
    with pytest.raises(RegistryFileError, match=message):
        parse_registry(data, "bad.csv")


def test_invalid_rows_are_skipped_with_line_numbers() -> None:
    data = b"Domain Name,Agency\nUSDA.GOV,A\nFS.FED.US,B\n,\nwww.nasa.gov,C\nusda.gov,D\n"
    parsed = parse_registry(data, "f.csv")
    # FS.FED.US is a registry domain of kind fed.us (issue 10, case 10), not an invalid row.
    assert [r.domain for r in parsed.rows] == ["usda.gov", "fs.fed.us"]
    assert parsed.skipped == {"invalid domain": 1, "empty row": 1, "duplicate domain": 1}
    assert any(p.startswith("f.csv:5:") and "www.nasa.gov" in p for p in parsed.problems)
    assert any(p.startswith("f.csv:6:") and "duplicate" in p for p in parsed.problems)


NAMES_FOR_THE_SHORT_CUT = [
    "usda.gov",
    " USDA.GOV. ",
    "18f.gov",
    "a-b.gov",
    "-ab.gov",
    "ab-.gov",
    "a..gov",
    ".gov",
    "gov",
    "x" * 63 + ".gov",
    "x" * 64 + ".gov",
    "\u212aansas.gov",  # KELVIN SIGN, lower-cased to an ASCII k
    "bücher.gov",
    "xn--bcher-kva.gov",
    "a_b.gov",
    "a b.gov",
    "www.usda.gov",
    "fs.fed.us",
    "FED.US",
    "192.168.0.1",
    "usa.gov..",
    "",
]


@pytest.mark.parametrize("raw", NAMES_FOR_THE_SHORT_CUT)
def test_the_plain_gov_short_cut_agrees_with_the_full_checks(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit import domain_names

    def outcome(normalise: Callable[[str], str]) -> str:
        try:
            return normalise(raw)
        except domain_names.DomainError as exc:
            return f"error: {exc}"

    normalisers = (domain_names.normalise_gov_domain, domain_names.normalise_registry_domain)
    fast = [outcome(f) for f in normalisers]
    if raw.strip().lower().startswith(("usda", "18f", "a-b")):
        assert domain_names._plain_gov_name(raw) == fast[0] == fast[1]  # the short cut ran
    # As if the suffix list named something under gov: every name takes the full checks.
    monkeypatch.setattr(domain_names, "_suffix_list_has_rules_under_gov", lambda: True)
    assert domain_names._plain_gov_name(raw) is None
    assert [outcome(f) for f in normalisers] == fast


# ---------------------------------------------------------------- real files (integration)


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory, dotgov_dir: Path) -> str:
    from click.testing import CliRunner

    from govaudit.cli import cli

    url = f"sqlite:///{tmp_path_factory.mktemp('inv')}/all.db"
    files = [str(dotgov_dir / name) for name in REAL_FILES]
    result = CliRunner().invoke(cli, ["--db", url, "inventory", "load", *files])
    assert result.exit_code == 0, result.output
    return url


def test_every_real_file_loads_with_its_distinct_domains(
    loaded_db: str, dotgov_dir: Path, cli_run: CliCall
) -> None:
    for name in REAL_FILES:
        day = name.split("-", 1)[1].removesuffix(".csv")
        result = cli_run("inventory", "list", "--snapshot", day, "--format", "json", db=loaded_db)
        rows = json.loads(result.stdout)
        assert {r["domain"] for r in rows} == independent_domains(dotgov_dir / name), name
        assert len(rows) == len(independent_domains(dotgov_dir / name))
        assert set(rows[0]) >= {"domain", "domain_type", "agency", "organization", "snapshot"}


def test_fed_us_domains_of_the_federal_exports_are_loaded(
    loaded_db: str, dotgov_dir: Path, cli_run: CliCall
) -> None:
    """Issue 10, case 10: FS.FED.US, TREASURY.FED.US... are domains of the 2014-2022
    snapshots (kind fed.us), not rows skipped as invalid."""
    for name, expected in [
        ("federal-2014-12-16.csv", {"fs.fed.us", "csosa.fed.us", "abilityone.fed.us"}),
        ("federal-2020-06-25.csv", {"fs.fed.us", "treasury.fed.us", "frb.fed.us", "fed.us"}),
    ]:
        day = name.split("-", 1)[1].removesuffix(".csv")
        rows = json.loads(
            cli_run("inventory", "list", "--snapshot", day, "--format", "json", db=loaded_db).stdout
        )
        kinds = {r["domain"]: r["kind"] for r in rows}
        assert expected <= set(kinds), name
        assert {d for d, k in kinds.items() if k == "fed.us"} == {
            d for d in independent_domains(dotgov_dir / name) if d.endswith("fed.us")
        }
        assert kinds["usda.gov"] == "gov"
        fs = next(r for r in rows if r["domain"] == "fs.fed.us")
        assert fs["agency"] and "Agriculture" in fs["agency"]
    # Loaded again into a fresh database: nothing of the 2014-2020 files is "invalid".
    for name in [
        "federal-2014-12-16.csv",
        "federal-2016-07-04.csv",
        "federal-2018-05-25.csv",
        "federal-2020-06-25.csv",
    ]:
        parsed = parse_registry((dotgov_dir / name).read_bytes(), name)
        assert "invalid domain" not in parsed.skipped, (name, parsed.problems[:3])
        assert any(r.domain == "fs.fed.us" for r in parsed.rows)


def test_the_freeze_does_not_judge_fed_us_names(loaded_db: str, cli_run: CliCall) -> None:
    result = cli_run("audit", "freeze", "--all", "--format", "json", db=loaded_db)
    rows = json.loads(result.stdout)
    assert rows and not any(r["domain"].endswith("fed.us") for r in rows)


def test_reloading_adds_nothing(loaded_db: str, dotgov_dir: Path, cli_run: CliCall) -> None:
    before = json.loads(cli_run("inventory", "list", "--format", "json", db=loaded_db).stdout)
    result = cli_run("inventory", "load", str(dotgov_dir / REAL_FILES[0]), db=loaded_db)
    assert result.exit_code == 0
    assert "already loaded" in result.stdout and "nothing added" in result.stdout
    after = json.loads(cli_run("inventory", "list", "--format", "json", db=loaded_db).stdout)
    assert before == after


@pytest.mark.parametrize(("old", "new"), list(itertools.combinations(REAL_FILES[:7], 2))[::3])
def test_diff_equals_an_independent_computation(
    loaded_db: str, dotgov_dir: Path, cli_run: CliCall, old: str, new: str
) -> None:
    day = lambda name: name.split("-", 1)[1].removesuffix(".csv")  # noqa: E731
    result = cli_run("inventory", "diff", day(old), day(new), "--format", "json", db=loaded_db)
    diff = json.loads(result.stdout)
    a, b = independent_domains(dotgov_dir / old), independent_domains(dotgov_dir / new)
    assert diff["added"] == sorted(b - a)
    assert diff["removed"] == sorted(a - b)
    assert diff["old"] == day(old) and diff["new"] == day(new)
    for change in diff["changed"]:
        assert change["field"] in ("agency", "organization", "domain_type")
        assert change["old"] != change["new"]


def test_stats_counts_domains_per_agency(loaded_db: str, cli_run: CliCall) -> None:
    result = cli_run(
        "inventory", "stats", "--snapshot", "2026-08-18", "--format", "json", db=loaded_db
    )
    stats = json.loads(result.stdout)["agencies"]
    assert sum(r["domains"] for r in stats) == 1321
    hhs = next(r for r in stats if r["agency"] == "Department of Health and Human Services")
    assert hhs["domains"] == 124


def test_list_filters_by_agency_and_formats(loaded_db: str, cli_run: CliCall) -> None:
    out = cli_run(
        "inventory", "list", "--agency", "agriculture", "--format", "csv", db=loaded_db
    ).stdout
    rows = list(csv.DictReader(out.splitlines()))
    assert rows and all("Agriculture" in (r["agency"] + r["organization"]) for r in rows)
    table = cli_run("inventory", "list", "--agency", "agriculture", db=loaded_db).stdout
    assert "usda.gov" in table and table.splitlines()[0].startswith("domain")


# ---------------------------------------------------------------- broken exports


def test_broken_exports_each_get_their_behaviour(
    tmp_path: Path, dotgov_dir: Path, cli_run: CliCall, db_url: str
) -> None:
    broken = dotgov_dir / "broken"
    assert cli_run("inventory", "load", str(dotgov_dir / "federal-2022-06-24.csv")).exit_code == 0
    state = file_state(db_url)
    assert state[1] is False

    for name in ("federal-2021-04-26-moved-notice.csv", "federal-2024-03-06-header-only.csv"):
        result = cli_run("inventory", "load", str(broken / name))
        assert result.exit_code == 2, name
        assert name in result.stderr
        assert file_state(db_url) == state, f"{name} changed the database"

    truncated = str(broken / "federal-2024-02-28-truncated.csv")
    result = cli_run("inventory", "load", truncated)
    assert result.exit_code == 2
    # 1293 .gov domains + 3 fed.us ones (FED.US, FS.FED.US, NMCOURT.FED.US), none in the
    # truncated 2024 file: loaded since issue 10, case 10.
    assert "would remove 959 of the 1296 domains" in result.stderr
    assert file_state(db_url) == state

    missing_state = cli_run(
        "inventory", "load", str(broken / "federal-2020-11-23-missing-state-column.csv")
    )
    assert missing_state.exit_code == 0
    assert "no 'state' column" in missing_state.stderr

    empty_rows = cli_run(
        "inventory", "load", str(broken / "federal-2019-02-06-full-list-with-empty-rows.csv")
    )
    assert empty_rows.exit_code == 0
    assert "4351 empty row" in empty_rows.stdout

    dup = cli_run("inventory", "load", str(broken / "full-2019-02-06-duplicate-domain.csv"))
    assert dup.exit_code == 0
    assert "1 duplicate domain" in dup.stdout
    assert "duplicate of abilityone.gov (first on line 1236)" in dup.stderr
    rows = json.loads(
        cli_run("inventory", "list", "--snapshot", "2019-02-06", "--format", "json").stdout
    )
    assert sum(1 for r in rows if r["domain"] == "abilityone.gov") == 1

    allowed = cli_run("inventory", "load", "--allow-shrink", truncated)
    assert allowed.exit_code == 0 and "350 loaded" in allowed.stdout


def test_binary_files_exit_2_and_dateless_files_need_a_date(
    tmp_path: Path, cli_run: CliCall
) -> None:
    binary = tmp_path / "blob-2020-01-01.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = cli_run("inventory", "load", str(binary))
    assert result.exit_code == 2 and "binary" in result.stderr
    dateless = tmp_path / "registry.csv"
    dateless.write_text("Domain name\nusda.gov\n")
    # Issue 11: a file with no date in its name is dated by --as-of (else its mtime, see
    # tests/test_periodic_job.py); a bad --as-of is still refused.
    result = cli_run("inventory", "load", "--as-of", "2020-13-45", str(dateless))
    assert result.exit_code == 2 and "--as-of" in result.stderr
    assert cli_run("inventory", "load", "--as-of", "2020-01-02", str(dateless)).exit_code == 0
    rows = json.loads(cli_run("inventory", "list", "--format", "json").stdout)
    assert rows == [{**rows[0], "domain": "usda.gov", "snapshot": "2020-01-02"}]


def test_unknown_snapshot_is_a_clear_error(cli_run: CliCall) -> None:
    result = cli_run("inventory", "list")
    assert result.exit_code == 2
    assert "no registry snapshot is loaded" in result.stderr
