"""A simulated 2011 .gov web, crawled by govaudit itself into a web archive replayed by pywb.

The world changes between two epochs (epoch 1: October 2011, epoch 2: December 2011):

| agency  | what the archive holds                                                         |
| ------- | ------------------------------------------------------------------------------ |
| alpha   | a plan stated "September 2011", captured at both dates                          |
| beta    | /open without a plan in October; a plan dated December 15, 2011 in December     |
| gamma   | the homepage, never /open (its records are left out: robots-excluded, say)      |
| delta   | captured only far from the dates: its only capture is of 2011-12-05             |
| epsilon | /open answers 301 to /open/customer-service.html: the redirect is captured      |
| zeta    | nothing at all: the site was never archived                                     |
| newsite | newsite.gov, first listed by the registry during the freeze, archived in March  |

`build_archive` crawls the world at both epochs with `--warc`, gives the records those
capture dates (WARC-Date is the real time of the crawl; govaudit.replay_archive rewrites it
when copying), and lays them out as a pywb collection.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from govaudit.replay_archive import ReplayUnavailable, build_collection, redate_warcs
from simweb.server import SimulatedWeb
from tests.crawl_world import govaudit

REPO = Path(__file__).resolve().parent.parent
COLLECTION = "gov2011"
EPOCH_DATES = {1: dt.datetime(2011, 10, 20, 12, 0, 0), 2: dt.datetime(2011, 12, 20, 12, 0, 0)}
DELTA_DATE = dt.datetime(2011, 12, 5, 9, 30, 0)
NEWSITE_DATE = dt.datetime(2011, 3, 1, 8, 0, 0)
AGENCIES = {
    "alpha.gov": "Alpha Agency",
    "beta.gov": "Beta Agency",
    "gamma.gov": "Gamma Agency",
    "delta.gov": "Delta Agency",
    "epsilon.gov": "Epsilon Agency",
    "zeta.gov": "Zeta Agency",
}

PROSE = (
    "<p>The agency serves the public with programs, grants, data and guidance. Find services, "
    "read news and reports, contact our offices, and learn about our mission.</p>"
)


def page(title: str, body: str = "") -> str:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def plan(published: str) -> str:
    return page(
        "Customer Service Plan",
        f"<h1>Customer Service Plan</h1><p>Published {published}</p>"
        "<p>This plan responds to Executive Order 13571.</p>"
        "<h2>Signature Initiative</h2><p>Online forms.</p>"
        "<h2>Customer Feedback</h2><p>Online surveys.</p>"
        "<h2>Service Standards</h2><p>Answer letters in 10 days.</p>"
        "<h2>Timing</h2><p>Fiscal year 2012.</p>"
        "<h2>Performance Goals</h2><p>Under the GPRA Modernization Act.</p>",
    )


def home(name: str) -> str:
    return page(f"{name} Agency", f"<h1>{name}</h1>{PROSE}<a href='/open'>Open Government</a>")


def open_page(name: str, plan_link: str | None) -> str:
    link = f"<a href='{plan_link}'>Customer Service Plan</a>" if plan_link else ""
    return page(
        f"{name} Open Government",
        f"<h1>Open Government at {name}</h1><p>Data, transparency and participation.</p>{link}",
    )


def site(name: str, pages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    domain = f"{name.lower()}.gov"
    return {
        "hosts": [domain, f"www.{domain}"],
        "https_redirect": True,
        "redirect_host": {domain: f"www.{domain}"},
        "pages": {"/": {"body": home(name)}, **pages},
        **extra,
    }


def sites() -> dict[str, dict[str, Any]]:
    return {
        "alpha": site(
            "Alpha",
            {
                "/open": {"body": open_page("Alpha", "/open/plan.html")},
                "/open/plan.html": {"body": plan("September 30, 2011")},
            },
        ),
        "beta": site(
            "Beta",
            {"/open": {"body": open_page("Beta", None)}},
            epochs={
                2: {
                    "pages": {
                        "/open": {"body": open_page("Beta", "/open/plan.html")},
                        "/open/plan.html": {"body": plan("December 15, 2011")},
                    }
                }
            },
        ),
        "gamma": site(
            "Gamma",
            {
                "/open": {"body": open_page("Gamma", "/open/plan.html")},
                "/open/plan.html": {"body": plan("October 1, 2011")},
            },
        ),
        "delta": site(
            "Delta",
            {
                "/open": {"body": open_page("Delta", "/open/plan.html")},
                "/open/plan.html": {"body": plan("October 3, 2011")},
            },
        ),
        "epsilon": site(
            "Epsilon",
            {
                "/open": {
                    "redirect": "https://www.epsilon.gov/open/customer-service.html",
                    "status": 301,
                },
                "/open/customer-service.html": {"body": plan("October 14, 2011")},
            },
        ),
        "zeta": site(
            "Zeta",
            {
                "/open": {"body": open_page("Zeta", "/open/plan.html")},
                "/open/plan.html": {"body": plan("October 2, 2011")},
            },
        ),
        "newsite": {
            "hosts": ["newsite.gov", "www.newsite.gov"],
            "pages": {"/": {"body": page("New Site", PROSE)}},
        },
    }


def write_world(folder: Path) -> Path:
    """Site files, the agencies file and two registry snapshots (newsite.gov first listed
    in the second, during the freeze)."""
    sites_dir = folder / "sites"
    sites_dir.mkdir(parents=True)
    for name, definition in sites().items():
        (sites_dir / f"{name}.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    lines = ["agency,slug,primary_domain,source"]
    lines += [f"{a},{d.split('.')[0]},{d},test" for d, a in AGENCIES.items()]
    (folder / "agencies.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    header = (
        "Domain name,Domain type,Organization name,Suborganization name,City,State,"
        "Security contact email"
    )
    for day, domains in (
        ("2011-06-01", list(AGENCIES)),
        ("2011-08-01", [*AGENCIES, "newsite.gov"]),
    ):
        rows = [header]
        rows += [
            f"{d},Federal - Executive,{AGENCIES.get(d, 'New Agency')},,Washington,DC,(blank)"
            for d in domains
        ]
        (folder / f"federal-{day}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return sites_dir


def registry_files(folder: Path) -> list[str]:
    return [str(p) for p in sorted(folder.glob("federal-*.csv"))]


def capture_time(epoch: int) -> Any:
    """When the archive captured each URL crawled at `epoch` (None: never archived)."""

    def when(url: str) -> dt.datetime | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
        if host == "zeta.gov":
            return None
        if host == "gamma.gov" and parts.path.startswith("/open"):
            return None
        if host in ("delta.gov", "newsite.gov"):
            if epoch != 1:
                return None
            return DELTA_DATE if host == "delta.gov" else NEWSITE_DATE
        return EPOCH_DATES[epoch]

    return when


def wayback_program() -> str:
    """pywb's `wayback`: GOVAUDIT_WAYBACK, PATH, or this checkout's .venv-replay (made by
    `make install-test`). Missing: a failure under CI=true, else the test is skipped."""
    from govaudit.replay_archive import wayback_program as find

    local = REPO / ".venv-replay" / "bin" / "wayback"
    if not os.environ.get("GOVAUDIT_WAYBACK") and local.exists():
        os.environ["GOVAUDIT_WAYBACK"] = str(local)
    try:
        return find()
    except ReplayUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"pywb is needed under CI: {exc}")
        pytest.skip(str(exc))


def build_archive(folder: Path, common: list[str]) -> Path:
    """Crawl the world at both epochs with --warc into `folder`/live.db and return the root
    of a pywb collection of what was captured, dated as the archive would date it."""
    sites_dir = write_world(folder)
    db = f"sqlite:///{folder / 'live.db'}"
    with SimulatedWeb.from_directory(sites_dir) as web:
        govaudit(web, db, *common, "inventory", "load", *registry_files(folder))
        for epoch in (1, 2):
            web.set_epoch(epoch)
            warc = folder / f"warc-{epoch}"
            govaudit(web, db, *common, "crawl", "--workers", "1", "--warc", str(warc))
    root = folder / "archive"
    root.mkdir()
    dated = []
    for epoch in (1, 2):
        target = folder / f"captures-{epoch}.warc.gz"
        sources = sorted((folder / f"warc-{epoch}").glob("*.warc.gz"))
        assert redate_warcs(sources, target, capture_time(epoch)) > 0
        dated.append(target)
    build_collection(root, COLLECTION, dated)
    shutil.rmtree(folder / "warc-1")
    shutil.rmtree(folder / "warc-2")
    return root
