"""End to end: `govaudit demo` is the main job a newcomer runs (README's first command)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import audit

# The demo (its fixture runs it once: two crawls, RDAP, accessibility in Chromium) takes a
# few minutes on a busy machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


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
    # two crawls (sites and /open together), one RDAP run, two website crawls, one DNS run,
    # one accessibility run, and the crawl of the demo's web archive (/open only)
    assert (runs["sites"], runs["open"], runs["rdap"], runs["websites"]) == (2, 3, 1, 2)
    assert (runs["dns"], runs["a11y"]) == (1, 1)
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


def test_no_machine_path_anywhere_in_the_report(demo: dict[str, object]) -> None:
    """The report may be published: it names the policy files by their package path (or the
    name the user gave), never by an absolute path of the machine that rendered it."""
    out = Path(str(demo["out"])).resolve()
    install = Path(audit.__file__).resolve().parent.parent
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".csv")]
    assert any(p.name == "about.html" for p in files)
    leaks = [
        f"{p.relative_to(out)} names {root}"
        for p in files
        for root in (str(out), str(install))
        if root in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert not leaks, leaks
    about = (out / "report" / "about.html").read_text(encoding="utf-8")
    assert "seeds/policy.toml" in about
    assert "simweb/demo/seeds/policy.toml" in about
    guidelines = (out / "report-m-23-22" / "guidelines.html").read_text(encoding="utf-8")
    assert "seeds/policies/m-23-22.toml" in guidelines


def _world_a11y() -> dict[str, dict[str, str]]:
    """homepage URL -> the axe-core violations world.yaml plants there (rule -> impact)."""
    import yaml

    from simweb.sites import DEMO_WORLD_FILE

    world = yaml.safe_load(DEMO_WORLD_FILE.read_text(encoding="utf-8"))
    return {
        entry["start_url"]: entry["homepage"]["a11y"]
        for entry in world["domains"]
        if (entry.get("homepage") or {}).get("a11y")
    }


@pytest.mark.browser
def test_demo_checks_accessibility_and_shows_each_impact(demo: dict[str, object]) -> None:
    from bs4 import BeautifulSoup

    planted = _world_a11y()
    assert {i for rules in planted.values() for i in rules.values()} == {
        "minor",
        "moderate",
        "serious",
        "critical",
    }
    db = sqlite3.connect(Path(str(demo["out"])) / "govaudit-demo.db")
    rows = db.execute("select url, roles, state, violations, run_id from a11y_check").fetchall()
    assert len({run for *_, run in rows}) == 1 and len(rows) == len({r[0] for r in rows})
    assert {state for _, _, state, _, _ in rows} == {"checked"}
    found = {url: json.loads(v) for url, _, _, v, _ in rows if json.loads(v)}
    for url, rules in planted.items():
        assert {v["rule"]: v["impact"] for v in found.get(url, [])} == rules, url
    # nsf.gov answers on plain http only; its /open page is also its plan.
    roles = {url: json.loads(r) for url, r, *_ in rows}
    assert roles["http://www.nsf.gov/open"] == ["open", "plan"]
    index = Path(str(demo["stdout"]).strip().splitlines()[-1])
    page = BeautifulSoup((index.parent / "accessibility.html").read_text(), "lxml")
    impacts = {
        tr.find("th").get_text(strip=True): int(tr.find("td").get_text(strip=True))
        for tr in page.find(id="a11y-impacts-table").find("tbody").find_all("tr")
    }
    assert all(impacts[name] == 1 for name in ("minor", "moderate", "serious", "critical"))
    assert "accessibility: 50 checked, 0 couldn't check, 0 failed" in str(demo["stderr"])
    findings = set(
        db.execute(
            "select domain, severity from finding where rule = 'accessibility' and "
            "audit_run_id = (select max(id) from audit_run)"
        )
    )
    assert findings == {("dol.gov", "high"), ("onguardonline.gov", "medium")}


# `govaudit a11y --domain` over these: a page of two roles (usda.gov's /open is its plan, as
# is nsf.gov's, served over plain http), the /open page that answers 503 once
# (transportation.gov), a critical (dol.gov) and a serious (onguardonline.gov) violation.
A11Y_RERUN_DOMAINS = ("usda.gov", "transportation.gov", "nsf.gov", "dol.gov", "onguardonline.gov")


@pytest.mark.browser
def test_govaudit_a11y_on_the_demo_database(
    demo: dict[str, object], demo_web: Any, tmp_path: Path
) -> None:
    """Issue 27: `govaudit a11y` on the demo database failed on a page of two roles."""
    import shutil

    from tests.crawl_world import export, govaudit

    copy = tmp_path / "demo.db"
    shutil.copy(Path(str(demo["out"])) / "govaudit-demo.db", copy)
    url = f"sqlite:///{copy}"
    # What the demo's own run (every page) saw of these domains: the pages to check again.
    db = sqlite3.connect(copy)
    seen = {
        page: (state, json.loads(violations))
        for page, state, violations in db.execute(
            "select url, state, violations from a11y_check where domain in (?, ?, ?, ?, ?)",
            A11Y_RERUN_DOMAINS,
        )
    }
    db.close()
    assert {state for state, _ in seen.values()} == {"checked"}
    severe = {
        page
        for page, (_, found) in seen.items()
        if any(v["impact"] in ("serious", "critical") for v in found)
    }
    assert severe == {"https://www.dol.gov/", "https://www.onguardonline.gov/"}
    domains = [arg for d in A11Y_RERUN_DOMAINS for arg in ("--domain", d)]
    demo_web.set_epoch(2)  # the world of the demo's last crawl
    demo_web.reset_sequences()  # transportation.gov/open answers 503 once, then 200
    try:
        result = govaudit(
            demo_web, url, "a11y", "--ca-bundle", str(demo_web.ca_pem_path), *domains, timeout=600
        )
    finally:
        demo_web.set_epoch(1)
        demo_web.reset_sequences()
    assert result.returncode == 0 and "Traceback" not in result.stderr
    checked, severe_now = len(seen) - 1, len(severe)  # transportation.gov/open: 503
    assert (
        f"{checked} pages checked, 1 couldn't check, {severe_now} with serious or critical"
        in result.stdout
    )
    rows = export(None, url, "a11y")
    unchecked = {r["url"]: r["example"] for r in rows if r["example"].startswith("couldn't")}
    assert unchecked == {"https://www.transportation.gov/open": "couldn't check: HTTP 503"}
    assert {r["roles"] for r in rows if r["url"] == "https://www.usda.gov/open"} == {"open plan"}
    assert {r["roles"] for r in rows if r["url"] == "http://www.nsf.gov/open"} == {"open plan"}
    assert {r["rule"] for r in rows if r["url"] == "http://www.nsf.gov/"} == {""}  # clean, checked
    # The new run (the one exported) checked the demo run's pages and found the same rules.
    assert {r["url"] for r in rows} == set(seen)
    for page, (_, found) in seen.items():
        if page not in unchecked:
            got = {r["rule"] for r in rows if r["url"] == page and r["rule"]}
            assert got == {v["rule"] for v in found}, page
