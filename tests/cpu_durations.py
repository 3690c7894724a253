"""CPU seconds per test, the processes it waited for included (`-p tests.cpu_durations`).

On a machine shared with other work, wall durations (`--durations`) measure the neighbours
as much as the test; CPU seconds do not. Each phase (setup, call, teardown) of each test
gets its own CPU (this process plus the children it reaped: govaudit subprocesses, crawler
workers, Chromium once its driver ends) and wall time. `--cpu-durations-file PATH` writes
them as JSON lines (one file per xdist worker: PATH.gw0, ...); the terminal shows the top
`--cpu-durations N` (default 30) and the total.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import pytest


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cpu durations")
    group.addoption("--cpu-durations", type=int, default=30, help="show the N costliest")
    group.addoption("--cpu-durations-file", default=None, help="write every phase as JSONL")


class _Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rows: list[dict[str, object]] = []
        path = config.getoption("--cpu-durations-file")
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        self.path = Path(f"{path}.{worker}" if worker and path else path) if path else None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item):  # type: ignore[no-untyped-def]
        yield from self._measure(item, "setup")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):  # type: ignore[no-untyped-def]
        yield from self._measure(item, "call")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item):  # type: ignore[no-untyped-def]
        yield from self._measure(item, "teardown")

    def _measure(self, item: pytest.Item, when: str):  # type: ignore[no-untyped-def]
        cpu, wall = _cpu(), time.monotonic()
        yield
        self.rows.append(
            {
                "test": item.nodeid,
                "when": when,
                "cpu": round(_cpu() - cpu, 3),
                "wall": round(time.monotonic() - wall, 3),
                "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            }
        )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.path:
            with self.path.open("w", encoding="utf-8") as out:
                for row in self.rows:
                    out.write(json.dumps(row) + "\n")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.rows:
            return
        top = sorted(self.rows, key=lambda r: -float(r["cpu"]))  # type: ignore[arg-type]
        write = terminalreporter.write_line
        terminalreporter.section("cpu durations (this process + reaped children)")
        for row in top[: self.config.getoption("--cpu-durations")]:
            write(f"{row['cpu']:8.2f}s cpu {row['wall']:8.2f}s wall {row['when']:8} {row['test']}")
        total = sum(float(r["cpu"]) for r in self.rows)  # type: ignore[arg-type]
        write(f"total {total:.1f} cpu-seconds over {len(self.rows)} phases")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Recorder(config), "cpu-durations-recorder")


def summarise(paths: list[str], top: int = 40) -> str:
    """The costliest phases and the CPU per file of `--cpu-durations-file` outputs."""
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines()]
    lines = [f"{'cpu s':>8} {'wall s':>8} phase     test"]
    for r in sorted(rows, key=lambda r: -r["cpu"])[:top]:
        lines.append(f"{r['cpu']:8.2f} {r['wall']:8.2f} {r['when']:9} {r['test']}")
    per_file: dict[str, list[float]] = {}
    for r in rows:
        cpu_wall = per_file.setdefault(r["test"].split("::")[0], [0.0, 0.0])
        cpu_wall[0] += r["cpu"]
        cpu_wall[1] += r["wall"]
    lines.append("")
    lines.append(f"{'cpu s':>8} {'wall s':>8} file")
    for name, (cpu, wall) in sorted(per_file.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"{cpu:8.1f} {wall:8.1f} {name}")
    cpu = sum(r["cpu"] for r in rows)
    wall = sum(r["wall"] for r in rows)
    lines.append(f"{cpu:8.1f} {wall:8.1f} total over {len(rows)} phases")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(summarise(sys.argv[1:]))
