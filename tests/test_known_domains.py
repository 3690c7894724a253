"""State and local .gov domains are known, not "unlisted" federal domains (issue 10, case 4).

The bundled seeds hold the full registry list (all domain types) beside the federal one; a
fresh database loads both, so a link to ca.gov or nyc.gov is a known non-federal domain: no
unlisted-domain finding, no freeze finding, not crawled as a federal site.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from audit.config_files import bundled_registry_files
from audit.db import Database
from audit.models import RdapResult
from tests.crawl_world import export, govaudit

pytestmark = pytest.mark.integration

HOME = """<!doctype html><html lang="en"><head><title>Department of Agriculture</title></head>
<body><p>Programs, services and data of the department for farmers and families.</p>
<a href="https://www.ca.gov/">California</a> <a href="https://nyc.gov/services">NYC</a>
<a href="https://www.newthing2026.gov/">A new program</a>
</body></html>"""


def test_the_full_registry_list_is_bundled() -> None:
    names = [p.name for p in bundled_registry_files()]
    assert "full-2026-08-22.csv" in names and "federal-2026-08-18.csv" in names
    full = next(p for p in bundled_registry_files() if p.name.startswith("full-"))
    assert len(full.read_text(encoding="utf-8").splitlines()) == 16_540  # header + 16,539


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory, simulated_web_factory_module: Any) -> Any:
    web = simulated_web_factory_module(
        {"usda": {"hosts": ["usda.gov", "www.usda.gov"], "pages": {"/": {"body": HOME}}}}
    )
    tmp = tmp_path_factory.mktemp("known")
    db_url = f"sqlite:///{tmp}/known.db"
    # A fresh database: the crawl loads the bundled registry files first.
    crawl = govaudit(
        web, db_url, "crawl", "--domain", "usda.gov", "--only", "sites", "--workers", "1"
    )
    # RDAP dates every linked domain inside the first M-11-24 freeze window.
    db = Database(db_url)
    with db.session() as session:
        for name in ("ca.gov", "nyc.gov", "newthing2026.gov"):
            session.add(
                RdapResult(
                    domain=name,
                    url=f"https://rdap.example/domain/{name}",
                    state="registered",
                    http_status=200,
                    registration=dt.datetime(2011, 7, 1),
                )
            )
    db.dispose()
    govaudit(None, db_url, "audit", "--format", "json")
    findings = export(None, db_url, "findings")
    return {
        "web": web,
        "db": db_url,
        "crawl": crawl,
        "sites": {r["domain"]: r for r in export(None, db_url, "sites")},
        "links": export(None, db_url, "links"),
        "findings": findings,
    }


@pytest.fixture(scope="module")
def simulated_web_factory_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    webs: list[SimulatedWeb] = []

    def make(sites: dict[str, Any]) -> SimulatedWeb:
        folder = write_sites(tmp_path_factory.mktemp("known-sites"), sites)
        web = SimulatedWeb.from_directory(folder).start()
        webs.append(web)
        return web

    yield make
    for web in webs:
        web.stop()


def test_both_bundled_files_are_loaded(audited: Any) -> None:
    assert "full-2026-08-22.csv" in audited["crawl"].stderr
    assert "federal-2026-08-18.csv" in audited["crawl"].stderr


def test_a_state_or_city_domain_is_not_unlisted(audited: Any) -> None:
    usda = audited["sites"]["usda.gov"]
    assert usda["unlisted_gov_domains"] == ["newthing2026.gov"]
    kinds = {(lk["to_host"], lk["kind"]) for lk in audited["links"]}
    assert ("www.ca.gov", "gov-nonfederal") in kinds
    assert ("nyc.gov", "gov-nonfederal") in kinds
    assert ("www.newthing2026.gov", "gov-unlisted") in kinds


def test_no_finding_for_a_known_non_federal_domain(audited: Any) -> None:
    by_rule: dict[str, set[str]] = {}
    for f in audited["findings"]:
        by_rule.setdefault(f["rule"], set()).add(f["domain"])
    assert by_rule.get("unlisted-domain") == {"newthing2026.gov"}
    # RDAP puts all three in the freeze; only the one no snapshot lists is judged by default
    # (federal_only): ca.gov and nyc.gov are a state's and a city's.
    freeze = by_rule.get("freeze-registration", set())
    assert "newthing2026.gov" in freeze
    assert not freeze & {"ca.gov", "nyc.gov"}


def test_non_federal_domains_are_listed_as_such_and_not_crawled(audited: Any) -> None:
    db = audited["db"]
    rows = json.loads(
        govaudit(
            None, db, "inventory", "list", "--agency", "State of California", "--format", "json"
        ).stdout
    )
    ca = next(r for r in rows if r["domain"] == "ca.gov")
    assert ca["domain_type"] == "State or territory"
    # The crawl audits the federal .gov web: a state's domains are no crawl targets.
    refused = govaudit(
        None, db, "crawl", "--agency", "State of California", "--only", "sites", check=False
    )
    assert refused.returncode == 2
    assert "nothing to crawl" in refused.stderr


def test_only_the_federal_domains_of_the_newest_snapshot_are_crawl_targets(
    audited: Any, tmp_path: Path
) -> None:
    from govaudit.app import App
    from govaudit.registry_files import audited_entries

    app = App(db_url=audited["db"], policy_path=None, agencies_path=None, waivers_path=None)
    _, entries = audited_entries(app)
    assert len(entries) > 1000
    assert all(e["domain_type"].startswith("Federal") for e in entries)
    assert "ca.gov" not in {e["domain"] for e in entries}
