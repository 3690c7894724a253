"""Accessibility checks per minute on this machine (`govaudit a11y`'s browser path).

    .venv/bin/python benchmarks/a11y.py [--sites N] [--runs R] [--concurrency C ...]

Builds N simulated homepages shaped like agency homepages (a banner, navigation with ~120
links, a search form, images, a few kB of prose), checks them with axe-core in Debian's
Chromium through the simulated web's proxy (as a crawl would), and prints one JSON line: pages
per minute for each concurrency (median and min-max of R runs), the browser's and the
simulated web's share of CPU, and the time the federal fleet's 1,321 homepages would take.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FLEET = 1321


def homepage(number: int) -> str:
    nav = "".join(
        f'<li><a href="/topic/{i}">Topic {i} of agency {number}</a></li>' for i in range(120)
    )
    prose = "<p>The agency serves the public with programs, grants and guidance.</p>" * 30
    images = "".join(f'<img src="/img/{i}.png" alt="Picture {i}">' for i in range(10))
    return f"""<!doctype html><html lang="en"><head><title>Agency {number}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<section class="usa-banner">An official website of the United States government</section>
<header><h1>Agency {number}</h1><form role="search" action="/search">
<label for="q">Search</label><input id="q" type="search" name="q"></form></header>
<nav><ul>{nav}</ul></nav><main>{prose}{images}</main>
<footer><a href="/privacy">Privacy</a> <a href="/accessibility">Accessibility</a></footer>
</body></html>"""


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()

    from crawler.a11y import PageTarget, run_checks
    from simweb.server import SimulatedWeb
    from simweb.sites import Site

    sites = [
        Site.from_dict(
            {"hosts": [f"www.agency{i}.gov"], "pages": {"/": {"body": homepage(i)}}},
            name=f"agency{i}",
        )
        for i in range(args.sites)
    ]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory():
        web = SimulatedWeb(sites=sites).start()
        os.environ.update(web.proxy_env())
        targets = [
            PageTarget(f"agency{i}.gov", f"https://www.agency{i}.gov/", "homepage")
            for i in range(args.sites)
        ]
        try:
            for concurrency in args.concurrency:
                rates, checked = [], []
                for _ in range(args.runs):
                    out: list[Any] = []
                    started = time.perf_counter()
                    run_checks(
                        targets,
                        out.append,
                        user_agent="govaudit-benchmark",
                        concurrency=concurrency,
                        timeout=120,
                        ca_bundle=web.ca_pem_path,
                    )
                    elapsed = time.perf_counter() - started
                    rates.append(len(targets) / elapsed * 60)
                    checked.append(sum(1 for r in out if r.state == "checked"))
                median = statistics.median(rates)
                results[f"concurrency_{concurrency}"] = {
                    "pages_per_min_median": round(median, 1),
                    "pages_per_min_min": round(min(rates), 1),
                    "pages_per_min_max": round(max(rates), 1),
                    "checked": checked,
                    "fleet_1321_minutes": round(FLEET / median, 1),
                }
        finally:
            web.stop()
    print(
        json.dumps(
            {
                "benchmark": "a11y",
                "sites": args.sites,
                "runs": args.runs,
                "machine": {
                    "cores": os.cpu_count(),
                    "cpu": platform.processor() or platform.machine(),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                },
                "browser_cpu_s": round(cpu_of_children(), 1),
                "command": " ".join(["python benchmarks/a11y.py", *sys.argv[1:]]),
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
