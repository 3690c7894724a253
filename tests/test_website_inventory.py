"""The website inventory (issue 21 item 1): source lists loaded with counted rejections, the
registry's own websites, agencies, first/last seen, idempotent loads; on the real lists of
../shared/data/website-index/ and on small lists written here."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from audit.nonpublic_names import bundled_nonpublic_names, criteria_dir
from audit.source_list_csv import MALFORMED, HostRejected, clean_host, parse_source_list
from tests.conftest import REPO, CliCall

WEBSITE_INDEX = Path(
    os.environ.get("GOVAUDIT_WEBSITE_INDEX", REPO.parent / "shared" / "data" / "website-index")
)
REASONS = [
    "malformed",
    "not .gov",
    "not under a registered domain",
    "non-federal",
    "matched a non-public pattern",
    "duplicate in the file",
]


@pytest.fixture(scope="session")
def index_dir() -> Path:
    if not (WEBSITE_INDEX / "source-lists").is_dir():
        message = f"website source lists not found at {WEBSITE_INDEX} (GOVAUDIT_WEBSITE_INDEX)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return WEBSITE_INDEX


def write_registry(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A registry export of (domain, type, agency) rows."""
    lines = ["Domain name,Domain type,Agency,Organization name,City,State"]
    lines += [f"{d},{t},{a},,Washington,DC" for d, t, a in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


REGISTRY = [
    ("nasa.gov", "Federal - Executive", "National Aeronautics and Space Administration"),
    ("nih.gov", "Federal - Executive", "Department of Health and Human Services"),
    ("orphan.gov", "Federal - Executive", ""),
    ("boston.gov", "City", "Non-Federal Agency"),
]


@pytest.fixture
def small_registry(tmp_path: Path, cli_run: CliCall) -> Path:
    path = write_registry(tmp_path / "federal-2026-01-05.csv", REGISTRY)
    result = cli_run("inventory", "load", str(path))
    assert result.exit_code == 0, result.output
    return path


def websites(cli_run: CliCall, *args: str) -> list[dict]:
    result = cli_run("inventory", "websites", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ---------------------------------------------------------------- cleaning cells (unit)


@pytest.mark.parametrize(
    ("cell", "host"),
    [
        ("%20militaryconsumer.gov", "militaryconsumer.gov"),
        ("  WWW.NASA.GOV. ", "www.nasa.gov"),
        ("https://Science.NASA.gov:443/missions?x=1#top", "science.nasa.gov"),
        ("http://user@pubmed.ncbi.nlm.nih.gov/", "pubmed.ncbi.nlm.nih.gov"),
        ("adfs.pnnl.gov:49443", "adfs.pnnl.gov"),
        ("//www.usa.gov/path", "www.usa.gov"),
        ("bücher.example.gov", "xn--bcher-kva.example.gov"),
    ],
)
def test_junk_in_cells_is_cleaned(cell: str, host: str) -> None:
    assert clean_host(cell) == host


@pytest.mark.parametrize(
    "cell", ["", "   ", "(other)", "url", "10.0.0.1", "[::1]", "*.nasa.gov", "a..gov", "-x.gov"]
)
def test_cells_that_name_no_host_are_malformed(cell: str) -> None:
    with pytest.raises(HostRejected) as caught:
        clean_host(cell)
    assert caught.value.reason == MALFORMED


def test_the_host_column_is_found_by_name_and_gzip_is_read() -> None:
    text = "Agency,Office,Website URL\nNASA,HQ,https://www.nasa.gov/\n"
    plain = parse_source_list(text.encode(), "agency-inventory.csv")
    packed = parse_source_list(gzip.compress(text.encode()), "agency-inventory.csv.gz")
    assert plain.host_column == "Website URL" and plain.agency_column == "Agency"
    assert plain.rows[0].cell == "https://www.nasa.gov/" and plain.rows[0].agency == "NASA"
    assert plain.source == "agency-inventory" == packed.source
    assert plain.content_hash == packed.content_hash


# ---------------------------------------------------------------- non-public names


def independent_nonpublic(folder: Path):  # type: ignore[no-untyped-def]
    """The index's rules as its builder applies them, written without govaudit's code."""

    def rows(name: str) -> list[str]:
        with (folder / name).open(encoding="utf-8-sig") as handle:
            return [r[0].strip().lower() for r in list(csv.reader(handle))[1:] if r and r[0]]

    begins = rows("ignore-list-begins.csv")
    contains = rows("ignore-list-contains.csv")
    keep = {e.split(":")[0] for e in rows("ignore-except.csv")}

    def matches(host: str) -> bool:
        name = host[4:] if host.startswith("www.") else host
        if host in keep or name in keep:
            return False
        for prefix in begins:
            if prefix == "[5 or more numerals]":
                if re.match(r"\d{5}", name):
                    return True
            elif name.startswith(prefix):
                return True
        return any(re.search(f"[^a-z0-9]{re.escape(c)}[^a-z0-9]", name) for c in contains)

    return matches


def test_nonpublic_patterns_agree_with_the_index_rules_on_every_pulse_host(
    index_dir: Path,
) -> None:
    names = bundled_nonpublic_names()
    expected = independent_nonpublic(criteria_dir())
    with (index_dir / "source-lists" / "pulse.csv").open(encoding="utf-8-sig") as handle:
        hosts = [r["target_url"].strip().lower() for r in csv.DictReader(handle)]
    disagree = [h for h in hosts if (names.match(h) is not None) != expected(h)]
    assert not disagree[:10]
    assert sum(1 for h in hosts if expected(h)) > 1000  # the rules do drop many


@pytest.mark.parametrize(
    ("host", "pattern"),
    [
        ("staging.nasa.gov", "begins with 'staging"),
        ("www.staging.nasa.gov", "begins with 'staging"),
        ("api-dev.nih.gov", "contains 'dev'"),
        ("12345.nih.gov", "[5 or more numerals]"),
        ("cms.gov", None),  # an exception of the index
        ("testicular.cancer.gov", None),
        ("www.nasa.gov", None),
    ],
)
def test_nonpublic_pattern_examples(host: str, pattern: str | None) -> None:
    found = bundled_nonpublic_names().match(host)
    if pattern is None:
        assert found is None
    else:
        assert found is not None and pattern in found


# ---------------------------------------------------------------- loading (small lists)

LIST = """target_url,agency,source_list_test
www.nasa.gov,,TRUE
%20Science.NASA.gov.,,TRUE
https://pubmed.ncbi.nlm.nih.gov:443/search,,TRUE
science.nasa.gov,,TRUE
army.mil,,TRUE
usps.com,,TRUE
www.unknown.gov,,TRUE
www.boston.gov,,TRUE
staging.nasa.gov,,TRUE
(other),,TRUE
data.orphan.gov,Office of Orphans,TRUE
"""


def test_a_list_loads_with_every_row_counted(
    tmp_path: Path, small_registry: Path, cli_run: CliCall
) -> None:
    path = tmp_path / "test-list.csv"
    path.write_text(LIST)
    result = cli_run(
        "inventory", "sources", "load", str(path), "--as-of", "2026-02-01", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (one,) = report["files"]
    assert one["rows"] == 11 and one["websites"] == 4 and one["source"] == "test-list"
    assert one["rejected"] == {
        "malformed": 1,
        "not .gov": 2,
        "not under a registered domain": 1,
        "non-federal": 1,
        "matched a non-public pattern": 1,
        "duplicate in the file": 1,
    }
    assert one["websites"] + one["rejected_total"] == one["rows"]
    # Each rejected row is named on stderr with its file, line and reason.
    assert "test-list.csv:10: matched a non-public pattern: staging.nasa.gov" in result.stderr
    assert "test-list.csv:5: duplicate in the file: science.nasa.gov (first on line 3)" in (
        result.stderr
    )
    assert (
        "test-list.csv:9: non-federal" in result.stderr
        and "test-list.csv:11: malformed" in result.stderr
    )
    rows = {w["host"]: w for w in websites(cli_run)}
    listed = {h for h, w in rows.items() if "test-list" in w["sources"]}
    assert listed == {
        "www.nasa.gov",
        "science.nasa.gov",
        "pubmed.ncbi.nlm.nih.gov",
        "data.orphan.gov",
    }
    science = rows["science.nasa.gov"]
    assert science["domain"] == "nasa.gov"
    assert science["agency"] == "National Aeronautics and Space Administration"
    assert science["sightings"] == [
        {"source": "test-list", "file": "test-list.csv", "as_of": "2026-02-01", "line": 3}
    ]
    # The registry names no agency for orphan.gov: the list's own agency column is used.
    assert rows["data.orphan.gov"]["agency"] == "Office of Orphans"
    # The registry's own websites: each federal domain, bare and www.; never a city's.
    assert set(rows["nasa.gov"]["sources"]) == {"registry"}
    assert set(rows["www.nasa.gov"]["sources"]) == {"registry", "test-list"}
    assert rows["www.nasa.gov"]["first_seen"] == "2026-01-05"
    assert rows["www.nasa.gov"]["last_seen"] == "2026-02-01"
    assert "www.boston.gov" not in rows and "boston.gov" not in rows


def test_loading_again_adds_nothing_and_gzip_is_the_same_list(
    tmp_path: Path, small_registry: Path, cli_run: CliCall
) -> None:
    path = tmp_path / "list-2026-03-01.csv"
    path.write_text(LIST)
    assert cli_run("inventory", "sources", "load", str(path)).exit_code == 0
    before = websites(cli_run)
    packed = tmp_path / "same.csv.gz"
    packed.write_bytes(gzip.compress(LIST.encode()))
    again = cli_run("inventory", "sources", "load", str(path), str(packed), "--format", "json")
    assert again.exit_code == 0, again.output
    files = json.loads(again.stdout)["files"]
    assert [f["already_loaded"] for f in files] == [True, True]
    assert all(f["new_websites"] == 0 for f in files)
    assert websites(cli_run) == before
    listed = cli_run("inventory", "sources", "list", "--format", "json")
    kinds = [r["kind"] for r in json.loads(listed.stdout)]
    assert kinds == ["registry", "list"]  # one list, not three


def test_a_list_is_judged_again_once_the_registry_knows_more(
    tmp_path: Path, small_registry: Path, cli_run: CliCall
) -> None:
    path = tmp_path / "list.csv"
    path.write_text("URL\nhttps://www.unknown.gov/\nwww.nasa.gov\n")
    first = cli_run("inventory", "sources", "load", str(path), "--as-of", "2026-02-01")
    assert "1 not under a registered domain" in first.stdout
    newer = write_registry(
        tmp_path / "federal-2026-03-01.csv",
        [*REGISTRY, ("unknown.gov", "Federal - Legislative", "Library of Unknowns")],
    )
    assert cli_run("inventory", "load", str(newer)).exit_code == 0
    second = cli_run("inventory", "sources", "load", str(path), "--format", "json")
    (one,) = json.loads(second.stdout)["files"]
    assert one["rejudged"] and not one["already_loaded"] and one["websites"] == 2
    rows = {w["host"]: w for w in websites(cli_run, "--source", "list")}
    assert set(rows) == {"www.unknown.gov", "www.nasa.gov"}
    assert rows["www.unknown.gov"]["agency"] == "Library of Unknowns"
    sightings = [s for w in websites(cli_run) for s in w["sightings"] if s["source"] == "list"]
    assert len(sightings) == 2  # judged again in place, never stored twice


def test_filters_and_the_table(tmp_path: Path, small_registry: Path, cli_run: CliCall) -> None:
    path = tmp_path / "test-list.csv"
    path.write_text(LIST)
    assert cli_run("inventory", "sources", "load", str(path)).exit_code == 0
    hhs = websites(cli_run, "--agency", "health and human")
    assert {w["host"] for w in hhs} == {"nih.gov", "www.nih.gov", "pubmed.ncbi.nlm.nih.gov"}
    only = websites(cli_run, "--source", "test-list", "--agency", "aeronautics")
    assert {w["host"] for w in only} == {"www.nasa.gov", "science.nasa.gov"}
    table = cli_run("inventory", "websites", "--source", "test-list")
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split() == [
        "host",
        "domain",
        "agency",
        "sources",
        "first_seen",
        "last_seen",
    ]
    csv_out = cli_run("inventory", "websites", "--format", "csv", "--source", "test-list")
    parsed = list(csv.DictReader(csv_out.output.splitlines()))
    assert {r["host"] for r in parsed} == {
        w["host"] for w in websites(cli_run, "--source", "test-list")
    }


def test_a_file_that_is_no_list_is_refused_and_the_others_load(
    tmp_path: Path, small_registry: Path, cli_run: CliCall
) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("name,comment\nx,y\n")
    good = tmp_path / "good.csv"
    good.write_text("hostname\nwww.nih.gov\n")
    result = cli_run("inventory", "sources", "load", str(bad), str(good), "--as-of", "2026-02-01")
    assert result.exit_code == 2
    assert "notes.csv:1: no host name or URL column" in result.stderr
    assert "good.csv: good as of 2026-02-01: 1 rows, 1 websites" in result.stdout
    missing = cli_run("inventory", "sources", "load", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


# ---------------------------------------------------------------- the real lists


def independent_federal_hosts(index: Path, list_name: str, registry_csv: Path) -> set[str]:
    """The hosts of one real list under a registered federal domain, not matching the index's
    non-public rules: computed without govaudit's code."""
    with registry_csv.open(encoding="utf-8-sig") as handle:
        types = {r["Domain name"].lower(): r["Domain type"] for r in csv.DictReader(handle)}
    nonpublic = independent_nonpublic(criteria_dir())
    out = set()
    with (index / "source-lists" / list_name).open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            cell = unquote(row["target_url"]).strip().lower()
            cell = re.sub(r"^[a-z]+://", "", cell).split("/")[0].split(":")[0].rstrip(".")
            labels = cell.split(".")
            if len(labels) < 2 or labels[-1] != "gov" or not re.fullmatch(r"[a-z0-9.-]+", cell):
                continue
            if types.get(".".join(labels[-2:]), "").startswith("Federal") and not nonpublic(cell):
                out.add(cell)
    return out


@pytest.fixture(scope="module")
def real_lists(
    index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict, list[dict]]:
    from click.testing import CliRunner

    from govaudit.cli import cli

    db = f"sqlite:///{tmp_path_factory.mktemp('lists')}/lists.db"
    files = sorted(str(p) for p in (index_dir / "source-lists").glob("*.csv"))
    runner = CliRunner()
    loaded = runner.invoke(
        cli, ["--db", db, "inventory", "sources", "load", *files, "--format", "json"]
    )
    assert loaded.exit_code == 0, loaded.output
    listed = runner.invoke(cli, ["--db", db, "inventory", "websites", "--format", "json"])
    return db, json.loads(loaded.stdout), json.loads(listed.stdout)


def test_every_real_list_is_accounted_for(index_dir: Path, real_lists: tuple) -> None:
    _, report, rows = real_lists
    assert len(report["files"]) == len(list((index_dir / "source-lists").glob("*.csv")))
    for one in report["files"]:
        with (index_dir / "source-lists" / one["file"]).open(encoding="utf-8-sig") as handle:
            data_rows = sum(1 for _ in csv.reader(handle)) - 1
        assert one["rows"] == max(data_rows, 0), one["file"]
        assert one["websites"] + one["rejected_total"] == one["rows"], one["file"]
        assert set(one["rejected"]) == set(REASONS)
    by_name = {f["file"]: f for f in report["files"]}
    assert by_name["dotmil.csv"]["websites"] == 0  # .mil: all "not .gov"
    assert by_name["dotmil.csv"]["rejected"]["not .gov"] == by_name["dotmil.csv"]["rows"]
    assert by_name["usagov_clicks.csv"]["rejected"]["non-federal"] > 1000  # state and local
    assert by_name["pulse.csv"]["rejected"]["matched a non-public pattern"] > 1000
    # Tens of thousands of federal websites, as the index counts (29,634 with .mil).
    assert 20_000 < report["websites"] == len(rows) < 40_000


def test_a_real_list_gives_the_independently_computed_hosts(
    index_dir: Path, real_lists: tuple
) -> None:
    from audit.config_files import bundled_registry_files

    _, _, rows = real_lists
    full = next(p for p in bundled_registry_files() if p.name.startswith("full-"))
    for name, source in (("pulse.csv", "pulse"), ("hyperlink_domains.csv", "hyperlink_domains")):
        expected = independent_federal_hosts(index_dir, name, full)
        got = {r["host"] for r in rows if source in r["sources"]}
        assert got == expected, (name, sorted(got ^ expected)[:10])
    # "%20militaryconsumer.gov" of the hyperlink list became the website militaryconsumer.gov.
    found = {r["host"]: r for r in rows}
    assert "hyperlink_domains" in found["militaryconsumer.gov"]["sources"]


def test_the_bundled_lists_are_the_shared_lists(real_lists: tuple, cli_run: CliCall) -> None:
    db, _, _ = real_lists
    bundled = cli_run("inventory", "sources", "load", "--bundled", "--format", "json", db=db)
    assert bundled.exit_code == 0, bundled.output
    files = json.loads(bundled.stdout)["files"]
    assert len(files) == 31 and all(f["already_loaded"] for f in files)


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_the_websites_benchmark_runs_its_load_measurement(tmp_path: Path) -> None:
    """benchmarks/websites.py end to end at its smallest (figures live in its README)."""
    import subprocess
    import sys

    out = tmp_path / "results"
    subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.websites"),
            *("--only", "load", "--repeats", "1", "--out", str(out)),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=550,
    )
    result = json.loads((out / "websites.json").read_text())
    load = result["measurements"]["load"]
    assert 20_000 < load["websites"] < 40_000
    assert load["lists_cpu_s"]["median"] > 0 and load["registry_wall_s"]["median"] > 0
    assert "all 31 bundled lists" in (out / "websites.md").read_text()


def test_the_benchmark_fleet_serves_one_site_per_website() -> None:
    from benchmarks.fleet import website_sites

    sites = website_sites(["science.nasa.gov", "www.nasa.gov"], 3, 0.1)
    assert [s.hosts for s in sites] == [("science.nasa.gov",), ("www.nasa.gov",)]
    state = sites[0].at(1)
    assert state.https_redirect and not state.redirect_host and state.delay == 0.1
    assert "/" in state.pages and "/.well-known/security.txt" in state.pages
