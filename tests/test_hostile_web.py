"""The hostile-web battery (issue 13): each case runs the real spiders against a hostile
simulated site and checks what was recorded, that the bound held, and that the database is
consistent afterwards."""

from __future__ import annotations

import csv
import html
import io
import json
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.resolver import TEST_DNS_ENV, is_forbidden_address
from crawler.spiders.base import MAX_HOPS
from simweb import hostile
from tests.crawl_world import govaudit_here
from tests.hostile_crawl import (
    Canary,
    assert_consistent,
    crawl_sites,
    export_sites,
    rows,
    run_govaudit,
)

pytestmark = pytest.mark.integration


# ---------------------------------------------------------------- names resolving inward


@pytest.fixture
def canary() -> Iterator[Canary]:
    """Listeners on ports 80 and 443 of a random loopback address (127.0.0.0/8), so they
    cannot collide with anything another test or engineer runs on 127.0.0.1."""
    rng = random.Random()
    for _ in range(20):
        address = f"127.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"
        try:
            listener = Canary(address, (80, 443))
        except OSError:
            continue
        yield listener
        listener.close()
        return
    pytest.fail("no free loopback address for the canary")


def test_forbidden_address_kinds() -> None:
    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "192.168.0.1",
        "172.16.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "fe80::1",
        "fd00::1",
        "224.0.0.1",
        "not an address",
    ):
        assert is_forbidden_address(address), address
    for address in ("8.8.8.8", "2001:4860:4860::8888", "160.1.2.3"):
        assert not is_forbidden_address(address), address


def test_names_resolving_to_private_addresses_are_refused(tmp_path: Path, canary: Canary) -> None:
    """Crawling without a proxy, .gov names whose DNS answer is loopback, private, link-local
    (cloud metadata) or ::1 are never connected to: the canary listening on the loopback
    address sees no connection, and every endpoint is recorded as refused."""
    answers = {
        "loop.gov": canary.address,
        "loopback.gov": "127.0.0.1",
        "ten.gov": "10.20.30.40",
        "metadata.gov": "169.254.169.254",
        "six.gov": "::1",
        "mapped.gov": "::ffff:127.0.0.1",
    }
    stub = {**answers, **{f"www.{name}": address for name, address in answers.items()}}
    db = crawl_sites(tmp_path, answers, env={TEST_DNS_ENV: json.dumps(stub)})

    assert canary.connections == []
    endpoints = rows(db, "select domain, url, status, error_kind, error from endpoint_observation")
    assert len(endpoints) == 4 * len(answers)
    for domain, url, status, kind, error in endpoints:
        assert (status, kind, error) == (None, "refused-url", "resolves to a private address"), (
            domain,
            url,
        )
    statuses = rows(db, "select count(*) from page_observation")
    assert statuses == [(0,)]
    assert_consistent(db, answers)
    # The canary does count connections: the test would have seen one.
    with socket.create_connection((canary.address, 80), timeout=2):
        pass
    assert [port for port, _ in canary.wait_for(1)] == [80]


# ---------------------------------------------------------------- redirects


def endpoint_rows(db: str, domain: str, columns: str) -> list[tuple[Any, ...]]:
    return rows(db, f"select {columns} from endpoint_observation where domain = ?", domain)


def _redirect(target: str) -> dict[str, Any]:
    return {"redirect": target, "status": 302}


REDIRECT_TARGETS = {
    "tolocal.gov": "http://127.0.0.1/",
    "tometa.gov": "http://169.254.169.254/latest/meta-data/",
    "tofile.gov": "file:///etc/passwd",
    "tocom.gov": "https://www.example.com/",
}


def test_redirects_loop_chain_and_forbidden_targets(
    simulated_web_factory: Any, tmp_path: Path, canary: Canary
) -> None:
    """A loop, a chain of 30, and redirects to loopback, cloud metadata, a file: URL, the
    canary's address and a non-.gov site: each recorded, none of the targets requested."""
    targets = {**REDIRECT_TARGETS, "tocanary.gov": f"http://{canary.address}/"}
    world: dict[str, Any] = {}
    for domain, target in targets.items():
        world[domain] = {"hosts": [domain, f"www.{domain}"], "pages": {"/": _redirect(target)}}
    world["loop.gov"] = {
        "hosts": ["loop.gov", "www.loop.gov"],
        "pages": {"/": _redirect("/a"), "/a": _redirect("/")},
    }
    chain = {"/": _redirect("/r1")}
    chain.update({f"/r{i}": _redirect(f"/r{i + 1}") for i in range(1, 30)})
    chain["/r30"] = {"title": "End of the chain"}
    world["chain.gov"] = {"hosts": ["chain.gov", "www.chain.gov"], "pages": chain}
    links = "".join(f'<a href="/go/{d}">{d}</a>' for d in targets)
    world["links.gov"] = {
        "hosts": ["links.gov", "www.links.gov"],
        "pages": {
            "/": {"body": f"<html><title>Links</title><body>{links}</body></html>"},
            **{f"/go/{d}": _redirect(t) for d, t in targets.items()},
        },
    }
    web = simulated_web_factory(world)
    domains = sorted(world)
    db = crawl_sites(tmp_path, domains, web=web)

    log = web.requests()
    forbidden_hosts = {"127.0.0.1", "169.254.169.254", "www.example.com", canary.address}
    assert [r for r in log if r.host in forbidden_hosts or r.refused] == []
    assert not any("passwd" in r.path for r in log)
    assert canary.connections == []
    # The loop and the chain end at the hop bound, recorded as such.
    for domain in ("loop.gov", "chain.gov"):
        ends = rows(
            db, "select error_kind, error from endpoint_observation where domain = ?", domain
        )
        assert set(ends) == {("other", "too many redirects")}, domain
        hops = [
            r
            for r in log
            if r.host.endswith(domain) and r.method != "CONNECT" and r.path != "/robots.txt"
        ]
        assert len(hops) <= 4 * (MAX_HOPS + 1)
    assert not any(r.path.startswith("/r12") for r in log if r.host.endswith("chain.gov"))
    # A redirect out of bounds is recorded with its target, never followed.
    for domain, target in targets.items():
        ends = rows(
            db,
            "select status, error_kind, final_url from endpoint_observation where domain = ?",
            domain,
        )
        assert set(ends) == {(302, None, target)}, domain
    links_rows = {
        url: (status, kind)
        for url, status, kind in rows(
            db, "select url, status, error_kind from page_observation where domain = 'links.gov'"
        )
    }
    for domain in targets:
        assert links_rows[f"https://www.links.gov/go/{domain}"] == (302, None)
    assert_consistent(db, domains)


# ---------------------------------------------------------------- size

SIZE_CASES = ("huge", "huge-unannounced", "gzip-bomb", "brotli-bomb", "long-line")


@pytest.mark.slow
def test_oversized_answers_are_refused_at_the_size_bound(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """A 500 MB page (announced or not), a gzip bomb and a brotli bomb (1 GiB unpacked) and
    a 10.5 MB single line: each refused at the 10 MB bound and recorded `too-large`, with the
    crawler's memory far below what reading any of them would take."""
    links = "".join(f'<a href="/{name}">{name}</a>' for name in SIZE_CASES)
    world = {
        "big": {
            "hosts": ["big.gov", "www.big.gov"],
            "schemes": ["http"],
            "pages": {
                "/": {"body": f"<html><title>Big</title><body>{links}</body></html>"},
                **{f"/{name}": {"hostile": name} for name in SIZE_CASES},
            },
        },
        "bomb": {"hosts": ["bomb.gov", "www.bomb.gov"], "pages": {"/": {"hostile": "gzip-bomb"}}},
    }
    hostile.prepare(*SIZE_CASES)
    web = simulated_web_factory(world)
    db = crawl_sites(tmp_path, ["big.gov", "bomb.gov"], web=web)

    pages = {
        url: (status, kind)
        for url, status, kind in rows(
            db, "select url, status, error_kind from page_observation where domain = 'big.gov'"
        )
    }
    for name in SIZE_CASES:
        assert pages[f"http://www.big.gov/{name}"] == (None, "too-large"), name
    homepage = endpoint_rows(db, "bomb.gov", "url, status, error_kind")
    assert {(status, kind) for _, status, kind in homepage} == {(None, "too-large")}
    print(f"peak RSS {db.peak_rss_mb:.0f} MB")
    assert db.peak_rss_mb < 400, db.peak_rss_mb
    assert_consistent(db, ["big.gov", "bomb.gov"])


# ---------------------------------------------------------------- traps

TRAPS = {"calendar.gov": "calendar", "session.gov": "session-ids", "deeper.gov": "deeper"}


@pytest.mark.slow
def test_crawler_traps_hold_the_page_and_depth_bounds(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """An endless calendar, a session id in every URL and ever-deeper paths: the site crawl
    stops at the page bound (and never passes the depth bound), and the site is recorded as
    cut off. With the default depth bound the deeper paths stop at depth 2."""
    world = {
        domain.split(".")[0]: {
            "hosts": [domain, f"www.{domain}"],
            "schemes": ["http"],
            "catch_all": {"hostile": trap},
        }
        for domain, trap in TRAPS.items()
    }
    web = simulated_web_factory(world)
    db = crawl_sites(tmp_path, TRAPS, "--max-pages-per-site", "12", "--max-depth", "30", web=web)
    for domain in TRAPS:
        (row,) = rows(
            db, "select pages_crawled, truncated from site_observation where domain = ?", domain
        )
        assert row == (12, "truncated: page limit"), domain
        fetched = rows(
            db, "select max(depth), count(*) from page_observation where domain = ?", domain
        )
        assert fetched[0][0] <= 30 and fetched[0][1] == 12, domain
    served = [r for r in web.requests() if r.method == "GET" and "robots" not in r.path]
    # per site: 4 endpoints, the 404 probe, security.txt, sitemap and 11 pages at most
    assert len(served) <= len(TRAPS) * (4 + 3 + 11)
    assert_consistent(db, TRAPS)

    shallow = tmp_path / "default-depth"
    shallow.mkdir()
    db = crawl_sites(shallow, ["deeper.gov"], web=web)
    assert rows(db, "select truncated from site_observation") == [("truncated: depth limit",)]
    assert rows(db, "select max(depth) from page_observation") == [(2,)]
    assert_consistent(db, ["deeper.gov"])


# ---------------------------------------------------------------- time

SLOW = {"never.gov": {"hostile": "never-answers"}, "trickle.gov": {"hostile": "trickle"}}
FAST = ("fast1.gov", "fast2.gov", "fast3.gov")


@pytest.mark.slow
def test_hosts_that_never_finish_end_at_the_timeout_and_hold_no_one(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """A host that accepts and never answers, one that trickles a byte a second for ever and
    one that answers after 30 s: each ends at the 2 s timeout (the trickle proves it is a
    whole-download deadline: an idle timeout would never fire), while the other hosts are
    crawled completely and at once."""
    world: dict[str, Any] = {
        domain.split(".")[0]: {
            "hosts": [domain, f"www.{domain}"],
            "catch_all": page,
        }
        for domain, page in SLOW.items()
    }
    world["late"] = {"hosts": ["late.gov", "www.late.gov"], "delay": 30}
    links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(5))
    for domain in FAST:
        world[domain.split(".")[0]] = {
            "hosts": [domain, f"www.{domain}"],
            "schemes": ["http"],
            "robots": "User-agent: *\nAllow: /\n",
            "pages": {"/": {"body": f"<html><title>Fast</title><body>{links}</body></html>"}},
            "catch_all": {"title": "A page"},
        }
    web = simulated_web_factory(world)
    slow_domains = [*SLOW, "late.gov"]
    db = crawl_sites(tmp_path, [*slow_domains, *FAST], web=web)

    for domain in slow_domains:
        kinds = endpoint_rows(db, domain, "status, error_kind")
        assert set(kinds) == {(None, "timeout")}, domain
        # An origin whose robots.txt timed out is unreachable: nothing more is asked of it
        # (RFC 9309, 2.3.1.4), so a dead host costs one timeout per origin, not two.
        for host in (domain, f"www.{domain}"):
            paths = {r.path for r in web.requests(host) if r.method == "GET"}
            assert paths == {"/robots.txt"}, (host, paths)
    # The trickle never ends by itself: every trickle connection ended because we hung up.
    # The server notes the hang-up at its next byte (a second apart): give it that long.
    deadline = time.monotonic() + 10
    while True:
        trickles = [r for r in web.requests("www.trickle.gov") if r.method == "GET"]
        if all(r.finished is not None for r in trickles) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert trickles and all(r.finished is not None for r in trickles)
    for domain in FAST:
        (row,) = rows(db, "select pages_crawled from site_observation where domain = ?", domain)
        assert row == (6,), domain
    # No fast host waited for a slow one: all of them were asked before the first give-up.
    gave_up = min(r.finished for r in trickles if r.finished is not None)
    fast_first = max(
        min(r.started for r in web.requests(f"www.{domain}") if r.method == "GET")
        for domain in FAST
    )
    assert fast_first < gave_up
    assert_consistent(db, [*slow_domains, *FAST])


# ---------------------------------------------------------------- content

CONTENT_PAGES = (
    "malformed-html",
    "cp1252-as-utf8",
    "utf16-bom",
    "pdf-as-html",
    "html-as-octet-stream",
    "binary-garbage",
    "empty",
)


def _site(domain: str, **definition: Any) -> dict[str, Any]:
    return {"hosts": [domain, f"www.{domain}"], "schemes": ["http"], **definition}


@pytest.mark.slow
def test_broken_content_is_recorded_not_fatal(simulated_web_factory: Any, tmp_path: Path) -> None:
    """Malformed HTML, wrong charsets, a PDF served as HTML, HTML as octet-stream, binary
    garbage and an empty 200, as pages and as homepages; a 5 MB robots.txt and one full of
    garbage lines; a sitemap XML bomb and a sitemap index of 50,000 sitemaps."""
    links = "".join(f'<a href="/{name}">{name}</a>' for name in CONTENT_PAGES)
    links += '<a href="/private/secret">secret</a>'
    home = {"body": f"<html><title>Content</title><body>{links}</body></html>"}
    world = {
        "content": _site(
            "content.gov",
            pages={"/": home, **{f"/{name}": {"hostile": name} for name in CONTENT_PAGES}},
        ),
        "garbage": _site("garbage.gov", pages={"/": {"hostile": "binary-garbage"}}),
        "empty": _site("empty.gov", pages={"/": {"hostile": "empty"}}),
        "utf16": _site("utf16.gov", pages={"/": {"hostile": "utf16-bom"}}),
        "bigrobots": _site(
            "bigrobots.gov", pages={"/": home, "/robots.txt": {"hostile": "robots-5mb"}}
        ),
        "junkrobots": _site(
            "junkrobots.gov", pages={"/": home, "/robots.txt": {"hostile": "robots-garbage"}}
        ),
        "xmlbomb": _site(
            "xmlbomb.gov", pages={"/": home, "/sitemap.xml": {"hostile": "sitemap-xml-bomb"}}
        ),
        "bigindex": _site(
            "bigindex.gov",
            pages={"/": home, "/sitemap.xml": {"hostile": "sitemap-index-50000"}},
        ),
    }
    domains = [f"{name}.gov" for name in world]
    hostile.prepare("robots-5mb", "sitemap-index-50000")
    web = simulated_web_factory(world)
    # A longer timeout: the 5 MB robots.txt must arrive for the test to say anything.
    db = crawl_sites(tmp_path, domains, "--timeout", "10", web=web)

    pages = {
        url.rsplit("/", 1)[1]: (status, kind, title)
        for url, status, kind, title in rows(
            db,
            "select url, status, error_kind, title from page_observation "
            "where domain = 'content.gov' and depth = 1",
        )
    }
    for name in CONTENT_PAGES:
        assert pages[name][:2] == (200, None), name
    # A <title> never closed runs to the end of the document (as in browsers); no NULs kept.
    malformed_title = pages["malformed-html"][2]
    assert malformed_title.startswith("Broken") and "\x00" not in malformed_title
    assert pages["cp1252-as-utf8"][2] in ("Café “quoted”", "Caf\ufffd \ufffdquoted\ufffd")
    assert pages["utf16-bom"][2] == "UTF-16 page"
    assert pages["pdf-as-html"][2] is None and pages["binary-garbage"][2] is None
    sites = {row["domain"]: row for row in export_sites(db)}
    assert sites["utf16.gov"]["title"] == "UTF-16 page"
    assert sites["empty.gov"]["status"] == "parked"
    assert sites["empty.gov"]["status_reason"].startswith("the homepage is a nearly empty page")
    # Binary garbage answering 200 is a live server without a readable page (pinned as is:
    # no heuristic says "placeholder" for it).
    assert (sites["garbage.gov"]["status"], sites["garbage.gov"]["title"]) == ("active", None)
    # robots.txt: a 5 MB file and one with garbage lines are still read and obeyed.
    for domain in ("bigrobots.gov", "junkrobots.gov"):
        assert sites[domain]["robots_txt"] is True, domain
        secret = rows(
            db,
            "select status, error_kind from page_observation where domain = ? and url like ?",
            domain,
            "%/private/secret",
        )
        assert secret == [(None, "robots")], domain
        assert not [r for r in web.requests(f"www.{domain}") if r.path.startswith("/private/")]
    # Sitemaps: entities never expanded; an index is counted, its sitemaps not fetched.
    (bomb,) = rows(db, "select sitemap from site_observation where domain = 'xmlbomb.gov'")
    bomb_facts = json.loads(bomb[0])
    # libxml2 refuses the amplification: the entry is dropped, nothing is expanded.
    assert bomb_facts["present"] is True and bomb_facts["url_count"] <= 1
    (index,) = rows(db, "select sitemap from site_observation where domain = 'bigindex.gov'")
    facts = json.loads(index[0])
    assert (facts["is_index"], facts["url_count"], facts["present"]) == (True, 50_000, True)
    assert not [r for r in web.requests() if r.host == "example.invalid"]
    assert db.peak_rss_mb < 400
    assert_consistent(db, domains)


# ---------------------------------------------------------------- politeness


def _held(web: Any, domain: str, refused_status: int, at_least: float) -> None:
    """After the `refused_status` answer no request to the domain started for `at_least`
    seconds (the whole host waited), and one did afterwards."""
    log = sorted(
        (r for r in web.requests() if r.host.endswith(domain) and r.method != "CONNECT"),
        key=lambda r: r.started,
    )
    refused = next(r for r in log if r.status == refused_status)
    later = [r for r in log if r.started > refused.started]
    assert later, f"nothing fetched from {domain} after the {refused_status}"
    first = min(later, key=lambda r: r.started)
    assert first.started >= (refused.finished or refused.started) + at_least, (first, refused)


@pytest.mark.slow
def test_rate_limits_are_honoured_and_blocking_is_recorded(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """429 with Retry-After in seconds, 503 with Retry-After as an HTTP-date: the host waits
    while another host is crawled meanwhile, and the page is fetched on the retry. A host
    answering 403 to our User-Agent (and 200 to browsers) is recorded `blocked`; its /open
    check is `unreachable`, never "no open page"."""
    ok = {"title": "Fine"}
    links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(8))
    world = {
        "limited": _site(
            "limited.gov",
            robots="User-agent: *\nAllow: /\n",
            pages={"/": {"sequence": [{"status": 429, "headers": {"Retry-After": "2"}}, ok]}},
        ),
        "busy": _site(
            "busy.gov",
            robots="User-agent: *\nAllow: /\n",
            pages={"/": {"sequence": [{"hostile": "503-retry-after-date"}, ok]}},
        ),
        "bystander": _site(
            "bystander.gov",
            robots="User-agent: *\nAllow: /\n",
            delay=0.3,
            pages={"/": {"body": f"<html><title>By</title><body>{links}</body></html>"}},
            catch_all={"title": "A page"},
        ),
        "nobots": _site("nobots.gov", catch_all={"hostile": "403-to-bots"}),
    }
    domains = [f"{name}.gov" for name in world]
    web = simulated_web_factory(world)
    db = crawl_sites(tmp_path, domains, "--per-host", "1", web=web)

    sites = {row["domain"]: row for row in export_sites(db)}
    for domain in ("limited.gov", "busy.gov"):
        assert (sites[domain]["status"], sites[domain]["title"]) == ("active", "Fine"), domain
        answered = [s for u, s in endpoint_rows(db, domain, "url, status") if u.startswith("http:")]
        assert answered == [200, 200], domain
    _held(web, "limited.gov", 429, 1.8)
    _held(web, "busy.gov", 503, 1.0)
    waits = [r for r in web.requests() if r.status in (429, 503)]
    retried = min(
        r.started
        for r in web.requests()
        if r.host.endswith(("limited.gov", "busy.gov"))
        and r.started > max(w.started for w in waits)
    )
    assert any(
        max(w.finished or 0 for w in waits) < r.started < retried
        for r in web.requests("www.bystander.gov")
    ), "the bystander host waited too"
    assert (sites["bystander.gov"]["status"], sites["bystander.gov"]["pages_crawled"]) == (
        "active",
        9,
    )
    assert sites["nobots.gov"]["status"] == "error"
    assert sites["nobots.gov"]["status_reason"].startswith("blocked: ")
    assert all(r.status == 403 for r in web.requests("www.nobots.gov") if r.method == "GET")
    assert_consistent(db, domains)

    agencies = tmp_path / "agencies.csv"
    agencies.write_text(
        "agency,slug,primary_domain,source\nTest Agency,test,nobots.gov,test\n", encoding="utf-8"
    )
    db_url = f"sqlite:///{db}"
    result = run_govaudit(
        db_url,
        "--agencies",
        str(agencies),
        "crawl",
        "--only",
        "open",
        "--workers",
        "1",
        "--timeout",
        "2",
        web=web,
    )
    assert result.returncode == 0, result.stderr
    plans = json.loads(govaudit_here(db_url, "export", "plans", "--format", "json").stdout)
    assert [(p["domain"], p["status"]) for p in plans] == [("nobots.gov", "unreachable")]


# ---------------------------------------------------------------- injection

EVIL_TITLE = (
    '=HYPERLINK("http://evil.example") <script>alert(1)</script> \u202egnp.exe\u202c '
    "'; DROP TABLE site_observation; -- \x01\x07 end"
)


@pytest.mark.slow
def test_injected_titles_are_stored_faithfully_and_inert(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    """Titles and link texts carrying HTML/JS, SQL-looking text, control characters, bidi
    overrides and 100 kB: stored as the page says (or cut, never altered), the database
    intact, the CSV export disarmed and the report pages inert."""
    escaped = html.escape(EVIL_TITLE)
    long_title = "L" * 100_000
    world = {
        "evil": _site(
            "evil.gov",
            pages={
                "/": {
                    "body": f"<html><head><title>{escaped}</title></head><body>"
                    f'<a href="/long?sessionid=SECRET123">{escaped}</a></body></html>'
                },
                "/long": {"body": f"<html><title>{long_title}</title></html>"},
            },
        )
    }
    web = simulated_web_factory(world)
    db = crawl_sites(tmp_path, ["evil.gov"], web=web)
    assert_consistent(db, ["evil.gov"])
    titles = dict(rows(db, "select url, title from page_observation"))
    # As browsers show it: C0 control characters dropped, white space collapsed; the markup,
    # the SQL-looking text and the bidi overrides kept as they are.
    shown = " ".join("".join(c for c in EVIL_TITLE if ord(c) >= 0x20 or c in "\t\n").split())
    assert titles["http://www.evil.gov/"] == shown
    assert "\u202e" in shown and "<script>" in shown
    long_stored = next(t for u, t in titles.items() if "/long" in u)
    assert long_stored and set(long_stored) <= {"L", "…"} and len(long_stored) <= 100_000
    url = f"sqlite:///{db}"
    exported = govaudit_here(url, "export", "pages", "--format", "csv", check=False)
    assert exported.returncode == 0, exported.stderr
    assert "SECRET123" not in exported.stdout
    for record in csv.DictReader(io.StringIO(exported.stdout, newline="")):
        assert not record["title"].startswith(("=", "+", "-", "@")), record["title"]
    assert govaudit_here(url, "audit", check=False).returncode == 0
    out = tmp_path / "report"
    made = govaudit_here(url, "report", "--out", str(out), check=False)
    assert made.returncode == 0, made.stderr
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text, page
        assert "SECRET123" not in text, page
