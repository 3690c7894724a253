"""Files named by a global option (--policy, --agencies, --waivers) are checked when any
command starts, whether or not the command goes on to read them: one line naming the file
and line, exit 2 (bad input), and nothing written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import CliCall

BROKEN = {
    "--agencies": (
        "agency,slug,primary_domain,source\nNASA,nasa,nasa.gov,x\nBad,Bad Slug,bad.gov,y\n",
        ":3: slug 'Bad Slug' must be lower-case",
    ),
    "--waivers": (
        "domain,granted_on,granted_by,reference,note\nnew.gov,2011-13-01,OMB,r,n\n",
        ":2: granted_on '2011-13-01' is not a date",
    ),
    "--policy": ("[crawl]\nuser_agent = 'x'\nmax_depth = -1\n", ":3: crawl.max_depth must be"),
}


@pytest.mark.parametrize("option", sorted(BROKEN))
def test_a_broken_option_file_stops_a_command_that_would_not_read_it(
    cli_run: CliCall, db_url: str, tmp_path: Path, option: str
) -> None:
    """`govaudit --agencies broken.csv audit` on a database without a crawl reads no agency,
    yet refuses the file."""
    text, message = BROKEN[option]
    broken = tmp_path / "broken-file"
    broken.write_text(text, encoding="utf-8")
    assert cli_run("audit").exit_code == 0  # without the option, the audit runs (0 findings)
    result = cli_run(option, str(broken), "audit")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"govaudit: error: {broken}{message}"), lines
    # and a command that never reads a policy, agencies or waivers at all
    other = cli_run(option, str(broken), "export", "sites")
    assert other.exit_code == 2 and f"{broken}{message}" in other.stderr
    # the refused audit wrote nothing: the one audit run is the first command's
    db = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert db.execute("select count(*) from audit_run").fetchone() == (1,)


def test_a_command_own_waivers_file_is_checked_when_it_starts(
    cli_run: CliCall, tmp_path: Path
) -> None:
    broken = tmp_path / "waivers.csv"
    broken.write_text("domain,granted_on\n", encoding="utf-8")
    result = cli_run("audit", "--waivers", str(broken))
    assert result.exit_code == 2
    assert f"{broken}:1: header must be" in result.stderr


def test_good_option_files_change_nothing(cli_run: CliCall, tmp_path: Path) -> None:
    good = tmp_path / "agencies.csv"
    good.write_text("agency,slug,primary_domain,source\nNASA,nasa,nasa.gov,x\n", encoding="utf-8")
    result = cli_run("--agencies", str(good), "export", "sites")
    assert result.exit_code == 2  # no crawl yet: the command's own answer, not the file's
    assert "no finished crawl" in result.stderr and str(good) not in result.stderr
