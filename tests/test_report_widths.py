"""Every page of the demo report at the widths auditors read it at (Chromium, Playwright).

At 1280 px no table needs horizontal scrolling: each table fits its frame and the window, its
first and last columns in view. At 768 and 390 px tables are stacked (each row a card of
label: value, the labels taken from the header row) and the navigation folds behind a Menu
button. At every width the document is no wider than the window, and axe-core finds no
serious or critical violation on one page of each kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.render import CHROMIUM, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.integration]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's Chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

WIDTHS = (1280, 768, 390)

# One page of each template for the axe runs (every page gets the width checks).
AXE_PAGES = (
    "index.html",
    "agencies.html",
    "plans.html",
    "freeze.html",
    "inventory.html",
    "changes.html",
    "guidelines.html",
    "accessibility.html",
    "about.html",
    "downloads.html",
)

# What a page's tables look like in the window: the document's width, and per table its
# frame, its right edge, whether it is stacked, and its cells' labels and positions.
MEASURE = """() => {
  const win = window.innerWidth;
  const tables = [...document.querySelectorAll('table.data')].map((t) => {
    const frame = t.parentElement.getBoundingClientRect();
    const box = t.getBoundingClientRect();
    const head = t.tHead ? [...t.tHead.rows[t.tHead.rows.length - 1].cells] : [];
    const row = t.tBodies[0] && [...t.tBodies[0].rows].find((r) => !r.hidden);
    const cells = row ? [...row.cells] : [];
    return {
      id: t.id || t.caption?.textContent.trim().slice(0, 40) || 'table',
      // Stacked: each row a card (a block), the header hidden or kept as a "Sort by" bar.
      stacked: t.classList.contains('stacked')
        && (!row || getComputedStyle(row).display === 'block')
        && (!t.tHead || getComputedStyle(t.tHead).display === 'none'
            || getComputedStyle(t.tHead.rows[0]).display === 'flex'),
      fits: box.right <= frame.right + 1 && box.right <= win + 1 && box.width > 0,
      firstHead: head.length ? head[0].getBoundingClientRect().right <= win + 1 : true,
      lastHead: head.length ? head[head.length - 1].getBoundingClientRect().right <= win + 1 : true,
      cellsInView: cells.every((c) => c.getBoundingClientRect().right <= win + 1),
      unlabelled: cells.filter((c) => c.tagName === 'TD' && !c.getAttribute('data-label')).length,
      rows: row ? 1 : 0,
    };
  });
  return {doc: document.documentElement.scrollWidth, win, tables};
}"""


@pytest.fixture(scope="module")
def report_dir(demo_run: dict[str, object]) -> Path:
    return Path(str(demo_run["index"])).parent.parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def report_pages(report_dir: Path) -> list[Path]:
    pages = sorted(report_dir.rglob("*.html"))
    assert len(pages) > 20, pages
    return pages


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(browser: Any, report_dir: Path, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    seen_tables = 0
    try:
        for path in report_pages(report_dir):
            name = path.relative_to(report_dir).as_posix()
            page.goto(path.as_uri(), wait_until="load")
            m = page.evaluate(MEASURE)
            if m["doc"] > m["win"]:
                problems.append(f"{name}: document {m['doc']} px wide in a {width} px window")
            for t in m["tables"]:
                seen_tables += 1
                where = f"{name} #{t['id']}"
                if width >= 1280:
                    if not t["fits"]:
                        problems.append(f"{where}: needs horizontal scrolling")
                    if not (t["firstHead"] and t["lastHead"]):
                        problems.append(f"{where}: a key column is out of view")
                else:
                    if not t["stacked"]:
                        problems.append(f"{where}: not stacked")
                    if t["rows"] and t["unlabelled"]:
                        problems.append(f"{where}: {t['unlabelled']} cell(s) without a label")
                    if not t["cellsInView"]:
                        problems.append(f"{where}: a cell is out of view")
    finally:
        context.close()
    assert seen_tables > 50
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", (768, 390))
def test_navigation_folds_behind_a_menu_button(browser: Any, report_dir: Path, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto((report_dir / "report" / "plans.html").as_uri(), wait_until="load")
        button = page.get_by_role("button", name="Menu")
        link = page.locator(".site-header nav a", has_text="Freeze")
        assert button.is_visible()
        assert button.get_attribute("aria-expanded") == "false"
        assert not link.is_visible()
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        assert link.is_visible()
        link.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/freeze.html")
    finally:
        context.close()
    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = wide.new_page()
        page.goto((report_dir / "report" / "plans.html").as_uri(), wait_until="load")
        assert not page.get_by_role("button", name="Menu").is_visible()
        assert page.locator(".site-header nav a", has_text="Freeze").is_visible()
    finally:
        wide.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_is_clean_at_every_width(browser: Any, report_dir: Path, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    axe = axe_sync.Axe()
    found: dict[str, list[str]] = {}
    agency = sorted((report_dir / "report" / "agencies").glob("*.html"))[0]
    try:
        for path in [report_dir / "report" / p for p in AXE_PAGES] + [agency]:
            if not path.exists():
                continue
            page.goto(path.as_uri(), wait_until="load")
            # preload off: axe would otherwise XHR the stylesheet, which the CSP blocks.
            results = axe.run(page, options={"resultTypes": ["violations"], "preload": False})
            serious = [
                f"{v['id']} ({v['impact']})"
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                found[path.name] = serious
    finally:
        context.close()
    assert not found, found


def test_stacked_cards_read_label_then_value(browser: Any, report_dir: Path) -> None:
    """A stacked plans table row reads "Status and why: Published ..." in a 390 px window."""
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto((report_dir / "report" / "plans.html").as_uri(), wait_until="load")
        cell = page.locator("#plans-table tbody tr td").first
        label = cell.get_attribute("data-label")
        assert label == "Status and why"
        before = cell.evaluate("c => getComputedStyle(c, '::before').content")
        assert label in before
    finally:
        context.close()
