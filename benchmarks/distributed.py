"""Pages/s through the distributed path (PostgreSQL + `govaudit worker`) next to the local one.

    eval "$(bash .ci/services.sh)"   # PostgreSQL; sets GOVAUDIT_TEST_PG_URL
    .venv/bin/python benchmarks/distributed.py [--sites 48] [--pages 10] [--batch-size 8]

One simulated fleet (benchmarks/run.py's synthetic world), crawled: locally into SQLite with
`--workers 1` and `--workers 2`; then through `crawl --distributed` with one `govaudit
worker` of 1, 2 and 4 crawler processes (`--concurrency N`), each into a fresh database.
Prints one JSON line per crawl.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
GOVAUDIT = str(Path(sys.executable).parent / "govaudit")


def govaudit(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [GOVAUDIT, *args], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"govaudit {' '.join(args)}: {result.stderr[-2000:]}")
    return result.stdout


def pages_of(summary: str) -> int:
    return int(summary.split(" pages in ")[0].rsplit(" ", 1)[-1])


def main() -> int:
    from run import synthetic_world  # benchmarks/run.py

    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=48)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--pg", default=os.environ.get("GOVAUDIT_TEST_PG_URL"))
    args = parser.parse_args()
    if not args.pg:
        print('set GOVAUDIT_TEST_PG_URL (eval "$(bash .ci/services.sh)")', file=sys.stderr)
        return 2
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="govaudit-bench-dist-"))
    registry = tmp / f"bench-{args.sites}-2026-01-01.csv"
    registry.write_text(
        "Domain name,Domain type,Organization name\n"
        + "".join(f"site{i:04d}.gov,Federal - Executive,Bench Agency\n" for i in range(args.sites))
    )
    crawl = ["crawl", "--only", "sites", "--max-pages-per-site", str(args.pages)]
    crawl += ["--timeout", "10"]
    folder = write_sites(tmp / "world", synthetic_world(args.sites, args.pages))
    with SimulatedWeb.from_directory(folder) as web:
        proxy = web.proxy_env()

        def report(path: str, processes: int, wall: float, summary: str) -> None:
            pages = pages_of(summary)
            line = {"path": path, "processes": processes, "sites": args.sites, "pages": pages}
            line |= {"wall_s": round(wall, 1), "pages_per_s": round(pages / wall, 1)}
            print(json.dumps(line), flush=True)
            web.clear_log()

        for workers in (1, 2):
            db = f"sqlite:///{tmp}/local{workers}.db"
            govaudit({"GOVAUDIT_DB": db}, "inventory", "load", str(registry))
            started = time.perf_counter()
            out = govaudit({**proxy, "GOVAUDIT_DB": db}, *crawl, "--workers", str(workers))
            report("local", workers, time.perf_counter() - started, out)

        for processes in (1, 2, 4):
            name = f"govaudit_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            db = f"{args.pg.rsplit('/', 1)[0]}/{name}"
            env = {**proxy, "GOVAUDIT_DB": db}
            try:
                govaudit(env, "inventory", "load", str(registry))
                worker = subprocess.Popen(
                    [GOVAUDIT, "worker", "--concurrency", str(processes)],
                    env={**os.environ, **env},
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                time.sleep(3)  # the worker is up before the clock starts, as in a fleet
                started = time.perf_counter()
                out = govaudit(env, *crawl, "--distributed", "--batch-size", str(args.batch_size))
                report("distributed", processes, time.perf_counter() - started, out)
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait()
            finally:
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
