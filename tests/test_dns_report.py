"""The report's Email and DNS page, the agency pages' DNS rows and dns.csv, rendered from a
real `govaudit dns` run against the planted zones (tests/dns_server.py); then the pages in
Chromium at 1280 and 390 px: no error, no request leaving file://, no page-wide horizontal
scroll, sortable, and axe-core finds no serious or critical violation. The demo's report has
the page filled from the simulated world's DNS."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.render import CHROMIUM
from tests.crawl_world import govaudit
from tests.dns_server import AGENCY, PLANTED, planted_dns, planted_registry
from tests.test_dns import TIMEOUT, add_crawl
from tests.test_report_html import soup, table_by_caption

# Every test here runs govaudit or the DNS server as processes.
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("dnsreport")
    db = f"sqlite:///{base}/r.db"
    govaudit(None, db, "inventory", "load", str(planted_registry(base / "reg.csv")),
             "--as-of", "2024-01-01")  # fmt: skip
    add_crawl(base / "r.db", {"compliant.gov": "https://www.compliant.gov/"})
    with planted_dns() as server:
        govaudit(None, db, "dns", "--nameserver", server.nameserver, "--timeout", TIMEOUT)
    out = govaudit(None, db, "report", "--out", str(base / "out")).stdout
    yield Path(out.strip().splitlines()[-1]).parent


def test_the_page_is_in_the_navigation_of_every_page(report: Path) -> None:
    for path in [report / "index.html", report / "agencies.html", report / "email-dns.html"]:
        links = [a.get_text() for a in soup(path).select("header nav a")]
        assert "Email and DNS" in links, path


def test_per_agency_counts_and_domain_rows(report: Path) -> None:
    page = soup(report / "email-dns.html")
    want = {
        v: sum(1 for r in PLANTED.values() if r.get("email_verdict") == v)
        for v in ("compliant", "not-compliant", "couldn't-check")
    }
    per_agency = table_by_caption(page, "Email compliance per agency")
    cells = [
        c.get_text(strip=True) for c in per_agency.select("tbody tr")[0].find_all(["th", "td"])
    ]
    assert cells[0] == AGENCY
    # inherit.gov (compliant) is in the registry too; PLANTED's words are checked by test_dns
    assert int(cells[1]) >= want["compliant"]
    assert int(cells[2]) == want["not-compliant"]
    assert int(cells[3]) == want["couldn't-check"]
    row = page.select_one("#dns-d-dmarctimeout-gov")
    assert row is not None
    text = row.get_text(" ", strip=True)
    assert "Couldn't check" in text and "timeout" in text and "no DMARC" not in text
    lame = page.select_one("#dns-d-lame-gov").get_text(" ", strip=True)
    assert "DNS: Unreachable" in lame
    spf = page.select_one("#dns-d-spfall-gov").get_text(" ", strip=True)
    assert "Not compliant" in spf and "v=spf1 +all" in spf
    parts = table_by_caption(page, "Why domains are not compliant")
    assert "No valid SPF record" in parts.get_text()


def test_agency_page_shows_each_domains_row(report: Path) -> None:
    page = soup(report / "agencies" / "department-of-planted-zones.html")
    table = page.select_one("#agency-dns")
    assert table is not None
    domains = {th.get_text(" ", strip=True).split(" ")[0] for th in table.select("tbody th")}
    assert {"compliant.gov", "spflookups.gov", "dmarctimeout.gov", "notindns.gov"} <= domains
    assert page.select_one('nav.toc a[href="#email-dns"]') is not None


def test_dns_csv_download(report: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((report / "dns.csv").read_text(encoding="utf-8"))))
    by = {r["domain"]: r for r in rows}
    assert by["compliant.gov"]["email_verdict"] == "compliant"
    assert by["unsigned.gov"]["dnssec"] == "false"
    links = [a.get("href") for a in soup(report / "downloads.html").select("main a")]
    assert "dns.csv" in links


# ------------------------------------------------------------------------------ browser

needs_browser = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    from reports.render import launch_chromium

    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def check_page(browser: Any, path: Path, width: int) -> Any:
    """Open a report page at `width`: no console or page error, nothing but file://, no
    page-wide horizontal scroll (tables scroll in their own region); then axe-core."""
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    context = browser.new_context(viewport={"width": width, "height": 900})
    errors: list[str] = []
    remote: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file://", "data:"))
            else (remote.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert not errors and not remote, (errors, remote)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    results = axe_sync.Axe().run(page, options={"resultTypes": ["violations"], "preload": False})
    serious = [
        f"{v['id']}: {v['nodes'][0]['html'][:100]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{path.name} at {width} px: {serious}"
    return page


@pytest.mark.browser
@needs_browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_in_a_browser(report: Path, browser: Any, width: int) -> None:
    page = check_page(browser, report / "email-dns.html", width)
    table = page.locator("#dns-agencies-table")
    assert table.locator("th button.sort").count() == 5
    # sorting the domains by verdict groups them
    domains = page.locator("#dns-table-1")
    domains.locator("thead th").nth(1).locator("button.sort").click()
    verdicts = domains.locator("tbody tr td:nth-child(2) .badge").all_text_contents()
    assert verdicts == sorted(verdicts)
    page.context.close()


@pytest.mark.browser
@needs_browser
def test_the_agency_page_dns_section_in_a_browser(report: Path, browser: Any) -> None:
    page = check_page(browser, report / "agencies" / "department-of-planted-zones.html", 1280)
    assert page.locator("#agency-dns tbody tr").count() >= len(PLANTED)
    page.context.close()


@pytest.mark.timeout(600)
def test_the_demo_fills_the_page(demo_run: dict[str, object]) -> None:
    """`govaudit demo` observes the simulated world's DNS: its planted cases come out."""
    out = Path(str(demo_run["index"])).parent
    page = soup(out / "email-dns.html")
    assert page.select_one(".nodata") is None

    def text(domain: str) -> str:
        row = page.select_one(f"#dns-d-{domain.replace('.', '-')}")
        assert row is not None, domain
        return row.get_text(" ", strip=True)

    assert "Compliant" in text("ssa.gov")
    assert "11/10" in text("treasury.gov")
    assert "+all" in text("state.gov")
    assert "p=none" in text("dol.gov")
    assert "DNS: Unreachable" in text("nrc.gov")
    usaid = text("usaid.gov")
    assert "Couldn't check" in usaid and "timeout" in usaid
    assert "no DS record" in text("sba.gov")
    assert "demo [" in str(demo_run["stderr"]) and "email and DNS" in str(demo_run["stderr"])
