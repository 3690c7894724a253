"""Issue 10, case 9: `site-unreachable` comes from the site crawl's own observations.

Every crawled site that could not be checked (unreachable, or blocked: 401/403 everywhere or
robots.txt) gives a finding with the site crawl's evidence; an /open check that could not
reach an agency's site adds one only for a domain the site crawl did not already report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.audit_run import run_audit
from audit.findings import AuditInput
from audit.policy_file import load_policy
from audit.rules import RULES, site_unreachable
from tests.test_report_html import make_db


def site(domain: str, status: str, reason: str, agency: str | None = "Agency") -> dict[str, Any]:
    return {
        "domain": domain,
        "agency": agency,
        "status": status,
        "status_reason": reason,
        "final_url": None,
        "crawl_run": 7,
        "fetched_at": "2026-08-20T09:00:00",
    }


def plan(domain: str, status: str) -> dict[str, Any]:
    return {
        "agency": f"Agency of {domain}",
        "domain": domain,
        "open_page_url": None,
        "status": status,
        "status_reason": "refused",
        "plan_url": None,
        "plan_content_type": None,
        "elements": {},
        "missing_elements": [],
        "stated_date": None,
        "first_seen": None,
        "crawl_run": 7,
        "fetched_at": "2026-08-20T09:00:00",
        "evidence": {"open_tries": []},
    }


def audit_input(sites: list[dict[str, Any]], plans: list[dict[str, Any]]) -> AuditInput:
    return AuditInput(
        policy=load_policy(),
        waivers=[],
        snapshots=[],
        registry={},
        rdap={},
        crawl_run_id=7,
        sites=sites,
        open_run_id=7,
        plans=plans,
    )


def test_site_observations_give_the_findings() -> None:
    data = audit_input(
        [
            site("down.gov", "unreachable", "dns error on all endpoints", agency=None),
            site("waf.gov", "error", "blocked"),
            site("robots.gov", "error", "blocked by robots.txt: could not be checked"),
            site("broken.gov", "error", "HTTP 500 on all live endpoints"),
            site("fine.gov", "active", "200 at https://www.fine.gov/"),
        ],
        [],
    )
    found = {f.domain: f for f in site_unreachable.check(data)}
    assert set(found) == {"down.gov", "waf.gov", "robots.gov"}
    down = found["down.gov"]
    assert down.summary == "down.gov could not be checked (dns error on all endpoints)"
    assert down.severity == "low"
    assert down.evidence["source"] == "site crawl"
    assert down.evidence["status"] == "unreachable"
    assert down.evidence["fetched_at"] == "2026-08-20T09:00:00"
    assert down.evidence["crawl_run"] == 7
    assert found["waf.gov"].summary == "Agency: waf.gov could not be checked (blocked)"


def test_open_checks_add_only_domains_the_site_crawl_did_not_report() -> None:
    data = audit_input(
        [site("down.gov", "unreachable", "refused error on all endpoints")],
        [plan("down.gov", "unreachable"), plan("open-only.gov", "unreachable")],
    )
    found = site_unreachable.check(data)
    assert sorted(f.domain or "" for f in found) == ["down.gov", "open-only.gov"]
    by_domain = {f.domain: f for f in found}
    assert by_domain["down.gov"].evidence["source"] == "site crawl"
    assert by_domain["open-only.gov"].evidence["source"] == "/open check"
    assert by_domain["open-only.gov"].evidence["status_reason"] == "refused"


def test_audit_reports_unreachable_sites_without_a_plan_row(tmp_path: Path) -> None:
    """beta.gov is unreachable in crawl run 2; beta-parked.gov is parked (checked)."""
    db = make_db(tmp_path)
    _, drafts, data = run_audit(db, load_policy(), [])
    assert RULES["site-unreachable"].check is site_unreachable.check
    unreachable = {d.domain: d for d in drafts if d.rule == "site-unreachable"}
    crawl = {s["domain"]: s for s in data.sites}
    want = {
        d
        for d, s in crawl.items()
        if s["status"] == "unreachable" or s["status_reason"].startswith("blocked")
    }
    assert "beta.gov" in want
    assert set(unreachable) == want
    assert unreachable["beta.gov"].evidence["source"] == "site crawl"
    db.dispose()
