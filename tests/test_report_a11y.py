"""The report's Accessibility page, the agency pages' accessibility section and a11y.csv,
rendered from a stored accessibility run (no browser needed to build them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit.db import Database
from audit.models import A11yCheck, CrawlRun, CrawlTask
from reports.render import render_report
from tests.test_report_html import SEEDS, make_db, soup, table_by_caption

IMAGE_ALT = {
    "rule": "image-alt",
    "impact": "critical",
    "wcag": ["wcag111", "wcag2a"],
    "nodes": 3,
    "example_target": "img.seal",
    "example_html": '<img class="seal" src="<script>x</script>">',
}
REGION = {
    "rule": "region",
    "impact": "moderate",
    "wcag": [],
    "nodes": 1,
    "example_target": "div",
    "example_html": "<div>",
}


def add_a11y_run(db: Database) -> None:
    pages = [
        (
            "alpha.gov",
            "Department of Alpha",
            "https://www.alpha.gov/",
            "checked",
            None,
            [IMAGE_ALT, REGION],
        ),
        ("beta.gov", "Beta Agency", "https://www.beta.gov/", "checked", None, [REGION]),
        (
            "beta.gov",
            "Beta Agency",
            "https://www.beta.gov/open",
            "couldn't check",
            "timeout after 60 s",
            [],
        ),
    ]
    with db.session() as s:
        run = CrawlRun(status="finished", settings={"jobs": ["a11y"]})
        s.add(run)
        s.flush()
        for domain, agency, url, state, reason, violations in pages:
            kind = "open" if url.endswith("/open") else "homepage"
            s.add(
                CrawlTask(
                    run_id=run.id,
                    job="a11y",
                    key=f"{kind} {url}",
                    domain=domain,
                    agency=agency,
                    state="done",
                )
            )
            s.add(
                A11yCheck(
                    run_id=run.id,
                    domain=domain,
                    agency=agency,
                    url=url,
                    kind=kind,
                    state=state,
                    reason=reason,
                    final_url=url,
                    http_status=200,
                    axe_version="4.12.1",
                    violations=violations,
                )
            )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("a11y-report")
    db = make_db(base)
    add_a11y_run(db)
    index = render_report(db, base / "out", agencies=SEEDS)
    yield index.parent
    db.dispose()


def test_accessibility_page_shows_share_rules_agencies_and_flagged_pages(report: Path) -> None:
    page = soup(report / "accessibility.html")
    text = " ".join(page.get_text(" ", strip=True).split())
    assert "1 of 2 homepages checked (50" in text
    rules = table_by_caption(page, "violated on the most homepages")
    first = [
        td.get_text(strip=True) for td in rules.find("tbody").find("tr").find_all(["th", "td"])
    ]
    assert first[0] == "region" and first[-1] == "2"
    agencies = table_by_caption(page, "per agency")
    rows = {
        tr.find("th").get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in agencies.find("tbody").find_all("tr")
    }
    # Beta's /open page could not be checked: the per-agency figures count homepages only.
    assert rows["Beta Agency"] == ["1", "1", "100.0%", "0"]
    assert rows["Department of Alpha"] == ["1", "0", "0.0%", "0"]
    flagged = table_by_caption(page, "with one failing element each")
    assert "image-alt" in flagged.get_text() and "region" not in flagged.get_text()
    # Crawled HTML is shown as text, never as markup.
    assert page.find("img") is None and "<script>x</script>" in flagged.get_text()
    unchecked = page.find("section", attrs={"aria-labelledby": "a11y-unchecked"})
    assert unchecked.find("li").get_text(strip=True).endswith("/open: timeout after 60 s")


def test_nav_links_the_page_and_agency_pages_list_their_pages(report: Path) -> None:
    index = soup(report / "index.html")
    assert index.find("a", href="accessibility.html") is not None
    agency = next(p for p in (report / "agencies").glob("*.html") if "alpha" in p.name)
    table = table_by_caption(soup(agency), "Pages checked with axe-core")
    assert "image-alt (critical, 3)" in table.get_text()


def test_a11y_csv_download(report: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((report / "a11y.csv").read_text(encoding="utf-8"))))
    assert [(r["domain"], r["rule"]) for r in rows] == [
        ("alpha.gov", "image-alt"),
        ("alpha.gov", "region"),
        ("beta.gov", "region"),
        ("beta.gov", ""),
    ]
    assert rows[-1]["example"] == "couldn't check: timeout after 60 s"
    downloads: Any = soup(report / "downloads.html")
    assert downloads.find("a", href="a11y.csv") is not None


def test_methodology_lists_units_that_failed_with_an_internal_error(tmp_path: Path) -> None:
    from sqlalchemy import select

    db = make_db(tmp_path)
    with db.session() as s:
        task = s.scalars(
            select(CrawlTask).where(CrawlTask.job == "sites").order_by(CrawlTask.id.desc())
        ).first()
        task.state, task.error = "failed", "ValueError: robots.txt parser <b>broke</b>"
        domain = task.domain
    index = render_report(db, tmp_path / "out", agencies=SEEDS)
    db.dispose()
    about = soup(index.parent / "about.html")
    heading = about.find(id="internal-errors")
    items = [li.get_text(" ", strip=True) for li in heading.find_next("ul").find_all("li")]
    assert len(items) == 1 and domain in items[0]
    assert "robots.txt parser <b>broke</b>" in items[0]  # shown as text, not markup


def test_roles_internal_errors_and_worst_impacts_on_the_page(tmp_path: Path) -> None:
    """A page of several roles counts in each (a homepage that is also the /open page is a
    homepage); a failed unit (no row, its task failed) is "internal error", never absent."""
    from sqlalchemy import select

    db = make_db(tmp_path)
    add_a11y_run(db)
    with db.session() as s:
        run = s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        row = s.scalars(select(A11yCheck).where(A11yCheck.url == "https://www.beta.gov/")).one()
        row.roles = ["homepage", "open"]
        s.add(
            CrawlTask(
                run_id=run.id,
                job="a11y",
                key="homepage,plan https://www.gamma.gov/",
                domain="gamma.gov",
                agency="Beta Agency",
                state="failed",
                error="internal error: RuntimeError: boom",
            )
        )
    index = render_report(db, tmp_path / "out", agencies=SEEDS)
    db.dispose()
    page = soup(index.parent / "accessibility.html")
    text = " ".join(page.get_text(" ", strip=True).split())
    # Two homepages checked (alpha; beta, also an /open page), one more couldn't be.
    assert "1 of 2 homepages checked (50" in text and "1 could not be checked" in text
    impacts = {
        tr.find("th").get_text(strip=True): tr.find("td").get_text(strip=True)
        for tr in page.find(id="a11y-impacts-table").find("tbody").find_all("tr")
    }
    assert impacts == {
        "no violation": "0",
        "minor": "0",
        "moderate": "1",
        "serious": "0",
        "critical": "1",
    }
    unchecked = page.find("section", attrs={"aria-labelledby": "a11y-unchecked"})
    items = [li.get_text(strip=True) for li in unchecked.find_all("li")]
    assert "https://www.gamma.gov/: internal error" in items
    rows = list(csv.DictReader(io.StringIO((index.parent / "a11y.csv").read_text())))
    assert {r["url"]: r["roles"] for r in rows}["https://www.beta.gov/"] == "homepage open"
    failed = next(r for r in rows if r["url"] == "https://www.gamma.gov/")
    assert (failed["example"], failed["roles"]) == (
        "couldn't check: internal error",
        "homepage plan",
    )
    about = soup(index.parent / "about.html")
    items = [
        li.get_text(" ", strip=True)
        for li in about.find(id="internal-errors").find_next("ul")("li")
    ]
    assert any("gamma.gov" in item and "RuntimeError: boom" in item for item in items)


def test_without_any_accessibility_run_the_page_says_how_to_enable_it(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    index = render_report(db, tmp_path / "out", agencies=SEEDS)
    db.dispose()
    text = " ".join(soup(index.parent / "accessibility.html").get_text(" ", strip=True).split())
    assert "No accessibility check yet" in text
    assert "sudo apt-get install chromium" in text and "govaudit a11y" in text
