"""Seeds are configuration: bad files give `file:line: problem`, overlays replace lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from audit.agencies_file import load_agencies
from audit.config_files import SeedError
from audit.policy_file import load_policy
from audit.waivers_file import load_waivers
from tests.conftest import CliCall


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_seeds_are_valid() -> None:
    policy = load_policy()
    assert policy.windows[0].name == "M-11-24 initial 90 days"
    first = policy.windows[0]
    assert (first.start, first.end) == (dt.date(2011, 6, 13), dt.date(2011, 9, 11))
    assert policy.plan_deadline == dt.date(2011, 10, 24)
    assert policy.windows[-1].end == dt.date(2014, 12, 8)
    agencies = load_agencies()
    slugs = {a.slug for a in agencies}
    assert {"usda", "ssa", "nasa", "dot", "usaid"} <= slugs
    assert len(agencies) >= 24
    assert load_waivers() == []  # the bundled file is a header and a commented example


def test_policy_overlay_replaces_lists_and_keeps_other_keys(tmp_path: Path) -> None:
    top = write(
        tmp_path,
        "p.toml",
        """
[[freeze.windows]]
name = "2027 freeze"
start = 2027-01-01
end = 2027-03-31
authority = "test"

[crawl]
max_depth = 5
""",
    )
    policy = load_policy(top)
    assert [w.name for w in policy.windows] == ["2027 freeze"]
    assert policy.section("crawl")["max_depth"] == 5
    assert policy.section("crawl")["max_pages_per_site"] == 50  # kept from the bundled file
    assert policy.plan_deadline == dt.date(2011, 10, 24)
    assert str(top) in policy.sources


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[crawl]\nmax_dept = 3\n", 2, "unknown key 'crawl.max_dept'"),
        ('[deadlines]\n\ncustomer_service_plan = "soon"\n', 3, "must be a date"),
        (
            '[[freeze.windows]]\nname = "a"\nstart = 2011-06-13\nend = 2011-06-01\n',
            4,
            "ends (2011-06-01) before it starts",
        ),
        (
            '[[freeze.windows]]\nname = "a"\nstart = 2011-01-01\nend = 2011-02-01\n\n'
            '[[freeze.windows]]\nname = "b"\nstart = 2012-01-01\nend = 2011-02-01\n',
            9,
            "'b' ends",
        ),
        ('[plans]\ncandidate_patterns = ["(unclosed"]\n', 2, "bad regular expression"),
        ("nonsense = 1\n", 1, "unknown key 'nonsense'"),
        ("[crawl]\nconcurrent_requests_per_host = 0\n", 2, "must be at least 1, not 0"),
        ("[inventory]\nmax_shrink = 1.5\n", 2, "must be between 0.0 and 1.0"),
        ("[crawl]\nmax_depth = \n", 2, "not valid TOML (Invalid value)"),
    ],
)
def test_bad_policy_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(SeedError) as err:
        load_policy(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", "[crawl\n")
    with pytest.raises(SeedError, match="not valid TOML"):
        load_policy(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("not a domain!,2011-07-01,Federal CIO,W-1,", "malformed domain"),
        ("www.usda.gov,2011-07-01,Federal CIO,W-1,", "malformed domain"),
        ("usda.gov,2011-13-01,Federal CIO,W-1,", "is not a date"),
        ("usda.gov,2011-07-01,,W-1,", "granted_by is empty"),
        ("usda.gov,2011-07-01,Federal CIO", "expected 5 fields"),
    ],
)
def test_bad_waivers_name_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, "w.csv", "domain,granted_on,granted_by,reference,note\n# c\n" + row)
    with pytest.raises(SeedError) as err:
        load_waivers(path)
    assert str(err.value).startswith(f"{path}:3: ")
    assert message in str(err.value)


def test_waivers_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "w.csv",
        "domain,granted_on,granted_by,reference,note\n"
        'NewProgram.GOV,2011-07-01,Federal CIO,W-1,"a, note"\n',
    )
    [waiver] = load_waivers(path)
    assert waiver.domain == "newprogram.gov"
    assert waiver.granted_on == dt.date(2011, 7, 1)
    assert waiver.note == "a, note"


def test_bad_agencies(tmp_path: Path) -> None:
    header = "agency,slug,primary_domain,source\n"
    with pytest.raises(SeedError, match=r"a.csv:3: slug 'x' already used on line 2"):
        load_agencies(write(tmp_path, "a.csv", header + "A,x,a.gov,s\nB,x,b.gov,s\n"))
    with pytest.raises(SeedError, match=r"a.csv:1: header must be"):
        load_agencies(write(tmp_path, "a.csv", "name,slug\n"))
    with pytest.raises(SeedError, match=r"a.csv:2: bad primary_domain"):
        load_agencies(write(tmp_path, "a.csv", header + "A,a,a.com,s\n"))


def test_cli_reports_bad_seed_with_exit_2(tmp_path: Path, cli_run: CliCall) -> None:
    bad = write(tmp_path, "bad.toml", "[crawl]\nmax_dept = 3\n")
    result = cli_run("--policy", str(bad), "audit")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"govaudit: error: {bad}:2: unknown key 'crawl.max_dept' (known here: autothrottle, "
        "concurrent_requests, concurrent_requests_per_host, download_maxsize, download_timeout, "
        "max_depth, max_open_units, max_pages_per_site, obey_robots, retry_times, user_agent)"
    )


def test_the_browser_is_the_headless_shell_where_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GOVAUDIT_CHROMIUM wins; else Debian's headless shell when installed; else chromium."""
    from audit import config_files

    shell, full = tmp_path / "chromium-headless-shell", tmp_path / "chromium"
    monkeypatch.setattr(config_files, "CHROMIUM_CANDIDATES", (str(shell), str(full)))
    monkeypatch.delenv("GOVAUDIT_CHROMIUM", raising=False)
    assert config_files.chromium_path() == str(full)  # neither installed: named as missing
    full.touch()
    assert config_files.chromium_path() == str(full)
    shell.touch()
    assert config_files.chromium_path() == str(shell)
    monkeypatch.setenv("GOVAUDIT_CHROMIUM", "/opt/chromium/chrome")
    assert config_files.chromium_path() == "/opt/chromium/chrome"
