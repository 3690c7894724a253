"""Every page of the demo report at the widths auditors read it at (Chromium, Playwright).

At 1280 px no table needs horizontal scrolling: each table fits its frame and the window, its
first and last columns in view. At 768 and 390 px tables are stacked (each row a card of
label: value, the labels taken from the header row) and the navigation folds behind a Menu
button. At every width the document is no wider than the window, and axe-core finds no
serious or critical violation on one page of each kind (on every page of the main report at
1280 px). The pages are looked at once per run (tests/browser_pages.py): each loaded once, at
1280 px, then the window resized to 768 and 390 px.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.render import CHROMIUM, launch_chromium
from tests.browser_pages import (
    REPORTS,
    WIDTHS,
    axe_pages,
    demo_report_at_1280,
    demo_report_at_widths,
)

__all__ = ["demo_report_at_1280", "demo_report_at_widths"]  # the fixtures, for the tests below

pytestmark = [pytest.mark.browser, pytest.mark.integration]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's Chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def reports_root(demo_run: dict[str, object]) -> Path:
    """The folder of the demo's reports (report/, report-m-23-22/)."""
    return Path(str(demo_run["index"])).parent.parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def at_width(
    reports_root: Path, demo_report_at_widths: dict[str, dict[str, Any]]
) -> Callable[[int], dict[str, Any]]:
    """Every page's measures (MEASURE) at `width`, and axe-core's serious or critical
    violations on the axe_pages: one load per page for every width, once per run
    (tests/browser_pages.py), the window resized from 1280 to 768 and 390 px."""
    pages = sorted(
        p.relative_to(reports_root).as_posix()
        for report in REPORTS
        for p in (reports_root / report).rglob("*.html")
    )
    assert len(pages) > 40, pages
    assert sorted(demo_report_at_widths) == pages

    def look(width: int) -> dict[str, Any]:
        measures = {
            name: seen["measure"][str(width)] for name, seen in demo_report_at_widths.items()
        }
        if width >= 1280:  # the main report's pages, <details> open
            serious = {
                name: seen["serious"]
                for name, seen in demo_report_at_widths.items()
                if "serious" in seen
            }
        else:
            serious = {
                name: seen["serious_at"][str(width)]
                for name, seen in demo_report_at_widths.items()
                if str(width) in seen["serious_at"]
            }
        return {"measures": measures, "serious": serious}

    return look


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(at_width: Callable[[int], dict[str, Any]], width: int) -> None:
    problems: list[str] = []
    seen_tables = 0
    for name, m in at_width(width)["measures"].items():
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
    assert seen_tables > 50
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", (768, 390))
def test_navigation_folds_behind_a_menu_button(
    browser: Any, reports_root: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto((reports_root / "report" / "plans.html").as_uri(), wait_until="load")
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
        page.goto((reports_root / "report" / "plans.html").as_uri(), wait_until="load")
        assert not page.get_by_role("button", name="Menu").is_visible()
        assert page.locator(".site-header nav a", has_text="Freeze").is_visible()
    finally:
        wide.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_is_clean_at_every_width(
    at_width: Callable[[int], dict[str, Any]],
    reports_root: Path,
    width: int,
) -> None:
    names = axe_pages(reports_root)
    assert len(names) > 5, names
    # At 1280 px the main report's every page was checked with its <details> open (more than
    # the closed page shows), once per run for this test and test_report_browser's.
    serious = at_width(width)["serious"]
    assert set(names) <= set(serious), sorted(set(names) - set(serious))
    found = {name.rsplit("/", 1)[-1]: serious[name] for name in names if serious[name]}
    assert not found, found


def test_stacked_cards_read_label_then_value(browser: Any, reports_root: Path) -> None:
    """A stacked plans table row reads "Status and why: Published ..." in a 390 px window."""
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto((reports_root / "report" / "plans.html").as_uri(), wait_until="load")
        cell = page.locator("#plans-table tbody tr td").first
        label = cell.get_attribute("data-label")
        assert label == "Status and why"
        before = cell.evaluate("c => getComputedStyle(c, '::before').content")
        assert label in before
    finally:
        context.close()
