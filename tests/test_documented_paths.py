"""Issue 28: paths the documentation shows that did not work as written (items 2 to 4).

Each test fails on the code before the fix: `python -m simweb` printed no line to export,
bad database URLs gave a traceback or a silently created folder, messages and help spoke of
the wrong thing, options were ignored or missing from the README, a misspelled variable was
ignored, a table cut what it showed.
"""

from __future__ import annotations

import http.client
import os
import shlex
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from tests.crawl_world import GOVAUDIT

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]


def run_govaudit(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GOVAUDIT_DB")}
    return subprocess.run(
        [GOVAUDIT, *args],
        env={**full, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- item 2: the simulated web says how to trust it ------------------------------------------


@pytest.fixture
def simweb_process() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simweb", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("simweb: try"):
                break
        yield proc, lines
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.integration
def test_simweb_prints_the_line_to_export_and_its_ca_verifies_the_sites(
    simweb_process: tuple[subprocess.Popen[str], list[str]],
) -> None:
    _proc, lines = simweb_process
    exports = [line for line in lines if line.startswith("export ")]
    assert len(exports) == 1, lines
    words = shlex.split(exports[0])[1:]
    env = dict(word.split("=", 1) for word in words)
    assert set(env) == {"http_proxy", "https_proxy", "SSL_CERT_FILE"}
    assert env["http_proxy"] == env["https_proxy"]
    proxy = env["https_proxy"].removeprefix("http://")
    host, port = proxy.rsplit(":", 1)
    # A client trusting only that file verifies a simulated site's certificate.
    context = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    conn.set_tunnel("www.ssa.gov", 443)
    conn.request("GET", "/")
    assert conn.getresponse().status == 200
    conn.close()


# -- item 3: bad database URLs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["mysql://x@y/z", "postgresql+psycopg2://u@h/d", "postgres://u@h/d", "not a url"]
)
@pytest.mark.integration
def test_an_unusable_database_url_is_one_line_naming_the_schemes_that_work(url: str) -> None:
    result = run_govaudit("--db", url, "inventory", "stats")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("govaudit: error: --db ") and url in lines[0]
    assert "sqlite:///" in lines[0] and "postgresql://" in lines[0]


@pytest.mark.integration
def test_a_sqlite_database_in_a_missing_folder_is_refused_unless_asked_for(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/nonexistent/dir/x.db"
    result = run_govaudit("--db", url, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"govaudit: error: --db {url}: the folder {tmp_path}/nonexistent/dir does not exist "
        "(create it, or add --create-db-dir)"
    )
    assert not (tmp_path / "nonexistent").exists()
    made = run_govaudit("--create-db-dir", "--db", url, "db", "upgrade")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "nonexistent" / "dir" / "x.db").is_file()
    # The same from GOVAUDIT_DB and for `govaudit run` (its summary line still printed).
    config = tmp_path / "job.toml"
    config.write_text(f'output = "out"\ndb = "sqlite:///{tmp_path}/elsewhere/job.db"\n')
    job = run_govaudit("run", "--config", str(config))
    assert job.returncode == 2
    # The message names where the URL was given: the file's line, not an option never typed.
    assert f"govaudit: error: {config}:2: db sqlite:///{tmp_path}/elsewhere/job.db: " in job.stderr
    assert "the folder" in job.stderr and "does not exist" in job.stderr
    assert job.stdout.strip().startswith('{"run": null, "status": "failed"')
    assert not (tmp_path / "elsewhere").exists()
    assert (tmp_path / "out").is_dir()  # the job's own output folder is made
    missing = f"sqlite:///{tmp_path}/missing/x.db"
    from_env = run_govaudit("inventory", "stats", env={"GOVAUDIT_DB": missing})
    assert from_env.returncode == 2
    assert from_env.stderr.startswith(f"govaudit: error: GOVAUDIT_DB {missing}: the folder ")


# -- item 4: messages, help, options --------------------------------------------------------


@pytest.mark.integration
def test_export_a11y_speaks_of_accessibility_runs(tmp_path: Path) -> None:
    from audit.db import Database
    from audit.models import CrawlRun, CrawlTask

    url = f"sqlite:///{tmp_path}/a.db"
    empty = run_govaudit("--db", url, "export", "a11y")
    assert empty.returncode == 2
    assert "accessibility run" in empty.stderr and "`govaudit a11y`" in empty.stderr
    assert "govaudit crawl" not in empty.stderr
    db = Database(url)
    with db.session() as session:
        run = CrawlRun(settings={"jobs": ["sites"]}, status="finished")
        session.add(run)
        session.flush()
        session.add(CrawlTask(run_id=run.id, job="sites", key="x.gov", domain="x.gov"))
        crawl_id = run.id
    db.dispose()
    missing = run_govaudit("--db", url, "export", "a11y", "--run", "999")
    assert missing.stderr.strip() == "govaudit: error: no accessibility run 999"
    crawl = run_govaudit("--db", url, "export", "a11y", "--run", str(crawl_id))
    assert crawl.stderr.strip() == (
        f"govaudit: error: run {crawl_id} is a crawl run, not an accessibility run"
    )


@pytest.mark.integration
def test_rdap_help_says_where_refresh_bootstrap_writes() -> None:
    shown = " ".join(run_govaudit("rdap", "--help").stdout.split())
    assert "--refresh-bootstrap" in shown and "data directory" in shown
    assert "replace seeds/rdap-dns.json" not in shown


@pytest.mark.integration
def test_batch_size_without_distributed_is_refused(tmp_path: Path) -> None:
    result = run_govaudit("--db", f"sqlite:///{tmp_path}/b.db", "crawl", "--batch-size", "4")
    assert result.returncode == 2
    assert result.stderr.strip() == "govaudit: error: --batch-size goes with --distributed"
    assert not (tmp_path / "b.db").exists() or "crawl_run" not in _tables(tmp_path / "b.db")


def _tables(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = conn.execute("select name from sqlite_master where type = 'table'").fetchall()
    return {r[0] for r in rows}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[Any]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
            if not any(isinstance(p, click.Option) for p in command.params):
                continue
        yield (*path, name), command


def _synopses() -> list[tuple[list[set[str]], str]]:
    """Each documented synopsis (a table row starting with `govaudit ...`): its command path,
    each word a set of alternatives (`sites\\|pages\\|links`), and its text."""
    found = []
    for doc in DOCS:
        for line in doc.read_text(encoding="utf-8").splitlines():
            if not line.startswith("| `govaudit "):
                continue
            span = line.split("`")[1]
            words = []
            for word in span.split()[1:]:
                if word.startswith(("[", "-")) or not word[:1].islower():
                    break
                words.append(set(word.split("\\|")))
            found.append((words, span))
    return found


def test_every_option_of_every_command_is_in_its_documented_synopsis() -> None:
    """The README's (or docs/') command table names every option, `crawl --all-types`
    included; the global options are named in the text."""
    from govaudit.cli import cli

    synopses = _synopses()
    missing = []
    for path, command in _commands(cli):
        spans = [
            span
            for words, span in synopses
            if len(words) == len(path) and all(p in w for p, w in zip(path, words, strict=True))
        ]
        assert spans, f"govaudit {' '.join(path)} has no synopsis in README.md or docs/"
        text = " ".join(spans)
        for param in command.params:
            if isinstance(param, click.Option):
                long = [o for o in param.opts if o.startswith("--")]
                if long and not any(o in text for o in long):
                    missing.append(f"govaudit {' '.join(path)} {long[0]}")
    everything = " ".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    for param in cli.params:
        if isinstance(param, click.Option) and not any(f"`{o}" in everything for o in param.opts):
            missing.append(f"global {param.opts[0]}")
    assert missing == []


@pytest.mark.integration
def test_a_misspelled_variable_is_warned_about_once_naming_the_known_ones(
    tmp_path: Path,
) -> None:
    env = {"GOVAUDIT_LOG_LEVLE": "debug", "GOVAUDIT_DB": f"sqlite:///{tmp_path}/w.db"}
    result = run_govaudit("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "GOVAUDIT_LOG_LEVLE" in line]
    assert warning.startswith("govaudit: warning: unknown variable GOVAUDIT_LOG_LEVLE ignored")
    assert "did you mean GOVAUDIT_LOG_LEVEL?" in warning
    assert "GOVAUDIT_DB" in warning and "GOVAUDIT_CRAWL_PER_HOST" in warning
    # The known ones are not warned about.
    quiet = run_govaudit("db", "upgrade", env={**env, "GOVAUDIT_LOG_LEVLE": ""})
    assert "GOVAUDIT_LOG_LEVLE" in quiet.stderr  # set, even empty: still a misspelling
    del env["GOVAUDIT_LOG_LEVLE"]
    clean = run_govaudit("db", "upgrade", env={**env, "GOVAUDIT_CRAWL_PER_HOST": "1"})
    assert "warning" not in clean.stderr
    # `govaudit run` says it once, in its log (here: a registry file it refuses, exit 2).
    bad = tmp_path / "registry-2026-01-01.csv"
    bad.write_text("not,a,registry\n")
    config = tmp_path / "job.toml"
    config.write_text(
        f'db = "sqlite:///{tmp_path}/job.db"\noutput = "out"\nregistry = ["{bad}"]\n'
        "bundled_registry = false\n"
    )
    job = run_govaudit("run", "--config", str(config), env={"GOVAUDIT_RETENTON": "3"})
    assert job.returncode == 2, job.stderr
    assert job.stderr.count("unknown variable GOVAUDIT_RETENTON ignored") == 1, job.stderr
    assert "did you mean GOVAUDIT_RETENTION?" in job.stderr


def test_compare_table_never_cuts_the_newly_failing_sites(monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.guidelines import COMPARE_COLUMNS
    from govaudit.output import format_table

    monkeypatch.delenv("COLUMNS", raising=False)  # the natural width: not a terminal's

    sites = [f"site{i:02d}.example.gov" for i in range(14)]
    row = {c: None for c in COMPARE_COLUMNS}
    row.update(check="privacy-link", change="changed", newly_failing=sites, newly_passing=[])
    table = format_table([row], COMPARE_COLUMNS)
    shown = " ".join(table.split())
    assert all(site in shown for site in sites), table
    # Folded in its column: no line is wider than the table's rule line.
    rule = table.splitlines()[1]
    assert max(len(line) for line in table.splitlines()) <= len(rule)


def test_compare_table_fits_the_terminal_width_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from audit.guidelines import COMPARE_COLUMNS
    from govaudit.output import format_table

    sites = [f"site{i:02d}.example.gov" for i in range(14)]
    row = {c: "x" for c in COMPARE_COLUMNS}
    row.update(check="privacy-link", change="changed", newly_failing=sites, newly_passing=[])
    monkeypatch.delenv("COLUMNS", raising=False)
    natural = format_table([row], COMPARE_COLUMNS)
    width = max(len(line) for line in natural.splitlines())
    narrow = width - 30
    monkeypatch.setenv("COLUMNS", str(narrow))
    table = format_table([row], COMPARE_COLUMNS)
    assert max(len(line) for line in table.splitlines()) <= narrow, table
    shown = " ".join(table.split())
    assert all(site in shown for site in sites), table
