"""Issue 10, case 8: a crawl killed half-way is never taken as the newest run.

Audits, exports and reports use the newest crawl run whose tasks all ended unless `--run`
names another; a named unfinished run is reported with a "partial run: N of M tasks" banner
and without "removed" sites (a site it did not reach proves nothing).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from audit.audit_run import gather as audit_gather
from audit.db import Database
from audit.models import CrawlRun, CrawlTask
from audit.policy_file import load_policy
from audit.run_selection import job_progress, latest_run, previous_run
from reports.render import render_report
from tests.crawl_world import GOVAUDIT
from tests.test_report_html import SEEDS, add_site, make_db


def add_partial_run(db: Database) -> tuple[int, int]:
    """A third crawl, killed after one of its three site tasks: (finished run, partial run)."""
    with db.session() as s:
        finished = s.query(CrawlRun).order_by(CrawlRun.id.desc()).first()
        assert finished is not None
        run = CrawlRun(
            snapshot_id=finished.snapshot_id,
            status="running",  # SIGKILL: nobody wrote another status
            started_at=dt.datetime(2026, 9, 1, 9),
        )
        s.add(run)
        s.flush()
        add_site(s, run.id, "alpha.gov", "Department of Alpha", "active", title="Alpha")
        for domain, agency in (("beta.gov", "Beta Agency"), ("delta.gov", "Department of Alpha")):
            s.add(CrawlTask(run_id=run.id, job="sites", key=domain, domain=domain, agency=agency))
        return finished.id, run.id


def text_of(path: Path) -> str:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml").get_text(" ", strip=True)


@pytest.mark.integration  # one `govaudit export` process
def test_unfinished_run_is_not_the_default(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    finished, partial = add_partial_run(db)
    with db.session() as s:
        assert latest_run(s, "sites").id == finished
        assert latest_run(s, "sites", partial).id == partial  # named: shown as it is
        assert job_progress(s, partial, "sites").partial
        assert not job_progress(s, finished, "sites").partial
        run = s.get(CrawlRun, partial)
        assert run is not None
        assert previous_run(s, run, "sites").id == finished  # type: ignore[union-attr]
        assert audit_gather(s, load_policy(), []).crawl_run_id == finished
        assert audit_gather(s, load_policy(), [], partial).crawl_run_id == partial

    env = {**os.environ, "GOVAUDIT_DB": db.url}
    out = subprocess.run(
        [GOVAUDIT, "export", "sites", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert {r["crawl_run"] for r in json.loads(out)} == {finished}

    index = render_report(db, tmp_path / "out", agencies=SEEDS)
    doc = json.loads((index.parent / "report.json").read_text())
    assert doc["scope"]["crawl_run"]["id"] == finished
    assert doc["scope"]["crawl_run"]["partial"] is False
    assert "Partial run" not in text_of(index)
    db.dispose()


def test_named_partial_run_has_a_banner_and_no_removed_sites(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    finished, partial = add_partial_run(db)
    index = render_report(db, tmp_path / "out", run_id=partial, agencies=SEEDS)
    out = index.parent
    for page in ("index.html", "changes.html", "guidelines.html", "agencies/alpha.html"):
        assert "Partial run: 1 of 3 tasks" in text_of(out / page), page
    doc = json.loads((out / "report.json").read_text())
    scope = doc["scope"]["crawl_run"]
    assert (scope["id"], scope["partial"], scope["tasks_done"], scope["tasks_total"]) == (
        partial,
        True,
        1,
        3,
    )
    sites = doc["changes"]["sites"]
    assert sites["available"] and sites["previous_run"] == finished
    # Run 2 crawled five sites run 3 never reached: none of them is "removed".
    assert sites["removed"] == []
    assert sites["partial"] == {"done": 1, "total": 3}
    changes = BeautifulSoup((out / "changes.html").read_text(), "lxml")
    assert not any("Removed sites" in c.get_text() for c in changes.find_all("caption"))
    assert "not listed as removed" in changes.get_text(" ", strip=True)
    # The finished run compared with its own predecessor still lists removed sites.
    full = render_report(db, tmp_path / "full", run_id=finished, agencies=SEEDS).parent
    before = json.loads((full / "report.json").read_text())["changes"]["sites"]
    assert [r["domain"] for r in before["removed"]] == ["old.gov"]
    assert before["partial"] is None
    db.dispose()
