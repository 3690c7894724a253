"""End to end: `govaudit demo` is the main job a newcomer runs (README's first command)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def demo(demo_run: dict[str, object]) -> dict[str, object]:
    return demo_run


def test_demo_prints_the_report_path_on_its_own_line(demo: dict[str, object]) -> None:
    last = str(demo["stdout"]).strip().splitlines()[-1]
    index = Path(last)
    assert index.is_absolute() and index.name == "index.html" and index.is_file()
    for page in (
        "freeze.html",
        "plans.html",
        "inventory.html",
        "changes.html",
        "guidelines.html",
        "about.html",
        "report.json",
        "findings.csv",
    ):
        assert (index.parent / page).is_file(), page


def test_demo_world_has_every_situation(demo: dict[str, object]) -> None:
    db = sqlite3.connect(Path(str(demo["out"])) / "govaudit-demo.db")
    plan_statuses = {s for (s,) in db.execute("select status from plan_check")}
    assert plan_statuses == {"published", "incomplete", "no-plan", "no-open-page", "unreachable"}
    runs = dict(
        db.execute(
            "select t.job, count(distinct r.id) from crawl_run r join crawl_task t "
            "on t.run_id = r.id where r.status = 'finished' group by t.job"
        )
    )
    # two crawls (sites and /open together), one RDAP run, two website crawls
    assert (runs["sites"], runs["open"], runs["rdap"], runs["websites"]) == (2, 2, 1, 2)
    rules = {r for (r,) in db.execute("select distinct rule from finding")}
    assert {
        "freeze-registration",
        "late-waiver",
        "orphan-waiver",
        "unlisted-domain",
        "open-page-missing",
        "plan-missing",
        "plan-incomplete",
        "plan-late",
        "site-unreachable",
    } <= rules
    waivers = {
        (d, w)
        for d, w in db.execute(
            "select domain, waiver from finding where rule='freeze-registration' and audit_run_id="
            "(select max(id) from audit_run)"
        )
    }
    assert ("consumerfinance.gov", "waived") in waivers
    assert ("performance.gov", "late-waiver") in waivers
    assert ("digitalgov.gov", "no-waiver") in waivers


def test_demo_report_json_matches_the_database(demo: dict[str, object]) -> None:
    index = Path(str(demo["stdout"]).strip().splitlines()[-1])
    data = json.loads((index.parent / "report.json").read_text())
    db = sqlite3.connect(Path(str(demo["out"])) / "govaudit-demo.db")
    latest = db.execute("select max(id) from audit_run").fetchone()[0]
    count = db.execute("select count(*) from finding where audit_run_id=?", (latest,)).fetchone()
    assert len(data["findings"]) == count[0]


def test_demo_renders_both_guideline_sets_linked_to_each_other(demo: dict[str, object]) -> None:
    from bs4 import BeautifulSoup

    index = Path(str(demo["stdout"]).strip().splitlines()[-1])
    second = index.parent.parent / "report-m-23-22"
    assert (second / "index.html").is_file()

    def page(path: Path) -> BeautifulSoup:
        return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")

    first_page = page(index.parent / "guidelines.html")
    second_page = page(second / "guidelines.html")
    assert "Guideline checks: M-11-24 task force figures" in first_page.get_text()
    assert "Guideline checks: OMB M-23-22" in second_page.get_text()
    hrefs = [a["href"] for a in first_page.select(".other-reports a")]
    assert hrefs == ["../report-m-23-22/guidelines.html"]
    assert (index.parent / hrefs[0]).resolve() == (second / "guidelines.html").resolve()
    back = [a["href"] for a in second_page.select(".other-reports a")]
    assert (second / back[0]).resolve() == (index.parent / "guidelines.html").resolve()
    # the demo crawl kept homepages, so link checks are judged, not "couldn't check"
    privacy = second_page.find(id="check-privacy-link")("td")
    assert int(privacy[3].get_text()) + int(privacy[4].get_text()) > 0
    db = sqlite3.connect(Path(str(demo["out"])) / "govaudit-demo.db")
    rules = {r for (r,) in db.execute("select distinct rule from finding")}
    assert any(r.startswith("guideline:") for r in rules)
