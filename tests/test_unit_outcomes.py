"""Every unit of a crawl ends: done, or failed with its error (issue 10, cases 6 and 7).

Case 6: a request Scrapy drops without calling the errback (a link longer than 2,083
characters, or any middleware filtering a request) ends in an observation and the unit
completes. Case 7: an exception in a spider callback marks the unit `failed` with the error
in `crawl_task.error`, counted in the run's summary line, and nothing of it is stored as an
observation that would read as absence ("no sitemap").

Faults are injected into the real `govaudit crawl` (and its worker processes) with a
`sitecustomize` module on PYTHONPATH.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import GOVAUDIT, export, govaudit, registry_csv

pytestmark = pytest.mark.integration

PROSE = (
    "<p>The agency serves the public with programs, grants, data and guidance for people "
    "across the country.</p>"
)
LONG_PATH = "/search?q=" + "x" * 2100  # a real-world tracking link: past 2,083 characters


def page(title: str, body: str = "") -> str:
    return f"<html><head><title>{title}</title></head><body>{PROSE}{body}</body></html>"


SITES: dict[str, dict[str, Any]] = {
    "longlink": {
        "hosts": ["longlink.gov", "www.longlink.gov"],
        "pages": {
            "/": {
                "body": page(
                    "Long link agency",
                    f'<a href="{LONG_PATH}">search</a> <a href="/about">About</a>',
                )
            },
            "/about": {"body": page("About")},
        },
    },
    "filtered": {
        "hosts": ["filtered.gov", "www.filtered.gov"],
        "pages": {
            "/": {
                "body": page(
                    "Filtered agency",
                    '<a href="/drop-me">dropped</a> <a href="/kept">kept</a>',
                )
            },
            "/drop-me": {"body": page("Dropped")},
            "/kept": {"body": page("Kept")},
        },
    },
    "boom": {
        "hosts": ["boom.gov", "www.boom.gov"],
        "robots": "User-agent: *\nDisallow: /private/\nX-Test: explode\n",
        "pages": {
            "/": {"body": page("Boom agency")},
            "/sitemap.xml": {"text": "<urlset></urlset>"},
        },
    },
    "calm": {
        "hosts": ["calm.gov", "www.calm.gov"],
        "robots": "User-agent: *\nDisallow:\n",
        "pages": {"/": {"body": page("Calm agency")}},
    },
}

# Loaded first by every Python process of the crawl (the CLI and its workers).
SITECUSTOMIZE = textwrap.dedent(
    '''
    """Faults for tests/test_unit_outcomes.py."""
    import crawler.settings
    import crawler.spiders.sites

    _parse_robots = crawler.spiders.sites.parse_robots


    def exploding_parse_robots(text):
        if "explode" in text:
            raise ValueError("robots.txt parser broke on this file")
        return _parse_robots(text)


    crawler.spiders.sites.parse_robots = exploding_parse_robots


    class DropRequestsMiddleware:
        """A spider middleware filtering requests without an errback, as filters do."""

        def _keep(self, item):
            return "/drop-me" not in str(getattr(item, "url", ""))

        def process_spider_output(self, response, result, spider=None):
            return (item for item in result if self._keep(item))

        async def process_spider_output_async(self, response, result, spider=None):
            async for item in result:
                if self._keep(item):
                    yield item


    _settings = crawler.settings.scrapy_settings


    def settings_with_a_filter(*args, **kwargs):
        out = _settings(*args, **kwargs)
        out["SPIDER_MIDDLEWARES"] = {
            **out["SPIDER_MIDDLEWARES"],
            "sitecustomize.DropRequestsMiddleware": 10,
        }
        return out


    crawler.settings.scrapy_settings = settings_with_a_filter
    '''
)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    web = SimulatedWeb.from_directory(write_sites(tmp_path_factory.mktemp("sites"), SITES))
    web.start()
    tmp = tmp_path_factory.mktemp("outcome")
    faults = tmp / "faults"
    faults.mkdir()
    (faults / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    db = f"sqlite:///{tmp}/crawl.db"
    domains = [f"{name}.gov" for name in SITES]
    govaudit(None, db, "inventory", "load", str(registry_csv(tmp / "r-2026-01-01.csv", domains)))
    repo = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        **web.proxy_env(),
        "GOVAUDIT_DB": db,
        "PYTHONPATH": f"{faults}{os.pathsep}{repo}",
    }
    crawl = subprocess.run(
        [GOVAUDIT, "crawl", "--only", "sites", "--workers", "1", "--timeout", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    yield {"web": web, "db": db, "crawl": crawl, "tmp": tmp}
    web.stop()


def tasks(db: str) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return {
            key: (state, error)
            for key, state, error in conn.execute("SELECT key, state, error FROM crawl_task")
        }


def test_the_run_finishes_and_counts_the_failed_unit(outcome: Any) -> None:
    crawl = outcome["crawl"]
    assert "crawl run 1 finished: sites: 4/4 tasks done (1 failed)" in crawl.stdout, (
        crawl.stdout + crawl.stderr
    )
    assert crawl.returncode == 0


def test_a_too_long_link_ends_in_an_observation(outcome: Any) -> None:
    assert tasks(outcome["db"])["longlink.gov"] == ("done", None)
    pages = {p["url"]: p for p in export(None, outcome["db"], "pages") if "longlink" in p["url"]}
    long_url = next(u for u in pages if LONG_PATH in u)
    assert pages[long_url]["error_kind"] == "refused-url"
    assert pages[long_url]["status"] is None
    assert pages["https://www.longlink.gov/about"]["status"] == 200
    # Never fetched: the simulated web saw no request for it.
    assert not any(r.path.startswith("/search") for r in outcome["web"].requests())


def test_a_request_filtered_without_errback_ends_in_an_observation(outcome: Any) -> None:
    assert tasks(outcome["db"])["filtered.gov"] == ("done", None)
    pages = {p["url"]: p for p in export(None, outcome["db"], "pages") if "filtered" in p["url"]}
    dropped = pages["https://www.filtered.gov/drop-me"]
    assert dropped["error_kind"] == "refused-url" and dropped["status"] is None
    assert pages["https://www.filtered.gov/kept"]["status"] == 200


def test_a_callback_exception_fails_the_unit_with_its_error(outcome: Any) -> None:
    state, error = tasks(outcome["db"])["boom.gov"]
    assert state == "failed"
    assert error is not None and "ValueError: robots.txt parser broke" in error
    assert tasks(outcome["db"])["calm.gov"] == ("done", None)


def test_a_failed_unit_is_never_read_as_absence(outcome: Any) -> None:
    rows = {r["domain"]: r for r in export(None, outcome["db"], "sites")}
    # No row that would say "no robots.txt" or "no sitemap" for the unit that failed...
    assert "boom.gov" not in rows
    # ...while a unit that worked says what it saw.
    assert rows["calm.gov"]["robots_txt"] is True and rows["calm.gov"]["sitemap_xml"] is False
    govaudit(None, outcome["db"], "audit", "--format", "json")
    findings = export(None, outcome["db"], "findings")
    assert not [f for f in findings if f["domain"] == "boom.gov"]
