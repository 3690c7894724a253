"""Operator faults (issue 13): PostgreSQL stopped mid-crawl and started again.

The crawl ends with one clear line naming the database (password masked) and exit 1, what
was committed before the stop is still there after the restart, and `govaudit crawl --resume`
finishes the run with every domain stored exactly once, as an uninterrupted crawl stores it.

The server is a private throw-away cluster (initdb into a temporary folder, a free port on
127.0.0.1): the shared one of GOVAUDIT_TEST_PG_URL is never stopped, other tests use it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simweb.server import SimulatedWeb
from tests.crawl_world import GOVAUDIT, registry_csv

pytestmark = [pytest.mark.postgres, pytest.mark.integration, pytest.mark.slow]

PG_BIN = Path("/usr/lib/postgresql")
PASSWORD = "Pg-restart-s3cret-9Zq"
FAST = ["alder.gov", "birch.gov", "cedar.gov", "dogwood.gov"]
# Slow while the crawl runs (a minute a request: they cannot finish before the stop), quick
# after the restart (epoch 2), so the resumed run and the reference run see the same web.
SLOW = ["elm.gov", "fir.gov"]
DOMAINS = FAST + SLOW
SLOW_DELAY = 60.0


def _pg_bin_dir() -> Path | None:
    versions = sorted(
        (p for p in PG_BIN.glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of this test alone: stopping it disturbs nobody."""

    bin_dir: Path
    root: Path
    port: int
    run_as: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://govaudit:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if check and done.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"pg_ctl {' '.join(args)}: {done.stderr}\n{log}")
        return done

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root / 'socket'} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c shared_buffers=16MB -c max_connections=40"
        )
        self.pg_ctl("-w", "-t", "60", "-l", str(self.root / "server.log"), "-o", options, "start")

    def stop(self) -> None:
        self.pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def running(self) -> bool:
        return self.pg_ctl("status", check=False).returncode == 0

    def query(self, database: str, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url(database, "postgresql"), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        message = f"no PostgreSQL server binaries (initdb) under {PG_BIN}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    run_as: list[str] = []
    # initdb refuses to run as root: the cluster then belongs to the postgres user, in a
    # folder of its own (pytest's tmp_path is not readable by other users).
    root = Path(tempfile.mkdtemp(prefix="govaudit-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = PrivateCluster(bin_dir, root, _free_port(), run_as)
    try:
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n")
        (root / "socket").mkdir()
        if run_as:
            for path in (password_file, root / "socket"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        init = subprocess.run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                "govaudit",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--no-sync",
                "--no-locale",
                "-E",
                "UTF8",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert init.returncode == 0, init.stdout + init.stderr
        cluster.start()
        for database in ("crawl", "reference"):
            cluster.query("postgres", f"CREATE DATABASE {database}")
        yield cluster
    finally:
        if cluster.data.is_dir() and cluster.running():
            cluster.pg_ctl("-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def _world() -> dict[str, dict[str, Any]]:
    page = "<html><head><title>{t}</title></head><body><p>{t} serves the public.</p></body></html>"
    sites: dict[str, dict[str, Any]] = {}
    for domain in DOMAINS:
        name = domain.removesuffix(".gov")
        sites[name] = {
            "hosts": [domain, f"www.{domain}"],
            "pages": {"/": {"body": page.format(t=name.title())}},
        }
        if domain in SLOW:
            sites[name] |= {"delay": SLOW_DELAY, "epochs": {2: {"delay": 0}}}
    return sites


def _env(web: SimulatedWeb, db_url: str) -> dict[str, str]:
    # One unit a transaction: each site lands (and stays) on its own.
    return {**os.environ, **web.proxy_env(), "GOVAUDIT_DB": db_url, "GOVAUDIT_BATCH_UNITS": "1"}


def _govaudit(web: SimulatedWeb, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVAUDIT, *args],
        env=_env(web, db_url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


CRAWL = ["crawl", "--only", "sites", "--workers", "1", "--timeout", str(SLOW_DELAY * 2)]
# What the same web gives whatever the run: not the run id nor the time of the fetch.
RUN_COLUMNS = {"crawl_run", "fetched_at"}


def _sites(web: SimulatedWeb, db_url: str) -> list[dict[str, Any]]:
    done = _govaudit(web, db_url, "export", "sites", "--format", "json")
    assert done.returncode == 0, done.stderr
    return sorted(
        ({k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in json.loads(done.stdout)),
        key=lambda row: row["domain"],
    )


STORED = {
    "site_observation": "select id, domain, homepage_url, pages_crawled, fetched_at "
    "from site_observation order by id",
    "endpoint_observation": "select id, domain, url, status, final_url, fetched_at "
    "from endpoint_observation order by id",
    "page_observation": "select id, domain, url, status, content_hash, fetched_at "
    "from page_observation order by id",
    "crawl_task": "select id, key, state from crawl_task where state <> 'pending' order by id",
}


def _stored(cluster: PrivateCluster) -> dict[str, list[tuple[Any, ...]]]:
    return {table: cluster.query("crawl", sql) for table, sql in STORED.items()}


def _one_error_line(stderr: str, *info: str) -> str:
    """The command's only error line: no traceback, nothing else but the `info` lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith(info)]
    assert len(lines) == 1, stderr
    return lines[0]


def _crawler_workers(db_url: str, timeout: float) -> list[int]:
    """The processes (crawler workers) whose environment names this database, once none are
    left or when `timeout` has passed."""
    marker = f"GOVAUDIT_DB={db_url}".encode()
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and marker in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue  # ended meanwhile, or not ours to read
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _wait_for_fast_sites(cluster: PrivateCluster, crawl: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert crawl.poll() is None, f"the crawl ended before the stop: {crawl.communicate()}"
        stored = cluster.query("crawl", "select domain from site_observation")
        if len(stored) >= len(FAST):
            assert sorted(d for (d,) in stored) == FAST
            return
        time.sleep(0.2)
    raise AssertionError("the fast sites were not stored within 180 s")


def test_postgresql_stopped_mid_crawl_then_resumed(
    private_cluster: PrivateCluster, tmp_path: Path, simulated_web_factory: Any
) -> None:
    cluster = private_cluster
    web = simulated_web_factory(_world())
    crawl_url = cluster.url("crawl")
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", DOMAINS)
    loaded = _govaudit(web, crawl_url, "inventory", "load", str(registry))
    assert loaded.returncode == 0, loaded.stderr

    crawl = subprocess.Popen(
        [GOVAUDIT, *CRAWL],
        env=_env(web, crawl_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_fast_sites(cluster, crawl)
        before = _stored(cluster)
        # `govaudit crawl` and its worker (the check below would otherwise prove nothing).
        assert len(_crawler_workers(crawl_url, timeout=0)) == 2
        cluster.stop()
        out, err = crawl.communicate(timeout=120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()

    # One clear line and exit 1; the database named, its password not.
    assert crawl.returncode == 1, out + err
    assert "Traceback" not in err and PASSWORD not in out + err, err
    line = _one_error_line(err, "crawl run ")
    assert line.startswith("govaudit: error: database "), err
    assert f"govaudit:***@127.0.0.1:{cluster.port}/crawl" in line, err
    assert _crawler_workers(crawl_url, timeout=10) == [], "a worker outlived its crawl"

    # While the server is still down the next run says so, in one line, and writes nothing.
    early = _govaudit(web, crawl_url, "crawl", "--resume")
    assert early.returncode == 1 and PASSWORD not in early.stdout + early.stderr, early.stderr
    assert "cannot open the database" in _one_error_line(early.stderr), early.stderr

    cluster.start()
    after = _stored(cluster)
    assert after == before
    assert len(before["site_observation"]) == len(FAST) and before["page_observation"]
    assert cluster.query("crawl", "select status from crawl_run") != [("finished",)]

    web.set_epoch(2)
    resumed = _govaudit(web, crawl_url, "crawl", "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "finished" in resumed.stdout

    # Every domain exactly once, in the one run; the rows stored before the stop kept.
    assert cluster.query("crawl", "select id, status from crawl_run") == [(1, "finished")]
    tasks = cluster.query("crawl", "select key, state from crawl_task order by key")
    assert tasks == [(d, "done") for d in sorted(DOMAINS)]
    per_domain = cluster.query(
        "crawl", "select domain, count(*) from site_observation group by domain order by domain"
    )
    assert per_domain == [(d, 1) for d in sorted(DOMAINS)]
    final = _stored(cluster)
    for table, rows in before.items():
        if table != "crawl_task":
            assert set(rows) <= set(final[table]), table

    reference_url = cluster.url("reference")
    assert _govaudit(web, reference_url, "inventory", "load", str(registry)).returncode == 0
    uninterrupted = _govaudit(web, reference_url, *CRAWL)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    assert _sites(web, crawl_url) == _sites(web, reference_url)
    for table in ("endpoint_observation", "page_observation"):
        counts = "select domain, count(*) from {t} group by domain order by domain"
        assert cluster.query("crawl", counts.format(t=table)) == cluster.query(
            "reference", counts.format(t=table)
        ), table
