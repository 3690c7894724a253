"""benchmarks/dns.py runs end to end at a tiny size (20 domains of the full list): only the
shape of its result is checked; the figures live in benchmarks/README.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.integration
def test_dns_benchmark_tiny(tmp_path: Path, dotgov_dir: Path) -> None:
    out = tmp_path / "dns.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.dns", "--list", "20", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figure = json.loads(out.read_text().strip().splitlines()[-1])
    assert figure["benchmark"] == "dns" and figure["list"] == "20"
    assert figure["domains"] == 20
    # every domain answered (the benchmark's zones never time out) and was judged
    assert figure["verdicts"]["ok"] == 20
    assert figure["verdicts"]["compliant"] + figure["verdicts"]["not_compliant"] == 20
    assert figure["queries"] >= 20 * 12 and figure["queries_per_s"] > 0
    assert figure["latency_s"] == 0.02
    assert figure["command"].startswith("python -m benchmarks.dns --list 20")
