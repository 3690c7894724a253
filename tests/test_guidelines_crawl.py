"""Guideline checks over a real crawl of the simulated web: the kept homepage responses, a
draft judged without crawling again, `govaudit guidelines` and `--compare`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.crawl_world import FILES, REGISTRY_DOMAINS, govaudit, govaudit_here, registry_csv, sites

pytestmark = pytest.mark.integration

ZETA_TWIN = "iota.gov"  # serves the very same homepage as zeta.gov: one stored body


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    described = sites()
    twin = json.loads(json.dumps(described["zeta"]))
    twin["hosts"] = ["iota.gov", "www.iota.gov"]
    described["iota"] = twin
    folder = write_sites(tmp_path_factory.mktemp("gworld"), described, FILES)
    web = SimulatedWeb.from_directory(folder).start()
    tmp = tmp_path_factory.mktemp("gcrawl")
    db = f"sqlite:///{tmp}/crawl.db"
    registry = registry_csv(tmp / "registry-2026-01-01.csv", [*REGISTRY_DOMAINS, ZETA_TWIN])
    govaudit_here(db, "inventory", "load", str(registry))
    govaudit(web, db, "crawl", "--only", "sites", "--workers", "1", "--timeout", "5")
    yield {"web": web, "db": db, "tmp": tmp}
    web.stop()


def query(db: str, sql: str) -> list[Any]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = list(conn.execute(text(sql)))
    engine.dispose()
    return rows


def test_the_crawl_keeps_each_homepage_response_deduplicated(world: Any) -> None:
    kept = {
        (d, p): (url, sha, headers)
        for d, p, url, sha, headers in query(
            world["db"],
            "select domain, purpose, final_url, body_sha256, headers from kept_response",
        )
    }
    assert kept[("alpha.gov", "homepage")][0] == "https://www.alpha.gov/"
    headers = json.loads(kept[("alpha.gov", "homepage")][2])
    assert "content-type" in headers
    assert ("alpha.gov", "robots") in kept
    # unreachable sites have no homepage to keep
    assert ("delta.gov", "homepage") not in kept and ("theta.gov", "homepage") not in kept
    # zeta.gov and iota.gov serve the same homepage: two kept responses, one stored body
    zeta, iota = kept[("zeta.gov", "homepage")][1], kept[(ZETA_TWIN, "homepage")][1]
    assert zeta == iota
    stored = f"select count(*) from response_body where sha256 = '{zeta}'"
    assert query(world["db"], stored)[0][0] == 1
    bodies = query(world["db"], "select count(*) from response_body")[0][0]
    assert bodies < len(kept)


def test_guidelines_command_judges_the_default_pack(world: Any) -> None:
    out = json.loads(govaudit_here(world["db"], "guidelines", "--format", "json").stdout)
    checks = {c["id"]: c for c in out["checks"]}
    privacy = checks["link-privacy"]
    # active sites: alpha (footer links), beta, zeta, iota (no links); others not applicable
    assert (privacy["pass"], privacy["fail"], privacy["couldnt_check"]) == (1, 3, 0)
    assert privacy["pass_share"] == pytest.approx(0.25)
    assert {f["domain"] for f in privacy["failing"]} == {"beta.gov", "zeta.gov", ZETA_TWIN}
    failing = privacy["failing"][0]["evidence"]
    assert failing["url"].startswith("http") and failing["fetched_at"] and failing["reason"]
    assert [a["agency"] for a in privacy["agencies"]] == ["Test Agency"]
    hsts = checks["hsts"]
    # gamma redirects, eta is parked: judged too; alpha sends HSTS
    assert hsts["pass"] >= 1 and hsts["sites_judged"] >= 5
    table = govaudit_here(world["db"], "guidelines").stdout
    assert "link-privacy" in table and "25.0%" in table and "per agency" in table
    csv_out = govaudit_here(world["db"], "guidelines", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("check,agency,sites_judged,pass,fail")


DRAFT = """
[guidelines]
name = "Draft"

[[guidelines.checks]]
id = "page-says-agency"
title = "Homepage mentions the agency"
source = "Task force draft 1"
severity = "low"
test = "homepage_text_matches"
patterns = ["\\\\bagency\\\\b"]

[[guidelines.checks]]
id = "content-type-html"
title = "Homepage declares text/html"
source = "Task force draft 1"
severity = "low"
test = "header_present"
name = "Content-Type"
patterns = ["text/html"]
"""


def test_a_draft_check_is_judged_without_crawling_again(world: Any) -> None:
    draft = Path(world["tmp"]) / "draft.toml"
    draft.write_text(DRAFT, encoding="utf-8")
    web = world["web"]
    asked = len(web.requests())
    runs = query(world["db"], "select count(*) from crawl_run")[0][0]
    out = json.loads(
        govaudit_here(world["db"], "guidelines", "--policy", str(draft), "--format", "json").stdout
    )
    checks = {c["id"]: c for c in out["checks"]}
    assert list(checks) == ["page-says-agency", "content-type-html"]
    says = checks["page-says-agency"]
    # alpha's and the prose pages' text say "agency"; the other active homepages do not
    assert says["pass"] >= 1 and says["couldnt_check"] == 0
    assert checks["content-type-html"]["pass"] == checks["content-type-html"]["sites_judged"]
    audited = govaudit_here(world["db"], "audit", "--policy", str(draft), "--format", "json")
    by_rule = json.loads(audited.stdout)["by_rule"]
    assert all(not k.startswith("guideline:link-") for k in by_rule)  # the draft replaced them
    findings = json.loads(
        govaudit_here(
            world["db"],
            "export",
            "findings",
            "--rule",
            "guideline:page-says-agency",
            "--format",
            "json",
        ).stdout
    )
    assert len(findings) == says["fail"]
    for f in findings:
        assert f["severity"] == "low" and f["evidence"]["source"] == "Task force draft 1"
        assert f["evidence"]["url"] and f["evidence"]["fetched_at"] and f["evidence"]["reason"]
    # nothing was fetched, no crawl was made
    assert len(web.requests()) == asked
    assert query(world["db"], "select count(*) from crawl_run")[0][0] == runs


def test_compare_shows_what_would_change_per_check_and_agency(world: Any) -> None:
    tmp = Path(world["tmp"])
    old = tmp / "old.toml"
    new = tmp / "new.toml"
    old.write_text(
        """[[guidelines.checks]]
id = "privacy"
title = "Privacy link"
source = "draft"
severity = "medium"
test = "homepage_links_to"
patterns = ["privacy"]
""",
        encoding="utf-8",
    )
    new.write_text(
        """[[guidelines.checks]]
id = "privacy"
title = "Privacy link"
source = "draft"
severity = "medium"
test = "homepage_links_to"
patterns = ["privacy-statement-only"]

[[guidelines.checks]]
id = "search"
title = "Site search"
source = "draft"
severity = "low"
test = "site_search_present"
""",
        encoding="utf-8",
    )
    out = json.loads(
        govaudit_here(
            world["db"], "guidelines", "--compare", str(old), str(new), "--format", "json"
        ).stdout
    )
    rows = out["changes"]
    fleet = {r["check"]: r for r in rows if r["agency"] is None}
    assert fleet["privacy"]["change"] == "changed"
    assert fleet["privacy"]["newly_failing"] == ["alpha.gov"]
    assert (fleet["privacy"]["old_pass"], fleet["privacy"]["new_pass"]) == (1, 0)
    assert fleet["search"]["change"] == "added" and fleet["search"]["old_pass"] == 0
    agency = [r for r in rows if r["check"] == "privacy" and r["agency"] == "Test Agency"]
    assert agency and agency[0]["newly_failing"] == ["alpha.gov"]
    table = govaudit_here(world["db"], "guidelines", "--compare", str(old), str(new)).stdout
    assert "changed" in table and "added" in table and "alpha.gov" in table


@pytest.fixture(scope="module")
def reports(world: Any) -> dict[str, Path]:
    """The report of the crawl with each guideline set: the default and M-23-22."""
    from audit.config_files import SEEDS_DIR

    tmp = Path(world["tmp"])
    govaudit_here(world["db"], "audit")  # the default pack's failures become findings
    made = {}
    for name, extra in (
        ("default", []),
        ("m-23-22", ["--policy", str(SEEDS_DIR / "policies" / "m-23-22.toml")]),
    ):
        out = govaudit_here(
            world["db"], "report", *extra, "--out", str(tmp / f"report-{name}")
        ).stdout
        made[name] = Path(out.strip().splitlines()[-1]).parent
    return made


def test_the_guidelines_page_shows_every_check_with_source_share_and_evidence(
    reports: dict[str, Path],
) -> None:
    from audit.config_files import SEEDS_DIR
    from audit.policy_file import load_policy
    from tests.test_report_html import soup, table_by_caption

    for name, policy in (
        ("default", load_policy()),
        ("m-23-22", load_policy(SEEDS_DIR / "policies" / "m-23-22.toml")),
    ):
        page = soup(reports[name] / "guidelines.html")
        checks = table_by_caption(page, "checks, fleet-wide")
        rows = {tr["data-check"]: tr for tr in checks.tbody("tr")}
        assert list(rows) == [c.id for c in policy.guideline_checks], name
        for c in policy.guideline_checks:
            assert c.source in rows[c.id].get_text(), (name, c.id)
        assert "data-sortable" in table_by_caption(page, "Guideline checks per agency").attrs
        # the fleet figures of the page stay
        assert page.find(id="facts-table") is not None
    m2322 = soup(reports["m-23-22"] / "guidelines.html")
    assert "Guideline checks: OMB M-23-22" in m2322.get_text()
    privacy = m2322.find(id="check-privacy-link")("td")
    # alpha passes; beta, zeta and iota fail: 25.0%
    assert privacy[3].get_text() == "1" and privacy[4].get_text() == "3"
    assert privacy[-1].get_text() == "25.0%"
    # https-valid: the crawl verified every certificate (the simulated web's CA is trusted):
    # five sites pass; only beta.gov fails: it answers over http and refuses https
    https_valid = m2322.find(id="check-https-valid")("td")
    assert [td.get_text() for td in https_valid[3:6]] == ["5", "1", "0"]
    failing = m2322.find(id="failing-privacy-link")
    text = failing.get_text()
    assert "zeta.gov" in text and "none of the" in text and "Fetched at" in text
    matrix = table_by_caption(m2322, "Guideline checks per agency")
    assert "Test Agency" in matrix.tbody.get_text()
    default = soup(reports["default"] / "guidelines.html")
    assert default.find(id="check-link-privacy") is not None
    assert default.find(id="check-privacy-link") is None


def test_agency_pages_list_their_failing_checks(reports: dict[str, Path]) -> None:
    from tests.test_report_html import soup, table_by_caption

    pages = sorted((reports["m-23-22"] / "agencies").glob("*.html"))
    agency = next(p for p in pages if "Test Agency" in soup(p).get_text())
    page = soup(agency)
    table = table_by_caption(page, "Failing guideline checks")
    text = table.get_text()
    assert "Homepage links to a privacy policy" in text and "zeta.gov" in text
    links = [a["href"] for a in table.find_all("a")]
    assert "../guidelines.html#failing-privacy-link" in links
    # the default report lists the default pack's checks
    default = soup(reports["default"] / "agencies" / agency.name)
    assert (
        "Homepage links to a privacy policy"
        in table_by_caption(default, "Failing guideline checks").get_text()
    )
    data = json.loads((reports["m-23-22"] / "report.json").read_text())
    assert data["guideline_checks"]["pack"]["name"] == "OMB M-23-22"
    # the 17 requirements of the issue, and the homepage's accessibility (axe_max_impact)
    assert len(data["guideline_checks"]["checks"]) == 18
