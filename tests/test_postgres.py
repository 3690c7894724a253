"""The same code on PostgreSQL, by database URL (GOVAUDIT_TEST_PG_URL, set by `make test`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import FILES, REGISTRY_DOMAINS, export, govaudit, registry_csv, sites

pytestmark = pytest.mark.postgres


def test_inventory_on_postgresql_matches_sqlite(pg_url: str, db_url: str, dotgov_dir: Path) -> None:
    files = [str(dotgov_dir / "federal-2022-06-24.csv"), str(dotgov_dir / "federal-2024-06-25.csv")]
    outputs = []
    for url in (pg_url, db_url):
        govaudit(None, url, "inventory", "load", *files)
        again = govaudit(None, url, "inventory", "load", files[0])
        assert "nothing added" in again.stdout
        diff = govaudit(
            None, url, "inventory", "diff", "2022-06-24", "2024-06-25", "--format", "json"
        ).stdout
        listing = govaudit(None, url, "inventory", "list", "--format", "json").stdout
        outputs.append((json.loads(diff), json.loads(listing)))
    assert outputs[0] == outputs[1]
    assert len(outputs[0][1]) == 1366


def test_refused_file_changes_nothing_on_postgresql(pg_url: str, dotgov_dir: Path) -> None:
    govaudit(None, pg_url, "inventory", "load", str(dotgov_dir / "federal-2022-06-24.csv"))
    before = govaudit(None, pg_url, "inventory", "list", "--format", "json").stdout
    result = govaudit(
        None,
        pg_url,
        "inventory",
        "load",
        str(dotgov_dir / "broken" / "federal-2024-02-28-truncated.csv"),
        check=False,
    )
    assert result.returncode == 2
    assert govaudit(None, pg_url, "inventory", "list", "--format", "json").stdout == before


@pytest.mark.integration
def test_crawl_and_audit_on_postgresql(
    pg_url: str, tmp_path: Path, simulated_web_factory: Any
) -> None:
    web = simulated_web_factory(sites(), files=FILES)
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", REGISTRY_DOMAINS)
    govaudit(None, pg_url, "inventory", "load", str(registry))
    govaudit(web, pg_url, "crawl", "--only", "sites", "--workers", "2", "--timeout", "5")
    rows = {r["domain"]: r for r in export(web, pg_url, "sites")}
    assert sorted(rows) == sorted(REGISTRY_DOMAINS)
    assert rows["alpha.gov"]["status"] == "active" and rows["gamma.gov"]["status"] == "redirect"
    assert rows["alpha.gov"]["unlisted_gov_domains"] == ["newthing.gov", "usa.gov"]
    audit = govaudit(web, pg_url, "audit", "--format", "json").stdout
    assert json.loads(audit)["by_rule"].get("unlisted-domain/medium") == 2
