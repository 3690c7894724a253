"""The periodic job's dns step (`govaudit run`, on by default) against the planted DNS
zones, and its configuration keys: dns, dns_nameservers, dns_timeout, dns_concurrency."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from govaudit.app import App, BadInput
from govaudit.job_config import ConfigError, load_config
from govaudit.periodic_job import STEPS, PeriodicJob
from tests.crawl_world import govaudit
from tests.dns_server import PLANTED, planted_dns, planted_registry

# Every test here runs govaudit or the DNS server as processes.
pytestmark = pytest.mark.integration


def config_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "govaudit.toml"
    path.write_text(f'db = "sqlite:///{tmp_path}/job.db"\n' + body)
    return path


def test_the_config_keys(tmp_path: Path) -> None:
    defaults = load_config(None, environ={})
    assert defaults["dns"] is True
    assert defaults["dns_nameservers"] == []
    assert (defaults["dns_timeout"], defaults["dns_concurrency"]) == (5.0, 50)
    path = config_file(
        tmp_path, 'dns = false\ndns_nameservers = "127.0.0.1:5353"\ndns_timeout = 2\n'
    )
    cfg = load_config(path, environ={})
    assert (cfg["dns"], cfg["dns_nameservers"], cfg["dns_timeout"]) == (
        False,
        ["127.0.0.1:5353"],
        2.0,
    )
    env = {"GOVAUDIT_DNS_NAMESERVERS": "127.0.0.1:53, 10.0.0.2", "GOVAUDIT_DNS": "yes"}
    cfg = load_config(path, environ=env)
    assert cfg["dns_nameservers"] == ["127.0.0.1:53", "10.0.0.2"] and cfg["dns"] is True
    bad = config_file(tmp_path, "dns_nameservers = 53\n")
    with pytest.raises(ConfigError, match=r"govaudit.toml:2: dns_nameservers must be a string"):
        load_config(bad, environ={})
    low = config_file(tmp_path, "dns_concurrency = 0\n")
    with pytest.raises(ConfigError, match="dns_concurrency must be at least 1"):
        load_config(low, environ={})
    assert STEPS.index("rdap") < STEPS.index("dns") < STEPS.index("audit")


def job(tmp_path: Path, body: str) -> PeriodicJob:
    cfg = load_config(config_file(tmp_path, body), environ={})
    app = App(cfg["db"], None, None, None)
    periodic = PeriodicJob(app, cfg, logging.getLogger("govaudit run"))
    periodic._open_job()
    return periodic


def test_the_dns_step_observes_every_domain_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = f"sqlite:///{tmp_path}/job.db"
    registry = planted_registry(tmp_path / "reg.csv")
    govaudit(None, db, "inventory", "load", str(registry), "--as-of", "2024-01-01")
    with planted_dns() as server:
        periodic = job(
            tmp_path,
            f'dns_nameservers = ["{server.nameserver}"]\ndns_timeout = 3\ndns_concurrency = 4\n',
        )
        with caplog.at_level(logging.INFO, logger="govaudit run"):
            counts = periodic.step_dns()
        assert counts is not None
        assert counts["domains"] == len(PLANTED) + 1  # and inherit.gov
        assert counts["unreachable"] == 2  # lame.gov, notindns.gov
        assert counts["pending"] == 0
        want = sum(1 for r in PLANTED.values() if r.get("email_verdict") == "not-compliant")
        assert counts["not_compliant"] == want
        run_id = periodic.job.state["dns_run"] if periodic.job else None
        assert run_id
        lines = [r.getMessage() for r in caplog.records]
        assert any(line.startswith(f"dns: run {run_id}: ") for line in lines)
        assert any(
            line.startswith("dns: couldn't check dmarctimeout.gov: ") and "timeout" in line
            for line in lines
        )
        # a killed attempt's run is continued, not started again
        again = periodic.step_dns()
        assert again is not None and again["domains"] == counts["domains"]
        assert periodic.job is not None and periodic.job.state["dns_run"] == run_id
        asked = server.query_count
        assert asked > 0
    rows = govaudit(None, db, "export", "dns", "--format", "json").stdout
    assert '"compliant.gov"' in rows
    periodic.app.db.dispose()


def test_dns_false_skips_and_a_bad_nameserver_stops_the_step(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/job.db"
    govaudit(None, db, "inventory", "load", str(planted_registry(tmp_path / "reg.csv")),
             "--as-of", "2024-01-01")  # fmt: skip
    assert job(tmp_path, "dns = false\n").step_dns() == {"skipped": True}
    with pytest.raises(BadInput, match=r"dns_nameservers: 'dns.example': not an IP address"):
        job(tmp_path, 'dns_nameservers = ["dns.example"]\n').step_dns()
