"""The command line explains itself; the schema is created and migrated automatically."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CliCall

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["inventory"],
    ["inventory", "load"],
    ["inventory", "list"],
    ["inventory", "diff"],
    ["inventory", "stats"],
    ["crawl"],
    ["rdap"],
    ["audit"],
    ["audit", "freeze"],
    ["export"],
    ["export", "sites"],
    ["export", "pages"],
    ["export", "links"],
    ["export", "plans"],
    ["export", "findings"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "govaudit")
def test_every_command_has_help(cli_run: CliCall, words: list[str]) -> None:
    result = cli_run(*words, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_version_and_bad_usage(cli_run: CliCall) -> None:
    result = cli_run("--version")
    assert result.exit_code == 0 and "govaudit, version" in result.stdout
    assert cli_run("no-such-command").exit_code == 2
    assert cli_run("inventory", "list", "--format", "xml").exit_code == 2


def test_schema_created_and_upgrade_is_idempotent(cli_run: CliCall, db_url: str) -> None:
    assert cli_run("db", "upgrade").stdout.strip() == "schema upgraded"
    assert cli_run("db", "upgrade").stdout.strip() == "schema already up to date"
    path = db_url.removeprefix("sqlite:///")
    tables = {
        r[0]
        for r in sqlite3.connect(path).execute("select name from sqlite_master where type='table'")
    }
    assert {
        "agency",
        "domain",
        "registry_snapshot",
        "registry_entry",
        "crawl_run",
        "crawl_task",
        "plan_check",
        "finding",
        "alembic_version",
    } <= tables


@pytest.mark.integration
def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "govaudit"
    result = subprocess.run(
        [str(exe), "--db", f"sqlite:///{tmp_path}/x.db", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "M-11-24" in result.stdout


@pytest.mark.integration
def test_bad_database_url_is_bad_input(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "govaudit"
    result = subprocess.run(
        [str(exe), "--db", "nonsense", "inventory", "stats"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("govaudit: error: --db 'nonsense': not a usable")
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    result = subprocess.run(
        [str(exe), "--db", f"sqlite:///{junk}", "inventory", "stats"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "cannot open the database" in result.stderr
    assert junk.read_text() == "not a database"


def test_audit_of_an_unknown_run_is_refused(cli_run: CliCall) -> None:
    result = cli_run("audit", "--run", "999")
    assert result.exit_code == 2
    assert "crawl run 999 does not exist" in result.stderr
    assert cli_run("export", "findings").exit_code == 2  # no audit was stored


def test_demo_refuses_a_folder_it_did_not_make(cli_run: CliCall, tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("keep me")
    result = cli_run("demo", "--out", str(precious))
    assert result.exit_code == 2 and "not a previous demo's folder" in result.stderr
    assert (precious / "chapter1.txt").read_text() == "keep me"
