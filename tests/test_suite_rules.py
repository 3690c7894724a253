"""The suite's own rules (tests/conftest.py), checked on a scratch test run, serial and under
pytest-xdist: under CI=true a skip fails (a test's and a whole module's), and a test that
starts a process or talks to the tests' PostgreSQL server without its marker fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # runs pytest itself in subprocesses

REPO = Path(__file__).resolve().parent.parent

SCRATCH_TESTS = """
import os
import subprocess
import sys

import pytest


def test_skipped():
    pytest.skip("no such service here")


def test_unmarked_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.integration
def test_marked_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_unmarked_postgres():
    import psycopg

    with psycopg.connect(os.environ["GOVAUDIT_TEST_PG_URL"]) as conn:
        conn.execute("select 1")


@pytest.mark.postgres
def test_marked_postgres():
    import psycopg

    with psycopg.connect(os.environ["GOVAUDIT_TEST_PG_URL"]) as conn:
        conn.execute("select 1")


def test_plain():
    assert 1 + 1 == 2
"""

SKIPPED_MODULE = """
import pytest

pytest.skip("a whole module without its service", allow_module_level=True)


def test_never():
    pass
"""


# A collection error stops a serial run before any test (exit 2, as under CI): go on here
# so that one run shows every rule.
GO_ON = ["--continue-on-collection-errors", "."]


def _outcomes(output: str) -> dict[str, str]:
    """test name -> PASSED/FAILED/... from `-rA` lines."""
    found = {}
    for word, name in re.findall(r"^(PASSED|FAILED|SKIPPED|ERROR) \S*?::(\w+)", output, re.M):
        found[name] = word
    return found


@pytest.mark.postgres  # the scratch run talks to the PostgreSQL server of the tests
@pytest.mark.parametrize(
    "parallel", [[], ["-n", "2", "--dist", "loadfile"]], ids=["serial", "xdist"]
)
def test_skips_fail_under_ci_and_unmarked_processes_fail(
    tmp_path: Path, parallel: list[str]
) -> None:
    if not os.environ.get("GOVAUDIT_TEST_PG_URL"):
        pytest.fail("GOVAUDIT_TEST_PG_URL is not set (make test starts PostgreSQL and sets it)")
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (tmp_path / "test_scratch.py").write_text(SCRATCH_TESTS)
    (tmp_path / "test_skipped_module.py").write_text(SKIPPED_MODULE)
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(REPO)}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", *parallel, *GO_ON],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert _outcomes(output) == {
        "test_skipped": "FAILED",
        "test_unmarked_process": "FAILED",
        "test_marked_process": "PASSED",
        "test_unmarked_postgres": "FAILED",
        "test_marked_postgres": "PASSED",
        "test_plain": "PASSED",
    }, output
    assert "skipped under CI=true (a skip here is a failure): Skipped: no such service" in output
    assert "started a process:" in output and "mark it integration" in output
    assert "a connection to the PostgreSQL server of the tests" in output
    # The module skipped as a whole is a failed collection, not a silent pass.
    assert re.search(r"(ERROR|FAILED) test_skipped_module\.py", output), output
    assert "a whole module without its service" in output
