"""`govaudit dns` over the federal fleet and the full list against a local DNS server.

    .venv/bin/python -m benchmarks.dns [--list federal|full|N ...] [--latency S]
                                       [--concurrency N] [--timeout S] [--runs R] [--out FILE]

Serves every domain of the real registry list (1,321 federal domains, or all 16,539 of the
full list; N: the first N of the full list) from simweb's dnslib server in a process of its
own on 127.0.0.1, every answer delayed by `--latency` (20 ms by default, a resolver's cache
miss), then runs the real `govaudit dns` over them (a new SQLite database, the registry
loaded first, outside the clock) at the default concurrency. Prints one JSON line per list
(and writes them to FILE): wall time, domains/s, queries answered/s (the server's count,
checkdmarc's follow-up lookups included), the CPU of govaudit and of the server, the
machine's load average, and the email verdicts the run found.

The zones: what a well-run federal zone publishes (simweb/demo/dns.yaml's defaults), with
one domain in 5 sending mail through a shared provider (an SPF include of two includes,
looked up once per run thanks to checkdmarc's cache), one in 7 with DMARC p=none, one in 11
without DMARC, one in 13 unsigned. No zone times out: a timeout costs `--timeout` seconds of
one domain's slot whatever the machine does, so it measures nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.run import DOTGOV, FEDERAL_LIST, FULL_LIST, process_cpu  # noqa: E402

GOVAUDIT = str(Path(sys.executable).parent / "govaudit")
DEMO_DNS = REPO / "simweb" / "demo" / "dns.yaml"
PROVIDER = "mailrelay.gov"  # the shared mail provider's zone


def list_domains(which: str) -> tuple[Path, list[str], bool]:
    """(registry file, its domains, all types?) for `federal`, `full` or a number N."""
    if which == "federal":
        path, all_types = DOTGOV / FEDERAL_LIST, False
    else:
        path, all_types = DOTGOV / FULL_LIST, True
    lines = path.read_text(encoding="utf-8").splitlines()
    names = [line.split(",", 1)[0].strip().lower() for line in lines[1:] if line.strip()]
    if which not in ("federal", "full"):
        names = names[: int(which)]
    return path, names, all_types


def zones_for(names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(zones, defaults) of the benchmark's world."""
    demo = yaml.safe_load(DEMO_DNS.read_text(encoding="utf-8"))
    cisa = "mailto:reports@dmarc.cyber.dhs.gov"
    zones: dict[str, Any] = {
        "gov": demo["zones"]["gov"],
        "dhs.gov": demo["zones"]["dhs.gov"],
        PROVIDER: {
            "_spf": {"TXT": f"v=spf1 include:_a.{PROVIDER} include:_b.{PROVIDER} -all"},
            "_a": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
            "_b": {"TXT": "v=spf1 ip4:203.0.113.0/24 -all"},
        },
    }
    for i, name in enumerate(names):
        zone: dict[str, Any] = {}
        if i % 5 == 1:
            zone["@"] = {"TXT": f"v=spf1 mx include:_spf.{PROVIDER} -all"}
        if i % 7 == 2:
            zone["_dmarc"] = {"TXT": f"v=DMARC1; p=none; rua={cisa}"}
        if i % 11 == 3:
            zone["_dmarc"] = None
        if i % 13 == 4:
            zone.setdefault("@", {}).update({"DS": None, "DNSKEY": None})
        zones.setdefault(name, zone)
    return zones, demo["defaults"]


def serve(zones: Any, defaults: Any, latency: float, conn: Any) -> None:
    """The DNS server process: tell the parent the port, serve until told, report."""
    from simweb.dns_server import SimulatedDNS

    server = SimulatedDNS(zones, defaults=defaults, latency=latency, keep_log=False, lazy=True)
    server.start()
    conn.send(server.port)
    conn.recv()
    conn.send(server.query_count)
    server.stop()


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(which: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    registry, names, all_types = list_domains(which)
    if which not in ("federal", "full"):
        lines = registry.read_text(encoding="utf-8").splitlines()[: len(names) + 1]
        registry = tmp / f"first-{len(names)}.csv"
        registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp}/dns-{which}.db"
    env = {**os.environ, "GOVAUDIT_DB": db}
    env.pop("GOVAUDIT_DNS_NAMESERVERS", None)
    subprocess.run(
        [GOVAUDIT, "inventory", "load", str(registry), "--as-of", "2026-08-22"],
        env=env,
        check=True,
        capture_output=True,
    )
    zones, defaults = zones_for(names)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(zones, defaults, args.latency, child))
    server.start()
    port = parent.recv()
    server_cpu = process_cpu(server.pid or 0)
    command = [
        GOVAUDIT,
        "dns",
        "--nameserver",
        f"127.0.0.1:{port}",
        "--timeout",
        str(args.timeout),
        *(["--concurrency", str(args.concurrency)] if args.concurrency else []),
        *(["--all-types"] if all_types else []),
    ]
    load_start = os.getloadavg()
    cpu_before = cpu_of_children()
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    client_cpu = cpu_of_children() - cpu_before
    server_cpu = process_cpu(server.pid or 0) - server_cpu
    parent.send("stop")
    queries = parent.recv()
    server.join()
    if result.returncode != 0:
        raise SystemExit(f"govaudit dns failed:\n{result.stdout}\n{result.stderr}")
    line = result.stdout.strip().splitlines()[-1]
    counts = {
        k.replace(" ", "_"): int(v)
        for v, k in re.findall(r"(\d+) (ok|unreachable|compliant|not compliant)\b", line)
    }
    domains = int(re.search(r": (\d+) domains", line).group(1))  # type: ignore[union-attr]
    return {
        "list": which,
        "domains": domains,
        "wall_s": round(wall, 2),
        "domains_per_s": round(domains / wall, 1),
        "queries": queries,
        "queries_per_s": round(queries / wall, 1),
        "govaudit_cpu_s": round(client_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "load_average_1m": [round(load_start[0], 2), round(os.getloadavg()[0], 2)],
        "verdicts": counts,
        "summary": line,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", nargs="+", default=["federal", "full"])
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, help="default: govaudit dns's own")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        for which in args.list:
            runs = [run_once(which, args, Path(folder)) for _ in range(args.runs)]
            walls = [r["wall_s"] for r in runs]
            figure = {
                "benchmark": "dns",
                **runs[len(runs) // 2],
                "wall_s_median": statistics.median(walls),
                "wall_s_range": [min(walls), max(walls)],
                "runs": len(runs),
                "latency_s": args.latency,
                "concurrency": args.concurrency or "default",
                "machine": {
                    "cores": os.cpu_count(),
                    "cpu": platform.processor() or platform.machine(),
                    "python": platform.python_version(),
                },
                "command": " ".join(["python -m benchmarks.dns", *sys.argv[1:]]),
            }
            print(json.dumps(figure), flush=True)
            lines.append(json.dumps(figure))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
