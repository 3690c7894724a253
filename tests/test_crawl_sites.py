"""The site inventory crawl against the simulated web (issue: site inventory crawl)."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import (
    FILES,
    GOVAUDIT,
    REGISTRY_DOMAINS,
    export_here,
    govaudit,
    govaudit_here,
    registry_csv,
    sites,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    folder = write_sites(tmp_path_factory.mktemp("world"), sites(), FILES)
    web = SimulatedWeb.from_directory(folder).start()
    tmp = tmp_path_factory.mktemp("crawl")
    db = f"sqlite:///{tmp}/crawl.db"
    registry = registry_csv(tmp / "registry-2026-01-01.csv", REGISTRY_DOMAINS)
    govaudit_here(db, "inventory", "load", str(registry))
    result = govaudit(
        web,
        db,
        "crawl",
        "--only",
        "sites",
        "--workers",
        "2",
        "--timeout",
        "5",
        "--user-agent",
        "govaudit-test (+https://example.invalid/contact)",
    )
    rows = {r["domain"]: r for r in export_here(db, "sites")}
    yield {"web": web, "db": db, "rows": rows, "output": result.stdout}
    web.stop()


def test_every_domain_gets_one_row_and_a_status(world: Any) -> None:
    rows = world["rows"]
    assert sorted(rows) == sorted(REGISTRY_DOMAINS)
    expected = {
        "alpha.gov": "active",
        "beta.gov": "active",
        "gamma.gov": "redirect",
        "delta.gov": "unreachable",
        "epsilon.gov": "error",
        "zeta.gov": "active",
        "eta.gov": "parked",
        "theta.gov": "unreachable",
    }
    assert {d: r["status"] for d, r in rows.items()} == expected
    assert rows["epsilon.gov"]["status_reason"] == (
        "blocked: all four endpoints (www and bare, https and http) answer 403"
    )
    assert rows["gamma.gov"]["redirect_target"] == "alpha.gov"
    assert rows["theta.gov"]["status_reason"] == (
        "no endpoint answers: all four endpoints (www and bare, https and http) have no DNS address"
    )
    assert "refuse the connection" in rows["delta.gov"]["status_reason"]
    assert rows["eta.gov"]["status_reason"]
    assert "crawl run 1 finished: sites: 8/8" in world["output"]


def test_sites_that_could_not_be_checked_are_site_unreachable_findings(world: Any) -> None:
    """Issue 10, case 9: a sites-only crawl has no plan rows; the site crawl's own statuses
    (unreachable, blocked) make the `site-unreachable` findings, with its evidence."""
    web, db = world["web"], world["db"]
    govaudit(web, db, "audit", "--format", "json")
    found = {f["domain"]: f for f in export_here(db, "findings", "--rule", "site-unreachable")}
    assert set(found) == {"delta.gov", "theta.gov", "epsilon.gov"}
    for domain, finding in found.items():
        row = world["rows"][domain]
        assert finding["severity"] == "low"
        assert finding["evidence"]["source"] == "site crawl"
        assert finding["evidence"]["status_reason"] == row["status_reason"]
        assert finding["evidence"]["fetched_at"] == row["fetched_at"]
        assert f"{domain} could not be checked" in finding["summary"]


def test_endpoints_https_and_hsts(world: Any) -> None:
    alpha, beta = world["rows"]["alpha.gov"], world["rows"]["beta.gov"]
    assert alpha["https"] and alpha["http_redirects_to_https"] and alpha["hsts"]
    assert alpha["final_url"] == "https://www.alpha.gov/"
    assert not beta["https"] and not beta["http_redirects_to_https"] and not beta["hsts"]
    assert beta["final_url"] == "http://www.beta.gov/"


def test_homepage_facts(world: Any) -> None:
    alpha = world["rows"]["alpha.gov"]
    assert alpha["title"] == "Alpha Agency"
    assert alpha["dap"] and alpha["uswds_banner"] and alpha["site_search"]
    assert alpha["language"] == "en"
    links = alpha["required_links"]
    assert links["privacy"] == "https://www.alpha.gov/privacy"
    assert links["open_gov"] == "https://www.alpha.gov/open"
    assert links["usa_gov"] == "https://www.usa.gov/"
    assert links["inspector_general"] is None
    assert not world["rows"]["beta.gov"]["dap"]


def test_well_known_files_and_soft_404(world: Any) -> None:
    alpha, zeta = world["rows"]["alpha.gov"], world["rows"]["zeta.gov"]
    assert alpha["robots_txt"] and alpha["sitemap_xml"] and alpha["security_txt"]
    assert not alpha["soft_404"]
    assert zeta["soft_404"]
    assert not world["rows"]["beta.gov"]["robots_txt"]


def test_bounded_crawl_broken_links_hostnames_unlisted(world: Any) -> None:
    alpha = world["rows"]["alpha.gov"]
    assert alpha["hostnames"] == ["data.alpha.gov"]
    # beta.gov is in the registry; usa.gov is not in this test's registry.
    assert alpha["unlisted_gov_domains"] == ["newthing.gov", "usa.gov"]
    assert alpha["broken_links"] == 1
    pages = {p["url"]: p for p in export_here(world["db"], "pages") if p["domain"] == "alpha.gov"}
    assert pages["https://www.alpha.gov/missing"]["status"] == 404
    assert pages["https://www.alpha.gov/docs/two"]["depth"] == 2
    assert "https://www.alpha.gov/docs/three" not in pages  # depth 3 > --max-depth 2
    links = export_here(world["db"], "links")
    broken = [lk for lk in links if lk["kind"] == "broken"]
    assert broken == [
        {
            **broken[0],
            "from_url": "https://www.alpha.gov/",
            "to_url": "https://www.alpha.gov/missing",
            "status": 404,
        }
    ]
    kinds = {lk["kind"] for lk in links}
    assert {"refused:ip-literal", "refused:localhost", "gov-unlisted"} <= kinds


def test_robots_forbidden_page_is_recorded_never_fetched(world: Any) -> None:
    web = world["web"]
    paths = [r.path for r in web.requests("www.alpha.gov")]
    assert "/private/secret" not in paths
    pages = {p["url"]: p for p in export_here(world["db"], "pages")}
    assert pages["https://www.alpha.gov/private/secret"]["error_kind"] == "robots"
    agents = {r.user_agent for r in web.requests() if not r.refused and r.method != "CONNECT"}
    assert agents == {"govaudit-test (+https://example.invalid/contact)"}


def test_no_request_leaves_scope(world: Any) -> None:
    web = world["web"]
    allowed = {h for d in REGISTRY_DOMAINS for h in (d, f"www.{d}")}
    hosts = {r.host for r in web.requests()}
    assert hosts <= allowed, hosts - allowed
    assert not [r for r in web.requests() if r.refused]
    assert "data.alpha.gov" not in hosts and "newthing.gov" not in hosts


def test_per_host_concurrency_never_above_the_setting(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    links = "".join(f'<a href="/p{i}">{i}</a>' for i in range(40))
    world = {
        "busy": {
            "hosts": ["busy.gov", "www.busy.gov"],
            "delay": 0.05,
            "https_redirect": True,
            "redirect_host": {"busy.gov": "www.busy.gov"},
            "robots": "User-agent: *\nAllow: /\n",
            "catch_all": {"status": 200, "body": "<title>page</title>ok"},
            "pages": {"/": {"body": f"<html><title>Busy</title><body>{links}</body>"}},
        },
        "other": {
            "hosts": ["other.gov", "www.other.gov"],
            "delay": 0.05,
            "catch_all": {"status": 200, "body": "<title>o</title>" + links},
        },
    }
    web = simulated_web_factory(world)
    db = f"sqlite:///{tmp_path}/c.db"
    govaudit(
        None,
        db,
        "inventory",
        "load",
        str(registry_csv(tmp_path / "r-2026-01-01.csv", ["busy.gov", "other.gov"])),
    )
    govaudit(
        web,
        db,
        "crawl",
        "--only",
        "sites",
        "--workers",
        "1",
        "--per-host",
        "2",
        "--concurrency",
        "32",
        "--max-pages-per-site",
        "30",
        "--timeout",
        "5",
    )
    for host in ("www.busy.gov", "busy.gov", "www.other.gov", "other.gov"):
        assert web.max_concurrency(host) <= 2, host
    # The pages of one registrable domain share one download slot across its hosts.
    busy = sorted(
        (r.started, r.finished or r.started)
        for r in web.requests()
        if r.host.endswith("busy.gov") and r.method != "CONNECT" and not r.error
    )
    overlap = max(sum(1 for s, f in busy if s <= t < f) for t, _ in busy)
    assert overlap <= 2
    assert len(busy) > 30  # the limit was exercised, not idle


def _tasks(db: str) -> dict[str, int]:
    path = db.removeprefix("sqlite:///")
    if not os.path.exists(path):
        return {}
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return dict(conn.execute("select state, count(*) from crawl_task group by state"))
    except sqlite3.OperationalError:
        return {}


def _comparable(rows: list[dict[str, Any]], drop: tuple[str, ...]) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in r.items() if k not in drop} for r in rows),
        key=lambda r: tuple(str(r.get(k)) for k in ("domain", "url", "to_url")),
    )


def test_sigkilled_run_resumes_to_the_same_results(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    names = [f"slow{i:02d}.gov" for i in range(12)]
    world = {
        n.split(".")[0]: {
            "hosts": [n, f"www.{n}"],
            "delay": 0.1,
            "robots": "User-agent: *\nDisallow:\n",
            "pages": {
                "/": {"body": f"<title>{n}</title><a href='/a'>a</a>"},
                "/a": {"title": f"a of {n}"},
            },
        }
        for n in names
    }
    web = simulated_web_factory(world)
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", names)
    clean, killed = f"sqlite:///{tmp_path}/clean.db", f"sqlite:///{tmp_path}/killed.db"
    for db in (clean, killed):
        govaudit_here(db, "inventory", "load", str(registry))
    # Two requests in flight for the whole process: domains finish one after another.
    args = [
        "crawl",
        "--only",
        "sites",
        "--workers",
        "1",
        "--timeout",
        "5",
        "--per-host",
        "1",
        "--concurrency",
        "2",
    ]
    govaudit(web, clean, *args)

    env = {**os.environ, **web.proxy_env(), "GOVAUDIT_DB": killed, "GOVAUDIT_BATCH_UNITS": "1"}
    proc = subprocess.Popen(
        [GOVAUDIT, *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _tasks(killed).get("done", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _tasks(killed)
    assert before.get("pending", 0) > 0, "the run finished before it could be killed"

    resumed = govaudit(web, killed, "crawl", "--resume")
    assert "resuming crawl run 1" in resumed.stderr
    assert _tasks(killed) == {"done": 12}
    drop = ("fetched_at", "crawl_run")
    assert _comparable(export_here(killed, "sites"), drop) == _comparable(
        export_here(clean, "sites"), drop
    )
    assert _comparable(export_here(killed, "pages"), drop) == _comparable(
        export_here(clean, "pages"), drop
    )
    with sqlite3.connect(killed.removeprefix("sqlite:///")) as conn:
        dupes = conn.execute(
            "select domain, count(*) from site_observation group by domain having count(*) > 1"
        ).fetchall()
    assert dupes == []
    assert govaudit(web, killed, "crawl", "--resume", check=False).returncode == 2


def test_retry_after_holds_the_whole_host(simulated_web_factory: Any, tmp_path: Path) -> None:
    """A 429 with Retry-After: 2 asks the client to come back later: no request to that host
    starts before the time is up, and the page is fetched on the retry."""
    links = "".join(f'<a href="/p{i}">{i}</a>' for i in range(8))
    world = {
        "hold": {
            "hosts": ["hold.gov", "www.hold.gov"],
            "schemes": ["http"],
            "robots": "User-agent: *\nAllow: /\n",
            "catch_all": {"status": 200, "body": "<title>page</title>ok"},
            "pages": {
                "/": {"body": f"<html><title>Hold</title><body>{links}</body>"},
                "/p0": {
                    "sequence": [
                        {"status": 429, "headers": {"Retry-After": "2"}},
                        {"status": 200, "body": "<title>p0</title>"},
                    ]
                },
            },
        },
    }
    web = simulated_web_factory(world)
    db = f"sqlite:///{tmp_path}/h.db"
    govaudit(
        None,
        db,
        "inventory",
        "load",
        str(registry_csv(tmp_path / "r-2026-01-01.csv", ["hold.gov"])),
    )
    govaudit(
        web, db, "crawl", "--only", "sites", "--workers", "1", "--per-host", "1", "--timeout", "5"
    )
    log = sorted(
        (r for r in web.requests() if r.host.endswith("hold.gov") and r.method != "CONNECT"),
        key=lambda r: r.started,
    )
    refused = next(r for r in log if r.status == 429)
    later = [r for r in log if r.started > refused.started]
    assert later, "nothing was fetched after the 429"
    assert min(r.started for r in later) >= (refused.finished or refused.started) + 1.8
    pages = {p["url"]: p for p in export_here(db, "pages")}
    assert pages["http://www.hold.gov/p0"]["status"] == 200


def test_open_units_bound_opens_domains_as_others_finish(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """Scrapy reads a spider's start list to its end at once; with `max_open_units = 1` a
    process crawls one domain at a time, each to its end, and still crawls every domain."""
    names = [f"unit{i}" for i in range(4)]
    world = {
        name: {
            "hosts": [f"{name}.gov", f"www.{name}.gov"],
            "delay": 0.02,
            "catch_all": {
                "status": 200,
                "body": "<title>p</title>" + "".join(f'<a href="/p{j}">{j}</a>' for j in range(4)),
            },
        }
        for name in names
    }
    web = simulated_web_factory(world)
    db = f"sqlite:///{tmp_path}/c.db"
    policy = tmp_path / "one-unit.toml"
    policy.write_text("[crawl]\nmax_open_units = 1\n")
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", [f"{n}.gov" for n in names])
    govaudit_here(db, "inventory", "load", str(registry))
    govaudit(
        web,
        db,
        "--policy",
        str(policy),
        "crawl",
        "--only",
        "sites",
        "--workers",
        "1",
        "--timeout",
        "5",
    )
    assert _tasks(db) == {"done": len(names)}
    spans: dict[str, tuple[float, float]] = {}
    for r in web.requests():
        if r.method == "CONNECT" or r.error:
            continue
        domain = r.host.removeprefix("www.")
        start, end = spans.get(domain, (r.started, r.finished or r.started))
        spans[domain] = (min(start, r.started), max(end, r.finished or r.started))
    assert set(spans) == {f"{n}.gov" for n in names}
    ordered = sorted(spans.values())
    # Each domain's requests all ended before the next domain's first one started.
    for (_, end), (next_start, _) in itertools.pairwise(ordered):
        assert end <= next_start
