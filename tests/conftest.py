"""Shared fixtures and the suite's rules.

What a test should use (all function-scoped unless said):

* ``db_url``: a SQLite URL in the test's own folder (nothing created until first used).
* ``pg_url``: a PostgreSQL database of its own, already migrated to the newest schema (a
  copy of this worker's template, ``CREATE DATABASE ... TEMPLATE``), dropped afterwards.
  ``pg_empty_url``: the same without the schema, for tests of migrating itself. Both mark
  the test ``postgres``.
* ``cli_run``: ``govaudit ARGS`` in-process against ``db_url`` (no process start).
* ``dotgov_dir`` (session): the real registry snapshots of ``../shared/data/dotgov``.
* ``demo_run`` (session, marks ``integration``): ``govaudit demo`` run ONCE for the whole
  run, even under pytest-xdist (the first worker runs it, the others wait and read it).
  Read its output; copy its database (``copy_db``) before writing to it.
* ``simulated_web_factory`` / ``demo_web`` (tests/simweb_plugin.py): simulated webs.
* ``shared_once(tmp_path_factory, name, build)`` (tests/shared_once.py): any other
  expensive, read-only result (a crawled world's database) made once per run across xdist
  workers, for a session fixture; ``copy_db(url, folder)`` copies a crawled SQLite database
  so that each test writes to its own.

Markers must be true (``make test-fast`` runs ``-m "not integration and not browser and
not postgres"``): a test that starts a process (a ``govaudit`` subprocess, a crawler, a
server process, Chromium) must be marked ``integration`` (or ``browser``, ``postgres``),
and one that talks to the PostgreSQL server of GOVAUDIT_TEST_PG_URL ``postgres``. The
check below fails a test that does either unmarked. Under ``CI=true`` a skip is a failure
(also under pytest-xdist).

Tests run in parallel (``-n 2 --dist loadfile``: one file stays on one worker): use
``tmp_path``/``tmp_path_factory`` (per worker), free ports (port 0), and unique database
names; never a fixed port or a shared path.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, settings

from tests.crawl_world import invoke_here
from tests.shared_once import copy_db, shared_once

pytest_plugins = ["tests.simweb_plugin"]

# No per-example deadline (Hypothesis's default is 200 ms): on a machine shared by two xdist
# workers and other jobs an example can wait longer for the CPU, and speed is measured in
# benchmarks/, never asserted in tests. A test's own @settings still win.
settings.register_profile("govaudit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("govaudit")

REPO = Path(__file__).resolve().parent.parent
DOTGOV = Path(os.environ.get("GOVAUDIT_DOTGOV_DATA", REPO.parent / "shared" / "data" / "dotgov"))

__all__ = ["ADMIN_URL", "CliCall", "copy_db", "shared_once"]


@pytest.fixture(scope="session")
def dotgov_dir() -> Path:
    if not DOTGOV.is_dir():
        message = f"real registry snapshots not found at {DOTGOV} (set GOVAUDIT_DOTGOV_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has shared/ beside the clone: missing data is an error
        pytest.skip(message)
    return DOTGOV


# ------------------------------------------------------------------------------ PostgreSQL

# The PostgreSQL server `make test` starts (.ci/services.sh), as an admin URL.
ADMIN_URL = os.environ.get("GOVAUDIT_TEST_PG_URL")
PG_FIXTURES = ("pg_url", "pg_empty_url", "pg_template")


def _admin_url() -> str:
    if not ADMIN_URL:
        pytest.skip("GOVAUDIT_TEST_PG_URL is not set (make test starts PostgreSQL and sets it)")
    return ADMIN_URL


def _worker_tag(config: pytest.Config) -> str:
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    return f"{worker}_{os.getpid()}"


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database migrated once per worker, the template of every `pg_url` database."""
    import psycopg

    from audit.db import Database

    admin = _admin_url()
    name = f"govaudit_template_{_worker_tag(request.config)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{admin.rsplit('/', 1)[0]}/{name}")
    try:
        _ = db.engine  # migrates
    finally:
        db.dispose()  # CREATE DATABASE ... TEMPLATE needs no open connection to it
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _throwaway_database(template: str | None) -> Iterator[str]:
    import uuid

    import psycopg

    admin = _admin_url()
    name = f"govaudit_test_{uuid.uuid4().hex[:12]}"
    source = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{source}')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A throw-away PostgreSQL database at the newest schema (copied from the template)."""
    yield from _throwaway_database(pg_template)


@pytest.fixture
def pg_empty_url() -> Iterator[str]:
    """A throw-away, empty PostgreSQL database (govaudit migrates it on first use)."""
    yield from _throwaway_database(None)


# ------------------------------------------------------------------------------ SQLite, CLI


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/govaudit.db"


CliCall = Callable[..., Result]


@pytest.fixture
def cli_run(db_url: str) -> CliCall:
    """Run `govaudit ARGS` in-process against the test database."""

    def run(*args: str, db: str | None = None, env: dict[str, str] | None = None) -> Result:
        return invoke_here(db or db_url, *args, env=env)

    return run


# ------------------------------------------------------------------------------ the demo


def _run_demo(out: Path) -> dict[str, Any]:
    import sys

    govaudit = str(Path(sys.executable).parent / "govaudit")
    result = subprocess.run(
        [govaudit, "demo", "--out", str(out / "run")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # As `make demo` runs it: its pywb for the demo's web archive, nothing else.
        env={"PATH": "/usr/bin:/bin"}
        | {k: os.environ[k] for k in ("GOVAUDIT_WAYBACK", "GOVAUDIT_CHROMIUM") if k in os.environ},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    index = result.stdout.strip().splitlines()[-1]
    return {
        "out": str(out / "run"),
        "index": index,
        "stdout": result.stdout,
        "stderr": result.stderr,
    }


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`govaudit demo` run once per run, as a newcomer runs it (no proxy in the environment:
    the demo starts its own simulated web). Read-only: copy the database to change it."""
    made = shared_once(tmp_path_factory, "demo", _run_demo)
    return {**made, "out": Path(made["out"]), "index": Path(made["index"])}


# ------------------------------------------------------------------------------ the rules

# Fixtures that make their test what a marker says, whatever the test declares.
FIXTURE_MARKS = {
    **dict.fromkeys(PG_FIXTURES, "postgres"),
    "demo_run": "integration",
}
PROCESS_MARKS = ("integration", "browser", "postgres")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, mark in FIXTURE_MARKS.items():
            if fixture in names and item.get_closest_marker(mark) is None:
                item.add_marker(mark)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items[:] = _longest_files_first(items)


# With `--dist loadfile --no-loadscope-reorder` the workers take whole files in collection
# order: the longest first, so that no long file is left to run alone at the end while the
# other worker idles. tests/durations.json holds the measured seconds per file.
DURATIONS = Path(__file__).with_name("durations.json")


def _longest_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    import json

    known: dict[str, float] = {
        k: v for k, v in json.loads(DURATIONS.read_text()).items() if not k.startswith("_")
    }
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::")[0], []).append(item)

    def cost(path: str) -> float:
        name = path.removeprefix("tests/")
        if name in known:
            return known[name]
        # Not measured yet: a process-starting test costs seconds, a unit test little.
        marked = (any(i.get_closest_marker(m) for m in PROCESS_MARKS) for i in by_file[path])
        return sum(3.0 if m else 0.02 for m in marked)

    order = sorted(by_file, key=lambda path: -cost(path))  # stable: ties keep their order
    return [item for path in order for item in by_file[path]]


class _ProcessWatch:
    """What the running test started that its markers do not allow (see the module doc)."""

    def __init__(self) -> None:
        self.item: pytest.Item | None = None
        self.seen: list[str] = []

    def allowed(self, *marks: str) -> bool:
        item = self.item
        return item is None or any(item.get_closest_marker(m) for m in marks)

    def note(self, what: str, *marks: str) -> None:
        if not self.allowed(*marks):
            self.seen.append(what)


_watch = _ProcessWatch()


def _install_watch() -> None:
    real_init = subprocess.Popen.__init__

    def watched_init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> None:
        shown = args if isinstance(args, str | bytes) else " ".join(map(str, args))
        _watch.note(f"a process: {str(shown)[:200]}", *PROCESS_MARKS)
        real_init(self, args, *rest, **kw)

    subprocess.Popen.__init__ = watched_init  # type: ignore[method-assign]
    os.register_at_fork(before=lambda: _watch.note("a fork (multiprocessing)", *PROCESS_MARKS))

    if ADMIN_URL:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        server = conninfo_to_dict(ADMIN_URL)
        where = (server.get("host"), str(server.get("port", 5432)))
        real_connect = psycopg.connect

        def watched_connect(conninfo: str = "", **kw: Any) -> Any:
            target = conninfo_to_dict(conninfo, **kw)
            if (target.get("host"), str(target.get("port", 5432))) == where:
                _watch.note("a connection to the PostgreSQL server of the tests", "postgres")
            return real_connect(conninfo, **kw)

        # SQLAlchemy and the tests call psycopg.connect (the module's name, read at call time).
        psycopg.connect = watched_connect  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    _install_watch()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    _watch.item, _watch.seen = item, []
    try:
        yield
    finally:
        _watch.item, _watch.seen = None, []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    # The last test's teardown also ends the session's fixtures (the PostgreSQL template, the
    # demo's web): not that test's doing.
    if nextitem is None:
        _watch.item = None
    yield


def _fail_unmarked_processes(report: pytest.TestReport) -> None:
    if not _watch.seen:
        return
    seen, _watch.seen = sorted(set(_watch.seen)), []
    if report.failed:
        return
    report.outcome = "failed"
    report.longrepr = (
        "this test (or a fixture it uses) started "
        + "; ".join(seen)
        + ": mark it integration (a crawl, a govaudit subprocess, a server process), browser "
        "(Chromium) or postgres (the test server), so that `make test-fast` leaves it out"
    )


# Under CI a skipped test is a missing service, browser or data set: fail it, never pass it
# by silence (a group of skipped PostgreSQL or browser tests would hide a broken set-up). The
# hooks run where the test runs (an xdist worker too), before the report is sent on.
def _fail_skips_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a skip here is a failure): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    _fail_skips_in_ci(report)
    _fail_unmarked_processes(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())
