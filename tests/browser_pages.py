"""Report pages in Chromium for the browser tests: a watched page (console and page errors,
dialogs, requests leaving file://) and axe-core's serious or critical violations; and the
demo's reports looked at once per run at every width auditors read them at
(`demo_report_at_widths`, and `demo_report_at_1280` for the main report at 1280 px).

axe-core is most of a browser test's cost (about a CPU-second a page, colour contrast
mostly), and loading a page costs more than laying it out again, so every page of the demo's
two reports is loaded once per run, even under pytest-xdist, and looked at in that one load
at 1280, 768 and 390 px (the window resized: the report's styles are media queries, its
script never reads the width) for every test that asserts on them
(tests/test_report_browser.py: every page loads cleanly and passes axe at 1280 px;
tests/test_report_widths.py: the tables' fit at every width, axe at every width).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from reports.render import launch_chromium
from tests.shared_once import shared_once

OPEN_DETAILS = "document.querySelectorAll('details').forEach(d => d.open = true)"
# preload off: axe would otherwise XHR the stylesheet, which the CSP (rightly) blocks.
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}

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


class Watched:
    """A page that records console errors, page errors, dialogs and non-file requests."""

    def __init__(self, browser: Any, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.remote: list[str] = []
        self.page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on(
            "request",
            lambda r: None if r.url.startswith(("file://", "data:")) else self.remote.append(r.url),
        )
        self.context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file://", "data:"))
                else route.abort()
            ),
        )

    def open(self, path: Path) -> Any:
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page

    def problems(self, where: str) -> list[str]:
        """What went wrong since the last call (each kind named), then forget it."""
        found = [
            f"{where}: {what} {seen}"
            for what, seen in (
                ("console errors", self.console_errors),
                ("page errors", self.page_errors),
                ("a dialog opened:", self.dialogs),
                ("requests left file://", self.remote),
            )
            if seen
        ]
        for seen in (self.console_errors, self.page_errors, self.dialogs, self.remote):
            seen.clear()
        return found

    def assert_clean(self, where: str) -> None:
        assert not self.console_errors, f"{where}: console errors {self.console_errors}"
        assert not self.page_errors, f"{where}: page errors {self.page_errors}"
        assert not self.dialogs, f"{where}: a dialog opened: {self.dialogs}"
        assert not self.remote, f"{where}: requests left file:// {self.remote}"

    def close(self) -> None:
        self.context.close()


def serious_violations(axe: Any, page: Any) -> list[dict[str, Any]]:
    """axe-core's serious or critical violations on the page as it is now."""
    results = axe.run(page, options=AXE_OPTIONS)
    return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


WIDTHS = (1280, 768, 390)
REPORTS = ("report", "report-m-23-22")
# One page of each template for the axe runs below 1280 px (every page gets the width
# checks, and at 1280 px the main report's every page is checked with axe).
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


def axe_pages(root: Path) -> list[str]:
    """AXE_PAGES of the main report that exist, and its first agency page (relative to the
    folder of the demo's reports)."""
    report = root / "report"
    agency = sorted((report / "agencies").glob("*.html"))[0]
    pages = [report / p for p in AXE_PAGES] + [agency]
    return [p.relative_to(root).as_posix() for p in pages if p.exists()]


def _look_at_every_width(root: Path) -> dict[str, dict[str, Any]]:
    """Every page of the demo's reports (relative to `root`, their folder), loaded once at
    1280 x 900: what went wrong loading it ("problems"); its tables' measures (MEASURE) as
    loaded at each width ("measure", by width); axe-core's serious or critical violations
    below 1280 px on the axe_pages ("serious_at", by width), <details> closed as loaded; and
    for the main report at 1280 px with every <details> open, the evidence checked too
    ("serious")."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    axe = Axe()
    checked = set(axe_pages(root))
    seen: dict[str, dict[str, Any]] = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        watched = Watched(browser)
        try:
            for report in REPORTS:
                for path in sorted((root / report).rglob("*.html")):
                    where = path.relative_to(root).as_posix()
                    page = watched.open(path)
                    look: dict[str, Any] = {"measure": {}, "serious_at": {}}
                    for width in WIDTHS:
                        page.set_viewport_size({"width": width, "height": 900})
                        look["measure"][str(width)] = page.evaluate(MEASURE)
                        if width < 1280 and where in checked:
                            look["serious_at"][str(width)] = [
                                f"{v['id']} ({v['impact']})" for v in serious_violations(axe, page)
                            ]
                    page.set_viewport_size({"width": 1280, "height": 900})
                    if report == "report":
                        page.evaluate(OPEN_DETAILS)
                        look["serious"] = [
                            f"{v['id']} ({v['impact']})" for v in serious_violations(axe, page)
                        ]
                    look["problems"] = watched.problems(where)
                    seen[where] = look
        finally:
            browser.close()
    return seen


@pytest.fixture(scope="session")
def demo_report_at_widths(
    tmp_path_factory: pytest.TempPathFactory, demo_run: dict[str, object]
) -> dict[str, dict[str, Any]]:
    """Page (relative to the folder of the demo's reports: "report/index.html",
    "report-m-23-22/guidelines.html") -> what `_look_at_every_width` saw.

    Once per run; off this thread, where a test module's own Playwright may be running (a
    second sync Playwright on one thread refuses to start)."""
    root = Path(str(demo_run["index"])).parent.parent

    def build(folder: Path) -> dict[str, Any]:
        with ThreadPoolExecutor(1) as pool:
            return {"pages": pool.submit(_look_at_every_width, root).result()}

    return shared_once(tmp_path_factory, "demo-report-at-widths", build)["pages"]


@pytest.fixture(scope="session")
def demo_report_at_1280(
    demo_report_at_widths: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Page of the main report (relative to report/) -> {"problems": [...], "serious": [...]}
    at 1280 px, its <details> open for axe."""
    return {
        where.removeprefix("report/"): {"problems": seen["problems"], "serious": seen["serious"]}
        for where, seen in demo_report_at_widths.items()
        if where.startswith("report/")
    }
