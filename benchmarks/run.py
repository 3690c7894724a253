"""govaudit benchmarks: speed and memory targets live here, never as timed asserts in tests.

    .venv/bin/python -m benchmarks [--preset tiny|small|full] [--only NAME ...] [--repeats N]
                                   [--out DIR]

builds a simulated fleet of .gov sites (benchmarks/fleet.py, served by several processes on
one port), runs each measurement in this process tree, and writes DIR/results.json and
DIR/results.md. Every figure is the median and min-max of --repeats runs. The simulated web's
CPU time (its server processes) is measured apart from the crawler's (the crawl's process
tree). Everything runs against 127.0.0.1 and the real registry files of the dotgov data
folder (GOVAUDIT_DOTGOV_DATA).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PYTHON = sys.executable
GOVAUDIT = str(Path(sys.executable).parent / "govaudit")
TICK = os.sysconf("SC_CLK_TCK")


def dotgov_folder() -> Path:
    if os.environ.get("GOVAUDIT_DOTGOV_DATA"):
        return Path(os.environ["GOVAUDIT_DOTGOV_DATA"])
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data" / "dotgov").is_dir():
            return base / "shared" / "data" / "dotgov"
    return REPO.parent / "shared" / "data" / "dotgov"


DOTGOV = dotgov_folder()
FULL_LIST = "full-2026-08-22.csv"
FEDERAL_LIST = "federal-2026-08-18.csv"

PRESETS: dict[str, dict[str, Any]] = {
    # a few seconds: the smoke test's size
    "tiny": {
        "overhead_sites": 4,
        "pages": 3,
        "fleet_domains": 6,
        "fleet_delay": 0.01,
        "scaling": [3, 6],
        "full_domains": 8,
        "db_domains": 3,
        "repeats": 1,
        "servers": 2,
    },
    # a few minutes: development
    "small": {
        "overhead_sites": 40,
        "pages": 25,
        "fleet_domains": 100,
        "fleet_delay": 0.1,
        "scaling": [50, 100, 200],
        "full_domains": 200,
        "db_domains": 50,
        "repeats": 3,
        "servers": 2,
    },
    # the sizes
    "full": {
        "overhead_sites": 200,
        "pages": 25,
        "fleet_domains": 1321,
        "fleet_delay": 0.1,
        "scaling": [250, 1000, 4000],
        "full_domains": 16539,
        "db_domains": 250,
        "repeats": 3,
        "servers": 2,
    },
}


# ---------------------------------------------------------------------- machine and figures


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    import scrapy

    return {
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model,
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "platform": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def summary(values: list[float], digits: int = 2) -> dict[str, Any]:
    """Median and min-max of one figure's runs."""
    if not values:
        return {"median": None, "min": None, "max": None, "runs": []}

    def rounded(v: float) -> float:
        return round(v, digits) if digits else round(v)

    return {
        "median": rounded(statistics.median(values)),
        "min": rounded(min(values)),
        "max": rounded(max(values)),
        "runs": [rounded(v) for v in values],
    }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (and its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    kids = [int(k) for k in (task / "children").read_text().split()]
                    out.extend(kids)
                    stack.extend(kids)
    return out


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


class RssSampler:
    """Samples the RSS of every crawler process under a root process, every `interval` s."""

    def __init__(
        self,
        root: int,
        marker: str,
        interval: float = 0.5,
        progress: Callable[[], int] | None = None,
    ) -> None:
        self.root, self.marker, self.interval = root, marker, interval
        self.peaks: dict[int, float] = {}
        # (seconds, largest crawler RSS in MB, domains finished so far or -1)
        self.curve: list[tuple[float, float, int]] = []
        self._progress = progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def _run(self) -> None:
        names: dict[int, bool] = {}
        while not self._stop.wait(self.interval):
            largest = 0.0
            for pid in descendants(self.root):
                if pid not in names:
                    names[pid] = self.marker in cmdline(pid)
                if names[pid]:
                    rss = rss_mb(pid)
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), rss)
                    largest = max(largest, rss)
            if largest:
                done = -1
                if self._progress is not None:
                    with contextlib.suppress(Exception):  # the database may be locked a moment
                        done = self._progress()
                self.curve.append(
                    (round(time.monotonic() - self._started, 1), round(largest), done)
                )

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------- the simulated fleet


@dataclass
class Fleet:
    """The simulated fleet: `servers` processes sharing one port (SO_REUSEPORT)."""

    domains_file: Path
    pages: int
    delay: float
    servers: int
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    port: int = 0
    hosts: bool = False  # the file lists websites: one site per host (benchmarks/websites.py)

    def __enter__(self) -> Fleet:
        for _ in range(self.servers):
            proc = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "benchmarks.fleet",
                    "--domains",
                    str(self.domains_file),
                    "--pages",
                    str(self.pages),
                    "--delay",
                    str(self.delay),
                    "--port",
                    str(self.port),
                    *(["--hosts"] if self.hosts else []),
                ],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.procs.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("port "):
                raise RuntimeError(f"benchmarks.fleet did not start: {line!r}")
            self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cpu(self) -> float:
        return sum(process_cpu(p.pid) for p in self.procs)

    def env(self) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.port}"
        return {"http_proxy": url, "https_proxy": url, "no_proxy": "", "NO_PROXY": ""}


def registry_rows(list_name: str, n: int) -> tuple[str, list[str]]:
    """The header and the first `n` rows of a real registry file (domain names kept)."""
    lines = (DOTGOV / list_name).read_text(encoding="utf-8").splitlines()
    return lines[0], lines[1 : n + 1]


def write_world(tmp: Path, tag: str, list_name: str, n: int) -> tuple[Path, Path, int]:
    """A registry file (for `govaudit inventory load`) and a domain list (for the fleet)."""
    header, rows = registry_rows(list_name, n)
    registry = tmp / f"bench-{tag}-2026-01-01.csv"
    registry.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    domains = tmp / f"{tag}-domains.txt"
    domains.write_text("\n".join(r.split(",", 1)[0].strip().lower() for r in rows) + "\n")
    return registry, domains, len(rows)


# ---------------------------------------------------------------------- runs


LAST_CPU: list[float] = [0.0]  # CPU seconds of the last govaudit() command


def govaudit(args: list[str], db: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run one govaudit command; its wall time (LAST_CPU[0]: its CPU time) and output."""
    cpu0 = children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [GOVAUDIT, "--db", db, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        cwd=REPO,
    )
    wall = time.perf_counter() - started
    LAST_CPU[0] = children_cpu() - cpu0
    if result.returncode != 0:
        raise RuntimeError(f"govaudit {' '.join(args)}: {result.stderr[-2000:]}")
    return wall, result.stdout


def sqlalchemy_url(db: str) -> str:
    return db.replace("postgresql://", "postgresql+psycopg://", 1)


def crawl_stats(db: str) -> dict[str, Any]:
    """Scrapy stats of the newest crawl run, summed over its worker processes."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(sqlalchemy_url(db))
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sqlalchemy.text("SELECT stats FROM crawl_run ORDER BY id DESC LIMIT 1")
            ).first()
    finally:
        engine.dispose()
    raw = row[0] if row else None
    stats = (json.loads(raw) if isinstance(raw, str) else raw) or {}
    requests = sum(int(s.get("downloader/request_count", 0)) for s in stats.values())
    memusage = [int(s.get("memusage/max", 0)) for s in stats.values()]
    return {
        "requests": requests,
        "memusage_max_mb": round(max(memusage, default=0) / 1e6, 1),
        "items": sum(int(s.get("item_scraped_count", 0)) for s in stats.values()),
    }


@dataclass
class CrawlRunResult:
    wall_s: float
    requests: int
    crawler_cpu_s: float
    simweb_cpu_s: float
    peak_rss_mb: float = 0.0
    rss_curve: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0


def timed_tree(
    command: list[str],
    env: dict[str, str],
    fleet: Fleet,
    marker: str,
    progress: Callable[[], int] | None = None,
) -> tuple[float, float, float, RssSampler]:
    """Run a command; wall time, its tree's CPU, the fleet's CPU, and its crawlers' RSS."""
    cpu0, web0 = children_cpu(), fleet.cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with RssSampler(proc.pid, marker, progress=progress) as sampler:
        _, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {err[-2000:]}")
    return wall, children_cpu() - cpu0, fleet.cpu() - web0, sampler


def finished_domains(db_path: Path) -> Callable[[], int]:
    """Domains whose crawl task has ended, read from the run's SQLite file."""

    def count() -> int:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            conn.execute("PRAGMA busy_timeout = 200")
            row = conn.execute(
                "SELECT count(*) FROM crawl_task WHERE state IN ('done', 'failed')"
            ).fetchone()
        return int(row[0]) if row else 0

    return count


def govaudit_crawl(
    tmp: Path,
    registry: Path,
    fleet: Fleet,
    workers: int,
    jobs: str | None,
    tag: str,
    db: str | None = None,
    track_progress: bool = False,
) -> tuple[CrawlRunResult, str]:
    """One `govaudit crawl` into a fresh SQLite file, or into `db` (an empty database)."""
    db_path = tmp / f"{tag}.db"
    progress = None
    if db is None:
        db_path.unlink(missing_ok=True)
        db = f"sqlite:///{db_path}"
        if track_progress:
            progress = finished_domains(db_path)
    govaudit(["inventory", "load", str(registry)], db)
    command = [GOVAUDIT, "--db", db, "crawl", "--workers", str(workers), "--timeout", "30"]
    # The worlds take rows of the full list (cities, counties... too): crawl them all.
    command += ["--all-types"]
    if jobs:
        command += ["--only", jobs]
    wall, cpu, web, sampler = timed_tree(
        command, fleet.env(), fleet, "crawler.crawl_process", progress
    )
    stats = crawl_stats(db)
    return (
        CrawlRunResult(
            wall,
            stats["requests"],
            cpu,
            web,
            round(max(sampler.peaks.values(), default=0.0), 1),
            sampler.curve,
        ),
        db,
    )


def bare_crawl(
    tmp: Path,
    domains: Path,
    fleet: Fleet,
    workers: int,
    stock: bool = False,
    minimal: bool = False,
    delay: float | None = None,
) -> CrawlRunResult:
    """Bare Scrapy: `workers` processes started at once, like `govaudit crawl --workers`
    (`stock`: Scrapy's own downloader, no AutoThrottle; `minimal`: the minimal stock
    spider, benchmarks/bare_spider.py says what each does)."""
    stats_files = [tmp / f"bare-{i}.json" for i in range(workers)]
    script = (
        "import subprocess, sys\n"
        "procs = [subprocess.Popen(a) for a in eval(sys.argv[1])]\n"
        "sys.exit(max(p.wait() for p in procs))\n"
    )
    commands = [
        [
            PYTHON,
            "-m",
            "benchmarks.bare_spider",
            "--domains",
            str(domains),
            "--worker",
            str(i),
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--stats",
            str(stats_files[i]),
            *(["--stock"] if stock else []),
            *(["--minimal"] if minimal else []),
            *(["--delay", str(delay)] if delay is not None else []),
        ]
        for i in range(workers)
    ]
    wall, cpu, web, sampler = timed_tree(
        [PYTHON, "-c", script, repr(commands)], fleet.env(), fleet, "benchmarks.bare_spider"
    )
    requests = sum(
        int(json.loads(f.read_text()).get("downloader/request_count", 0)) for f in stats_files
    )
    return CrawlRunResult(wall, requests, cpu, web, max(sampler.peaks.values(), default=0.0))


def crawl_figures(runs: list[CrawlRunResult]) -> dict[str, Any]:
    return {
        "wall_s": summary([r.wall_s for r in runs], 1),
        "requests": summary([float(r.requests) for r in runs], 0),
        "requests_per_s": summary([r.rps for r in runs], 1),
        "crawler_cpu_s": summary([r.crawler_cpu_s for r in runs], 1),
        "simweb_cpu_s": summary([r.simweb_cpu_s for r in runs], 1),
        "crawler_cpu_ms_per_request": summary(
            [1000 * r.crawler_cpu_s / max(1, r.requests) for r in runs], 2
        ),
        "simweb_cpu_ms_per_request": summary(
            [1000 * r.simweb_cpu_s / max(1, r.requests) for r in runs], 2
        ),
        "peak_rss_mb_per_process": summary([r.peak_rss_mb for r in runs], 0),
    }


# ---------------------------------------------------------------------- measurements


@dataclass
class Config:
    overhead_sites: int
    pages: int
    fleet_domains: int
    fleet_delay: float
    scaling: list[int]
    full_domains: int
    repeats: int
    servers: int
    db_domains: int = 250
    processes: tuple[int, ...] = (1, 2)
    dist_workers: tuple[int, ...] = (1, 2, 4)
    dist_batch_size: int = 32
    scaling_last_once: bool = False
    pg_url: str | None = None


def m1_overhead(tmp: Path, cfg: Config) -> dict[str, Any]:
    """Requests/s of `govaudit crawl --only sites` over a bare Scrapy spider, 1 then 2
    processes, zero added latency, alternating in the same run."""
    registry, domains, n = write_world(tmp, "overhead", FULL_LIST, cfg.overhead_sites)
    out: dict[str, Any] = {"sites": n, "pages_per_site": cfg.pages, "delay_s": 0.0}
    with Fleet(domains, cfg.pages, 0.0, cfg.servers) as fleet:
        for workers in cfg.processes:
            ours, bare, ratios, cpu_ratios = [], [], [], []
            for _ in range(cfg.repeats):
                b = bare_crawl(tmp, domains, fleet, workers)
                g, _ = govaudit_crawl(tmp, registry, fleet, workers, "sites", "overhead")
                bare.append(b)
                ours.append(g)
                ratios.append(g.rps / b.rps if b.rps else 0.0)
                # Requests per crawler CPU second: the same ratio, robust to other load on
                # the machine (wall time is not when the cores are shared).
                cpu_ratios.append(
                    (g.requests / g.crawler_cpu_s) / (b.requests / b.crawler_cpu_s)
                    if g.crawler_cpu_s and b.crawler_cpu_s and b.requests
                    else 0.0
                )
            out[f"processes_{workers}"] = {
                "ratio": summary(ratios, 2),
                "ratio_per_cpu_second": summary(cpu_ratios, 2),
                "govaudit": crawl_figures(ours),
                "bare_scrapy": crawl_figures(bare),
            }
    return out


def m2_federal_fleet(tmp: Path, cfg: Config) -> dict[str, Any]:
    """The whole job (crawl of sites and /open plans, audit, report) over the federal list,
    every response delayed, 2 workers; and a bare 2-process Scrapy crawl of the same web."""
    registry, domains, n = write_world(tmp, "federal", FEDERAL_LIST, cfg.fleet_domains)
    jobs, crawls, audits, reports, bares, ratios = [], [], [], [], [], []
    audit_cpu: list[float] = []
    report_cpu: list[float] = []
    with Fleet(domains, cfg.pages, cfg.fleet_delay, cfg.servers) as fleet:
        for _ in range(cfg.repeats):
            b = bare_crawl(tmp, domains, fleet, 2)
            g, db = govaudit_crawl(tmp, registry, fleet, 2, None, "federal")
            audit_s, _ = govaudit(["audit"], db)
            audit_cpu.append(LAST_CPU[0])
            report_dir = tmp / "federal-report"
            report_s, _ = govaudit(["report", "--out", str(report_dir)], db)
            report_cpu.append(LAST_CPU[0])
            bares.append(b)
            crawls.append(g)
            audits.append(audit_s)
            reports.append(report_s)
            jobs.append(g.wall_s + audit_s + report_s)
            ratios.append(g.wall_s / b.wall_s if b.wall_s else 0.0)
    return {
        "domains": n,
        "delay_s": cfg.fleet_delay,
        "workers": 2,
        "whole_job_s": summary(jobs, 1),
        "crawl": crawl_figures(crawls),
        "audit_s": summary(audits, 1),
        "audit_cpu_s": summary(audit_cpu, 1),
        "report_s": summary(reports, 1),
        "report_cpu_s": summary(report_cpu, 1),
        "bare_scrapy": crawl_figures(bares),
        "crawl_wall_over_bare": summary(ratios, 2),
    }


def crawl_at_size(
    tmp: Path, cfg: Config, n_wanted: int, repeats: int, track_progress: bool = False
) -> dict[str, Any]:
    registry, domains, n = write_world(tmp, f"size{n_wanted}", FULL_LIST, n_wanted)
    runs = []
    with Fleet(domains, cfg.pages, 0.0, cfg.servers) as fleet:
        for _ in range(repeats):
            g, _ = govaudit_crawl(
                tmp, registry, fleet, 2, "sites", f"size{n_wanted}", track_progress=track_progress
            )
            runs.append(g)
    figures = crawl_figures(runs)
    figures["domains"] = n
    curve = runs[-1].rss_curve
    figures["rss_curve_mb"] = curve[:: max(1, len(curve) // 40)] + curve[-1:]
    if track_progress:
        marks = (*(m for m in (1000, 4000) if m < n), n)
        figures["rss_at_domains_done"] = rss_at_checkpoints(curve, marks)
    return figures


def rss_at_checkpoints(
    curve: list[tuple[float, float, int]], checkpoints: tuple[int, ...]
) -> dict[str, dict[str, float]]:
    """The largest crawler RSS when the crawl had finished 1,000, 4,000, ... domains: the
    value at that moment and the peak up to it."""
    out: dict[str, dict[str, float]] = {}
    for mark in sorted(set(checkpoints)):
        peak = 0.0
        for seconds, mb, done in curve:
            peak = max(peak, mb)
            if done >= mark:
                out[str(mark)] = {"seconds": seconds, "rss_mb": mb, "peak_so_far_mb": peak}
                break
        else:
            if curve and mark == max(checkpoints):
                seconds, mb, _ = curve[-1]
                out[str(mark)] = {"seconds": seconds, "rss_mb": mb, "peak_so_far_mb": peak}
    return out


def m3_full_list(tmp: Path, cfg: Config) -> dict[str, Any]:
    """The full list (or `full_domains` of it) in one run: wall, requests/s, peak RSS per
    process, and the RSS when 1,000, 4,000 and all domains were done (the same processes,
    so a per-domain leak would show as growth between the marks). Separate runs at 1,000
    and 4,000 domains are the scaling measurement's."""
    size = cfg.full_domains
    return {"sizes": {str(size): crawl_at_size(tmp, cfg, size, 1, track_progress=True)}}


def m4_scaling(tmp: Path, cfg: Config) -> dict[str, Any]:
    """Wall time and requests/s at growing numbers of domains (2 workers, zero latency);
    the largest size runs once when `repeats` runs would not fit (`--scaling-last-once`)."""
    sizes: dict[str, Any] = {}
    for s in cfg.scaling:
        once = cfg.scaling_last_once and s == max(cfg.scaling)
        sizes[str(s)] = crawl_at_size(tmp, cfg, s, 1 if once else cfg.repeats)
    return {"sizes": sizes}


def drop_postgres_database(admin_url: str, name: str, create: bool = False) -> str:
    """Drop the database `name` (and create it empty again with `create`); its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def postgres_admin(cfg: Config, measurement: str) -> str:
    admin = cfg.pg_url or os.environ.get("GOVAUDIT_TEST_PG_URL")
    if not admin:
        raise RuntimeError(
            f"{measurement}: set GOVAUDIT_TEST_PG_URL or --pg-url (a PostgreSQL URL)"
        )
    return admin


@contextlib.contextmanager
def scratch_postgres(admin_url: str, tag: str) -> Iterator[str]:
    """A new empty PostgreSQL database for one crawl (its URL), dropped afterwards."""
    name = f"govaudit_bench_{os.getpid()}_{tag}"
    url = drop_postgres_database(admin_url, name, create=True)
    try:
        yield url
    finally:
        drop_postgres_database(admin_url, name)


def m6_databases(tmp: Path, cfg: Config) -> dict[str, Any]:
    """The same crawl (`--only sites`, 2 workers, 0 ms) written to SQLite and to PostgreSQL
    (the server of GOVAUDIT_TEST_PG_URL or --pg-url), alternating."""
    admin = postgres_admin(cfg, "databases")
    registry, domains, n = write_world(tmp, "databases", FULL_LIST, cfg.db_domains)
    sqlite_runs, pg_runs = [], []
    with Fleet(domains, cfg.pages, 0.0, cfg.servers) as fleet:
        for i in range(cfg.repeats):
            s, _ = govaudit_crawl(tmp, registry, fleet, 2, "sites", "databases")
            sqlite_runs.append(s)
            with scratch_postgres(admin, str(i)) as pg:
                g, _ = govaudit_crawl(tmp, registry, fleet, 2, "sites", "databases-pg", db=pg)
            pg_runs.append(g)
    return {
        "domains": n,
        "sqlite": crawl_figures(sqlite_runs),
        "postgresql": crawl_figures(pg_runs),
        "postgresql_over_sqlite_requests_per_s": summary(
            [p.rps / s.rps for p, s in zip(pg_runs, sqlite_runs, strict=True) if s.rps], 2
        ),
    }


def tree_cpu(pid: int) -> float:
    return sum(process_cpu(p) for p in (pid, *descendants(pid)))


def distributed_crawl(
    tmp: Path,
    registry: Path,
    fleet: Fleet,
    processes: int,
    admin: str,
    tag: str,
    batch_size: int,
) -> CrawlRunResult:
    """`crawl --distributed` into a fresh PostgreSQL database, crawled by one `govaudit
    worker --concurrency processes` started (and idle) before the clock starts, as in a
    fleet. Crawler CPU: the queuing command's and the worker's whole process tree."""
    with scratch_postgres(admin, tag) as db:
        return _distributed_crawl_into(db, tmp, registry, fleet, processes, tag, batch_size)


def _distributed_crawl_into(
    db: str, tmp: Path, registry: Path, fleet: Fleet, processes: int, tag: str, batch_size: int
) -> CrawlRunResult:
    worker = None
    try:
        govaudit(["inventory", "load", str(registry)], db)
        log = (tmp / f"{tag}-worker.log").open("w")
        worker = subprocess.Popen(
            [GOVAUDIT, "--db", db, "worker", "--concurrency", str(processes)],
            env={**os.environ, **fleet.env()},
            cwd=REPO,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        time.sleep(3)
        if worker.poll() is not None:
            raise RuntimeError(f"govaudit worker exited {worker.returncode}: see {log.name}")
        worker_cpu0 = tree_cpu(worker.pid)
        command = [GOVAUDIT, "--db", db, "crawl", "--distributed", "--timeout", "30"]
        command += ["--all-types", "--only", "sites", "--batch-size", str(batch_size)]
        wall, cpu, web, _ = timed_tree(command, fleet.env(), fleet, "crawler.crawl_process")
        cpu += tree_cpu(worker.pid) - worker_cpu0
        stats = crawl_stats(db)
        return CrawlRunResult(wall, stats["requests"], cpu, web)
    finally:
        if worker is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


def m6_distributed(tmp: Path, cfg: Config) -> dict[str, Any]:
    """The same crawl (`--only sites`, 0 ms) into PostgreSQL: local `--workers 2` against
    `crawl --distributed` with one `govaudit worker` of 1, 2, 4 crawler processes, in turn."""
    admin = postgres_admin(cfg, "distributed")
    registry, domains, n = write_world(tmp, "distributed", FULL_LIST, cfg.db_domains)
    runs: dict[str, list[CrawlRunResult]] = {"local_2": []}
    runs |= {f"distributed_{p}": [] for p in cfg.dist_workers}
    with Fleet(domains, cfg.pages, 0.0, cfg.servers) as fleet:
        for i in range(cfg.repeats):
            with scratch_postgres(admin, f"local{i}") as pg:
                local, _ = govaudit_crawl(tmp, registry, fleet, 2, "sites", f"l{i}", db=pg)
            runs["local_2"].append(local)
            for p in cfg.dist_workers:
                runs[f"distributed_{p}"].append(
                    distributed_crawl(
                        tmp, registry, fleet, p, admin, f"d{p}_{i}", cfg.dist_batch_size
                    )
                )
    local_rps = [r.rps for r in runs["local_2"]]
    return {
        "domains": n,
        "batch_size": cfg.dist_batch_size,
        **{key: crawl_figures(value) for key, value in runs.items()},
        **{
            f"distributed_{p}_over_local_2_requests_per_s": summary(
                [d.rps / lr for d, lr in zip(runs[f"distributed_{p}"], local_rps, strict=True)],
                2,
            )
            for p in cfg.dist_workers
        },
    }


def m5_registry_audit_report(tmp: Path, cfg: Config) -> dict[str, Any]:
    """Registry loads, audit and report over the real data (each includes process start)."""
    files = sorted(str(p) for p in DOTGOV.glob("*.csv"))
    steps = ("load_all_snapshots", "load_full_list", "audit_full_list", "report_full_list")
    walls: dict[str, list[float]] = {k: [] for k in steps}
    cpus: dict[str, list[float]] = {k: [] for k in steps}
    sizes = []

    def step(name: str, args: list[str], db: str) -> None:
        walls[name].append(govaudit(args, db)[0])
        cpus[name].append(LAST_CPU[0])

    for i in range(cfg.repeats):
        step("load_all_snapshots", ["inventory", "load", *files], f"sqlite:///{tmp}/all{i}.db")
        db = f"sqlite:///{tmp}/full{i}.db"
        step("load_full_list", ["inventory", "load", str(DOTGOV / FULL_LIST)], db)
        step("audit_full_list", ["audit"], db)
        out_dir = tmp / f"report{i}"
        step("report_full_list", ["report", "--out", str(out_dir)], db)
        sizes.append(sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()) / 1e6)
    out: dict[str, Any] = {"snapshot_files": len(files), "report_output_mb": summary(sizes, 1)}
    for name in steps:
        out[f"{name}_s"] = summary(walls[name])
        out[f"{name}_cpu_s"] = summary(cpus[name])
    return out


MEASUREMENTS: dict[str, Callable[[Path, Config], dict[str, Any]]] = {
    "overhead": m1_overhead,
    "federal_fleet": m2_federal_fleet,
    "full_list": m3_full_list,
    "scaling": m4_scaling,
    "registry_audit_report": m5_registry_audit_report,
    "databases": m6_databases,
    "distributed": m6_distributed,
}


# ---------------------------------------------------------------------- the table


def fmt(fig: dict[str, Any] | None, unit: str = "") -> tuple[str, str]:
    if not fig or fig.get("median") is None:
        return "-", "-"
    return f"{fig['median']:,}{unit}", f"{fig['min']:,}-{fig['max']:,}{unit}"


def markdown(result: dict[str, Any]) -> str:
    rows: list[tuple[str, dict[str, Any] | None, str, str]] = []
    m = result["measurements"]
    if "overhead" in m:
        o = m["overhead"]
        size = f"{o['sites']} sites x {o['pages_per_site']} pages, 0 ms"
        for p in sorted(int(k.split("_")[1]) for k in o if k.startswith("processes_")):
            d = o[f"processes_{p}"]
            rows += [
                (
                    f"1. govaudit / bare Scrapy requests/s, {p} process(es) ({size})",
                    d["ratio"],
                    "",
                    ">= 0.85",
                ),
                (
                    f"1. same ratio per crawler CPU second, {p} process(es)",
                    d.get("ratio_per_cpu_second"),
                    "",
                    ">= 0.85",
                ),
                (
                    f"1. govaudit requests/s, {p} process(es)",
                    d["govaudit"]["requests_per_s"],
                    "",
                    "",
                ),
                (
                    f"1. bare Scrapy requests/s, {p} process(es)",
                    d["bare_scrapy"]["requests_per_s"],
                    "",
                    "",
                ),
                (
                    f"1. crawler CPU ms/request, govaudit, {p} process(es)",
                    d["govaudit"]["crawler_cpu_ms_per_request"],
                    "",
                    "",
                ),
                (
                    f"1. crawler CPU ms/request, bare Scrapy, {p} process(es)",
                    d["bare_scrapy"]["crawler_cpu_ms_per_request"],
                    "",
                    "",
                ),
                (
                    f"1. simulated web CPU ms/request (govaudit run), {p} process(es)",
                    d["govaudit"]["simweb_cpu_ms_per_request"],
                    "",
                    "",
                ),
            ]
    if "federal_fleet" in m:
        f = m["federal_fleet"]
        size = f"{f['domains']} domains, {int(f['delay_s'] * 1000)} ms, 2 workers"
        rows += [
            (f"2. whole job: crawl + audit + report ({size})", f["whole_job_s"], " s", "< 60 s"),
            ("2. crawl (sites + /open) wall", f["crawl"]["wall_s"], " s", ""),
            ("2. bare Scrapy crawl wall (2 processes)", f["bare_scrapy"]["wall_s"], " s", ""),
            ("2. govaudit crawl wall / bare Scrapy wall", f["crawl_wall_over_bare"], "", "<= 1.2"),
            ("2. crawl requests/s", f["crawl"]["requests_per_s"], "", ""),
            ("2. crawler CPU s (crawl process tree)", f["crawl"]["crawler_cpu_s"], " s", ""),
            ("2. simulated web CPU s", f["crawl"]["simweb_cpu_s"], " s", ""),
            ("2. audit wall", f["audit_s"], " s", ""),
            ("2. report wall", f["report_s"], " s", ""),
            (
                "2. crawler CPU ms/request, govaudit",
                f["crawl"]["crawler_cpu_ms_per_request"],
                "",
                "",
            ),
            (
                "2. crawler CPU ms/request, bare Scrapy",
                f["bare_scrapy"]["crawler_cpu_ms_per_request"],
                "",
                "",
            ),
        ]
    for key, label in (("full_list", "3."), ("scaling", "4.")):
        if key in m:
            for size, d in m[key]["sizes"].items():
                rows += [
                    (f"{label} {size} domains: wall (2 workers, 0 ms)", d["wall_s"], " s", ""),
                    (f"{label} {size} domains: requests", d["requests"], "", ""),
                    (f"{label} {size} domains: requests/s", d["requests_per_s"], "", ""),
                    (
                        f"{label} {size} domains: peak RSS per crawler process",
                        d["peak_rss_mb_per_process"],
                        " MB",
                        "< 500 MB" if key == "full_list" else "",
                    ),
                    (f"{label} {size} domains: crawler CPU s", d["crawler_cpu_s"], " s", ""),
                    (f"{label} {size} domains: simulated web CPU s", d["simweb_cpu_s"], " s", ""),
                ]
    if "full_list" in m:
        for size, d in m["full_list"]["sizes"].items():
            for mark, at in d.get("rss_at_domains_done", {}).items():
                rows.append(
                    (
                        f"3. largest crawler RSS when {mark} of {size} domains were done "
                        f"(at {at['seconds']} s; peak so far {at['peak_so_far_mb']} MB)",
                        {
                            "median": at["rss_mb"],
                            "min": at["rss_mb"],
                            "max": at["rss_mb"],
                            "runs": [at["rss_mb"]],
                        },
                        " MB",
                        "flat",
                    )
                )
    if "databases" in m:
        d = m["databases"]
        for engine in ("sqlite", "postgresql"):
            rows.append(
                (
                    f"6. {engine}: requests/s ({d['domains']} domains, 2 workers, 0 ms)",
                    d[engine]["requests_per_s"],
                    "",
                    "",
                )
            )
            rows.append((f"6. {engine}: crawler CPU s", d[engine]["crawler_cpu_s"], " s", ""))
        rows.append(
            (
                "6. PostgreSQL / SQLite requests/s",
                d["postgresql_over_sqlite_requests_per_s"],
                "",
                "",
            )
        )
    if "distributed" in m:
        d = m["distributed"]
        keys = ["local_2", *sorted(k for k in d if re.fullmatch(r"distributed_\d+", k))]
        for key in keys:
            how = (
                "local --workers 2"
                if key == "local_2"
                else f"distributed, one worker of {key.rsplit('_', 1)[1]} crawler process(es)"
            )
            batches = "" if key == "local_2" else f", batches of {d.get('batch_size', 32)}"
            label = f"6. {how} ({d['domains']} domains{batches}, PostgreSQL, 0 ms)"
            rows.append((f"{label}: requests/s", d[key]["requests_per_s"], "", ""))
            rows.append(
                (f"{label}: crawler CPU ms/request", d[key]["crawler_cpu_ms_per_request"], "", "")
            )
            if key != "local_2":
                rows.append(
                    (f"{label}: over local", d[f"{key}_over_local_2_requests_per_s"], "", "")
                )
    if "registry_audit_report" in m:
        r = m["registry_audit_report"]
        for key, label, target in (
            ("load_all_snapshots", f"load all {r['snapshot_files']} real snapshots", ""),
            ("load_full_list", "load the full list (16,539 domains)", "< 2 s"),
            ("audit_full_list", "audit of the full list", ""),
            ("report_full_list", "report of the full list", "< 10 s"),
        ):
            rows.append((f"5. {label}: wall", r[f"{key}_s"], " s", target))
            rows.append((f"5. {label}: CPU", r.get(f"{key}_cpu_s"), " s", ""))
        rows.append(("5. report output size", r["report_output_mb"], " MB", ""))
    lines = [
        "| figure | median | min-max | runs | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, fig, unit, target in rows:
        med, rng = fmt(fig, unit)
        runs = len(fig["runs"]) if fig else 0
        lines.append(f"| {label} | {med} | {rng} | {runs} | {target} |")
    mach = result["machine"]
    lines += [
        "",
        f"Machine: {mach['cores']} cores, {mach['memory_gib']} GiB, {mach['cpu_model']}; "
        f"Python {mach['python']}, Scrapy {mach['scrapy']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in mach['loadavg_at_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in result['loadavg_at_end'])}.",
        f"Command: `{result['command']}` ({result['started']}, {result['total_s']} s).",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="full")
    parser.add_argument("--only", nargs="*", choices=sorted(MEASUREMENTS))
    parser.add_argument("--repeats", type=int, help="runs per figure (at least 3 to publish)")
    parser.add_argument("--servers", type=int, help="simulated web server processes")
    parser.add_argument("--overhead-sites", type=int)
    parser.add_argument("--fleet-domains", type=int)
    parser.add_argument("--full-domains", type=int)
    parser.add_argument("--scaling", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument(
        "--scaling-last-once",
        action="store_true",
        default=None,
        help="run the largest scaling size once (it is the longest run)",
    )
    parser.add_argument("--db-domains", type=int, help="domains of the databases measurement")
    parser.add_argument("--pg-url", help="PostgreSQL admin URL (default GOVAUDIT_TEST_PG_URL)")
    parser.add_argument(
        "--processes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="crawler processes of the overhead measurement (default 1,2)",
    )
    parser.add_argument(
        "--dist-workers",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="crawler processes of the one `govaudit worker` (distributed; default 1,2,4)",
    )
    parser.add_argument(
        "--dist-batch-size", type=int, help="domains per batch (distributed; default 32)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    values = dict(PRESETS[args.preset])
    for key in (
        "repeats",
        "servers",
        "overhead_sites",
        "fleet_domains",
        "full_domains",
        "scaling",
        "processes",
        "scaling_last_once",
        "db_domains",
        "pg_url",
        "dist_workers",
        "dist_batch_size",
    ):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    cfg = Config(**values)
    argv_text = " ".join(sys.argv[1:] if argv is None else argv)
    result: dict[str, Any] = {
        "command": f"python -m benchmarks {argv_text}".strip(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        # a PostgreSQL URL's password stays out of the published results
        "config": {**values, "pg_url": "set" if values.get("pg_url") else None},
        "measurements": {},
    }
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, measure in MEASUREMENTS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"govaudit-bench-{name}-") as tmp:
            t0 = time.perf_counter()
            figures = measure(Path(tmp), cfg)
            figures["total_s"] = round(time.perf_counter() - t0, 1)
        result["measurements"][name] = figures
        print(json.dumps({"measurement": name, **figures}), flush=True)
        write_results(args.out, result, started)
    write_results(args.out, result, started)
    return 0


def write_results(out: Path, result: dict[str, Any], started: float) -> None:
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["loadavg_at_end"] = list(os.getloadavg())
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "results.md").write_text(markdown(result))


if __name__ == "__main__":
    sys.exit(main())
