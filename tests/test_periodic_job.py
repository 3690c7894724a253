"""`govaudit run`: the periodic job against the simulated web (lock, resume, latest, summary,
logs), `govaudit prune`, dateless registry files and `inventory fetch`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import (
    FILES,
    GOVAUDIT,
    REGISTRY_DOMAINS,
    govaudit_here,
    registry_csv,
    sites,
)
from tests.shared_once import copy_db

pytestmark = pytest.mark.integration

SMALL = ["alpha.gov", "beta.gov"]
SUMMARY_KEYS = [
    "run",
    "status",
    "registry",
    "crawl",
    "findings",
    "report",
    "failed_steps",
    "seconds",
]
REGISTRY_KEYS = ["files", "loaded", "unchanged", "failed", "newest_snapshot"]
AGENCIES = (
    "agency,slug,primary_domain,source\n"
    "Test Agency,test,alpha.gov,test\n"
    "Beta Agency,beta,beta.gov,test\n"
)


def job_world(
    tmp_path: Path, domains: list[str] | None = None, a11y: bool = False
) -> dict[str, Path]:
    """A config, registry folder and agencies file for the small simulated web."""
    registry = tmp_path / "registry"
    registry.mkdir()
    registry_csv(registry / "r-2026-01-01.csv", domains or REGISTRY_DOMAINS)
    (tmp_path / "agencies.csv").write_text(AGENCIES)
    config = tmp_path / "govaudit.toml"
    config.write_text(
        f"""
db = "sqlite:///{tmp_path}/job.db"
registry = "registry"
bundled_registry = false
agencies = "agencies.csv"
output = "out"
rdap = false
# DNS has its own job tests (test_dns_job.py); here it would only wait on a dead resolver.
dns = false
a11y = {"true" if a11y else "false"}
a11y_timeout = 30
workers = 1
retention = 2

[crawl]
timeout = 5.0
contact = "https://ops.example.gov/crawler"

[log]
file = "job.log"
"""
    )
    return {"config": config, "db": tmp_path / "job.db", "out": tmp_path / "out"}


def run_job(
    web: Any, config: Path, *args: str, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(web.proxy_env() if web else {}), **(env or {})}
    full.pop("GOVAUDIT_DB", None)
    result = subprocess.run(
        [GOVAUDIT, "run", "--config", str(config), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def start_job(web: Any, config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    full = {**os.environ, **web.proxy_env(), **env}
    full.pop("GOVAUDIT_DB", None)
    return subprocess.Popen(
        [GOVAUDIT, "run", "--config", str(config)],
        env=full,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(result.stdout.strip().splitlines()[-1])


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def wait_for(condition: Any, what: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def kill(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def start_web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The small simulated web of tests/crawl_world.py, for a module fixture (stop it)."""
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    folder = write_sites(tmp_path_factory.mktemp("job-web"), sites(), FILES)
    return SimulatedWeb.from_directory(folder).start()


def copy_job(source: Path, target: Path) -> dict[str, Path]:
    """A job folder of `job_world` (config, registry, database, output, log) copied to
    `target`, its config pointing at the copied database: a test's own to run on."""
    shutil.copytree(
        source, target, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns("job.db*")
    )
    copy_db(source / "job.db", target, "job.db")
    config = target / "govaudit.toml"
    config.write_text(
        config.read_text().replace(f"sqlite:///{source}/job.db", f"sqlite:///{target}/job.db")
    )
    return {"config": config, "db": target / "job.db", "out": target / "out"}


@pytest.fixture(scope="module")
def every_step(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The whole test world run twice by `govaudit run` (once for the module: read-only),
    and a copy of its job folder as it was after the first run."""
    tmp = tmp_path_factory.mktemp("every-step")
    web = start_web(tmp_path_factory)
    try:
        world = job_world(tmp)
        first = run_job(web, world["config"], check=True)
        after_first = tmp_path_factory.mktemp("after-first-run")
        copy_job(tmp, after_first)
        made = {
            "folder": tmp,
            "world": world,
            "first": first,
            "log_after_first": (tmp / "job.log").read_text(),
            "agents": {r.user_agent for r in web.requests("www.alpha.gov")},
            "after_first": after_first,
        }
        made["second"] = run_job(web, world["config"], check=True)
        yield made
    finally:
        web.stop()


def test_a_run_does_every_step_and_switches_latest(every_step: dict[str, Any]) -> None:
    world = every_step["world"]
    data = summary(every_step["first"])
    assert list(data) == SUMMARY_KEYS
    assert data["status"] == "done" and data["run"] == 1 and data["failed_steps"] == []
    assert data["registry"]["loaded"] == 1 and data["registry"]["failed"] == 0
    assert data["crawl"] == {"tasks": 10, "done": 10, "failed": 0, "pages": data["crawl"]["pages"]}
    assert data["crawl"]["pages"] > 5
    assert data["findings"]["total"] > 0 and data["findings"]["new"] == data["findings"]["total"]
    latest = world["out"] / "latest"
    # The first run's report, as `latest` pointed after it (the copy kept of that moment).
    latest_then = every_step["after_first"] / "out" / "latest"
    assert latest_then.is_symlink() and not Path(os.readlink(latest_then)).is_absolute()
    assert (latest_then / "index.html").is_file()
    assert Path(data["report"]) == world["out"] / os.readlink(latest_then) / "index.html"
    # The crawl identified itself with the configured contact.
    agents = every_step["agents"]
    assert any(a and a.endswith("(+https://ops.example.gov/crawler)") for a in agents)
    log = every_step["log_after_first"]
    for step in ("registry", "crawl", "rdap", "audit", "report", "prune"):
        assert f"run 1: step {step} done in" in log
    assert "crawl done in" in log and "tasks 10, done 10" in log

    second = summary(every_step["second"])
    assert second["run"] == 2 and second["registry"] == {**second["registry"], "loaded": 0}
    assert second["findings"]["new"] == 0 and second["findings"]["resolved"] == 0
    assert len(list((world["out"] / "runs").iterdir())) == 2
    assert latest.is_symlink() and not Path(os.readlink(latest)).is_absolute()
    assert Path(second["report"]).parent == latest.resolve()
    assert (latest / "index.html").is_file()


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('db = "sqlite:///x.db"\n\n[crawl]\nconcurency = 4\n')
    result = run_job(None, bad)
    assert result.returncode == 2
    assert f"{bad}:4: unknown key 'crawl.concurency'" in result.stderr
    assert summary(result)["status"] == "failed"
    # A run that never started still has every documented key (issue 28, item 4).
    assert list(summary(result)) == SUMMARY_KEYS
    assert list(summary(result)["registry"]) == REGISTRY_KEYS
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("retention = 'many'\n")
    result = run_job(None, wrong)
    assert result.returncode == 2 and f"{wrong}:1: retention must be an integer" in result.stderr
    fine = tmp_path / "fine.toml"
    fine.write_text("retention = 3\n")
    result = run_job(None, fine, env={"GOVAUDIT_RETENTION": "x"})
    assert result.returncode == 2 and "GOVAUDIT_RETENTION: retention must be an integer" in (
        result.stderr
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("retention = 3\n[crawl]\nworkers = \n")
    result = run_job(None, broken)
    assert result.returncode == 2 and f"{broken}:3: not valid TOML" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_passwords_never_reach_the_log(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        'db = "postgresql://auditor:s3cret-pw@127.0.0.1:9/govaudit"\n'
        'registry = "nowhere"\nbundled_registry = false\n'
        f'[log]\nfile = "{tmp_path}/job.log"\n'
    )
    result = run_job(None, config)
    assert result.returncode == 1
    assert summary(result)["status"] == "failed"
    assert list(summary(result)["registry"]) == REGISTRY_KEYS
    log = (tmp_path / "job.log").read_text()
    assert "cannot open the database" in log and "auditor:***@127.0.0.1" in log
    for text in (log, result.stdout, result.stderr):
        assert "s3cret-pw" not in text


def test_a_second_run_is_locked_out_and_a_killed_runs_lock_is_taken_over(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    web = simulated_web_factory(sites(), files=FILES)
    world = job_world(tmp_path, SMALL)
    first = start_job(web, world["config"], {"GOVAUDIT_JOB_HOLD": "audit-written"})
    log = tmp_path / "job.log"
    try:
        wait_for(lambda: log.exists() and "holding at audit-written" in log.read_text(), "audit")
        second = run_job(web, world["config"])
        assert second.returncode == 3
        assert summary(second)["status"] == "locked"
        assert list(summary(second)) == SUMMARY_KEYS
        assert summary(second)["registry"] == dict.fromkeys(REGISTRY_KEYS, 0) | {
            "newest_snapshot": None
        }
        line = [x for x in second.stderr.splitlines() if "locked" in x]
        assert len(line) == 1 and f"pid {first.pid}" in line[0] and "held by host" in line[0]
    finally:
        kill(first)
    # Killed after its audit was stored, before the job noted it: the next run takes the
    # lock over and continues at the audit step without auditing twice.
    assert query(world["db"], "select count(*) from audit_run") == [(1,)]
    resumed = run_job(web, world["config"], check=True)
    assert "took over a stale lock" in resumed.stderr
    assert f"pid {first.pid}" in resumed.stderr
    assert "continuing at step audit" in resumed.stderr
    data = summary(resumed)
    assert data["run"] == 1 and data["status"] == "done"
    assert query(world["db"], "select count(*) from audit_run") == [(1,)]
    assert query(world["db"], "select count(*) from crawl_run") == [(1,)]
    assert query(world["db"], "select count(*), status from job_run") == [(1, "done")]
    assert query(world["db"], "select count(*) from job_lock") == [(0,)]


def test_killed_in_the_report_step_latest_still_shows_a_whole_report(
    every_step: dict[str, Any], simulated_web_factory: Any, tmp_path: Path
) -> None:
    web = simulated_web_factory(sites(), files=FILES)
    # The job's folder after a first whole run (a copy of it: this test's own).
    world = copy_job(every_step["after_first"], tmp_path)
    first = summary(every_step["first"])
    latest = world["out"] / "latest"
    before = os.readlink(latest)
    proc = start_job(web, world["config"], {"GOVAUDIT_JOB_HOLD": "report-written"})
    log = tmp_path / "job.log"
    try:
        wait_for(lambda: "holding at report-written" in log.read_text(), "the report")
        # The new report is written, but `latest` still points at the previous whole one.
        assert os.readlink(latest) == before
        folders = sorted((world["out"] / "runs").iterdir())
        assert len(folders) == 2 and (folders[-1] / "index.html").is_file()
    finally:
        kill(proc)
    assert os.readlink(latest) == before
    resumed = run_job(web, world["config"], check=True)
    data = summary(resumed)
    assert data["run"] == 2 and "continuing at step report" in resumed.stderr
    assert os.readlink(latest) == f"runs/{folders[-1].name}"
    assert Path(data["report"]) == folders[-1] / "index.html"
    assert len(list((world["out"] / "runs").iterdir())) == 2
    assert query(world["db"], "select count(*) from audit_run") == [(2,)]
    assert data["findings"]["total"] == first["findings"]["total"]
    assert not list(world["out"].glob(".latest*"))


def test_killed_in_the_crawl_the_next_run_continues_its_tasks(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    names = [f"slow{i:02d}.gov" for i in range(10)]
    web = simulated_web_factory(
        {
            n.split(".")[0]: {
                "hosts": [n, f"www.{n}"],
                "delay": 0.1,
                "robots": "User-agent: *\nDisallow:\n",
                "pages": {"/": {"body": f"<title>{n}</title><a href='/a'>a</a>"}, "/a": {}},
            }
            for n in names
        }
    )
    world = job_world(tmp_path, names)
    text = world["config"].read_text().replace("[crawl]", "[crawl]\nper_host = 1\nconcurrency = 2")
    world["config"].write_text(text)
    proc = start_job(web, world["config"], {"GOVAUDIT_BATCH_UNITS": "1"})
    try:
        wait_for(
            lambda: (
                (
                    query(world["db"], "select count(*) from crawl_task where state='done'")
                    or [(0,)]
                )[0][0]
                >= 3
            ),
            "three crawled domains",
        )
    finally:
        kill(proc)
    pending = query(world["db"], "select count(*) from crawl_task where state='pending'")[0][0]
    assert pending > 0, "the crawl finished before it could be killed"
    resumed = run_job(web, world["config"], check=True)
    assert "continuing at step crawl" in resumed.stderr
    assert "continuing crawl run 1" in resumed.stderr
    data = summary(resumed)
    assert data["run"] == 1 and data["crawl"]["tasks"] == 12 and data["crawl"]["done"] == 12
    assert query(world["db"], "select count(*) from crawl_run") == [(1,)]
    dupes = query(
        world["db"],
        "select domain, count(*) from site_observation group by domain having count(*) > 1",
    )
    assert dupes == []
    assert len(query(world["db"], "select domain from site_observation")) == 10


def test_prune_keeps_findings_plans_and_sites(
    every_step: dict[str, Any], tmp_path: Path, cli_run: Any
) -> None:
    # The job's database after its two runs (retention 2 kept both runs' pages): a copy.
    db = copy_db(every_step["world"]["db"], tmp_path, "p.db")
    path = tmp_path / "p.db"
    counts = {
        t: query(path, f"select count(*) from {t}")[0][0]
        for t in ("finding", "plan_check", "site_observation", "audit_run")
    }
    assert all(counts.values()), counts
    pages = dict(query(path, "select run_id, count(*) from page_observation group by run_id"))
    assert sorted(pages) == [1, 2]
    result = cli_run("prune", "--keep", "1", db=db)
    assert result.exit_code == 0, result.output
    assert "of 1 older run(s)" in result.stdout
    assert dict(query(path, "select run_id, count(*) from page_observation group by run_id")) == {
        2: pages[2]
    }
    for table in ("link_observation", "endpoint_observation"):
        assert {r for (r,) in query(path, f"select distinct run_id from {table}")} == {2}
    assert {
        t: query(path, f"select count(*) from {t}")[0][0]
        for t in ("finding", "plan_check", "site_observation", "audit_run")
    } == counts


def test_inventory_load_dates_a_dateless_file(tmp_path: Path, cli_run: Any) -> None:
    current = registry_csv(tmp_path / "current-federal.csv", ["alpha.gov", "beta.gov"])
    stamp = time.mktime((2025, 3, 4, 12, 0, 0, 0, 0, -1))
    os.utime(current, (stamp, stamp))
    result = cli_run("inventory", "load", str(current))
    assert result.exit_code == 0, result.stderr
    assert "current-federal.csv: no date in the name: dated 2025-03-04 by modification time" in (
        result.stdout
    )
    assert "as of 2025-03-04: 2 rows read, 2 loaded" in result.stdout
    again = cli_run("inventory", "load", str(current))
    assert "nothing added" in again.stdout
    full = registry_csv(tmp_path / "current-full.csv", ["alpha.gov", "beta.gov", "gamma.gov"])
    result = cli_run("inventory", "load", "--as-of", "2026-02-01", str(full))
    assert "current-full.csv: no date in the name: dated 2026-02-01 by --as-of" in result.stdout
    rows = json.loads(cli_run("inventory", "list", "--format", "json").stdout)
    assert {r["snapshot"] for r in rows} == {"2026-02-01"} and len(rows) == 3


def test_inventory_fetch_downloads_the_current_lists(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    federal = registry_csv(tmp_path / "f.csv", ["alpha.gov", "beta.gov"]).read_text()
    full = registry_csv(tmp_path / "g.csv", ["alpha.gov", "beta.gov", "gamma.gov"]).read_text()
    base = "/cisagov/dotgov-data/main"
    web = simulated_web_factory(
        {
            "github": {
                "hosts": ["raw.githubusercontent.com"],
                "schemes": ["https"],
                "pages": {
                    f"{base}/current-federal.csv": {"text": federal},
                    f"{base}/current-full.csv": {"text": full},
                    "/broken/current-federal.csv": {"body": "<html>Not a CSV</html>"},
                },
            }
        }
    )
    env = {**os.environ, **web.proxy_env(), "SSL_CERT_FILE": str(web.ca_pem_path)}
    folder = tmp_path / "registry"

    def fetch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GOVAUDIT, "inventory", "fetch", "--out", str(folder), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    result = fetch()
    assert result.returncode == 0, result.stderr
    assert (folder / "current-federal.csv").read_text() == federal
    assert (folder / "current-full.csv").read_text() == full
    assert result.stdout.count("downloaded from https://raw.githubusercontent.com/") == 2
    assert [r.path for r in web.requests("raw.githubusercontent.com") if r.method == "GET"] == [
        f"{base}/current-federal.csv",
        f"{base}/current-full.csv",
    ]
    assert fetch().stdout.count("unchanged") == 2
    broken = fetch("--url", "https://raw.githubusercontent.com/broken/current-federal.csv")
    assert broken.returncode == 2 and "not a registry export" in broken.stderr
    assert (folder / "current-federal.csv").read_text() == federal
    # Without the simulated web's CA the TLS certificate is refused: verification is on.
    env.pop("SSL_CERT_FILE")
    env["SSL_CERT_FILE"] = "/nonexistent-ca.pem"
    assert fetch().returncode == 2


def _lock_holds_and_goes_stale(url: str) -> None:
    from sqlalchemy import update

    from audit.db import Database
    from audit.models import JobLock, utcnow
    from govaudit.job_lock import Locked, acquire

    db = Database(url)
    try:
        first = acquire(db, stale_after=600)
        with pytest.raises(Locked) as refused:
            acquire(db, stale_after=600)
        assert f"pid {os.getpid()}" in str(refused.value)
        # Another machine's holder: alive while its heartbeat is fresh, stale once it is old.
        with db.session() as session:
            session.execute(update(JobLock).values(host="other-host", pid=1))
        with pytest.raises(Locked, match="held by host other-host, pid 1"):
            acquire(db, stale_after=600)
        with db.session() as session:
            old = utcnow().replace(year=2020)
            session.execute(update(JobLock).values(heartbeat_at=old))
        second = acquire(db, stale_after=600)
        assert second.took_over is not None and second.took_over.host == "other-host"
        first.release()  # the old holder's release must not drop the new holder's lock
        with pytest.raises(Locked):
            acquire(db, stale_after=600)
        second.release()
        acquire(db, stale_after=600).release()
        # A row naming this very pid but not held by this process: an earlier process that
        # had our pid (a restarted container) left it; it is stale, not ours.
        import socket

        with db.session() as session:
            now = utcnow()
            session.add(
                JobLock(
                    name="run",
                    token="left-behind",
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                )
            )
        third = acquire(db, stale_after=600)
        assert third.took_over is not None and third.took_over.pid == os.getpid()
        third.release()
    finally:
        db.dispose()


def test_lock_on_sqlite(tmp_path: Path) -> None:
    _lock_holds_and_goes_stale(f"sqlite:///{tmp_path}/lock.db")


@pytest.mark.postgres
def test_lock_and_job_on_postgresql(
    pg_url: str,
    simulated_web_factory: Any,
    tmp_path: Path,
) -> None:
    _lock_holds_and_goes_stale(pg_url)
    web = simulated_web_factory(sites(), files=FILES)
    world = job_world(tmp_path, SMALL)
    text = world["config"].read_text().replace(f"sqlite:///{tmp_path}/job.db", pg_url)
    world["config"].write_text(text)
    result = run_job(web, world["config"], check=True)
    data = summary(result)
    assert data["status"] == "done" and data["crawl"]["tasks"] == 4
    assert (world["out"] / "latest" / "index.html").is_file()
    password = pg_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    log = (tmp_path / "job.log").read_text()
    assert ":***@" in log and f":{password}@" not in log
    import psycopg

    again = summary(run_job(web, world["config"], check=True))
    assert again["run"] == 2 and again["findings"]["new"] == 0
    with psycopg.connect(pg_url) as conn:
        findings = conn.execute("select count(*) from finding").fetchone()
    pruned = govaudit_here(pg_url, "prune", "--keep", "1")
    assert "of 1 older run(s)" in pruned.stdout
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("select distinct run_id from page_observation").fetchall() == [(2,)]
        assert conn.execute("select count(*) from finding").fetchone() == findings
        settings = conn.execute("select settings::text from crawl_run").fetchall()
        conn.execute(
            "insert into job_lock (name, token, host, pid, started_at, heartbeat_at) "
            "values ('run', 'x', 'cron-host-2', 4242, now() at time zone 'utc', "
            "now() at time zone 'utc')"
        )
    assert settings and all(f":{password}@" not in s for (s,) in settings)
    locked = run_job(web, world["config"])
    assert locked.returncode == 3
    assert "held by host cron-host-2, pid 4242" in locked.stderr


def test_the_example_config_names_files_that_exist() -> None:
    import glob

    from govaudit.job_config import load_config

    example = Path(__file__).resolve().parent.parent / "examples" / "govaudit.toml"
    config = load_config(example, environ={})
    # Relative paths are taken from the file's folder, written without "..".
    root = example.parent.parent
    assert config["db"] == f"sqlite:///{root}/govaudit-run/govaudit.db"
    assert [len(glob.glob(p)) for p in config["registry"]] == [3]
    for key in ("policy", "agencies", "waivers"):
        assert Path(config[key]).is_file(), key
    assert config["crawl.contact"] and config["log.level"] == "INFO"
    # Variables win over the file; a list is comma-separated.
    overridden = load_config(
        example,
        environ={
            "GOVAUDIT_DB": "sqlite:///elsewhere.db",
            "GOVAUDIT_LOG_LEVEL": "debug",
            "GOVAUDIT_RDAP": "false",
            "GOVAUDIT_REGISTRY": "a.csv,b",
            "GOVAUDIT_CRAWL_PER_HOST": "1",
        },
    )
    assert overridden["db"] == "sqlite:///elsewhere.db" and overridden["log.level"] == "DEBUG"
    assert overridden["rdap"] is False and overridden["crawl.per_host"] == 1
    assert [Path(p).name for p in overridden["registry"]] == ["a.csv", "b"]
    assert overridden.crawl_overrides()["concurrent_requests_per_host"] == 1


@pytest.fixture(scope="module")
def a11y_and_warc_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One `govaudit run` of the small world with `a11y = true` and `warc = true` (once for
    the module, read-only: copy_job it to run again). It starts Chromium: its tests are
    marked browser."""
    tmp = tmp_path_factory.mktemp("a11y-warc")
    web = start_web(tmp_path_factory)
    try:
        world = job_world(tmp, SMALL, a11y=True)
        config = world["config"]
        config.write_text(
            config.read_text().replace(
                "rdap = false\n", 'rdap = false\nwarc = true\nwarc_dir = "warc"\n'
            )
        )
        env = {"SSL_CERT_FILE": str(web.ca_pem_path)}
        result = run_job(web, config, env=env, check=True)
        yield {"folder": tmp, "world": world, "result": result}
    finally:
        web.stop()


@pytest.mark.browser
def test_the_a11y_step_checks_the_crawled_pages_and_quick_skips_it(
    a11y_and_warc_run: dict[str, Any], simulated_web_factory: Any, tmp_path: Path
) -> None:
    folder = a11y_and_warc_run["folder"]
    log = (folder / "job.log").read_text()
    assert "run 1: step a11y done in" in log
    checked = query(
        a11y_and_warc_run["world"]["db"], "select url, kind, state from a11y_check order by url"
    )
    assert ("https://www.alpha.gov/", "homepage", "checked") in checked
    # beta.gov serves http only: its homepage is checked over http.
    assert ("http://www.beta.gov/", "homepage", "checked") in checked
    assert {kind for _, kind, _ in checked} <= {"homepage", "open", "plan"}

    web = simulated_web_factory(sites(), files=FILES)
    world = copy_job(folder, tmp_path)
    env = {"SSL_CERT_FILE": str(web.ca_pem_path)}
    quick = run_job(web, world["config"], "--quick", env=env, check=True)
    assert summary(quick)["status"] == "done"
    assert "a11y: skipped (--quick or a11y = false)" in (tmp_path / "job.log").read_text()
    runs = query(world["db"], "select count(distinct run_id) from a11y_check")
    assert runs == [(1,)]


@pytest.mark.browser  # the run of a11y_and_warc_run checks accessibility too
def test_warc_true_in_the_config_archives_the_crawl(a11y_and_warc_run: dict[str, Any]) -> None:
    tmp_path, world = a11y_and_warc_run["folder"], a11y_and_warc_run["world"]
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert files, "no WARC file written"
    (settings,) = query(world["db"], "select settings from crawl_run order by id limit 1")
    stored = json.loads(settings[0])
    assert stored["warc"] is True and stored["warc_dir"] == str(tmp_path / "warc")
    archived = query(
        world["db"], "select count(*) from endpoint_observation where warc_file is not null"
    )
    assert archived[0][0] > 0
