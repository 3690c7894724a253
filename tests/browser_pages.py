"""Report pages in Chromium for the browser tests: a watched page (console and page errors,
dialogs, requests leaving file://) and axe-core's serious or critical violations; and the
demo report's every page at 1280 px looked at once per run (`demo_report_at_1280`).

axe-core is most of a browser test's cost (about a CPU-second a page, colour contrast
mostly), so the demo report's pages at 1280 px are checked once per run, even under
pytest-xdist, for every test that asserts on them (tests/test_report_browser.py: every page
loads cleanly and passes axe; tests/test_report_widths.py: axe and the tables' fit at
1280 px).
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


def _look_at_1280(report: Path) -> dict[str, dict[str, Any]]:
    """Every page of `report` at 1280 x 900: its tables' measures as loaded (MEASURE), what
    went wrong loading it, then axe-core's serious or critical violations with every
    <details> open (the evidence checked too)."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    axe = Axe()
    seen: dict[str, dict[str, Any]] = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        watched = Watched(browser)
        try:
            for path in sorted(report.rglob("*.html")):
                where = path.relative_to(report).as_posix()
                page = watched.open(path)
                measure = page.evaluate(MEASURE)  # as loaded (tests/test_report_widths.py)
                page.evaluate(OPEN_DETAILS)
                problems = watched.problems(where)
                serious = [f"{v['id']} ({v['impact']})" for v in serious_violations(axe, page)]
                seen[where] = {"problems": problems, "serious": serious, "measure": measure}
        finally:
            browser.close()
    return seen


@pytest.fixture(scope="session")
def demo_report_at_1280(
    tmp_path_factory: pytest.TempPathFactory, demo_run: dict[str, object]
) -> dict[str, dict[str, Any]]:
    """Page (relative to the demo's report/) -> {"problems": [...], "serious": [...],
    "measure": MEASURE's answer}.

    Once per run; off this thread, where a test module's own Playwright may be running (a
    second sync Playwright on one thread refuses to start)."""
    report = Path(str(demo_run["index"])).parent

    def build(folder: Path) -> dict[str, Any]:
        with ThreadPoolExecutor(1) as pool:
            return {"pages": pool.submit(_look_at_1280, report).result()}

    return shared_once(tmp_path_factory, "demo-report-at-1280", build)["pages"]
