"""The benchmark script runs end to end at a tiny size and writes its JSON and table.

Only the shape of the result is checked: timings live in benchmarks/README.md, never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ADMIN_URL

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.timeout(900)  # a tiny run, but on a shared machine its crawls can be slow
def test_benchmark_script_tiny(tmp_path: Path, dotgov_dir: Path) -> None:
    pg_admin_url = ADMIN_URL
    if not pg_admin_url:
        pytest.skip("GOVAUDIT_TEST_PG_URL is not set (make test starts PostgreSQL and sets it)")
    out = tmp_path / "results"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--preset",
            "tiny",
            "--only",
            "overhead",
            "full_list",
            "databases",
            "distributed",
            "--processes",
            "1",
            "--dist-workers",
            "1",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env={
            **os.environ,
            "GOVAUDIT_DOTGOV_DATA": str(dotgov_dir),
            "GOVAUDIT_TEST_PG_URL": pg_admin_url,
        },
        check=True,
        capture_output=True,
        timeout=850,
    )
    result = json.loads((out / "results.json").read_text())
    assert result["command"].startswith("python -m benchmarks --preset tiny")
    assert {"cores", "memory_gib", "cpu_model"} <= set(result["machine"])
    overhead = result["measurements"]["overhead"]
    assert overhead["sites"] == 4
    assert "processes_2" not in overhead
    for processes in ("processes_1",):
        figures = overhead[processes]
        assert set(figures["ratio"]) == {"median", "min", "max", "runs"}
        for side in ("govaudit", "bare_scrapy"):
            # Both crawlers fetched the same simulated web, and its CPU is counted apart.
            assert figures[side]["requests"]["median"] > 0
            assert "simweb_cpu_s" in figures[side]
            assert "crawler_cpu_s" in figures[side]
    # The full list's run samples RSS against the domains finished, up to all of them.
    full = result["measurements"]["full_list"]["sizes"]["8"]
    assert full["requests"]["median"] > 0
    assert set(full["rss_at_domains_done"]) == {"8"}
    assert full["rss_at_domains_done"]["8"]["rss_mb"] > 0
    assert all(len(point) == 3 for point in full["rss_curve_mb"])
    # The same crawl went to SQLite and to PostgreSQL; both stored the same requests.
    dbs = result["measurements"]["databases"]
    assert dbs["sqlite"]["requests"]["median"] == dbs["postgresql"]["requests"]["median"] > 0
    # Through `govaudit worker` the same crawl made the same requests as the local one.
    dist = result["measurements"]["distributed"]
    assert dist["distributed_1"]["requests"]["median"] == dist["local_2"]["requests"]["median"] > 0
    assert set(dist["distributed_1_over_local_2_requests_per_s"]) >= {"median", "runs"}
    password = urlsplit(pg_admin_url).password
    assert "pg_url" in result["config"]
    assert not password or f":{password}@" not in json.dumps(result)
    table = (out / "results.md").read_text()
    assert table.startswith("| figure | median | min-max | runs | target |")
    assert "govaudit / bare Scrapy requests/s, 1 process(es)" in table


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_slow_host_benchmark_tiny() -> None:
    """benchmarks/slow_host.py at 2 sites, 1 run, a 2 s timeout: both conditions crawled the
    same ordinary pages and every slow host ended at the timeout."""
    size = ["--sites", "2", "--pages", "2", "--runs", "1", "--timeout", "2"]
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.slow_host", *size],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=550,
    )
    line, _, table = finished.stdout.partition("\n")
    result = json.loads(line)
    assert result["command"].startswith("python -m benchmarks.slow_host --sites 2")
    assert result["without"]["pages"] == result["with"]["pages"]
    assert result["without"]["pages"][0] > 2
    for condition in ("without", "with"):
        assert set(result[condition]["pages_per_s"]) == {"median", "min", "max", "runs"}
    assert result["with"]["slow_host_endpoints"] == [
        {"late.gov": ["timeout"], "never.gov": ["timeout"], "trickle.gov": ["timeout"]}
    ]
    assert "| 2 sites + 3 slow hosts |" in table


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a11y_benchmark_tiny() -> None:
    """benchmarks/a11y.py still runs (2 homepages, 1 run; shape only)."""
    a11y = subprocess.run(
        [sys.executable, "benchmarks/a11y.py", "--sites", "2", "--runs", "1", "--concurrency", "1"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=280,
    )
    figures = json.loads(a11y.stdout.strip().splitlines()[-1])
    assert figures["concurrency_1"]["checked"] == [2]
    assert figures["concurrency_1"]["pages_per_min_median"] > 0


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_stock_scrapy_comparison_tiny(tmp_path: Path) -> None:
    """benchmarks/websites.py --only stock at 3 domains, 1 repeat: govaudit and the three
    stock spiders crawled the same sites, the stock spider that follows govaudit's links
    asked for the same pages (govaudit alone asks robots.txt per origin, http and https)."""
    out = tmp_path / "results"
    subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.websites", "--only", "stock"),
            *("--stock-domains", "3", "--repeats", "1", "--out", str(out)),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=550,
    )
    stock = json.loads((out / "websites.json").read_text())["measurements"]["stock"]
    assert stock["domains"] == 3
    per_domain = {
        name: stock[name]["requests_per_domain"]["median"]
        for name in ("govaudit", "stock_scrapy", "stock_minimal", "stock_minimal_delay0")
    }
    # the four endpoints and their redirects, 25 pages, /open and its plan link at least
    assert all(n >= 37 for n in per_domain.values()), per_domain
    assert 0 < per_domain["govaudit"] - per_domain["stock_scrapy"] <= 5, per_domain
    # the minimal spider asks for no well-known file, sitemap or probe
    assert per_domain["stock_minimal"] == per_domain["stock_minimal_delay0"]
    assert per_domain["stock_minimal"] < per_domain["stock_scrapy"], per_domain
    for name in ("stock_scrapy", "stock_minimal"):
        assert stock[f"ratio_{name}"]["requests_per_cpu_s"]["median"] > 0
        assert stock[name]["crawler_cpu_ms_per_request"]["median"] > 0
    table = (out / "websites.md").read_text()
    assert f"| govaudit `crawl --only sites` | {per_domain['govaudit']} |" in table
    assert "| stock Scrapy, minimal (`--stock --minimal`) |" in table
