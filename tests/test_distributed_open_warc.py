"""The /open job and WARC evidence through the distributed path.

One `govaudit worker` of two crawler processes crawls the demo agencies' sites and /open
pages queued by `govaudit crawl --distributed --warc DIR`: the plans found equal a local
crawl's, each crawler process writes its own WARC files (named by host and process, never
two writers on one file), and a finding's evidence is read back from them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simweb.server import SimulatedWeb
from tests.crawl_world import govaudit
from tests.test_distributed import Workers, task_states
from tests.test_warc import COMMON, SEEDS, read_warc

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(900)]

# dol.gov: an incomplete plan linked from /open; hud.gov: an /open page without a plan;
# the others: enough domains for two processes to take batches at once.
DOMAINS = ("dol.gov", "hud.gov", "doe.gov", "epa.gov")
# What differs between two crawls of the same web: times, latencies, run ids and where the
# records landed.
VOLATILE = {"crawl_run", "warc_file", "warc_offset", "warc_digest", "run_id", "first_seen"}


def stable(value: Any) -> Any:
    """A row without what differs between two crawls of the same web (at any depth)."""
    if isinstance(value, dict):
        return {
            k: stable(v)
            for k, v in value.items()
            if k not in VOLATILE and not k.endswith(("_at", "_ms")) and not k.startswith("fetched")
        }
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def plan_rows(web: SimulatedWeb, db_url: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(govaudit(web, db_url, *COMMON, "export", "plans", "--format", "json").stdout)
    return {r["domain"]: stable(r) for r in rows}


@pytest.fixture(scope="module")
def web() -> Iterator[SimulatedWeb]:
    with SimulatedWeb.demo() as served:
        served.set_epoch(1)
        yield served


def test_open_plans_and_warc_evidence_through_workers(
    web: SimulatedWeb, pg_url: str, tmp_path: Path
) -> None:
    registry = str(SEEDS / "demo-federal-2014-12-16.csv")
    domain_args = [a for d in DOMAINS for a in ("--domain", d)]
    local = f"sqlite:///{tmp_path}/local.db"
    govaudit(None, local, *COMMON, "inventory", "load", registry)
    govaudit(web, local, *COMMON, "crawl", "--workers", "1", *domain_args)
    reference = plan_rows(web, local)
    assert set(reference) >= {"dol.gov", "hud.gov"}

    govaudit(None, pg_url, *COMMON, "inventory", "load", registry)
    warc = tmp_path / "warc"
    pool = Workers(web, pg_url, tmp_path / "machines")
    (tmp_path / "machines").mkdir()
    try:
        pool.start("machine-a", "--concurrency", "2")
        result = govaudit(
            web,
            pg_url,
            *COMMON,
            "crawl",
            "--distributed",
            "--batch-size",
            "1",
            "--warc",
            str(warc),
            *domain_args,
            timeout=600,
        )
    finally:
        pool.stop()
    assert "finished" in result.stdout, result.stdout + result.stderr
    assert set(task_states(pg_url)) == {"done"}
    # The /open job ran on the workers and found what the local crawl found.
    found = plan_rows(web, pg_url)
    assert set(found) == set(reference)
    assert {  # field by field, so that a difference reads at once
        (d, k, str(v), str(reference[d].get(k)))
        for d, row in found.items()
        for k, v in row.items()
        if reference.get(d, {}).get(k) != v
    } == set()

    # Each crawler process wrote its own files: govaudit-<run>-<host>.<pid>-<seq>.warc.gz.
    files = sorted(warc.glob("*.warc.gz"))
    writers = set()
    for path in files:
        named = re.fullmatch(r"govaudit-(\d+)-(.+)\.(\d+)-(\d{5})\.warc\.gz", path.name)
        assert named, path.name
        writers.add(named.group(3))
        records = read_warc(path)  # digests checked
        assert records[0]["type"] == "warcinfo"
    assert len(writers) == 2, "both crawler processes of the worker wrote evidence"
    uris = {r["uri"] for p in files for r in read_warc(p) if r["type"] == "response"}
    assert {"https://www.hud.gov/open", "https://www.dol.gov/open"} <= uris

    # A plan finding's evidence is read back from the worker's WARC files.
    govaudit(None, pg_url, *COMMON, "audit")
    findings = json.loads(
        govaudit(None, pg_url, *COMMON, "export", "findings", "--format", "json").stdout
    )
    hud = next(f for f in findings if f["domain"] == "hud.gov" and f["rule"] == "plan-missing")
    assert hud["warc_file"] in {p.name for p in files}
    out = tmp_path / "hud.warc.gz"
    shown = govaudit(None, pg_url, *COMMON, "evidence", str(hud["finding_id"]), "--out", str(out))
    assert "payload digest: verified" in shown.stdout
    assert read_warc(out)[0]["uri"] == hud["evidence"]["open_page_url"]
