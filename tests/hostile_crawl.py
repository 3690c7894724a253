"""Running one crawl against hostile sites and checking the database it leaves.

Every hostile-web test crawls with small bounds (timeout 2 s, one worker) so that a case
which holds ends quickly and one which does not ends at the pytest timeout, not never.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simweb.server import SimulatedWeb
from tests.crawl_world import GOVAUDIT, registry_csv

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
TIMEOUT = "2"


def run_govaudit(
    db_url: str,
    *args: str,
    web: SimulatedWeb | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """`govaudit ARGS` in a subprocess; without `web` no proxy is set at all."""
    base = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    full = {**base, **(web.proxy_env() if web else {}), **(env or {}), "GOVAUDIT_DB": db_url}
    command = [GOVAUDIT, *args]
    if args and args[0] == "--peak-rss":
        command = [sys.executable, "-c", _PEAK_RSS, GOVAUDIT, *args[1:]]
    return subprocess.run(
        command, env=full, capture_output=True, text=True, timeout=timeout, check=False
    )


# Runs a command and reports the peak RSS of its largest descendant (the Scrapy worker).
_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\npeak-rss-kb {peak}\\n')\n"
    "sys.exit(code)\n"
)


class Crawl(str):
    """The database path of a finished crawl, with the peak RSS of its processes."""

    peak_rss_mb: float


def crawl_sites(
    tmp_path: Path,
    domains: Iterable[str],
    *extra: str,
    web: SimulatedWeb | None = None,
    env: dict[str, str] | None = None,
) -> Crawl:
    """Load a registry of `domains` and crawl their sites; returns the database path."""
    db_path = tmp_path / "hostile.db"
    db_url = f"sqlite:///{db_path}"
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", list(domains))
    loaded = run_govaudit(db_url, "inventory", "load", str(registry))
    assert loaded.returncode == 0, loaded.stderr
    result = run_govaudit(
        db_url,
        "--peak-rss",
        "crawl",
        "--only",
        "sites",
        "--workers",
        "1",
        "--timeout",
        TIMEOUT,
        *extra,
        web=web,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    crawl = Crawl(db_path)
    crawl.peak_rss_mb = int(result.stderr.rsplit("peak-rss-kb ", 1)[1].split()[0]) / 1024
    return crawl


def rows(db_path: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def assert_consistent(db_path: str, domains: Iterable[str]) -> None:
    """Every task of the run is done and every domain has exactly one site observation,
    four endpoint observations, and page rows only for itself."""
    expected = sorted(domains)
    tasks = rows(db_path, "select key, state from crawl_task where job = 'sites' order by key")
    assert tasks == [(d, "done") for d in expected]
    sites = rows(db_path, "select domain, count(*) from site_observation group by domain")
    assert sorted(sites) == [(d, 1) for d in expected]
    endpoints = rows(db_path, "select domain, count(*) from endpoint_observation group by domain")
    assert sorted(endpoints) == [(d, 4) for d in expected]
    strays = rows(
        db_path,
        "select count(*) from page_observation p where not exists "
        "(select 1 from site_observation s where s.domain = p.domain and s.run_id = p.run_id)",
    )
    assert strays == [(0,)]
    (check,) = rows(db_path, "pragma integrity_check")
    assert check == ("ok",)


class Canary:
    """TCP listeners that count every connection made to them (nothing should connect)."""

    def __init__(self, address: str, ports: Iterable[int]) -> None:
        self.address = address
        self.connections: list[tuple[int, tuple[str, int]]] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Condition()
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(16)
            self._sockets.append(sock)
            threading.Thread(target=self._accept, args=(sock, port), daemon=True).start()

    def _accept(self, sock: socket.socket, port: int) -> None:
        while True:
            try:
                conn, peer = sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections.append((port, peer))
                self._lock.notify_all()
            conn.close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[int, tuple[str, int]]]:
        """The connections once there are `count` of them (or when `timeout` has passed)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.connections) >= count, timeout)
            return list(self.connections)

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


def export_sites(db_path: str) -> list[dict[str, Any]]:
    """`govaudit export sites` of the crawl in `db_path`."""
    result = run_govaudit(f"sqlite:///{db_path}", "export", "sites", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
