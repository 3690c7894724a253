"""`govaudit crawl`'s worker processes (crawler/crawl_run.py, crawler/crawl_process.py): one
process per worker crawls the run's jobs in turn, and a job that fails or kills its process
does not take the worker's later jobs with it.

The crawl runs in this process (its workers are real processes), so the crawler processes it
starts are counted at `subprocess.Popen`. Faults are planted into the workers by a
`sitecustomize` module on their PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import GOVAUDIT, invoke_here

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "simweb" / "demo" / "seeds"
COMMON = ("--policy", str(SEEDS / "policy.toml"), "--agencies", str(SEEDS / "agencies.csv"))
DOMAINS = ("dol.gov", "hud.gov")

# The site crawl's spider fails as it starts, one way or the other (GOVAUDIT_TEST_FAULT).
FAULTS = textwrap.dedent(
    '''
    """Faults for tests/test_crawl_workers.py."""
    import os
    import signal

    import crawler.spiders.sites

    _init = crawler.spiders.sites.SitesSpider.__init__


    def failing_init(self, *args, **kwargs):
        if os.environ.get("GOVAUDIT_TEST_FAULT") == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("planted: the site crawl fails as it starts")


    crawler.spiders.sites.SitesSpider.__init__ = failing_init
    '''
)


def crawl(
    monkeypatch: pytest.MonkeyPatch, demo_web: Any, tmp_path: Path, env: dict[str, str]
) -> tuple[Any, str, list[list[str]]]:
    """`govaudit crawl --workers 1` of two domains and their agencies' /open pages: the
    result, the database, and the jobs of each crawler process started, in order."""
    launched: list[list[str]] = []
    real_popen = subprocess.Popen

    class CountedPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: Any, *rest: Any, **kw: Any) -> None:
            if "crawler.crawl_process" in list(args):
                launched.append([args[i + 1] for i, a in enumerate(args) if a == "--job"])
            super().__init__(args, *rest, **kw)

    monkeypatch.setattr(subprocess, "Popen", CountedPopen)
    db = f"sqlite:///{tmp_path}/crawl.db"
    loaded = invoke_here(db, "inventory", "load", str(SEEDS / "demo-federal-2014-12-16.csv"))
    assert loaded.exit_code == 0, loaded.output
    domains = [a for d in DOMAINS for a in ("--domain", d)]
    result = invoke_here(
        db,
        *COMMON,
        "crawl",
        "--workers",
        "1",
        "--timeout",
        "5",
        *domains,
        env={**demo_web.proxy_env(), **env},
    )
    return result, db, launched


def task_states(db: str) -> dict[str, set[str]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        rows = conn.execute("SELECT job, state FROM crawl_task").fetchall()
    out: dict[str, set[str]] = {}
    for job, state in rows:
        out.setdefault(job, set()).add(state)
    return out


def run_stats(db: str) -> dict[str, Any]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        (stats,) = conn.execute("SELECT stats FROM crawl_run").fetchone()
    return dict(json.loads(stats))


def test_a_worker_crawls_its_jobs_in_one_process(
    monkeypatch: pytest.MonkeyPatch, demo_web: Any, tmp_path: Path
) -> None:
    result, db, launched = crawl(monkeypatch, demo_web, tmp_path, {})
    assert result.exit_code == 0, result.output
    assert launched == [["sites", "open"]]
    assert task_states(db) == {"sites": {"done"}, "open": {"done"}}
    stats = run_stats(db)
    # Each job's Scrapy statistics under its own key, as when each job had a process.
    assert sorted(stats) == ["open/0", "sites/0"]
    assert stats["sites/0"]["finish_reason"] == stats["open/0"]["finish_reason"] == "finished"
    assert stats["sites/0"]["start_time"] < stats["open/0"]["start_time"]
    assert "crawl run 1 finished" in result.output


@pytest.mark.parametrize("fault", ["raise", "kill"])
def test_a_job_that_fails_or_kills_its_process_leaves_the_next_job_to_run(
    fault: str, monkeypatch: pytest.MonkeyPatch, demo_web: Any, tmp_path: Path
) -> None:
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "sitecustomize.py").write_text(FAULTS, encoding="utf-8")
    env = {
        "PYTHONPATH": os.pathsep.join([str(faults), str(REPO)]),
        "GOVAUDIT_TEST_FAULT": fault,
    }
    result, db, launched = crawl(monkeypatch, demo_web, tmp_path, env)
    # An exception: the process goes on to the next job. A killed process: a new one for the
    # job it had not started, never again for the one it died in.
    assert launched == ([["sites", "open"]] if fault == "raise" else [["sites", "open"], ["open"]])
    # The failed job's tasks wait for --resume; the next job's are crawled.
    assert task_states(db) == {"sites": {"pending"}, "open": {"done"}}
    assert run_stats(db)["open/0"]["finish_reason"] == "finished"
    assert "crawl run 1 interrupted" in result.output, result.output


def test_ctrl_c_ends_the_job_in_hand_and_starts_no_other(demo_web: Any, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the process group): the worker's crawl stops, its statistics are
    kept, and its process does not go on to the /open job."""
    db = f"sqlite:///{tmp_path}/crawl.db"
    loaded = invoke_here(db, "inventory", "load", str(SEEDS / "demo-federal-2014-12-16.csv"))
    assert loaded.exit_code == 0, loaded.output
    env = {**os.environ, **demo_web.proxy_env(), "GOVAUDIT_DB": db, "GOVAUDIT_BATCH_UNITS": "1"}
    # One domain at a time, one request at a time: the site crawl lasts long enough to stop.
    command = [GOVAUDIT, *COMMON, "crawl", "--workers", "1", "--concurrency", "1"]
    proc = subprocess.Popen(
        [*command, "--per-host", "1", "--timeout", "5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As from a terminal: SIGINT is Ctrl-C, whatever this process does with it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and task_states_or_none(db, "done") < 2:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "interrupted: continue with `govaudit crawl --resume --run 1`" in err, out + err
    states = task_states(db)
    assert "pending" in states["sites"], "the site crawl ended before it could be stopped"
    assert states["open"] == {"pending"}
    # Kept however far Scrapy got: the parent's own SIGINT to its workers, a second one, may
    # stop Scrapy before the spider is closed.
    stats = run_stats(db)
    assert stats["sites/0"]["start_time"] and "open/0" not in stats


def task_states_or_none(db: str, state: str) -> int:
    """How many tasks are in `state`; 0 while the run's tables are not there yet."""
    try:
        with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
            conn.execute("PRAGMA busy_timeout = 200")
            (count,) = conn.execute(
                "SELECT count(*) FROM crawl_task WHERE state = ?", (state,)
            ).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(count)
