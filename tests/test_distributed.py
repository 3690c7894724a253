"""The crawl on several machines: `govaudit worker` processes sharing batches on PostgreSQL.

Two workers, each in its own working directory (two "machines"), crawl a simulated fleet of
64 domains queued by `govaudit crawl --distributed`; their observations must equal a
single-process local crawl of the same fleet, every domain done exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.crawl_world import GOVAUDIT, export_here, govaudit, govaudit_here, registry_csv

# Each batch starts a crawler process: generous on a busy shared machine.
pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(900)]

FLEET = [f"fleet{i:02d}.gov" for i in range(64)]
SLOW = {"fleet07.gov", "fleet33.gov"}  # a slow host holds one batch, not a share of the fleet
PER_HOST = 2
AGENT = "govaudit-fleet-test (+https://example.invalid/contact)"
CRAWL_ARGS = [
    "--only",
    "sites",
    "--user-agent",
    AGENT,
    "--per-host",
    str(PER_HOST),
    "--timeout",
    "5",
    "--max-pages-per-site",
    "10",
]


def fleet_sites() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for n, domain in enumerate(FLEET):
        name = domain.split(".")[0]
        links = "".join(f'<a href="/p{i}">page {i}</a>' for i in range(6))
        site: dict[str, Any] = {
            "hosts": [domain, f"www.{domain}"],
            "delay": 0.4 if domain in SLOW else 0.03,
            "robots": "User-agent: *\nAllow: /\n",
            "pages": {
                "/": {
                    "body": f"<html><title>{name}</title><body>{links}"
                    f'<a href="/gone">gone</a></body></html>'
                },
                **{f"/p{i}": {"title": f"{name} page {i}"} for i in range(6)},
            },
        }
        if n % 3 == 0:  # a third redirect to https://www.
            site["https_redirect"] = True
            site["redirect_host"] = {domain: f"www.{domain}"}
        if n % 5 == 0:
            site["schemes"] = ["http"]
        out[name] = site
    return out


def observations(db_url: str) -> dict[str, Any]:
    """Per domain, everything a crawl stores but its times (as comparable sorted lists)."""
    from audit.db import Database
    from audit.models import (
        EndpointObservation,
        LinkObservation,
        PageObservation,
        SiteObservation,
    )

    db = Database(db_url)
    out: dict[str, Any] = {}
    try:
        with db.session() as session:

            def rows(model: Any, *cols: Any) -> None:
                for domain, *values in session.execute(select(model.domain, *cols)):
                    out.setdefault(domain, {}).setdefault(model.__tablename__, []).append(
                        tuple(values)
                    )

            rows(
                SiteObservation,
                SiteObservation.homepage_url,
                SiteObservation.pages_crawled,
                SiteObservation.broken_links,
                SiteObservation.unlisted_gov_domains,
            )
            rows(
                EndpointObservation,
                EndpointObservation.url,
                EndpointObservation.status,
                EndpointObservation.error_kind,
                EndpointObservation.final_url,
                EndpointObservation.https_ok,
            )
            rows(
                PageObservation,
                PageObservation.url,
                PageObservation.depth,
                PageObservation.status,
                PageObservation.error_kind,
                PageObservation.title,
                PageObservation.content_hash,
            )
            rows(
                LinkObservation,
                LinkObservation.from_url,
                LinkObservation.to_url,
                LinkObservation.kind,
                LinkObservation.status,
            )
    finally:
        db.dispose()
    return {
        d: {table: sorted(values, key=repr) for table, values in tables.items()}
        for d, tables in out.items()
    }


def statuses(web: Any, db_url: str) -> dict[str, str]:
    return {r["domain"]: r["status"] for r in export_here(db_url, "sites")}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The simulated fleet and its single-process local crawl (the reference)."""
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    web = SimulatedWeb.from_directory(
        write_sites(tmp_path_factory.mktemp("fleet"), fleet_sites())
    ).start()
    tmp = tmp_path_factory.mktemp("local")
    registry = registry_csv(tmp / "r-2026-01-01.csv", FLEET)
    local = f"sqlite:///{tmp}/local.db"
    govaudit_here(local, "inventory", "load", str(registry))
    govaudit(web, local, "crawl", "--workers", "1", *CRAWL_ARGS)
    reference = observations(local)
    try:
        yield {
            "web": web,
            "registry": registry,
            "reference": reference,
            "statuses": statuses(web, local),
        }
    finally:
        web.stop()


class Workers:
    """`govaudit worker` processes, each in its own directory and process group."""

    def __init__(self, web: Any, db_url: str, root: Path) -> None:
        self.env = {
            **os.environ,
            **web.proxy_env(),
            "GOVAUDIT_DB": db_url,
            "GOVAUDIT_BATCH_UNITS": "1",
        }
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        home = self.root / name
        home.mkdir()
        with (home / "worker.log").open("wb") as log:
            proc = subprocess.Popen(
                [GOVAUDIT, "worker", *args],
                cwd=home,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.root / name / "worker.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def workers(fleet: dict[str, Any], pg_url: str, tmp_path: Path) -> Iterator[Workers]:
    govaudit_here(pg_url, "inventory", "load", str(fleet["registry"]))
    pool = Workers(fleet["web"], pg_url, tmp_path)
    try:
        yield pool
    finally:
        pool.stop()


def task_states(db_url: str) -> dict[str, int]:
    from audit.db import Database

    db = Database(db_url)
    try:
        with db.session() as session:
            rows = session.execute(text("SELECT state, count(*) FROM crawl_task GROUP BY state"))
            return {state: count for state, count in rows}
    finally:
        db.dispose()


def stored_twice(db_url: str) -> list[Any]:
    from audit.db import Database

    db = Database(db_url)
    try:
        with db.session() as session:
            return list(
                session.execute(
                    text(
                        "SELECT domain, count(*) FROM site_observation GROUP BY domain "
                        "HAVING count(*) > 1"
                    )
                )
            )
    finally:
        db.dispose()


def batches_running(db_url: str) -> int:
    from audit.db import Database

    db = Database(db_url)
    try:
        with db.session() as session:
            return int(
                session.scalar(
                    text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
                )
                or 0
            )
    finally:
        db.dispose()


def most_in_flight(web: Any, suffix: str) -> int:
    """Most requests in progress at once to the hosts of one registrable domain."""
    spans = sorted(
        (r.started, r.finished or float("inf"))
        for r in web.requests()
        if r.host.endswith(suffix) and r.method != "CONNECT" and not r.error and not r.refused
    )
    return max((sum(1 for s, f in spans if s <= t < f) for t, _ in spans), default=0)


def test_two_workers_crawl_the_fleet_once_like_one_process(
    fleet: dict[str, Any], workers: Workers, pg_url: str
) -> None:
    web = fleet["web"]
    web.clear_log()
    # Both start together on a database without procrastinate's schema: applied once.
    workers.start("machine-a", "--concurrency", "1")
    workers.start("machine-b", "--concurrency", "1")
    result = govaudit(
        web, pg_url, "crawl", "--distributed", "--batch-size", "8", *CRAWL_ARGS, timeout=280
    )
    assert "batches of 8" in result.stderr
    assert "finished" in result.stdout, result.stdout + result.stderr

    assert task_states(pg_url) == {"done": len(FLEET)}
    assert stored_twice(pg_url) == []
    assert observations(pg_url) == fleet["reference"]
    assert statuses(web, pg_url) == fleet["statuses"]
    # Politeness held across both workers: no host, and no registrable domain, ever had more
    # requests in flight than the per-host limit.
    # The run's own settings reach every crawl the workers' long-lived crawler processes run.
    agents = {r.user_agent for r in web.requests() if not r.refused and r.method != "CONNECT"}
    assert agents == {AGENT}
    hosts = {r.host for r in web.requests() if r.method != "CONNECT"}
    assert hosts >= {f"www.{d}" for d in FLEET}
    for host in hosts:
        assert web.max_concurrency(host) <= PER_HOST, host
    for domain in FLEET:
        assert most_in_flight(web, domain) <= PER_HOST, domain
    # Both machines did part of the work (each crawler process is a child of its worker).
    for name in ("machine-a", "machine-b"):
        assert "waiting for batches" in workers.log(name)


def test_a_worker_killed_mid_batch_loses_nothing(
    fleet: dict[str, Any], workers: Workers, pg_url: str
) -> None:
    web = fleet["web"]
    doomed = workers.start("machine-a", "--concurrency", "1", "--stalled-after", "3")
    coordinator = subprocess.Popen(
        [GOVAUDIT, "crawl", "--distributed", "--batch-size", "8", *CRAWL_ARGS],
        env={**os.environ, **web.proxy_env(), "GOVAUDIT_DB": pg_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Kill machine A (the only worker so far) in the middle of a batch, after some
        # domains were stored.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if task_states(pg_url).get("done", 0) >= 6 and batches_running(pg_url):
                break
            time.sleep(0.2)
        workers.kill("machine-a")
        assert doomed.returncode == -signal.SIGKILL
        assert task_states(pg_url).get("pending", 0) > 0, "the run ended before the kill"
        assert batches_running(pg_url) == 1  # the dead worker's batch, stalled

        workers.start("machine-b", "--concurrency", "1", "--stalled-after", "3")
        out, err = coordinator.communicate(timeout=280)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 0, out + err
    assert task_states(pg_url) == {"done": len(FLEET)}
    assert stored_twice(pg_url) == []
    assert observations(pg_url) == fleet["reference"]
    assert "of a dead worker is queued again" in workers.log("machine-b")


def test_distributed_needs_postgresql(cli_run: Any) -> None:
    crawl = cli_run("crawl", "--distributed", "--domain", "alpha.gov")
    assert crawl.exit_code == 2
    assert "--distributed needs a PostgreSQL database" in crawl.output
    worker = cli_run("worker")
    assert worker.exit_code == 2
    assert "needs the PostgreSQL database" in worker.output


def test_distributed_refuses_local_workers(cli_run: Any, pg_url: str) -> None:
    result = cli_run("crawl", "--distributed", "--workers", "2", db=pg_url)
    assert result.exit_code == 2
    assert "--workers does not go with --distributed" in result.output
