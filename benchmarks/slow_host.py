"""Does one slow host slow the rest of the crawl? The ordinary hosts' pages/s with and without
the slow hosts (issue 13, "Time").

    .venv/bin/python -m benchmarks.slow_host [--sites N] [--pages P] [--runs R] [--timeout S]

One simulated web (in this process, through its proxy, TLS trusted via its CA) holds N
ordinary sites (benchmarks/fleet.py's site, P linked pages each) and three slow hosts from
simweb/hostile.py: one that accepts and never answers, one that trickles a byte a second for
ever, one that answers after 30 s. Each run crawls it twice with a real `govaudit crawl --only
sites` (fresh SQLite database each): the ordinary sites alone, then with the slow hosts added
to the registry; the order of the two alternates from run to run.

The figure is the ordinary hosts' pages/s: their page rows divided by the time from the
crawl's first fetch to the last fetch of an ordinary site (`fetched_at` of the page and
endpoint rows, stamped when the response arrived). Also reported: when the last ordinary
site's result was written to the database (the homepage row's `fetched_at`, see
`ordinary_pages`), and the whole wall time, which is not the figure: the slow hosts
legitimately hold the crawl open until the download timeout (`--timeout`, 10 s), which is
also what keeps a run short. Prints one JSON line, then a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GOVAUDIT = str(Path(sys.executable).parent / "govaudit")
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")

# The three slow hosts of issue 13, each a whole site (bare and www host, http and https).
SLOW_SITES: dict[str, dict[str, Any]] = {
    "never.gov": {"catch_all": {"hostile": "never-answers"}},
    "trickle.gov": {"catch_all": {"hostile": "trickle"}},
    "late.gov": {"delay": 30, "catch_all": {"title": "Late"}},
}
CONDITIONS = ("without", "with")


def registry(path: Path, domains: list[str]) -> Path:
    lines = ["Domain name,Domain type,Organization name"]
    lines += [f"{d},Federal - Executive,Bench Agency" for d in domains]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def govaudit(env: dict[str, str], *args: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    result = subprocess.run(
        [GOVAUDIT, *args], env={**base, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"govaudit {' '.join(args)}: {result.stderr[-2000:]}")
    return result.stdout


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def ordinary_pages(db_path: Path, ordinary: set[str]) -> tuple[int, float, float]:
    """The ordinary sites' page rows; the seconds from the crawl's first fetch to the last
    fetch of an ordinary site; and to the last ordinary site's result written.

    The homepage's page row (depth 0) is the endpoint fetch that chose it and carries no
    fetch time of its own: its `fetched_at` is when the site's result was written (the column
    default), so it times the writing, and the endpoint row times the fetch."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        pages = conn.execute("SELECT domain, depth, fetched_at FROM page_observation").fetchall()
        endpoints = conn.execute("SELECT domain, fetched_at FROM endpoint_observation").fetchall()
    mine = [(depth, parse_time(at)) for domain, depth, at in pages if domain in ordinary]
    if not mine or not endpoints:
        raise RuntimeError(f"{db_path}: the crawl recorded no pages of the ordinary sites")
    first = min(parse_time(at) for _, at in endpoints)
    fetched = [at for depth, at in mine if depth > 0]
    fetched += [parse_time(at) for domain, at in endpoints if domain in ordinary]
    written = max(at for depth, at in mine if depth == 0) if any(d == 0 for d, _ in mine) else first
    return (
        len(mine),
        (max(fetched) - first).total_seconds(),
        (written - first).total_seconds(),
    )


def slow_outcomes(db_path: Path) -> dict[str, list[str]]:
    """How each slow host's endpoints ended (`timeout` expected), as a sanity check."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT domain, coalesce(error_kind, status) FROM endpoint_observation"
        ).fetchall()
    outcomes: dict[str, set[str]] = {}
    for domain, outcome in rows:
        if domain in SLOW_SITES:
            outcomes.setdefault(domain, set()).add(str(outcome))
    return {domain: sorted(kinds) for domain, kinds in sorted(outcomes.items())}


def figure(values: list[float], digits: int = 1) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| condition | ordinary pages | their pages/s, median (min-max) | their fetches end, s "
        "| their results written, s | whole wall s, median (min-max) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for condition in CONDITIONS:
        c = result[condition]
        rate, wall = c["pages_per_s"], c["wall_s"]
        label = f"{result['sites']} sites" + (" + 3 slow hosts" if condition == "with" else "")
        lines.append(
            f"| {label} | {c['pages'][0]} | {rate['median']} ({rate['min']}-{rate['max']}) | "
            f"{c['span_s']['median']} | {c['written_s']['median']} | "
            f"{wall['median']} ({wall['min']}-{wall['max']}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slow_host")
    parser.add_argument("--sites", type=int, default=20, help="ordinary sites (20)")
    parser.add_argument("--pages", type=int, default=25, help="linked pages per site (25)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each condition (3)")
    parser.add_argument("--timeout", type=float, default=10.0, help="crawl --timeout (10 s)")
    parser.add_argument("--workers", type=int, default=1, help="crawl --workers (1)")
    args = parser.parse_args(argv)

    from benchmarks.fleet import fleet_sites
    from simweb.server import SimulatedWeb
    from simweb.sites import Site

    ordinary = [f"site{i:04d}.gov" for i in range(args.sites)]
    sites = fleet_sites(ordinary, args.pages, 0.0)
    for domain, definition in SLOW_SITES.items():
        hosts = [domain, f"www.{domain}"]
        sites.append(Site.from_dict({"hosts": hosts, **definition}, name=domain))
    crawl = ["crawl", "--only", "sites", "--workers", str(args.workers)]
    crawl += ["--timeout", str(args.timeout)]

    load_at_start = os.getloadavg()
    measured: dict[str, dict[str, list[Any]]] = {
        c: {"pages": [], "span_s": [], "written_s": [], "pages_per_s": [], "wall_s": [], "slow": []}
        for c in CONDITIONS
    }
    with (
        tempfile.TemporaryDirectory(prefix="govaudit-bench-slow-") as tmp_name,
        SimulatedWeb(sites, keep_log=False) as web,
    ):
        tmp = Path(tmp_name)
        proxy = web.proxy_env()
        for run in range(args.runs):
            order = CONDITIONS if run % 2 == 0 else CONDITIONS[::-1]
            for condition in order:
                domains = ordinary + (list(SLOW_SITES) if condition == "with" else [])
                db_path = tmp / f"{condition}-{run}.db"
                env = {**proxy, "GOVAUDIT_DB": f"sqlite:///{db_path}"}
                names = registry(tmp / f"{condition}-{run}-2026-01-01.csv", domains)
                govaudit(env, "inventory", "load", str(names))
                started = time.perf_counter()
                govaudit(env, *crawl)
                wall = time.perf_counter() - started
                pages, span, written = ordinary_pages(db_path, set(ordinary))
                figures = measured[condition]
                figures["pages"].append(pages)
                figures["span_s"].append(span)
                figures["written_s"].append(written)
                figures["pages_per_s"].append(pages / span if span > 0 else float("nan"))
                figures["wall_s"].append(wall)
                if condition == "with":
                    figures["slow"].append(slow_outcomes(db_path))

    result: dict[str, Any] = {
        "benchmark": "slow_host",
        "sites": args.sites,
        "pages_per_site": args.pages,
        "runs": args.runs,
        "timeout_s": args.timeout,
        "workers": args.workers,
        "slow_hosts": {
            d: d_def["catch_all"].get("hostile", "delay 30 s") for d, d_def in SLOW_SITES.items()
        },
        "machine": {
            "cores": len(os.sched_getaffinity(0)),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "loadavg_at_start": [round(v, 2) for v in load_at_start],
            "loadavg_at_end": [round(v, 2) for v in os.getloadavg()],
        },
        "command": " ".join(["python -m benchmarks.slow_host", *sys.argv[1:]]),
    }
    for condition in CONDITIONS:
        figures = measured[condition]
        result[condition] = {
            "pages": figures["pages"],
            "pages_per_s": figure(figures["pages_per_s"]),
            "span_s": figure(figures["span_s"], 2),
            "written_s": figure(figures["written_s"], 2),
            "wall_s": figure(figures["wall_s"]),
        }
        if condition == "with":
            result[condition]["slow_host_endpoints"] = figures["slow"]
    with_rate = result["with"]["pages_per_s"]["median"]
    without_rate = result["without"]["pages_per_s"]["median"]
    result["ratio_with_over_without"] = round(with_rate / without_rate, 2)
    print(json.dumps(result), flush=True)
    print()
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
