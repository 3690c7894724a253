"""Websites at the scale of the federal web (issue 21 item 5).

    python -m benchmarks.websites [--sizes 1000,4000] [--full] [--repeats 3] [--delay 0.1]
                                  [--workers 2] [--stock-domains 300] [--only NAME ...]
                                  [--out DIR]

Measurements (each figure the median and min-max of `--repeats` runs, except the full list):

- `load`: `govaudit inventory sources load --bundled` (all 31 bundled lists) into a new
  SQLite database that holds the bundled registry (loaded first, timed apart): wall and CPU.
- `crawl`: `govaudit crawl --websites --workers N` on a simulated web with one site per
  website (https and http, http -> https, homepage with links, robots.txt, sitemap.xml,
  security.txt), every response delayed `--delay` s, over samples of `--sizes` list websites
  (plus the registry's own) and with `--full` over every website of the bundled lists:
  wall, requests, requests/s, crawler CPU per request, peak RSS of each crawler process and
  the RSS against the websites finished (from the same processes).
- `stock`: the issue's comparison: `govaudit crawl --only sites --workers 1` against three
  stock Scrapy spiders (benchmarks/bare_spider.py: `--stock` follows govaudit's links,
  `--stock --minimal` is the simplest follow-every-link spider, and that one again at
  DOWNLOAD_DELAY 0), Scrapy's own downloader, no AutoThrottle, 2 per host, one process
  each, no latency, alternating; requests per domain, CPU per request and per domain, and
  govaudit's ratios to each.

Results go to DIR/websites.json and DIR/websites.md (default benchmarks/results/).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import (
    FULL_LIST,
    GOVAUDIT,
    LAST_CPU,
    REPO,
    CrawlRunResult,
    Fleet,
    bare_crawl,
    crawl_figures,
    crawl_stats,
    finished_domains,
    govaudit,
    govaudit_crawl,
    machine,
    summary,
    timed_tree,
    write_world,
)

SEEDS = REPO / "seeds"


def registry_files() -> list[str]:
    return sorted(str(p) for p in (SEEDS / "registry").glob("*.csv"))


def m_load(tmp: Path, repeats: int) -> dict[str, Any]:
    """The bundled registry, then every bundled list, into a new database."""
    registry, lists, lists_cpu, registry_cpu, websites = [], [], [], [], 0
    for i in range(repeats):
        db = f"sqlite:///{tmp}/load-{i}.db"
        wall, _ = govaudit(["inventory", "load", *registry_files()], db)
        registry.append(wall)
        registry_cpu.append(LAST_CPU[0])
        wall, out = govaudit(["inventory", "sources", "load", "--bundled", "--format", "json"], db)
        lists.append(wall)
        lists_cpu.append(LAST_CPU[0])
        websites = json.loads(out)["websites"]
    return {
        "websites": websites,
        "registry_wall_s": summary(registry),
        "registry_cpu_s": summary(registry_cpu),
        "lists_wall_s": summary(lists),
        "lists_cpu_s": summary(lists_cpu),
    }


def inventory_db(tmp: Path) -> Path:
    """A database with the bundled registry and every bundled list."""
    path = tmp / "inventory.db"
    if not path.exists():
        db = f"sqlite:///{path}"
        govaudit(["inventory", "load", *registry_files()], db)
        govaudit(["inventory", "sources", "load", "--bundled"], db)
    return path


def hosts_of(db_path: Path) -> tuple[list[str], list[str]]:
    """(every website, the websites only lists name) of a database."""
    with sqlite3.connect(db_path) as conn:
        every = [h for (h,) in conn.execute("SELECT host FROM website ORDER BY host")]
        listed = [
            h
            for (h,) in conn.execute(
                "SELECT DISTINCT w.host FROM website w "
                "JOIN website_sighting s ON s.website_id = w.id "
                "JOIN website_list l ON l.id = s.list_id WHERE l.kind = 'list' "
                "AND w.id NOT IN (SELECT s2.website_id FROM website_sighting s2 "
                "JOIN website_list l2 ON l2.id = s2.list_id WHERE l2.kind = 'registry') "
                "ORDER BY w.host"
            )
        ]
    return every, listed


def sample(hosts: list[str], n: int) -> list[str]:
    """`n` hosts spread over the whole list (a stable hash order, not the first domains)."""
    return sorted(hosts, key=lambda h: hashlib.sha256(h.encode()).hexdigest())[:n]


def sample_db(tmp: Path, listed: list[str], n: int, tag: str) -> Path:
    path = tmp / f"{tag}.db"
    path.unlink(missing_ok=True)
    db = f"sqlite:///{path}"
    govaudit(["inventory", "load", *registry_files()], db)
    chosen = tmp / f"{tag}-2026-08-22.csv"
    chosen.write_text("target_url\n" + "\n".join(sample(listed, n)) + "\n")
    govaudit(["inventory", "sources", "load", str(chosen)], db)
    return path


def website_crawl(db_path: Path, fleet: Fleet, workers: int) -> tuple[CrawlRunResult, int]:
    with sqlite3.connect(db_path) as conn:
        (websites,) = conn.execute("SELECT count(*) FROM website").fetchone()
    db = f"sqlite:///{db_path}"
    command = [GOVAUDIT, "--db", db, "crawl", "--websites", "--workers", str(workers)]
    command += ["--timeout", "30"]
    wall, cpu, web, sampler = timed_tree(
        command, fleet.env(), fleet, "crawler.crawl_process", finished_domains(db_path)
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
        int(websites),
    )


def rss_points(curve: list[tuple[float, float, int]], total: int) -> list[dict[str, Any]]:
    """The largest crawler RSS when a quarter, half, three quarters and all were done."""
    out = []
    for share in (0.25, 0.5, 0.75, 1.0):
        target = int(total * share)
        seen = [rss for _, rss, done in curve if 0 <= done <= target]
        if seen:
            out.append({"websites_done": target, "rss_mb": max(seen)})
    return out


def m_crawl(
    tmp: Path, sizes: list[int], full: bool, repeats: int, delay: float, workers: int, servers: int
) -> dict[str, Any]:
    base = inventory_db(tmp)
    every, listed = hosts_of(base)
    hosts_file = tmp / "hosts.txt"
    hosts_file.write_text("\n".join(every) + "\n")
    out: dict[str, Any] = {"delay_s": delay, "workers": workers, "served_hosts": len(every)}
    with Fleet(hosts_file, 5, delay, servers, hosts=True) as fleet:
        for n in sizes:
            runs, total = [], 0
            for r in range(repeats):
                path = sample_db(tmp, listed, n, f"size-{n}-{r}")
                result, total = website_crawl(path, fleet, workers)
                runs.append(result)
                path.unlink(missing_ok=True)
            out[f"size_{n}"] = {
                "websites": total,
                **crawl_figures(runs),
                "rss_curve": rss_points(runs[-1].rss_curve, total),
            }
            print(json.dumps({"size": n, **out[f"size_{n}"]}), flush=True)
        if full:
            path = tmp / "full.db"
            shutil.copy(base, path)
            result, total = website_crawl(path, fleet, workers)
            out["full"] = {
                "websites": total,
                **crawl_figures([result]),
                "rss_curve": rss_points(result.rss_curve, total),
                "failed": _failed(path),
            }
            print(json.dumps({"size": "full", **out["full"]}), flush=True)
    return out


def _failed(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM crawl_task GROUP BY state"))


STOCK_VARIANTS = ("stock_scrapy", "stock_minimal", "stock_minimal_delay0")


def m_stock(tmp: Path, domains_n: int, repeats: int, servers: int) -> dict[str, Any]:
    """govaudit's site crawl against two stock Scrapy spiders on the same fleet, one process
    each, alternating (benchmarks/bare_spider.py: `--stock` follows govaudit's links,
    `--stock --minimal` is the simplest spider)."""
    registry, domains, n = write_world(tmp, "stock", FULL_LIST, domains_n)
    runs: dict[str, list[CrawlRunResult]] = {"govaudit": [], **{v: [] for v in STOCK_VARIANTS}}
    load: list[list[float]] = []
    with Fleet(domains, 25, 0.0, servers) as fleet:
        for _ in range(repeats):
            load.append([round(x, 2) for x in os.getloadavg()])
            runs["stock_scrapy"].append(bare_crawl(tmp, domains, fleet, 1, stock=True))
            runs["govaudit"].append(govaudit_crawl(tmp, registry, fleet, 1, "sites", "stock")[0])
            runs["stock_minimal"].append(
                bare_crawl(tmp, domains, fleet, 1, stock=True, minimal=True)
            )
            runs["stock_minimal_delay0"].append(
                bare_crawl(tmp, domains, fleet, 1, stock=True, minimal=True, delay=0.0)
            )
            last = {k: {**v[-1].__dict__, "rss_curve": None} for k, v in runs.items()}
            print(json.dumps(last), flush=True)
    out: dict[str, Any] = {"domains": n, "loadavg_per_repeat": load}
    for name, results in runs.items():
        out[name] = {
            **crawl_figures(results),
            "requests_per_domain": summary([r.requests / n for r in results], 1),
            "crawler_cpu_ms_per_domain": summary([1000 * r.crawler_cpu_s / n for r in results], 1),
        }
    ours = runs["govaudit"]
    for name in STOCK_VARIANTS:
        pairs = list(zip(ours, runs[name], strict=True))
        out[f"ratio_{name}"] = {
            "requests_per_s": summary([g.rps / s.rps if s.rps else 0.0 for g, s in pairs]),
            "requests_per_cpu_s": summary(
                [(g.requests / g.crawler_cpu_s) / (s.requests / s.crawler_cpu_s) for g, s in pairs]
            ),
            # the same sites crawled: domains per CPU second (CPU per domain, inverted)
            "domains_per_cpu_s": summary([s.crawler_cpu_s / g.crawler_cpu_s for g, s in pairs]),
            "domains_per_s": summary([s.wall_s / g.wall_s for g, s in pairs]),
        }
    return out


def markdown(result: dict[str, Any]) -> str:
    m = result["measurements"]
    lines = [
        "# Websites benchmark results",
        "",
        f"`{result['command']}` on {result['machine']['cores']} cores "
        f"({result['machine']['cpu_model']}), load average at start "
        f"{result['machine']['loadavg_at_start']}, at end {result.get('loadavg_at_end')}.",
        "",
    ]

    def fig(d: dict[str, Any] | None) -> str:
        if not d or d.get("median") is None:
            return "—"
        if d["min"] == d["max"]:
            return f"{d['median']}"
        return f"{d['median']} ({d['min']}-{d['max']})"

    if "load" in m:
        load = m["load"]
        lines += [
            "| load | wall s | CPU s |",
            "| --- | --- | --- |",
            f"| bundled registry (2 files) | {fig(load['registry_wall_s'])} | "
            f"{fig(load['registry_cpu_s'])} |",
            f"| all 31 bundled lists ({load['websites']:,} websites) | "
            f"{fig(load['lists_wall_s'])} | {fig(load['lists_cpu_s'])} |",
            "",
        ]
    if "crawl" in m:
        crawl = m["crawl"]
        lines += [
            f"Website crawl, {crawl['workers']} workers, {crawl['delay_s'] * 1000:.0f} ms "
            "per response:",
            "",
            "| websites | wall s | requests | requests/s | crawler CPU ms/request | "
            "peak RSS MB per process | RSS at 25/50/75/100% done |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in crawl.values():
            if not isinstance(row, dict) or "wall_s" not in row:
                continue
            curve = " / ".join(f"{p['rss_mb']:.0f}" for p in row.get("rss_curve", []))
            lines.append(
                f"| {row['websites']:,} | {fig(row['wall_s'])} | {fig(row['requests'])} | "
                f"{fig(row['requests_per_s'])} | {fig(row['crawler_cpu_ms_per_request'])} | "
                f"{fig(row['peak_rss_mb_per_process'])} | {curve} |"
            )
        lines.append("")
    if "stock" in m:
        st = m["stock"]
        names = {
            "govaudit": "govaudit `crawl --only sites`",
            "stock_scrapy": "stock Scrapy, govaudit's links (`--stock`)",
            "stock_minimal": "stock Scrapy, minimal (`--stock --minimal`)",
            "stock_minimal_delay0": "the same at DOWNLOAD_DELAY 0 (`--delay 0`)",
        }
        lines += [
            f"Stock Scrapy against `crawl --only sites`, {st['domains']} domains, 1 process, "
            f"0 ms, alternating; load average before each repeat: {st.get('loadavg_per_repeat')}",
            "",
            "| | requests per domain | requests/s | CPU ms/request | CPU ms/domain |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key, label in names.items():
            row = st.get(key)
            if row:
                lines.append(
                    f"| {label} | {fig(row.get('requests_per_domain'))} | "
                    f"{fig(row['requests_per_s'])} | {fig(row['crawler_cpu_ms_per_request'])} | "
                    f"{fig(row.get('crawler_cpu_ms_per_domain'))} |"
                )
        lines += [
            "",
            "| govaudit / | requests/s | requests per CPU s | domains per CPU s | domains/s |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in STOCK_VARIANTS:
            r = st.get(f"ratio_{key}")
            if r:
                lines.append(
                    f"| {names[key]} | {fig(r['requests_per_s'])} | "
                    f"{fig(r['requests_per_cpu_s'])} | {fig(r['domains_per_cpu_s'])} | "
                    f"{fig(r['domains_per_s'])} |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.websites")
    parser.add_argument(
        "--sizes", type=lambda s: [int(x) for x in s.split(",") if x], default=[1000, 4000]
    )
    parser.add_argument("--full", action="store_true", help="also crawl every listed website")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--stock-domains", type=int, default=300)
    parser.add_argument("--only", nargs="*", choices=["load", "crawl", "stock"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    argv_text = " ".join(sys.argv[1:] if argv is None else argv)
    result: dict[str, Any] = {
        "command": f"python -m benchmarks.websites {argv_text}".strip(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "measurements": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        result["loadavg_at_end"] = list(os.getloadavg())
        (args.out / "websites.json").write_text(json.dumps(result, indent=1) + "\n")
        (args.out / "websites.md").write_text(markdown(result))

    with tempfile.TemporaryDirectory(prefix="govaudit-bench-websites-") as folder:
        tmp = Path(folder)
        if not args.only or "load" in args.only:
            result["measurements"]["load"] = m_load(tmp, args.repeats)
            save()
        if not args.only or "stock" in args.only:
            result["measurements"]["stock"] = m_stock(
                tmp, args.stock_domains, args.repeats, args.servers
            )
            save()
        if not args.only or "crawl" in args.only:
            result["measurements"]["crawl"] = m_crawl(
                tmp,
                args.sizes,
                args.full,
                args.repeats,
                args.delay,
                args.workers,
                args.servers,
            )
            save()
    save()
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
