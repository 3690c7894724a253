"""The rendered report in a real browser: Debian's Chromium driven by Playwright over file://.

No console or page errors, no request leaves file://, sorting and filtering work on the
inventory, links between pages resolve, crawled markup never executes, and axe-core finds no
serious or critical accessibility violation.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from reports.render import CHROMIUM, launch_chromium, render_report, screenshot
from tests.browser_pages import Watched, demo_report_at_1280, demo_report_at_widths
from tests.test_report_html import SEEDS, XSS_TITLE, make_db

__all__ = ["Watched", "demo_report_at_1280", "demo_report_at_widths"]  # fixtures, for the tests

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
        "`playwright install` cannot download browsers here",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("browser")
    db = make_db(base)
    index = render_report(db, base / "out", agencies=SEEDS)
    db.dispose()
    yield index.parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture()
def watched(browser: Any) -> Iterator[Watched]:
    w = Watched(browser)
    yield w
    w.close()


def all_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_page_loads_cleanly_and_passes_axe(out: Path, watched: Watched) -> None:
    axe = axe_sync.Axe()
    problems: list[str] = []
    for path in all_pages(out):
        where = str(path.relative_to(out))
        page = watched.open(path)
        # The script ran (CSP allows the external report.js): sort buttons exist.
        if page.locator("table[data-sortable]").count():
            assert page.locator("th button.sort").count() > 0, where
        # Open every <details> so axe checks the evidence too.
        watched.assert_clean(where)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        # preload off: axe would otherwise XHR the stylesheet, which the CSP (rightly) blocks.
        results = axe.run(page, options={"resultTypes": ["violations"], "preload": False})
        for v in results.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                nodes = "; ".join(n["html"][:120] for n in v["nodes"][:3])
                problems.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}: {nodes}")
    assert not problems, "\n".join(problems)


def test_injected_markup_does_not_execute(out: Path, watched: Watched) -> None:
    page = watched.open(out / "agencies" / "alpha.html")
    assert page.get_by_text(XSS_TITLE, exact=True).count() >= 1
    assert page.locator("img").count() == 0
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(100)
    watched.assert_clean("agencies/alpha.html")


def test_inventory_sorts_and_filters(out: Path, watched: Watched) -> None:
    page = watched.open(out / "inventory.html")
    table = page.locator("#inventory-table")

    def column(index: int) -> list[str]:
        return table.locator("tbody tr:not([hidden])").evaluate_all(
            f"rows => rows.map(r => r.cells[{index}].textContent.trim())"
        )

    domains = column(0)
    assert domains == sorted(domains)
    header = table.locator("thead th").nth(0)
    header.get_by_role("button").click()  # already ascending: first click sorts ascending
    assert header.get_attribute("aria-sort") == "ascending"
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert column(0) == sorted(domains, reverse=True)
    status = table.locator("thead th").nth(5)
    status.get_by_role("button").click()
    statuses = column(5)
    assert statuses == sorted(statuses, key=str.lower)
    assert header.get_attribute("aria-sort") is None

    # (no wait_for_function: it evaluates strings, which the page's CSP rightly refuses)
    visible = table.locator("tbody tr:not([hidden])")
    tools = page.locator('[data-filter-for="inventory-table"]')
    assert tools.is_visible()
    box = page.get_by_label("Filter domains (any column)")
    box.fill("beta")
    expect(visible).to_have_count(3)
    assert sorted(column(0)) == ["beta-parked.gov", "beta.gov", "newfreeze.gov"]
    assert "Showing 3 of 3 matching rows (8 in all)" in tools.locator(".filter-status").inner_text()
    box.fill("beta parked")
    expect(visible).to_have_count(1)
    assert column(0) == ["beta-parked.gov"]
    box.fill("")
    expect(visible).to_have_count(8)
    watched.assert_clean("inventory.html")


def test_long_inventory_shows_a_page_then_all(out: Path, tmp_path: Path, watched: Watched) -> None:
    """With JS, a very long table shows `data-page-size` matching rows; "Show all" lifts it."""
    copy = tmp_path / "report"
    shutil.copytree(out, copy)
    page_html = copy / "inventory.html"
    text = page_html.read_text()
    assert 'data-page-size="2000"' in text
    page_html.write_text(text.replace('data-page-size="2000"', 'data-page-size="5"'))
    page = watched.open(page_html)
    visible = page.locator("#inventory-table tbody tr:not([hidden])")
    expect(visible).to_have_count(5)
    status = page.locator('[data-filter-for="inventory-table"] .filter-status')
    assert status.inner_text() == "Showing the first 5 of 8 rows; filter to narrow them"
    page.locator("#inventory-table thead th").nth(0).get_by_role("button").click()
    page.locator("#inventory-table thead th").nth(0).get_by_role("button").click()
    expect(visible).to_have_count(5)
    assert visible.first.locator("td").first.inner_text() == "testville.gov"
    page.get_by_label("Filter domains (any column)").fill("alpha")  # 3 rows of "Dept. of Alpha"
    expect(visible).to_have_count(3)
    page.get_by_label("Filter domains (any column)").fill("")
    expect(visible).to_have_count(5)
    page.get_by_role("button", name="Show all rows").click()
    expect(visible).to_have_count(8)
    assert not page.get_by_role("button", name="Show all rows").is_visible()
    watched.assert_clean("paged inventory")


def test_links_between_pages_resolve(out: Path, watched: Watched) -> None:
    page = watched.open(out / "index.html")
    page.get_by_role("navigation", name="Report sections").get_by_role(
        "link", name="Customer Service Plans"
    ).click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/plans.html")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Customer Service Plans"
    page.get_by_role("link", name="Evidence for Department of Alpha").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/agencies/alpha.html#plan")
    assert page.locator("h1").inner_text() == "Department of Alpha"
    page.get_by_role("link", name="Agencies", exact=True).first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/agencies.html")
    # Every same-report link target answers (file exists and loads without error).
    hrefs = set()
    for path in all_pages(out):
        p = watched.open(path)
        hrefs |= set(
            p.locator("a[href]").evaluate_all(
                "as => as.map(a => a.href).filter(h => h.startsWith('file:'))"
            )
        )
    # Every page was loaded above; each link target must be a file of the report.
    assert len(hrefs) > 30
    for href in sorted({h.split("#")[0] for h in hrefs}):
        target = Path(unquote(urlsplit(href).path))
        assert target.is_file() and out.resolve() in target.resolve().parents, href
    watched.assert_clean("links")


def test_skip_link_focus_style_and_print(out: Path, watched: Watched) -> None:
    page = watched.open(out / "index.html")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Report sections").is_visible()
    watched.assert_clean("skip link")


def test_screenshot(out: Path, tmp_path: Path) -> None:
    # Its own Playwright instance: run it off this thread, where the module's browser lives.
    with ThreadPoolExecutor(1) as pool:
        png = pool.submit(screenshot, out / "index.html", tmp_path / "shot.png", 1024).result()
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


# The first test to ask for `demo_run` pays for the whole demo (two crawls) in its setup;
# with axe-core over every page on a shared 2-core machine that exceeds the default 300 s.
@pytest.mark.timeout(600)
def test_report_of_a_real_crawl_is_clean_and_accessible(
    demo_run: dict[str, object],
    demo_report_at_1280: dict[str, dict[str, Any]],
    watched: Watched,
) -> None:
    """The demo's report, rendered from two crawls of the simulated web, RDAP and audits:
    every page loads with no error and no request leaving file://, the crawled title
    `<script>alert(1)</script>` of onguardonline.gov shows as text, and axe-core finds no
    serious or critical violation (every page at 1280 px, its <details> open: looked at once
    per run in tests/browser_pages.py, which tests/test_report_widths.py reads too)."""
    out = Path(str(demo_run["index"])).parent
    pages = all_pages(out)
    assert len(pages) > 20
    assert sorted(demo_report_at_1280) == sorted(p.relative_to(out).as_posix() for p in pages)
    problems: list[str] = []
    for where, seen in demo_report_at_1280.items():
        problems += seen["problems"]
        problems += [f"{where}: {violation}" for violation in seen["serious"]]
    assert not problems, "\n".join(problems)
    page = watched.open(out / "agencies" / "federal-trade-commission.html")
    assert page.get_by_text("<script>alert(1)</script>", exact=True).count() >= 1
    watched.assert_clean("agencies/federal-trade-commission.html")


@pytest.mark.timeout(600)
def test_guidelines_page_of_the_m_23_22_report_sorts_and_links_back(
    demo_run: dict[str, object], watched: Watched
) -> None:
    """The demo's second report (OMB M-23-22 checks): clean and accessible, the per-agency
    table sorts by failures, and the link to the main report's Guidelines page resolves."""
    main = Path(str(demo_run["index"])).parent
    page_path = main.parent / "report-m-23-22" / "guidelines.html"
    page = watched.open(page_path)
    watched.assert_clean("report-m-23-22/guidelines.html")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    results = axe_sync.Axe().run(page, options={"resultTypes": ["violations"], "preload": False})
    serious = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious
    table = page.locator("#checks-per-agency-table")

    def failures() -> list[int]:
        cells = table.locator("tbody tr td:nth-child(2)").all_text_contents()
        return [int(c.strip().replace(",", "")) for c in cells]

    assert len(failures()) > 1
    table.locator("thead th").nth(1).locator("button.sort").click()
    assert failures() == sorted(failures())
    table.locator("thead th").nth(1).locator("button.sort").click()
    assert failures() == sorted(failures(), reverse=True)
    page.locator(".other-reports a").first.click()
    page.wait_for_load_state("load")
    assert unquote(urlsplit(page.url).path).endswith("/report/guidelines.html")
    assert page.get_by_text("Guideline checks: M-11-24 task force figures").count() == 1
    watched.assert_clean("report/guidelines.html from the M-23-22 report")
