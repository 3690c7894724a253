"""`govaudit crawl --websites` (issue 21 item 2): every website of the inventory crawled on
the simulated web, politeness per host and per registered domain, resume, the hosts a crawl
saw as websites of the source `crawl`, the periodic job's `[crawl] websites = true`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import govaudit, govaudit_here, registry_csv
from tests.shared_once import copy_db
from tests.test_periodic_job import job_world, run_job

pytestmark = pytest.mark.integration

PAGE = "<!doctype html><html lang='en'><head><title>{t}</title></head><body>{b}</body></html>"
PROSE = (
    "<p>The office serves the public with programs, grants, data and guidance. Read news, "
    "find services and contact our staff across the country.</p>"
)
ALPHA_HOME = PAGE.format(
    t="Kestrel Agency",
    b=PROSE + '<a href="https://news.kestrel.gov/">News</a> <a href="/about">About</a>',
)
SITEMAP = (
    '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    "<url><loc>https://www.kestrel.gov/</loc></url>"
    "<url><loc>https://maps.kestrel.gov/county</loc></url></urlset>"
)


def world() -> dict[str, dict[str, Any]]:
    def site(hosts: list[str], title: str, **more: Any) -> dict[str, Any]:
        return {
            "hosts": hosts,
            "https_redirect": True,
            "pages": {"/": {"body": PAGE.format(t=title, b=PROSE)}},
            **more,
        }

    return {
        "kestrel": {
            "hosts": ["kestrel.gov", "www.kestrel.gov"],
            "https_redirect": True,
            "redirect_host": {"kestrel.gov": "www.kestrel.gov"},
            "robots": "User-agent: *\nAllow: /\nSitemap: https://www.kestrel.gov/sitemap.xml\n",
            "pages": {
                "/": {"body": ALPHA_HOME},
                "/sitemap.xml": {"body": SITEMAP, "content_type": "application/xml"},
                "/.well-known/security.txt": {"text": "Contact: mailto:sec@kestrel.gov\n"},
                "/about": {"body": PAGE.format(t="About", b=PROSE)},
            },
        },
        "science": site(["science.kestrel.gov"], "Kestrel Science"),
        "news": site(["news.kestrel.gov"], "Kestrel News"),
        "maps": site(["maps.kestrel.gov"], "Kestrel Maps"),
        "shop": {
            "hosts": ["shop.kestrel.gov"],
            "redirect_host": {"shop.kestrel.gov": "www.kestrel.gov"},
        },
        "beta": {
            "hosts": ["beta.gov", "www.beta.gov"],
            "schemes": ["http"],
            "pages": {"/": {"body": PAGE.format(t="Beta", b=PROSE)}},
        },
    }


LISTED = ["www.kestrel.gov", "science.kestrel.gov", "old.kestrel.gov", "shop.kestrel.gov"]


def rows(db: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def crawled_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The first website crawl of the world, made once for the module (read-only)."""
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    tmp = tmp_path_factory.mktemp("websites")
    web = SimulatedWeb.from_directory(write_sites(tmp / "sites", world())).start()
    try:
        db = f"sqlite:///{tmp}/w.db"
        govaudit(
            None,
            db,
            "inventory",
            "load",
            str(registry_csv(tmp / "r-2026-01-01.csv", ["kestrel.gov", "beta.gov"])),
        )
        listed = tmp / "agency-list.csv"
        listed.write_text("Website\n" + "\n".join(LISTED) + "\n")
        govaudit_here(db, "inventory", "sources", "load", str(listed), "--as-of", "2026-01-02")
        result = govaudit(web, db, "crawl", "--websites", "--workers", "2", "--timeout", "5")
        yield {"db": db, "result": result}
    finally:
        web.stop()


@pytest.fixture
def crawled(
    crawled_once: dict[str, Any], simulated_web_factory: Any, tmp_path: Path
) -> dict[str, Any]:
    """A test's own copy of the crawled database, and a fresh web (empty request log) of the
    same world to crawl again."""
    web = simulated_web_factory(world())
    db = copy_db(crawled_once["db"], tmp_path, "w.db")
    return {"web": web, "db": db, "result": crawled_once["result"]}


def test_every_website_is_a_unit_of_its_own_run(crawled: dict[str, Any]) -> None:
    db, result = crawled["db"], crawled["result"]
    assert "websites: 7/7 tasks done (0 failed)" in result.stdout
    tasks = rows(db, "select job, key, domain, state from crawl_task")
    inventory = {
        "kestrel.gov",
        "www.kestrel.gov",
        "beta.gov",
        "www.beta.gov",
        "science.kestrel.gov",
        "old.kestrel.gov",
        "shop.kestrel.gov",
    }
    # The hosts this crawl sees are crawled by the next website crawl, not this one.
    assert {k for _, k, _, _ in tasks} == inventory
    assert {j for j, _, _, _ in tasks} == {"websites"}
    assert {(k, d) for _, k, d, _ in tasks if k.endswith("kestrel.gov")} == {
        (k, "kestrel.gov") for k in inventory if k.endswith("kestrel.gov")
    }
    assert {s for *_, s in tasks} == {"done"}
    # The same observations as a domain crawl, with the host as the unit.
    endpoints = rows(db, "select domain, url, status, final_url from endpoint_observation")
    by_host: dict[str, dict[str, Any]] = {}
    for host, url, status, final in endpoints:
        by_host.setdefault(host, {})[url] = (status, final)
    assert set(by_host) == inventory
    assert set(by_host["science.kestrel.gov"]) == {
        "https://science.kestrel.gov/",
        "http://science.kestrel.gov/",
    }
    assert by_host["science.kestrel.gov"]["http://science.kestrel.gov/"] == (
        200,
        "https://science.kestrel.gov/",
    )
    # shop.kestrel.gov redirects to another website of its domain: followed, recorded.
    assert by_host["shop.kestrel.gov"]["https://shop.kestrel.gov/"][1] == "https://www.kestrel.gov/"
    assert by_host["old.kestrel.gov"]["https://old.kestrel.gov/"][0] is None  # nothing answers
    sites = {
        r[0]: r[1:]
        for r in rows(
            db,
            "select domain, homepage_url, robots, sitemap, security_txt, soft_404, "
            "pages_crawled from site_observation",
        )
    }
    home, robots, sitemap, security, soft_404, pages = sites["www.kestrel.gov"]
    assert home == "https://www.kestrel.gov/"
    assert json.loads(robots)["present"] and json.loads(sitemap)["url_count"] == 2
    assert json.loads(security)["present"]
    assert json.loads(soft_404) == {}  # no probe in a website crawl
    assert pages == 1  # --max-pages-per-site defaults to the homepage for websites
    # A website that only redirects to another host gets no homepage of its own.
    assert sites["shop.kestrel.gov"][0] is None and sites["kestrel.gov"][0] is None
    settings = json.loads(rows(db, "select settings from crawl_run")[0][0])
    assert settings["jobs"] == ["websites"]
    assert settings["crawl"]["max_pages_per_site"] == 1
    assert settings["crawl"]["concurrent_requests_per_domain"] == 8


def test_hosts_the_crawl_saw_become_websites_of_the_source_crawl(
    crawled: dict[str, Any],
) -> None:
    db, web = crawled["db"], crawled["web"]
    assert "websites of the inventory (2 new)" in crawled["result"].stderr
    found = json.loads(
        govaudit_here(db, "inventory", "websites", "--source", "crawl", "--format", "json").stdout
    )
    by_host = {w["host"]: w for w in found}
    news, maps = by_host["news.kestrel.gov"], by_host["maps.kestrel.gov"]
    assert news["sources"] == ["crawl"] and maps["sources"] == ["crawl"]
    (seen,) = news["sightings"]
    assert seen["seen_on"] == "https://www.kestrel.gov/" and seen["how"] == "link"
    assert seen["crawl_run"] == 1
    assert maps["sightings"][0] == {
        "source": "crawl",
        "file": "crawl run 1",
        "as_of": seen["as_of"],
        "crawl_run": 1,
        "seen_on": "https://www.kestrel.gov/sitemap.xml",
        "how": "sitemap",
    }
    assert news["agency"] == "Test Agency" and news["domain"] == "kestrel.gov"
    # www.kestrel.gov is also a redirect target of shop.kestrel.gov and kestrel.gov: listed too.
    assert {"registry", "agency-list", "crawl"} <= set(by_host["www.kestrel.gov"]["sources"])
    # The next website crawl includes them.
    again = govaudit(web, db, "crawl", "--websites", "--workers", "1", "--timeout", "5")
    assert "websites: 9/9 tasks done" in again.stdout


def test_a_resumed_website_crawl_redoes_only_the_unfinished_websites(
    crawled: dict[str, Any],
) -> None:
    db, web = crawled["db"], crawled["web"]
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("update crawl_run set status = 'interrupted', finished_at = null")
        conn.execute(
            "update crawl_task set state = 'pending', finished_at = null "
            "where key = 'science.kestrel.gov'"
        )
        # What a unit stores is one transaction with its task's state: none of it is left
        # by a unit still pending.
        tables = ("endpoint_observation", "site_observation", "page_observation")
        for table in (*tables, "link_observation", "kept_response"):
            conn.execute(f"delete from {table} where domain = 'science.kestrel.gov'")
    web.clear_log()
    result = govaudit(web, db, "crawl", "--resume", "--workers", "2", "--timeout", "5")
    assert "resuming crawl run 1" in result.stderr
    assert "websites: 7/7 tasks done" in result.stdout
    hosts = {r.host for r in web.requests() if r.method != "CONNECT"}
    assert hosts == {"science.kestrel.gov"}
    assert rows(db, "select state from crawl_task where key = 'science.kestrel.gov'") == [("done",)]
    stored = "select count(*) from site_observation where domain = 'science.kestrel.gov'"
    assert rows(db, stored) == [(1,)]


def test_politeness_per_host_and_per_registered_domain(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    hosts = [f"h{i}.many.gov" for i in range(12)]
    links = "".join(f'<a href="/p{i}">{i}</a>' for i in range(6))
    web = simulated_web_factory(
        {
            "many": {
                "hosts": hosts,
                "delay": 0.15,
                "robots": "User-agent: *\nAllow: /\n",
                "catch_all": {"status": 200, "body": PAGE.format(t="page", b=PROSE + links)},
            }
        }
    )
    db = f"sqlite:///{tmp_path}/p.db"
    govaudit(
        None,
        db,
        "inventory",
        "load",
        str(registry_csv(tmp_path / "r-2026-01-01.csv", ["many.gov"])),
    )
    listed = tmp_path / "many.csv"
    listed.write_text("target_url\n" + "\n".join(hosts) + "\n")
    govaudit_here(db, "inventory", "sources", "load", str(listed))
    govaudit(
        web,
        db,
        "crawl",
        "--websites",
        "--domain",
        "many.gov",
        "--workers",
        "1",
        "--per-host",
        "2",
        "--per-domain",
        "3",
        "--max-pages-per-site",
        "4",
        "--timeout",
        "5",
    )
    served = sorted(
        (r.started, r.finished or r.started)
        for r in web.requests()
        if r.host.endswith("many.gov") and r.method != "CONNECT" and not r.error
    )
    overlap = max(sum(1 for s, f in served if s <= t < f) for t, _ in served)
    assert overlap == 3  # the domain's limit, reached: its hosts are slots of their own
    for host in hosts:
        assert web.max_concurrency(host) <= 2, host
    assert len(served) > 60


def test_the_periodic_job_crawls_websites_when_configured(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    web = simulated_web_factory(world())
    paths = job_world(tmp_path, ["kestrel.gov", "beta.gov"])
    config = paths["config"]
    config.write_text(config.read_text().replace("[crawl]\n", "[crawl]\nwebsites = true\n"))
    run_job(web, config, "--no-rdap", check=True)
    db = f"sqlite:///{paths['db']}"
    runs = rows(db, "select id, settings, status from crawl_run order by id")
    jobs = [json.loads(s)["jobs"] for _, s, _ in runs]
    assert jobs == [["sites", "open"], ["websites"]]
    assert all(status == "finished" for *_, status in runs)
    state = json.loads(rows(db, "select state from job_run")[0][0])
    assert state["websites_run"] == runs[1][0]
    counts = state["crawl"]["websites"]
    assert counts["run"] == runs[1][0] and counts["done"] == counts["tasks"] >= 6
    # The hosts the domain crawl saw (news.kestrel.gov, maps.kestrel.gov) were websites by the
    # time the website crawl started.
    crawled_hosts = {
        k for (k,) in rows(db, "select key from crawl_task where run_id = ?", runs[1][0])
    }
    assert {"news.kestrel.gov", "maps.kestrel.gov"} <= crawled_hosts


# ---------------------------------------------------------------- units (no crawl)


def test_tasks_are_interleaved_by_domain_and_batches_keep_domains_whole() -> None:
    from crawler.crawl_process import interleave_by_domain
    from crawler.crawl_run import TaskSpec
    from crawler.distributed import batches_by_domain

    tasks = [TaskSpec("websites", f"h{i}.a.gov", "a.gov", None) for i in range(4)]
    tasks += [TaskSpec("websites", f"h{i}.b.gov", "b.gov", None) for i in range(2)]
    tasks += [TaskSpec("websites", "c.gov", "c.gov", None)]
    order = [t.key for t in interleave_by_domain(tasks)]
    assert order == [
        "h0.a.gov",
        "h0.b.gov",
        "c.gov",
        "h1.a.gov",
        "h1.b.gov",
        "h2.a.gov",
        "h3.a.gov",
    ]
    ids = [(1, "a.gov"), (2, "a.gov"), (3, "b.gov"), (4, "a.gov"), (5, "c.gov"), (6, "d.gov")]
    assert batches_by_domain(ids, 2) == [[1, 2, 4], [3, 5], [6]]
    assert batches_by_domain(ids, 10) == [[1, 2, 4, 3, 5, 6]]


def test_redirect_targets_and_certificate_names_are_sightings(tmp_path: Path) -> None:
    from audit.db import Database
    from audit.models import CrawlRun, EndpointObservation, SiteObservation
    from audit.nonpublic_names import bundled_nonpublic_names
    from audit.website_inventory import RegistryView, website_rows
    from audit.website_sightings import record_crawl_sightings

    db = Database(f"sqlite:///{tmp_path}/s.db")
    registry = RegistryView(
        "k", {"kestrel.gov": ("Kestrel Agency", True), "city.gov": (None, False)}
    )
    with db.session() as session:
        run = CrawlRun(settings={}, status="finished")
        session.add(run)
        session.flush()
        session.add(SiteObservation(run_id=run.id, domain="kestrel.gov", seen_hosts={}))
        session.add(
            EndpointObservation(
                run_id=run.id,
                domain="kestrel.gov",
                url="https://kestrel.gov/",
                final_url="https://portal.kestrel.gov/home",
                redirect_chain=[
                    {
                        "url": "https://kestrel.gov/",
                        "status": 301,
                        "location": "https://go.kestrel.gov/",
                    }
                ],
                tls_detail={
                    "names": ["kestrel.gov", "*.kestrel.gov", "events.kestrel.gov", "x.city.gov"]
                },
            )
        )
    with db.session() as session:
        load = record_crawl_sightings(session, 1, registry, bundled_nonpublic_names())
        rows = {r["host"]: r for r in website_rows(session, source="crawl")}
    # Never the endpoint's own host nor a wildcard; the city's name is counted as rejected.
    assert set(rows) == {"go.kestrel.gov", "portal.kestrel.gov", "events.kestrel.gov"}
    assert rows["go.kestrel.gov"]["sightings"][0]["how"] == "redirect"
    assert rows["events.kestrel.gov"]["sightings"][0]["how"] == "certificate"
    assert rows["events.kestrel.gov"]["sightings"][0]["seen_on"] == "https://kestrel.gov/"
    assert load.rejected == {"non-federal": 1} and load.rows_read == 4
    with db.session() as session:  # recorded again (a resumed run): replaced, not doubled
        record_crawl_sightings(session, 1, registry, bundled_nonpublic_names())
        again = website_rows(session, source="crawl")
    assert sum(len(r["sightings"]) for r in again) == 3
    db.dispose()


# ---------------------------------------------------------------- judgement and export

# The words, as written there.
EXPORT_COLUMNS = (  # noqa: SIM905
    "host, domain, agency, sources, first_seen, last_seen, status, status_reason, "
    "redirect_target, final_url, https, hsts, tls, dap, uswds_banner, site_search, candidate, "
    "crawl_run, fetched_at"
).split(", ")


def test_websites_are_judged_exported_and_listed_as_candidates(crawled: dict[str, Any]) -> None:
    db, web = crawled["db"], crawled["web"]
    # A second website crawl: it crawls what the first saw, and is the one judged.
    govaudit(web, db, "crawl", "--websites", "--workers", "1", "--timeout", "5")
    out = govaudit_here(db, "export", "websites", "--format", "csv").stdout
    assert out.splitlines()[0].split(",") == EXPORT_COLUMNS
    rows = {
        r["host"]: r
        for r in json.loads(govaudit_here(db, "export", "websites", "--format", "json").stdout)
    }
    assert all(list(r) == EXPORT_COLUMNS for r in rows.values())
    status = {h: r["status"] for h, r in rows.items()}
    assert status == {
        "kestrel.gov": "redirect",
        "www.kestrel.gov": "active",
        "science.kestrel.gov": "active",
        "news.kestrel.gov": "active",
        "maps.kestrel.gov": "active",
        "shop.kestrel.gov": "redirect",
        "old.kestrel.gov": "unreachable",
        "beta.gov": "active",
        "www.beta.gov": "active",
    }
    assert rows["shop.kestrel.gov"]["redirect_target"] == "www.kestrel.gov"
    assert rows["kestrel.gov"]["redirect_target"] == "www.kestrel.gov"
    assert rows["science.kestrel.gov"]["https"] is True
    assert (
        rows["beta.gov"]["https"] is False and rows["beta.gov"]["final_url"] == "http://beta.gov/"
    )
    assert rows["science.kestrel.gov"]["crawl_run"] == 2
    assert rows["news.kestrel.gov"]["sources"] == ["crawl"]
    candidates = {h: r["candidate"] for h, r in rows.items() if r["candidate"]}
    # add: live, found only by crawls; retire: listed and unreachable or redirecting to
    # another website (kestrel.gov -> www.kestrel.gov is one site, and only the registry's).
    assert candidates == {
        "news.kestrel.gov": "add",
        "maps.kestrel.gov": "add",
        "old.kestrel.gov": "retire",
        "shop.kestrel.gov": "retire",
    }
    listed = json.loads(
        govaudit_here(db, "inventory", "websites", "--candidates", "--format", "json").stdout
    )
    assert listed["crawl_run"] == 2
    assert [r["host"] for r in listed["add"]] == ["maps.kestrel.gov", "news.kestrel.gov"]
    retire = {r["host"]: r for r in listed["retire"]}
    # Unreachable in both website crawls: since the first one.
    first_fetch = rows_of_run(db, 1, "old.kestrel.gov")
    assert retire["old.kestrel.gov"]["since"] == first_fetch
    assert retire["old.kestrel.gov"]["status_reason"]
    only_retire = json.loads(
        govaudit_here(db, "export", "websites", "--candidate", "retire", "--format", "json").stdout
    )
    assert {r["host"] for r in only_retire} == {"old.kestrel.gov", "shop.kestrel.gov"}
    # The first run can still be exported by id.
    first = json.loads(
        govaudit_here(db, "export", "websites", "--run", "1", "--format", "json").stdout
    )
    assert {r["crawl_run"] for r in first if r["status"]} == {1}
    missing = govaudit_here(db, "export", "websites", "--run", "99", check=False)
    assert missing.returncode == 2 and "no crawl run 99" in missing.stderr


def rows_of_run(db: str, run: int, host: str) -> str:
    (fetched,) = rows(
        db, "select fetched_at from site_observation where run_id = ? and domain = ?", run, host
    )[0]
    return fetched.replace(" ", "T")[:19]


def test_guidelines_at_the_websites_level(crawled: dict[str, Any], tmp_path: Path) -> None:
    db = crawled["db"]
    report = json.loads(
        govaudit_here(db, "guidelines", "--level", "websites", "--format", "json").stdout
    )
    assert report["crawl_run"] == 1
    https = next(c for c in report["checks"] if c["id"] == "https-enforced")
    judged = https["pass"] + https["fail"] + https["couldnt_check"] + https["not_applicable"]
    assert judged == 7  # every website of the run
    failing = {f["domain"] for f in https["failing"]}
    assert "beta.gov" in failing and "science.kestrel.gov" not in failing
    # A check that says it judges domains only is left out at the websites level.
    policy = tmp_path / "levels.toml"
    policy.write_text(
        "[[guidelines.checks]]\n"
        'id = "domain-only"\ntitle = "t"\nsource = "s"\nseverity = "low"\n'
        'test = "dap_present"\nlevels = ["domains"]\n\n'
        "[[guidelines.checks]]\n"
        'id = "every-website"\ntitle = "t"\nsource = "s"\nseverity = "low"\n'
        'test = "dap_present"\n'
    )
    only = json.loads(
        govaudit(
            None,
            db,
            "guidelines",
            "--policy",
            str(policy),
            "--level",
            "websites",
            "--format",
            "json",
        ).stdout
    )
    assert [c["id"] for c in only["checks"]] == ["every-website"]
    bad = tmp_path / "bad.toml"
    bad.write_text(policy.read_text().replace('levels = ["domains"]', 'levels = ["hosts"]'))
    refused = govaudit_here(db, "guidelines", "--policy", str(bad), check=False)
    assert refused.returncode == 2 and "levels" in refused.stderr and "bad.toml:" in refused.stderr


def test_a_distributed_website_crawl_keeps_each_domain_on_one_machine(
    simulated_web_factory: Any, pg_url: str, tmp_path: Path
) -> None:
    from tests.test_distributed import Workers, most_in_flight, stored_twice, task_states

    sites = {
        name: {
            "hosts": [f"h{i}.{name}.gov" for i in range(6)],
            "delay": 0.1,
            "robots": "User-agent: *\nAllow: /\n",
            "catch_all": {"status": 200, "body": PAGE.format(t=name, b=PROSE)},
        }
        for name in ("kestrel", "osprey")
    }
    web = simulated_web_factory(sites)
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", ["kestrel.gov", "osprey.gov"])
    govaudit_here(pg_url, "inventory", "load", str(registry))
    listed = tmp_path / "hosts.csv"
    listed.write_text("target_url\n" + "\n".join(h for s in sites.values() for h in s["hosts"]))
    govaudit_here(pg_url, "inventory", "sources", "load", str(listed))
    pool = Workers(web, pg_url, tmp_path / "machines")
    (tmp_path / "machines").mkdir()
    try:
        pool.start("machine-a", "--concurrency", "1")
        pool.start("machine-b", "--concurrency", "1")
        result = govaudit(
            web,
            pg_url,
            "crawl",
            "--websites",
            "--distributed",
            "--batch-size",
            "2",
            "--per-domain",
            "2",
            "--timeout",
            "5",
            timeout=280,
        )
    finally:
        pool.stop()
    assert "finished" in result.stdout, result.stdout + result.stderr
    # 6 listed websites per domain, and its bare and www. names (not served: unreachable).
    assert task_states(pg_url) == {"done": 16}
    assert stored_twice(pg_url) == []
    # Batches of 2 never split a domain: whoever crawled a domain crawled all of it, so its
    # limit held across both machines.
    for name in sites:
        assert most_in_flight(web, f".{name}.gov") <= 2, name
