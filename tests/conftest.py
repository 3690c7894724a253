"""Shared fixtures: the real registry snapshots, a throw-away database, the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable
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
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/govaudit.db"


CliCall = Callable[..., Result]


@pytest.fixture
def cli_run(db_url: str) -> CliCall:
    """Run `govaudit ARGS` in-process against the test database."""
    from audit import commands  # noqa: F401  (registers the command groups)
    from audit.cli import cli

    def run(*args: str, db: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, ["--db", db or db_url, *args], env=env, catch_exceptions=False)

    return run
