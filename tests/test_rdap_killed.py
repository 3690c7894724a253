"""Operator faults (issue 13): SIGKILL during RDAP. `govaudit rdap` and `govaudit run` killed
with one RDAP answer still outstanding leave a consistent database; the next command asks
what is missing (`rdap --only-unknown`) or continues the job's RDAP run (`run`), and the
stored answers then equal those of an uninterrupted run: nothing duplicated, nothing lost.

The kill is synchronised, not timed: the simulated RDAP service holds one domain's answer
(`delay`) until the test has seen that request arrive and other answers stored, and
answers it at once in epoch 2, the world the second command and the uninterrupted run see.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import FILES, GOVAUDIT, govaudit, sites
from tests.test_periodic_job import job_world, run_job, summary
from tests.test_rdap import RDAP_TYPE, RDAP_URL, error_object, ok

pytestmark = pytest.mark.integration

HELD = "held.gov"
ANSWERED = [f"d{i:02d}.gov" for i in range(10)]
DOMAINS = [*ANSWERED[:5], HELD, *ANSWERED[5:]]
# What the comparison keeps of a stored answer: everything but ids, runs and fetch times.
COMPARED = ("domain", "url", "state", "http_status", "registration", "error", "body")
CONCLUSIVE = ("registered", "not-registered")


def rdap_site(domains: list[str]) -> dict[str, Any]:
    """An RDAP service that answers every name in `domains` (one of them 404) at once, except
    `HELD`, whose answer takes ten minutes in epoch 1 and comes at once in epoch 2."""
    pages: dict[str, Any] = {
        f"/rdap/domain/{name}": ok(name, f"2011-07-{i % 28 + 1:02d}T10:00:00Z")
        for i, name in enumerate(domains)
        if name != "d03.gov"
    }
    pages[f"/rdap/domain/{HELD}"] = ok(HELD, "2011-08-20T12:00:00Z", delay=600)
    return {
        "hosts": ["rdap.test.gov"],
        "schemes": ["https"],
        "catch_all": {
            "status": 404,
            "content_type": RDAP_TYPE,
            "json": error_object(404, "Not Found"),
        },
        "pages": pages,
        "epochs": {2: {"pages": {f"/rdap/domain/{HELD}": ok(HELD, "2011-08-20T12:00:00Z")}}},
    }


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet, or locked by the writer for a moment


def wait_for(condition: Callable[[], bool], what: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def answers(db: Path) -> int:
    found = query(db, "select count(*) from rdap_result")
    return found[0][0] if found else 0


def held_request_seen(web: Any) -> bool:
    return any(r.path == f"/rdap/domain/{HELD}" for r in web.requests("rdap.test.gov"))


def start(web: Any, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {**os.environ, **web.proxy_env(), "GOVAUDIT_BATCH_UNITS": "1", **env}
    return subprocess.Popen(
        [GOVAUDIT, *args],
        env=full,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command and its crawler processes (one process group), as `kill -9 -PGID`."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def newest_answers(db: Path) -> dict[str, tuple[Any, ...]]:
    """The answer the audit uses for each domain (audit/audit_run.py): the newest conclusive
    one, else the newest of any kind."""
    columns = ", ".join(COMPARED)
    rows = query(db, f"select {columns} from rdap_result order by fetched_at, id")
    assert rows, f"no RDAP answers in {db}"
    chosen: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        current = chosen.get(row[0])
        if current is None or row[2] in CONCLUSIVE or current[2] not in CONCLUSIVE:
            chosen[row[0]] = row
    return chosen


def assert_consistent(db: Path) -> None:
    """integrity_check ok; no run holds two answers for a domain; every stored answer is
    whole and finished its task, and every finished task has its answer."""
    assert query(db, "pragma integrity_check") == [("ok",)]
    assert query(db, "pragma foreign_key_check") == []
    assert (
        query(
            db,
            "select run_id, domain, count(*) from rdap_result group by run_id, domain "
            "having count(*) > 1",
        )
        == []
    )
    assert (
        query(
            db,
            "select domain from rdap_result where url is null or state is null "
            "or fetched_at is null or (state = 'registered' and registration is null)",
        )
        == []
    )
    # An answer without a finished task, or a finished task without its answer, is a
    # half-written unit.
    assert (
        query(
            db,
            "select r.run_id, r.domain from rdap_result r left join crawl_task t "
            "on t.run_id = r.run_id and t.job = 'rdap' and t.key = r.domain "
            "where t.state is null or t.state != 'done'",
        )
        == []
    )
    assert (
        query(
            db,
            "select t.run_id, t.key from crawl_task t left join rdap_result r "
            "on r.run_id = t.run_id and r.domain = t.key "
            "where t.job = 'rdap' and t.state = 'done' and r.id is null",
        )
        == []
    )


def test_rdap_killed_then_asked_again(simulated_web_factory: Any, tmp_path: Path) -> None:
    web = simulated_web_factory({"rdap": rdap_site(DOMAINS)})
    asked = [arg for name in DOMAINS for arg in ("--domain", name)]
    rdap_args = ["rdap", "--rdap-url", RDAP_URL, "--timeout", "120", *asked]
    killed = tmp_path / "killed.db"
    killed_url = f"sqlite:///{killed}"
    govaudit(None, killed_url, "db", "upgrade")

    proc = start(web, rdap_args, {"GOVAUDIT_DB": killed_url})
    try:
        wait_for(
            lambda: held_request_seen(web) and answers(killed) >= 3,
            f"the request for {HELD} and three stored answers",
        )
    finally:
        kill(proc)
    assert_consistent(killed)
    tasks = dict(query(killed, "select state, count(*) from crawl_task group by state"))
    stored = {d for (d,) in query(killed, "select domain from rdap_result")}
    assert HELD not in stored
    assert tasks.get("pending", 0) == len(DOMAINS) - len(stored) > 0, tasks
    assert tasks.get("done", 0) == len(stored)
    # The killed run is never taken for a finished one.
    assert query(killed, "select status from crawl_run") == [("running",)]

    web.set_epoch(2)
    again = govaudit(web, killed_url, *rdap_args, "--only-unknown")
    assert f"{len(DOMAINS) - len(stored)} domains from {RDAP_URL}" in again.stderr
    assert "finished" in again.stdout
    assert_consistent(killed)
    # What the killed run stored is not asked again, nor stored twice.
    assert query(killed, "select count(*) from rdap_result") == [(len(DOMAINS),)]
    assert query(killed, "select count(distinct domain) from rdap_result") == [(len(DOMAINS),)]

    clean = tmp_path / "clean.db"
    govaudit(web, f"sqlite:///{clean}", *rdap_args)
    assert_consistent(clean)
    expected = newest_answers(clean)
    assert set(expected) == set(DOMAINS)
    assert expected[HELD][2] == "registered" and expected["d03.gov"][2] == "not-registered"
    assert newest_answers(killed) == expected

    # Asked again in full (no --only-unknown), the newest answers stay the same.
    govaudit(web, killed_url, *rdap_args)
    assert_consistent(killed)
    assert newest_answers(killed) == expected


JOB_SITES = ["alpha.gov", "beta.gov"]


def job_config(tmp_path: Path) -> dict[str, Path]:
    """The periodic job's small world with its RDAP step on, asking the simulated service;
    a waiver names `HELD`, so the RDAP step asks for it too."""
    tmp_path.mkdir()
    world = job_world(tmp_path, JOB_SITES)
    policy = tmp_path / "rdap-policy.toml"
    policy.write_text(f'[rdap]\nbase_url = "{RDAP_URL}"\n', encoding="utf-8")
    waivers = tmp_path / "waivers.csv"
    waivers.write_text(
        f"domain,granted_on,granted_by,reference,note\n{HELD},2011-07-20,Federal CIO,W-1,x\n",
        encoding="utf-8",
    )
    text = world["config"].read_text().replace("rdap = false", "rdap = true")
    world["config"].write_text(f'policy = "{policy}"\nwaivers = "{waivers}"\n{text}')
    return world


def rdap_step_names(db: Path) -> list[str]:
    return [d for (d,) in query(db, "select key from crawl_task where job = 'rdap' order by key")]


def test_run_killed_in_its_rdap_step_continues_it(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    worlds = {**sites(), "rdap": rdap_site([*JOB_SITES, HELD])}
    web = simulated_web_factory(worlds, files=FILES)
    killed = job_config(tmp_path / "killed")
    db = killed["db"]
    proc = start(web, ["run", "--config", str(killed["config"])], {})
    try:
        wait_for(
            lambda: held_request_seen(web) and answers(db) >= 2,
            f"the RDAP step's request for {HELD} and two stored answers",
        )
    finally:
        kill(proc)
    assert_consistent(db)
    assert query(db, "select step, status from job_run") == [("rdap", "running")]
    names = rdap_step_names(db)
    assert HELD in names and set(JOB_SITES) <= set(names)
    before = dict(query(db, "select key, state from crawl_task where job = 'rdap'"))
    assert before[HELD] == "pending"
    stored_before = query(db, "select id, domain, fetched_at from rdap_result order by id")

    web.set_epoch(2)
    resumed = run_job(web, killed["config"], check=True)
    assert "continuing at step rdap" in resumed.stderr
    data = summary(resumed)
    assert data["run"] == 1 and data["status"] == "done"
    assert_consistent(db)
    # The same RDAP run went on: only its pending domains were asked; what the killed
    # attempt stored stays as it was, once.
    assert query(db, "select count(*) from crawl_run where settings like '%rdap_run%'") == [(1,)]
    assert set(dict(query(db, "select key, state from crawl_task where job = 'rdap'"))) == set(
        names
    )
    assert query(db, "select distinct state from crawl_task where job = 'rdap'") == [("done",)]
    after = query(db, "select id, domain, fetched_at from rdap_result order by id")
    assert after[: len(stored_before)] == stored_before
    assert sorted(d for _, d, _ in after) == sorted(names)
    assert query(db, "select count(*), status from job_run") == [(1, "done")]

    clean = job_config(tmp_path / "clean")
    assert summary(run_job(web, clean["config"], check=True))["status"] == "done"
    assert_consistent(clean["db"])
    assert rdap_step_names(clean["db"]) == names
    assert newest_answers(db) == newest_answers(clean["db"])
