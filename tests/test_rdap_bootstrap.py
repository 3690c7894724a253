"""`govaudit rdap --refresh-bootstrap`: the bundled IANA bootstrap copy is refreshable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import GOVAUDIT

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
RDAP_ANSWER = {
    "objectClassName": "domain",
    "ldhName": "EXAMPLE.GOV",
    "rdapConformance": ["rdap_level_0"],
    "events": [{"eventAction": "registration", "eventDate": "2011-07-04T12:00:00Z"}],
}


def world(services: list[Any]) -> dict[str, Any]:
    return {
        "iana": {
            "hosts": ["data.iana.org"],
            "schemes": ["https"],
            "pages": {"/rdap/dns.json": {"json": {"version": "1.0", "services": services}}},
        },
        "registry": {
            "hosts": ["rdap.new-registry.gov"],
            "schemes": ["https"],
            "pages": {
                "/rdap/domain/example.gov": {
                    "json": RDAP_ANSWER,
                    "content_type": "application/rdap+json",
                }
            },
        },
    }


def run(web: Any, seeds: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **web.proxy_env(),
        "GOVAUDIT_SEEDS": str(seeds),
        "SSL_CERT_FILE": str(web.ca_pem_path),
    }
    return subprocess.run(
        [GOVAUDIT, "--db", db, "rdap", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_refresh_replaces_the_copy_and_is_used(simulated_web_factory: Any, tmp_path: Path) -> None:
    seeds = Path(shutil.copytree(REPO / "seeds", tmp_path / "seeds"))
    web = simulated_web_factory(world([[["gov"], ["https://rdap.new-registry.gov/rdap/"]]]))
    result = run(
        web,
        seeds,
        f"sqlite:///{tmp_path}/r.db",
        "--refresh-bootstrap",
        "--domain",
        "example.gov",
        "--timeout",
        "5",
    )
    assert result.returncode == 0, result.stderr
    assert "bootstrap refreshed" in result.stderr
    saved = json.loads((seeds / "rdap-dns.json").read_text())
    assert saved["services"] == [[["gov"], ["https://rdap.new-registry.gov/rdap/"]]]
    assert "1 registered" in result.stdout
    assert [r.path for r in web.requests("rdap.new-registry.gov") if r.method == "GET"] == [
        "/rdap/domain/example.gov"
    ]


def test_a_bootstrap_without_gov_changes_nothing(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    seeds = Path(shutil.copytree(REPO / "seeds", tmp_path / "seeds"))
    before = (seeds / "rdap-dns.json").read_bytes()
    web = simulated_web_factory(world([[["com"], ["https://rdap.example.com/"]]]))
    result = run(
        web, seeds, f"sqlite:///{tmp_path}/r.db", "--refresh-bootstrap", "--domain", "example.gov"
    )
    assert result.returncode == 2
    assert "names no RDAP service for .gov" in result.stderr
    assert (seeds / "rdap-dns.json").read_bytes() == before
