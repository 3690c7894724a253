"""`govaudit a11y`: axe-core in Debian's Chromium against the simulated web.

Pages with known violations yield exactly those axe rules with their impacts; a clean page
none; a page that never loads, one on a host that does not answer and one robots.txt forbids
are "couldn't check"; one page per host at a time (request log), a host's pages in one
browser context of its own, a fresh one after a page that timed out; a site that answers only
on plain http is checked over http, also on a host of Chromium's HSTS preload list (nsf.gov).
A page is checked once per run whatever its roles, also in a run made before roles were
merged (the IntegrityError of issue 27). The findings and exports are pure functions tested
on stored rows.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from audit.a11y import export_rows, fleet_summary, worst_impact
from audit.findings import AuditInput
from audit.rules import accessibility
from crawler.a11y import (
    CHROMIUM,
    AccessibilityChecker,
    HostVisit,
    PageTarget,
    run_checks,
    summarise_violations,
)
from tests.crawl_world import export, govaudit, registry_csv

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

# An image without alt (image-alt, critical), an input without a label (label, critical), no
# lang on <html> (html-has-lang, serious) and grey-on-white text (color-contrast, serious).
VIOLATING = """<!doctype html><html><head><title>Violations</title>
<style>.faint { color: #bbbbbb; background: #ffffff; }</style></head>
<body><main><h1>An agency</h1><img src="/seal.png">
<form><input type="text" name="q"></form>
<p class="faint">Text too faint to read.</p></main></body></html>"""
CLEAN = """<!doctype html><html lang="en"><head><title>Clean</title></head>
<body><main><h1>An agency</h1><p>Plain, readable text.</p>
<a href="/open">Open Government</a></main></body></html>"""
EXPECTED = {
    ("color-contrast", "serious"),
    ("html-has-lang", "serious"),
    ("image-alt", "critical"),
    ("label", "critical"),
}


def world() -> dict[str, Any]:
    return {
        "violating": {"hosts": ["www.violating.gov"], "pages": {"/": {"body": VIOLATING}}},
        "clean": {
            "hosts": ["www.clean.gov"],
            "pages": {"/": {"body": CLEAN}, "/open": {"body": CLEAN}, "/plan": {"body": CLEAN}},
        },
        "forbidden": {
            "hosts": ["www.forbidden.gov"],
            "robots": "User-agent: *\nDisallow: /\n",
            "pages": {"/": {"body": CLEAN}},
        },
        "never": {"hosts": ["www.never.gov"], "delay": 60, "pages": {"/": {"body": CLEAN}}},
        # A host whose second page never loads, between two that do.
        "slow": {
            "hosts": ["www.slow.gov"],
            "pages": {
                "/": {"body": CLEAN},
                "/hang": {"body": CLEAN, "delay": 60},
                "/after": {"body": VIOLATING},
            },
        },
        "down": {"hosts": ["www.down.gov"], "down": True},
        # Plain http only (a CONNECT to port 443 is refused), on a name Chromium's built-in
        # HSTS preload list forces to https.
        "nsf": {"hosts": ["www.nsf.gov"], "schemes": ["http"], "pages": {"/": {"body": VIOLATING}}},
    }


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    folder = write_sites(tmp_path_factory.mktemp("a11y-sites"), world())
    web = SimulatedWeb.from_directory(folder).start()
    saved = {k: os.environ.get(k) for k in web.proxy_env()}
    os.environ.update(web.proxy_env())
    targets = [
        PageTarget("violating.gov", "https://www.violating.gov/", "homepage", "A"),
        PageTarget("clean.gov", "https://www.clean.gov/", "homepage", "B"),
        PageTarget("clean.gov", "https://www.clean.gov/open", "open", "B"),
        PageTarget("clean.gov", "https://www.clean.gov/plan", "plan", "B"),
        PageTarget("forbidden.gov", "https://www.forbidden.gov/", "homepage", "C"),
        PageTarget("down.gov", "https://www.down.gov/", "homepage", "E"),
        PageTarget("nsf.gov", "http://www.nsf.gov/", "homepage", "F"),
    ]
    hung = [
        PageTarget("never.gov", "https://www.never.gov/", "homepage", "D"),
        PageTarget("slow.gov", "https://www.slow.gov/", "homepage", "G"),
        PageTarget("slow.gov", "https://www.slow.gov/hang", "open", "G"),
        PageTarget("slow.gov", "https://www.slow.gov/after", "plan", "G"),
        # The page just checked but for a #fragment: a fresh document, not a scroll.
        PageTarget("slow.gov", "https://www.slow.gov/after#main", "plan", "G"),
    ]
    options = {
        "user_agent": "govaudit-test (+https://example.gov/bot)",
        "concurrency": 4,
        "ca_bundle": web.ca_pem_path,
    }
    results: list[Any] = []
    # The browser context each page was checked in (the objects, kept: ids are not reused).
    contexts: dict[str, Any] = {}
    original_check_in = AccessibilityChecker._check_in

    async def recording(self: Any, visit: HostVisit, target: PageTarget, started: Any) -> Any:
        contexts[target.url] = visit.context
        return await original_check_in(self, visit, target, started)

    try:
        # The pages that never load wait out a short deadline of their own in a check run
        # beside the others' (theirs keeps its headroom for a busy machine), not 20 s idle.
        with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as pool:
            patch.setattr(AccessibilityChecker, "_check_in", recording)
            slow = pool.submit(run_checks, hung, results.append, timeout=6, **options)
            run_checks(targets, results.append, timeout=20, **options)
            slow.result()
        yield {"web": web, "by_url": {r.target.url: r for r in results}, "contexts": contexts}
    finally:
        web.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_known_violations_are_exactly_found(checked: dict[str, Any]) -> None:
    page = checked["by_url"]["https://www.violating.gov/"]
    assert page.state == "checked", page.reason
    assert {(v.rule, v.impact) for v in page.violations} == EXPECTED
    image = next(v for v in page.violations if v.rule == "image-alt")
    assert image.nodes == 1 and "seal.png" in image.example_html
    assert "wcag111" in image.wcag
    assert page.axe_version and page.axe_version[0].isdigit()


def test_a_clean_page_has_no_violations(checked: dict[str, Any]) -> None:
    for url in ("https://www.clean.gov/", "https://www.clean.gov/open"):
        page = checked["by_url"][url]
        assert page.state == "checked", page.reason
        assert page.violations == []


def test_pages_that_cannot_be_checked_say_why(checked: dict[str, Any]) -> None:
    by_url = checked["by_url"]
    assert by_url["https://www.forbidden.gov/"].state == "couldn't check"
    assert by_url["https://www.forbidden.gov/"].reason == "blocked by robots.txt"
    assert by_url["https://www.never.gov/"].state == "couldn't check"
    assert by_url["https://www.never.gov/"].reason.startswith("timeout")
    assert by_url["https://www.down.gov/"].state == "couldn't check"
    assert by_url["https://www.down.gov/"].reason.startswith("net::ERR_")


def test_a_plain_http_site_is_checked_over_http(checked: dict[str, Any]) -> None:
    page = checked["by_url"]["http://www.nsf.gov/"]
    assert page.state == "checked", page.reason
    assert page.final_url == "http://www.nsf.gov/" and page.http_status == 200
    assert {(v.rule, v.impact) for v in page.violations} == EXPECTED
    web = checked["web"]
    # Served over plain http (robots.txt first), with the crawl's User-Agent.
    gets = [r for r in web.requests("www.nsf.gov") if r.method == "GET"]
    assert [r.path for r in gets] == ["/robots.txt", "/"]
    assert {r.user_agent for r in gets} == {"govaudit-test (+https://example.gov/bot)"}


def test_robots_forbidden_page_is_never_fetched(checked: dict[str, Any]) -> None:
    web = checked["web"]
    paths = [r.path for r in web.requests("www.forbidden.gov") if r.method == "GET"]
    assert paths == ["/robots.txt"]


def test_no_favicon_is_ever_asked(checked: dict[str, Any]) -> None:
    # Chromium asks for /favicon.ico by itself, past Playwright's routes; a favicon is an
    # image, which a check never downloads, and robots.txt may forbid it.
    web = checked["web"]
    for host in ("www.violating.gov", "www.clean.gov", "www.forbidden.gov", "www.slow.gov"):
        assert "/favicon.ico" not in [r.path for r in web.requests(host)], host


def test_one_page_per_host_and_our_user_agent(checked: dict[str, Any]) -> None:
    web = checked["web"]
    # Three pages of www.clean.gov were checked with four browser pages allowed at once.
    assert len([r for r in web.requests("www.clean.gov") if r.path in ("/", "/open", "/plan")]) == 3
    assert web.max_concurrency("www.clean.gov") == 1
    agents = {r.user_agent for r in web.requests("www.clean.gov") if r.method == "GET"}
    assert agents == {"govaudit-test (+https://example.gov/bot)"}
    # Nothing but the audited hosts was asked for (the browser's own traffic is kept off).
    assert {r.host for r in web.requests()} <= {f"www.{name}.gov" for name in world()}
    # Images are never downloaded.
    assert not [r for r in web.requests("www.violating.gov") if r.path == "/seal.png"]


def test_a_hosts_pages_share_one_context_and_hosts_never_share(checked: dict[str, Any]) -> None:
    contexts = checked["contexts"]
    clean = [contexts[f"https://www.clean.gov/{path}"] for path in ("", "open", "plan")]
    assert all(context is clean[0] for context in clean)
    one_per_host = [
        contexts[url]
        for url in (
            "https://www.violating.gov/",
            "https://www.clean.gov/",
            "https://www.forbidden.gov/",
            "https://www.down.gov/",
            "http://www.nsf.gov/",
            "https://www.never.gov/",
            "https://www.slow.gov/",
        )
    ]
    assert len({id(context) for context in one_per_host}) == len(one_per_host)
    # robots.txt was read once, by the first page; the three pages each loaded once.
    paths = [r.path for r in checked["web"].requests("www.clean.gov") if r.method == "GET"]
    assert sorted(paths) == ["/", "/open", "/plan", "/robots.txt"]


def test_a_page_that_times_out_leaves_the_hosts_next_page_a_fresh_context(
    checked: dict[str, Any],
) -> None:
    by_url, contexts = checked["by_url"], checked["contexts"]
    first, hung, after = (f"https://www.slow.gov/{path}" for path in ("", "hang", "after"))
    assert by_url[first].state == "checked" and by_url[first].violations == []
    assert (by_url[hung].state, by_url[hung].reason) == ("couldn't check", "timeout after 6 s")
    assert by_url[after].state == "checked", by_url[after].reason
    assert by_url[after].final_url == after and by_url[after].http_status == 200
    assert {(v.rule, v.impact) for v in by_url[after].violations} == EXPECTED
    assert contexts[hung] is contexts[first]
    assert contexts[after] is not contexts[hung]
    again = by_url[f"{after}#main"]
    assert (again.state, again.http_status, again.final_url) == ("checked", 200, f"{after}#main")
    assert {(v.rule, v.impact) for v in again.violations} == EXPECTED


class FakeContext:
    def __init__(self, browser: FakeBrowser) -> None:
        self.browser = browser
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class FakeBrowser:
    def __init__(self) -> None:
        self.contexts: list[FakeContext] = []

    async def new_context(self) -> FakeContext:
        self.contexts.append(FakeContext(self))
        return self.contexts[-1]


def test_a_host_visit_keeps_its_context_until_discarded_or_the_browser_changes() -> None:
    import asyncio

    async def scenario() -> tuple[FakeBrowser, FakeBrowser]:
        visit = HostVisit(lambda browser: browser.new_context())
        first, relaunched = FakeBrowser(), FakeBrowser()
        await visit.open_in(first)
        await visit.open_in(first)
        assert len(first.contexts) == 1 and not first.contexts[0].closed
        await visit.open_in(relaunched)  # the browser died and was started again
        assert first.contexts[0].closed and visit.context is relaunched.contexts[0]
        await visit.discard()
        await visit.open_in(relaunched)
        assert relaunched.contexts[0].closed and visit.context is relaunched.contexts[1]
        return first, relaunched

    first, relaunched = asyncio.run(scenario())
    assert (len(first.contexts), len(relaunched.contexts)) == (1, 2)


# ----------------------------------------------------------------- pure parts, no browser

AXE_RESULT = [
    {
        "id": "image-alt",
        "impact": "critical",
        "tags": ["cat.text-alternatives", "wcag2a", "wcag111", "section508"],
        "nodes": [{"target": ["img"], "html": '<img src="/a.png">'}, {"target": ["#b"]}],
    },
    {"id": "region", "impact": "moderate", "tags": ["best-practice"], "nodes": [{}]},
]


def page_row(violations: list[dict[str, Any]], state: str = "checked") -> dict[str, Any]:
    return {
        "domain": "x.gov",
        "agency": "X",
        "url": "https://www.x.gov/",
        "kind": "homepage",
        "state": state,
        "reason": None if state == "checked" else "timeout after 60 s",
        "final_url": "https://www.x.gov/",
        "http_status": 200,
        "axe_version": "4.12.1",
        "checked_at": "2026-11-30T00:00:00",
        "violations": violations,
        "a11y_run": 7,
    }


def test_summary_keeps_rule_impact_wcag_count_and_one_example() -> None:
    image, region = summarise_violations(AXE_RESULT)
    assert (image.rule, image.impact, image.wcag, image.nodes) == (
        "image-alt",
        "critical",
        ["wcag111", "wcag2a"],
        2,
    )
    assert image.example_target == "img" and image.example_html == '<img src="/a.png">'
    assert (region.rule, region.wcag, region.example_html) == ("region", [], "")


def test_export_rows_one_per_rule_an_empty_rule_when_clean_and_couldnt_check_said() -> None:
    violations = [v.as_json() for v in summarise_violations(AXE_RESULT)]
    rows = export_rows([page_row(violations), page_row([]), page_row([], "couldn't check")])
    assert [r["rule"] for r in rows] == ["image-alt", "region", "", ""]
    assert rows[0]["wcag"] == "wcag111 wcag2a" and rows[0]["nodes"] == 2
    assert rows[2]["nodes"] == 0 and rows[2]["example"] == ""
    assert rows[3]["example"] == "couldn't check: timeout after 60 s"


def test_rule_severity_follows_the_worst_impact_and_ignores_unchecked() -> None:
    critical = [v.as_json() for v in summarise_violations(AXE_RESULT)]
    serious = [{**critical[0], "impact": "serious"}]
    moderate = [critical[1]]
    data = AuditInput(policy=None, waivers=[], snapshots=[], registry={}, rdap={})  # type: ignore[arg-type]
    data.a11y_pages = [
        page_row(critical),
        {**page_row(serious), "url": "https://www.y.gov/"},
        {**page_row(moderate), "url": "https://www.z.gov/"},
        {**page_row([], "couldn't check"), "url": "https://www.w.gov/"},
    ]
    findings = accessibility.check(data)
    assert [(f.severity, f.evidence["url"]) for f in findings] == [
        ("high", "https://www.x.gov/"),
        ("medium", "https://www.y.gov/"),
    ]
    assert [v["rule"] for v in findings[0].evidence["violations"]] == ["image-alt"]
    assert worst_impact(page_row(moderate)) == "moderate"


def test_fleet_summary_counts_couldnt_check_apart() -> None:
    critical = [v.as_json() for v in summarise_violations(AXE_RESULT)]
    pages = [
        page_row(critical),
        {**page_row([]), "url": "https://a.gov/"},
        {**page_row([], "couldn't check"), "url": "https://b.gov/"},
    ]
    summary = fleet_summary(pages)
    assert (summary["checked"], summary["clean"], summary["couldnt_check"]) == (2, 1, 1)
    assert summary["clean_share"] == 0.5
    assert summary["common_rules"][0]["rule"] == "image-alt"
    assert summary["by_agency"] == [
        {"agency": "X", "checked": 2, "clean": 1, "couldnt_check": 1, "clean_share": 0.5}
    ]


# ----------------------------------------------------------------- the command, end to end


def test_cli_checks_active_sites_exports_and_audits(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    web = simulated_web_factory(world())
    db = f"sqlite:///{tmp_path}/a11y.db"
    names = ["violating.gov", "clean.gov", "down.gov"]
    govaudit(None, db, "inventory", "load", str(registry_csv(tmp_path / "r-2026-01-01.csv", names)))
    govaudit(web, db, "crawl", "--only", "sites", "--workers", "1", "--timeout", "5")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    result = govaudit(
        web, db, "a11y", "--timeout", "30", "--ca-bundle", str(web.ca_pem_path), timeout=300
    )
    assert "2 pages checked, 0 couldn't check, 1 with serious or critical" in result.stdout
    rows = export(web, db, "a11y")
    by_domain: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_domain.setdefault(row["domain"], []).append(row)
    assert set(by_domain) == {"violating.gov", "clean.gov"}  # down.gov is not active
    assert {(r["rule"], r["impact"]) for r in by_domain["violating.gov"]} == EXPECTED
    assert [r["rule"] for r in by_domain["clean.gov"]] == [""]
    assert all(dt.datetime.fromisoformat(r["checked_at"]) >= before for r in rows)
    csv_out = govaudit(web, db, "export", "a11y", "--format", "csv").stdout
    # The documented columns, unchanged, then the page's roles.
    assert csv_out.splitlines()[0] == (
        "domain,url,rule,impact,wcag,nodes,example,axe_version,checked_at,roles"
    )
    govaudit(None, db, "audit")
    findings = export(None, db, "findings", "--rule", "accessibility")
    assert [(f["domain"], f["severity"]) for f in findings] == [("violating.gov", "high")]


# ----------------------------------------------------------------- a run over crawl tasks


def a11y_run(db: Any, keys: list[str]) -> int:
    from crawler.crawl_run import TaskSpec, create_run

    tasks = [TaskSpec("a11y", key, key.split("www.")[1].split("/")[0], "B") for key in keys]
    return create_run(db, None, {"jobs": ["a11y"]}, tasks)


def check_options(web: Any) -> dict[str, Any]:
    return {
        "user_agent": "govaudit-test",
        "concurrency": 2,
        "timeout": 20,
        "ca_bundle": web.ca_pem_path,
    }


def test_a_page_of_several_roles_is_checked_once_also_in_a_run_made_before_roles(
    simulated_web_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.a11y import a11y_pages, export_rows
    from audit.db import Database
    from audit.models import CrawlTask
    from crawler.a11y import check_run

    web = simulated_web_factory(world())
    for name, value in web.proxy_env().items():
        monkeypatch.setenv(name, value)
    db = Database(f"sqlite:///{tmp_path}/a11y.db")
    # The tasks of a run made before roles were merged: one per role of the same /open page
    # (it is also the plan), which failed on a11y_check's (run, url) uniqueness.
    run = a11y_run(
        db,
        [
            "open https://www.clean.gov/open",
            "plan https://www.clean.gov/open",
            "homepage https://www.clean.gov/",
        ],
    )
    assert check_run(db, run, **check_options(web)) == (2, 0)
    with db.session() as session:
        pages = a11y_pages(session, run)
        states = {t.key: t.state for t in session.query(CrawlTask).filter_by(run_id=run)}
    assert [(p["url"], p["roles"], p["state"]) for p in pages] == [
        ("https://www.clean.gov/", ["homepage"], "checked"),
        ("https://www.clean.gov/open", ["open", "plan"], "checked"),
    ]
    assert set(states.values()) == {"done"}
    assert [r["roles"] for r in export_rows(pages)] == ["homepage", "open plan"]
    opens = [r for r in web.requests("www.clean.gov") if r.method == "GET" and r.path == "/open"]
    assert len(opens) == 1
    # Run again (a resumed run): nothing is pending, nothing is checked twice.
    assert check_run(db, run, **check_options(web)) == (0, 0)


def test_a_check_that_raises_or_a_refused_row_fails_that_page_only(
    simulated_web_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crawler.a11y as checker
    from audit.a11y import a11y_pages
    from audit.db import Database
    from audit.models import CrawlTask
    from govaudit.job_units import task_reason

    web = simulated_web_factory(world())
    for name, value in web.proxy_env().items():
        monkeypatch.setenv(name, value)
    original_check, original_row = checker.AccessibilityChecker._check_in, checker._a11y_row

    async def crashing(self: Any, visit: Any, target: Any, started: Any) -> Any:
        if target.url == "https://www.violating.gov/":
            raise RuntimeError("planted: the checker broke")
        return await original_check(self, visit, target, started)

    def refused(model: Any, run_id: int, check: Any) -> Any:
        row = original_row(model, run_id, check)
        if check.target.url == "https://www.clean.gov/plan":
            row.domain = None  # NOT NULL: the database refuses the row
        return row

    monkeypatch.setattr(checker.AccessibilityChecker, "_check_in", crashing)
    monkeypatch.setattr(checker, "_a11y_row", refused)
    db = Database(f"sqlite:///{tmp_path}/a11y.db")
    run = a11y_run(
        db,
        [
            "homepage https://www.violating.gov/",
            "homepage https://www.clean.gov/",
            "plan https://www.clean.gov/plan",
            "homepage https://www.down.gov/",
        ],
    )
    checker.check_run(db, run, **check_options(web))
    with db.session() as session:
        pages = {p["url"]: p for p in a11y_pages(session, run)}
        tasks = {t.key: (t.state, t.error) for t in session.query(CrawlTask).filter_by(run_id=run)}
    # The other pages were checked as usual; the two failed units are "couldn't check:
    # internal error", never absent and never "no violations".
    assert pages["https://www.clean.gov/"]["state"] == "checked"
    assert pages["https://www.down.gov/"]["reason"].startswith("net::ERR_")
    for url in ("https://www.violating.gov/", "https://www.clean.gov/plan"):
        assert (pages[url]["state"], pages[url]["reason"]) == ("couldn't check", "internal error")
    state, error = tasks["homepage https://www.violating.gov/"]
    assert state == "failed"
    assert task_reason(error) == (
        "couldn't check: internal error: RuntimeError: planted: the checker broke"
    )
    state, error = tasks["plan https://www.clean.gov/plan"]
    assert state == "failed" and "IntegrityError" in error
    assert tasks["homepage https://www.clean.gov/"] == ("done", None)
