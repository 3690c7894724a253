"""Shared fixtures: the real registry snapshots, a throw-away database, the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

pytest_plugins = ["tests.simweb_plugin"]

REPO = Path(__file__).resolve().parent.parent
DOTGOV = Path(os.environ.get("GOVAUDIT_DOTGOV_DATA", REPO.parent / "shared" / "data" / "dotgov"))


@pytest.fixture(scope="session")
def dotgov_dir() -> Path:
    if not DOTGOV.is_dir():
        message = f"real registry snapshots not found at {DOTGOV} (set GOVAUDIT_DOTGOV_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has shared/ beside the clone: missing data is an error
        pytest.skip(message)
    return DOTGOV


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database on the server of GOVAUDIT_TEST_PG_URL."""
    admin = os.environ.get("GOVAUDIT_TEST_PG_URL")
    if not admin:
        pytest.skip("GOVAUDIT_TEST_PG_URL is not set (make test starts PostgreSQL and sets it)")
    import uuid

    import psycopg

    name = f"govaudit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/govaudit.db"


CliCall = Callable[..., Result]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`govaudit demo` run once per session, as a newcomer runs it (no proxy in the
    environment: the demo starts its own simulated web)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo") / "run"
    govaudit = str(Path(sys.executable).parent / "govaudit")
    result = subprocess.run(
        [govaudit, "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    index = Path(result.stdout.strip().splitlines()[-1])
    return {"out": out, "index": index, "stdout": result.stdout, "stderr": result.stderr}


@pytest.fixture
def cli_run(db_url: str) -> CliCall:
    """Run `govaudit ARGS` in-process against the test database."""
    from govaudit.cli import cli

    def run(*args: str, db: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, ["--db", db or db_url, *args], env=env, catch_exceptions=False)

    return run


# Under CI a skipped test is a missing service, browser or data set: fail it, never pass it
# by silence (a group of skipped PostgreSQL or browser tests would hide a broken set-up).
def _fail_skips_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a skip here is a failure): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())
