"""The static HTML report: pages exist and parse, numbers equal the database, crawled markup
is escaped, links resolve, nothing remote is referenced, downloads parse and match."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import insert, select

from audit.agencies_file import AgencySeed
from audit.db import Database
from audit.export import FINDING_COLUMNS, findings_rows
from audit.inventory import entry_rows, find_snapshot
from audit.models import (
    Agency,
    AuditRun,
    CrawlRun,
    CrawlTask,
    Domain,
    EndpointObservation,
    Finding,
    PlanCheck,
    RegistryEntry,
    RegistrySnapshot,
    SiteObservation,
)
from audit.plan_rows import PLAN_COLUMNS, plans_rows
from audit.site_rows import SITE_COLUMNS, sites_rows
from reports.render import INVENTORY_COLUMNS, render_report

XSS_TITLE = "<script>alert(1)</script>"
XSS_SNIPPET = "Our signature initiative <img src=x onerror=alert(1)> starts now"
SEEDS = [
    AgencySeed("Department of Alpha", "alpha", "alpha.gov", "test"),
    AgencySeed("Beta Agency", "beta", "beta.gov", "test"),
]
WINDOWS = [
    {
        "name": "M-11-24 initial 90 days",
        "start": "2011-06-13",
        "end": "2011-09-11",
        "authority": "OMB M-11-24",
    },
    {
        "name": "Extension",
        "start": "2011-09-12",
        "end": "2011-12-31",
        "authority": "OMB M-11-24 (extended)",
    },
]
PAGES = [
    "index.html",
    "agencies.html",
    "freeze.html",
    "plans.html",
    "inventory.html",
    "changes.html",
    "guidelines.html",
    "about.html",
    "downloads.html",
]
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)

# ------------------------------------------------------------------------------ test data

INVENTORY = [
    # domain, type, agency, organization
    ("alpha.gov", "Federal - Executive", "Department of Alpha", "Office of the Secretary"),
    ("alpha-redirect.gov", "Federal - Executive", "Department of Alpha", "Office A"),
    ("delta.gov", "Federal - Executive", "Department of Alpha", "Office D"),
    ("beta.gov", "Federal - Executive", "Beta Agency", "Beta HQ"),
    ("beta-parked.gov", "Federal - Executive", "Beta Agency", "Beta HQ"),
    ("newfreeze.gov", "Federal - Executive", "Beta Agency", "Beta Lab"),
    ("gamma.gov", "Federal - Independent", "Gamma Commission", None),
    ("testville.gov", "City", "City of Testville", None),
]


def endpoints(kind: str, domain: str, title: str | None = None) -> list[dict[str, Any]]:
    body = "Welcome to the home page of this federal agency with news, services and contacts."
    if kind == "active":
        return [
            {
                "url": f"https://{domain}/",
                "status": 200,
                "final_url": f"https://www.{domain}/",
                "https_ok": True,
                "tls": "valid",
                "hsts": "max-age=31536000",
                "title": title,
                "body_text": body,
            },
            {
                "url": f"http://{domain}/",
                "status": 200,
                "final_url": f"https://www.{domain}/",
                "redirects_to_https": True,
                "title": title,
                "body_text": body,
            },
        ]
    if kind == "active-http":
        return [
            {
                "url": f"http://{domain}/",
                "status": 200,
                "final_url": f"http://{domain}/",
                "title": title,
                "body_text": body,
            }
        ]
    if kind == "redirect":
        return [
            {
                "url": f"https://{domain}/",
                "status": 301,
                "final_url": "https://www.alpha.gov/",
                "https_ok": True,
                "tls": "valid",
            }
        ]
    if kind == "parked":
        return [
            {
                "url": f"https://{domain}/",
                "status": 200,
                "final_url": f"https://{domain}/",
                "https_ok": True,
                "tls": "valid",
                "title": "Coming soon",
                "body_text": "This domain is parked free, courtesy of a registrar.",
            }
        ]
    if kind == "error":
        return [{"url": f"https://{domain}/", "status": 500, "final_url": f"https://{domain}/"}]
    return [
        {"url": f"https://{domain}/", "status": None, "error_kind": "dns", "error": "no such host"}
    ]


ALL_LINKS = {
    k: f"https://www.alpha.gov/{k}"
    for k in (
        "privacy",
        "accessibility",
        "foia",
        "no_fear",
        "inspector_general",
        "usa_gov",
        "about",
        "contact",
        "open_gov",
    )
}


def add_site(
    session: Any,
    run: int,
    domain: str,
    agency: str,
    kind: str,
    title: str | None = None,
    homepage_url: str | None = None,
    links: dict[str, Any] | None = None,
) -> None:
    for e in endpoints(kind, domain, title):
        session.add(EndpointObservation(run_id=run, domain=domain, **e))
    live = kind.startswith("active")
    session.add(
        SiteObservation(
            run_id=run,
            domain=domain,
            agency=agency,
            homepage_url=homepage_url or (f"https://www.{domain}/" if live else None),
            homepage={
                "title": title,
                "dap": live,
                "required_links": links or {},
                "site_search": live,
                "uswds_banner": False,
                "language": "en",
                "generator_hints": ["Drupal"] if live else [],
            },
            robots={"present": live},
            sitemap={"present": False},
            security_txt={"present": domain == "alpha.gov"},
            soft_404={"answers_200": domain == "delta.gov"},
            hostnames=[f"www.{domain}"] if live else [],
            unlisted_gov_domains=["unlisted-thing.gov"] if domain == "alpha.gov" else [],
            pages_crawled=5 if live else 0,
            broken_links=2 if domain == "alpha.gov" else 0,
        )
    )
    session.add(
        CrawlTask(run_id=run, job="sites", key=domain, domain=domain, agency=agency, state="done")
    )


def add_plan(
    session: Any,
    run: int,
    agency: str,
    domain: str,
    status: str,
    elements: dict[str, str | None] | None = None,
    **extra: Any,
) -> None:
    session.add(
        PlanCheck(
            run_id=run,
            agency=agency,
            domain=domain,
            status=status,
            reason=f"test: {status}",
            open_page_url=extra.get("open_page_url"),
            plan_url=extra.get("plan_url"),
            plan_content_type="text/html" if extra.get("plan_url") else None,
            plan_hash="ab" * 32 if extra.get("plan_url") else None,
            stated_date=extra.get("stated_date"),
            elements=elements or {},
            extras={"missing": extra.get("missing", []), "candidates": extra.get("candidates", [])},
            evidence=extra.get("evidence", {}),
        )
    )
    session.add(
        CrawlTask(run_id=run, job="open", key=agency, domain=domain, agency=agency, state="done")
    )


def finding(
    audit: int,
    rule: str,
    severity: str,
    domain: str | None,
    agency: str | None,
    summary: str,
    **kw: Any,
) -> Finding:
    return Finding(
        audit_run_id=audit,
        rule=rule,
        severity=severity,
        domain=domain,
        agency=agency,
        summary=summary,
        window=kw.get("window"),
        classification=kw.get("classification"),
        waiver=kw.get("waiver"),
        evidence=kw.get("evidence", {}),
    )


def populate(db: Database) -> None:
    """Two crawl runs and two audits over one snapshot (see INVENTORY)."""
    with db.session() as s:
        snap = RegistrySnapshot(
            source_name="federal-test.csv",
            content_hash="0" * 64,
            as_of=dt.date(2026, 8, 18),
            kind="federal",
            rows_read=8,
            rows_loaded=8,
            rows_skipped=0,
        )
        s.add(snap)
        s.flush()
        agencies: dict[str, Agency] = {}
        for i, (name, kind, agency, org) in enumerate(INVENTORY):
            d = Domain(name=name)
            s.add(d)
            if agency not in agencies:
                agencies[agency] = Agency(name=agency)
                s.add(agencies[agency])
            s.flush()
            s.add(
                RegistryEntry(
                    snapshot_id=snap.id,
                    domain_id=d.id,
                    agency_id=agencies[agency].id,
                    line=i + 2,
                    domain_type=kind,
                    agency_name=agency,
                    organization=org,
                    state="DC",
                )
            )

        run1 = CrawlRun(
            snapshot_id=snap.id,
            status="finished",
            started_at=dt.datetime(2026, 8, 1, 12),
            settings={"jobs": ["sites"]},
        )
        s.add(run1)
        s.flush()
        add_site(s, run1.id, "alpha.gov", "Department of Alpha", "active-http", title=XSS_TITLE)
        add_site(s, run1.id, "old.gov", "Department of Alpha", "active", title="Old site")
        add_site(s, run1.id, "beta.gov", "Beta Agency", "active", title="Beta")
        add_site(s, run1.id, "gamma.gov", "Gamma Commission", "error")
        add_plan(s, run1.id, "Department of Alpha", "alpha.gov", "no-plan")
        add_plan(s, run1.id, "Beta Agency", "beta.gov", "no-open-page")

        run2 = CrawlRun(
            snapshot_id=snap.id,
            status="finished",
            started_at=dt.datetime(2026, 8, 20, 9),
            finished_at=dt.datetime(2026, 8, 20, 10),
            settings={
                "jobs": ["sites", "open"],
                "crawl": {"max_depth": 2, "user_agent": "t"},
                "selection": {"domains": [], "agency": None, "limit": None},
            },
            stats={
                "sites/0": {"item_scraped_count": 6, "downloader/response_count": 30},
                "open/0": {"item_scraped_count": 3},
            },
        )
        s.add(run2)
        s.flush()
        add_site(
            s,
            run2.id,
            "alpha.gov",
            "Department of Alpha",
            "active",
            title=XSS_TITLE,
            links=ALL_LINKS,
        )
        add_site(s, run2.id, "alpha-redirect.gov", "Department of Alpha", "redirect")
        add_site(
            s,
            run2.id,
            "delta.gov",
            "Department of Alpha",
            "active",
            title="Delta",
            links={"privacy": "javascript:alert(3)", "foia": None},
        )
        add_site(s, run2.id, "beta.gov", "Beta Agency", "unreachable")
        add_site(s, run2.id, "beta-parked.gov", "Beta Agency", "parked")
        add_site(
            s, run2.id, "gamma.gov", "Gamma Commission", "error", homepage_url="javascript:alert(2)"
        )
        names = [
            "signature_initiative",
            "feedback_mechanisms",
            "service_standards",
            "timeline",
            "eo_13571_reference",
            "performance_goals",
        ]
        add_plan(
            s,
            run2.id,
            "Department of Alpha",
            "alpha.gov",
            "published",
            elements={
                n: (XSS_SNIPPET if n == "signature_initiative" else f"{n} text") for n in names
            },
            open_page_url="https://www.alpha.gov/open",
            plan_url="https://www.alpha.gov/csp.pdf",
            stated_date=dt.date(2011, 10, 1),
            candidates=[
                {
                    "url": "https://www.alpha.gov/csp.pdf",
                    "text": "Customer Service Plan",
                    "match": "customer\\s+service\\s+plan",
                    "depth": 1,
                    "from": "https://www.alpha.gov/open",
                }
            ],
            evidence={
                "visits": [
                    {
                        "url": "https://www.alpha.gov/",
                        "final_url": "https://www.alpha.gov/",
                        "status": 200,
                        "error": None,
                        "fetched_at": "2026-08-20T09:10:00",
                        "chain": [],
                    },
                    {
                        "url": "https://alpha.gov/open",
                        "final_url": "https://www.alpha.gov/open",
                        "status": 200,
                        "error": None,
                        "fetched_at": "2026-08-20T09:10:02",
                        "chain": [
                            {
                                "url": "https://alpha.gov/open",
                                "status": 301,
                                "location": "https://www.alpha.gov/open",
                            }
                        ],
                    },
                    {
                        "url": "javascript:alert(4)",
                        "final_url": None,
                        "status": None,
                        "error": "other: refused",
                        "fetched_at": "2026-08-20T09:10:03",
                        "chain": [],
                    },
                ],
                "open_redirect_chain": [
                    {
                        "url": "https://alpha.gov/open",
                        "status": 301,
                        "location": "https://www.alpha.gov/open",
                    }
                ],
                "dead_links": [
                    {
                        "url": "https://www.alpha.gov/old-plan",
                        "status": 404,
                        "error": None,
                        "final_url": None,
                    }
                ],
                "soft_404": {"status": 404, "title": "Not found", "content_hash": "c" * 8},
                "notes": ["a note"],
            },
        )
        add_plan(s, run2.id, "Beta Agency", "beta.gov", "unreachable")
        add_plan(
            s,
            run2.id,
            "Gamma Commission",
            "gamma.gov",
            "incomplete",
            elements={"signature_initiative": "yes", "timeline": None},
            missing=["timeline"],
            plan_url="https://gamma.gov/plan",
            open_page_url="https://gamma.gov/open",
        )

        a1 = AuditRun(
            crawl_run_id=run1.id,
            snapshot_id=snap.id,
            policy={},
            policy_hash="1" * 64,
            started_at=dt.datetime(2026, 8, 2),
        )
        s.add(a1)
        s.flush()
        s.add(
            finding(
                a1.id,
                "plan-missing",
                "high",
                "alpha.gov",
                "Department of Alpha",
                "No Customer Service Plan on alpha.gov/open",
            )
        )
        s.add(
            finding(
                a1.id,
                "site-unreachable",
                "low",
                "gamma.gov",
                "Gamma Commission",
                "gamma.gov did not answer",
            )
        )

        freeze_rows = [
            {
                "domain": "newfreeze.gov",
                "agency": "Beta Agency",
                "window": WINDOWS[0]["name"],
                "classification": "in-freeze",
                "waiver": "no-waiver",
                "registration_date": "2011-07-04",
                "interval": None,
                "basis": "rdap",
            },
            {
                "domain": "delta.gov",
                "agency": "Department of Alpha",
                "window": WINDOWS[1]["name"],
                "classification": "possibly-in-freeze",
                "waiver": "no-waiver",
                "registration_date": None,
                "interval": ["2011-08-01", "2012-02-01"],
                "basis": "snapshots",
            },
            {
                "domain": "alpha.gov",
                "agency": "Department of Alpha",
                "window": WINDOWS[0]["name"],
                "classification": "outside",
                "waiver": None,
                "registration_date": "1997-03-01",
                "interval": None,
                "basis": "rdap",
            },
        ]
        a2 = AuditRun(
            crawl_run_id=run2.id,
            snapshot_id=snap.id,
            policy_hash="2" * 64,
            policy={
                "memo": {"name": "OMB M-11-24", "url": "https://example.org/m11-24.pdf"},
                "deadlines": {"customer_service_plan": "2011-10-24"},
                "freeze": {"windows": WINDOWS},
                "plans": {"required_elements": names},
            },
            policy_sources=["seeds/policy.toml"],
            summary={
                "crawl_run_id": run2.id,
                "open_run_id": run2.id,
                "snapshot": {
                    "id": snap.id,
                    "source_name": "federal-test.csv",
                    "as_of": "2026-08-18",
                },
                "windows": WINDOWS,
                "freeze_counts": {
                    WINDOWS[0]["name"]: {"in-freeze": 1, "outside": 1},
                    WINDOWS[1]["name"]: {"possibly-in-freeze": 1},
                },
                "freeze_rows": freeze_rows,
                "plan_counts": {"published": 1, "unreachable": 1, "incomplete": 1},
                "rule_counts": {},
            },
        )
        s.add(a2)
        s.flush()
        s.add_all(
            [
                finding(
                    a2.id,
                    "freeze-registration",
                    "high",
                    "newfreeze.gov",
                    "Beta Agency",
                    "newfreeze.gov registered 2011-07-04, inside the freeze, no waiver",
                    window=WINDOWS[0]["name"],
                    classification="in-freeze",
                    waiver="no-waiver",
                    evidence={
                        "registration_date": "2011-07-04",
                        "basis": "rdap",
                        "rdap_url": "https://rdap.example/domain/newfreeze.gov",
                    },
                ),
                finding(
                    a2.id,
                    "freeze-registration",
                    "medium",
                    "delta.gov",
                    "Department of Alpha",
                    "delta.gov first listed between 2011-08-01 and 2012-02-01",
                    window=WINDOWS[1]["name"],
                    classification="possibly-in-freeze",
                    waiver="no-waiver",
                    evidence={"interval": ["2011-08-01", "2012-02-01"]},
                ),
                finding(
                    a2.id,
                    "orphan-waiver",
                    "low",
                    "ghost.gov",
                    None,
                    "waiver for ghost.gov, which is not in the registry",
                    waiver="waived",
                    evidence={"source": "waivers.csv:3"},
                ),
                finding(
                    a2.id,
                    "unlisted-domain",
                    "medium",
                    "unlisted-thing.gov",
                    None,
                    "unlisted-thing.gov is linked from alpha.gov but not in the registry",
                    evidence={"linked_from": ["alpha.gov"], "note": XSS_TITLE},
                ),
                finding(
                    a2.id,
                    "plan-incomplete",
                    "medium",
                    "gamma.gov",
                    "Gamma Commission",
                    "plan misses timeline",
                    evidence={"missing": ["timeline"]},
                ),
                finding(
                    a2.id,
                    "site-unreachable",
                    "info",
                    "beta.gov",
                    "Beta Agency",
                    "beta.gov did not answer",
                    evidence={"reason": "dns error"},
                ),
            ]
        )


# ------------------------------------------------------------------------------ fixtures


def make_db(path: Path) -> Database:
    db = Database(f"sqlite:///{path}/t.db")
    populate(db)
    return db


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Path]]:
    base = tmp_path_factory.mktemp("report")
    db = make_db(base)
    index = render_report(db, base / "out", agencies=SEEDS)
    assert index == (base / "out" / "index.html").resolve()
    yield db, index.parent
    db.dispose()


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def table_by_caption(page: BeautifulSoup, text: str) -> Any:
    for table in page.find_all("table"):
        if table.caption and text in table.caption.get_text():
            return table
    raise AssertionError(f"no table captioned {text!r}")


def to_int(text: str) -> int:
    return int(text.strip().replace(",", ""))


# ------------------------------------------------------------------------------ structure


def test_every_page_exists_and_is_well_formed(report: tuple[Database, Path]) -> None:
    _, out = report
    for name in PAGES:
        assert (out / name).is_file(), name
    for name in ("agencies/alpha.html", "agencies/beta.html", "agencies/gamma-commission.html"):
        assert (out / name).is_file(), name
    assert not (out / "agencies" / "city-of-testville.html").exists()  # non-federal, no data
    for path in html_files(out):
        page = soup(path)
        where = path.relative_to(out)
        assert page.html and page.html.get("lang") == "en", where
        assert len(page.find_all("h1")) == 1, where
        meta = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert meta and meta["content"] == CSP, where
        main = page.find("main", id="main")
        assert main is not None, where
        skip = page.find("a", class_="skip-link")
        assert skip and skip["href"] == "#main", where
        levels = [int(h.name[1]) for h in page.find_all(re.compile(r"^h[1-6]$"))]
        assert levels[0] == 1, where
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, f"{where}: heading h{before} then h{after}"
        for table in page.find_all("table"):
            assert table.caption and table.caption.get_text(strip=True), where
            assert table.find("th", scope=True), f"{where}: table without th[scope]"
            for th in table.find_all("th"):
                assert th.get("scope") in ("col", "row", "colgroup", "rowgroup"), where
        current = page.select('nav a[aria-current="page"]')
        if path.parent == out:
            assert [a["href"] for a in current] == [path.name], where
        ids = [t["id"] for t in page.find_all(id=True)]
        assert len(ids) == len(set(ids)), f"{where}: duplicate ids"
        for svg in page.find_all("svg"):
            assert svg.get("role") == "img"
            labels = svg["aria-labelledby"].split()
            assert all(page.find(id=i) for i in labels)
            assert svg.find("title") and svg.find("desc")


def test_no_inline_script_style_or_remote_resources(report: tuple[Database, Path]) -> None:
    _, out = report
    for path in html_files(out):
        page = soup(path)
        where = path.relative_to(out)
        assert not page.find("style"), where
        assert not page.find(style=True), f"{where}: inline style attribute"
        for script in page.find_all("script"):
            assert script.get("src", "").endswith("report.js"), where
            assert not script.get_text(strip=True), where
        for tag in page.find_all(True):
            for attr, value in tag.attrs.items():
                assert not attr.lower().startswith("on"), f"{where}: {tag.name} {attr}"
                if attr in ("src", "href", "action", "data", "poster", "srcset"):
                    text = " ".join(value) if isinstance(value, list) else str(value)
                    if re.match(r"\s*(https?:)?//", text, re.I):
                        # Remote URLs only as hyperlinks from data, never as resources.
                        assert tag.name == "a" and attr == "href", f"{where}: {tag}"
                    assert not text.strip().lower().startswith(("javascript:", "data:text")), (
                        f"{where}: {tag}"
                    )
    css = (out / "report.css").read_text()
    js = (out / "report.js").read_text()
    assert "http" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "@import" not in css and "url(" not in css
    assert not re.search(r"https?://|fetch\(|XMLHttpRequest|eval\(", js)
    # Charts are inline SVG: the only http reference is the SVG namespace.
    index = (out / "index.html").read_text()
    assert set(re.findall(r'(?:src|href)="(https?://[^"]+)"', index)) <= {
        u for u in re.findall(r'<a[^>]+href="(https?://[^"]+)"', index)
    }


def test_internal_links_resolve(report: tuple[Database, Path]) -> None:
    _, out = report
    ids_cache: dict[Path, set[str]] = {}

    def ids(path: Path) -> set[str]:
        if path not in ids_cache:
            ids_cache[path] = {t["id"] for t in soup(path).find_all(id=True)}
        return ids_cache[path]

    checked = 0
    for path in html_files(out):
        page = soup(path)
        for tag in page.find_all(["a", "link", "script"]):
            ref = tag.get("href") or tag.get("src")
            if not ref or re.match(r"https?://", ref):
                continue
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, f"{path}: {ref}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{path.relative_to(out)} links to missing {ref}"
            assert out.resolve() in target.parents, f"{ref} leaves the report folder"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in ids(target), f"{path}: #{parts.fragment} not found"
            checked += 1
    assert checked > 100


# ------------------------------------------------------------------------------ numbers


def test_overview_numbers_equal_the_database(report: tuple[Database, Path]) -> None:
    db, out = report
    page = soup(out / "index.html")
    with db.session() as s:
        run_id = s.scalar(select(CrawlRun.id).order_by(CrawlRun.id.desc()))
        rows = sites_rows(s, run_id)
    expected = Counter(r["status"] for r in rows)
    table = table_by_caption(page, "Crawled domains by site status")
    shown = {tr["data-status"]: to_int(tr.td.get_text()) for tr in table.tbody.find_all("tr")}
    assert shown == {
        k: expected.get(k, 0) for k in ("active", "redirect", "error", "unreachable", "parked")
    }
    assert shown["active"] == 2
    assert to_int(table.tfoot.td.get_text()) == len(rows)
    # The freeze totals are those of the audit summary.
    freeze = table_by_caption(page, "Registrations by freeze classification")
    totals = {
        td["data-classification"]: to_int(td.get_text()) for td in freeze.tfoot.find_all("td")
    }
    assert totals == {"in-freeze": 1, "possibly-in-freeze": 1, "outside": 1, "unknown": 0}
    # Top findings are ordered by severity.
    top = table_by_caption(page, "Highest-severity findings")
    severities = [tr.td.get_text(strip=True) for tr in top.tbody.find_all("tr")]
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    assert severities == sorted(severities, key=order.__getitem__)
    assert severities[0] == "high" and len(severities) == 6


def test_plan_status_per_agency_equals_plan_checks(report: tuple[Database, Path]) -> None:
    db, out = report
    with db.session() as s:
        run_id = s.scalar(select(PlanCheck.run_id).order_by(PlanCheck.run_id.desc()))
        expected = {
            c.agency: c.status
            for c in s.scalars(select(PlanCheck).where(PlanCheck.run_id == run_id))
        }
    table = soup(out / "plans.html").find("table", id="plans-table")
    shown = {tr["data-agency"]: tr["data-status"] for tr in table.tbody.find_all("tr")}
    assert shown == expected
    for tr in table.tbody.find_all("tr"):
        assert tr.find_all("td")[0].get_text(strip=True) != ""
    counts = table_by_caption(soup(out / "plans.html"), "Plan status of")
    by_status = {tr["data-status"]: to_int(tr.td.get_text()) for tr in counts.tbody("tr")}
    assert by_status == {k: Counter(expected.values()).get(k, 0) for k in by_status}


def test_inventory_has_one_row_per_snapshot_domain(report: tuple[Database, Path]) -> None:
    db, out = report
    with db.session() as s:
        entries = entry_rows(s, find_snapshot(s))
    table = soup(out / "inventory.html").find("table", id="inventory-table")
    rows = table.tbody.find_all("tr")
    assert len(rows) == len(entries) == len(INVENTORY)
    assert [tr.td.get_text() for tr in rows] == [e["domain"] for e in entries]
    status = {tr.td.get_text(): tr.find_all("td")[5].get_text() for tr in rows}
    assert status["alpha.gov"] == "Active"
    assert status["testville.gov"] == "Not crawled"


def test_agency_page_shows_sites_plan_evidence_and_findings(
    report: tuple[Database, Path],
) -> None:
    _, out = report
    page = soup(out / "agencies" / "alpha.html")
    assert page.h1.get_text() == "Department of Alpha"
    domains = page.find("table", id="domains")
    shown = [tr.th.get_text(" ", strip=True) for tr in domains.tbody("tr")]
    assert shown == ["alpha-redirect.gov", "alpha.gov", "delta.gov"]
    matrix = page.find("table", id="required-links")
    alpha = next(tr for tr in matrix.tbody("tr") if tr.th.get_text() == "alpha.gov")
    assert all(td.get_text(strip=True).startswith("Yes") for td in alpha("td"))
    delta = next(tr for tr in matrix.tbody("tr") if tr.th.get_text() == "delta.gov")
    # a javascript: "link" is shown as found, but not as a hyperlink
    assert delta("td")[0].get_text(strip=True) == "Yes" and not delta("td")[0].a
    plan = page.find("section", attrs={"aria-labelledby": "plan"})
    text = plan.get_text(" ", strip=True)
    for needle in (
        "Published",
        "https://www.alpha.gov/csp.pdf",
        "2026-08-20T09:10:02",
        "https://www.alpha.gov/old-plan",
        "signature initiative",  # the element id in words
        "a note",
    ):
        assert needle in text, needle
    visits = plan.find("table", id="plan-visits-table")
    assert "301" in visits.get_text()  # the redirect chain
    freeze = page.find("table", id="agency-freeze")
    assert "delta.gov" in freeze.get_text() and "possibly-in-freeze" in freeze.get_text()
    assert (out / "agencies" / "beta.html").read_text().count("newfreeze.gov") >= 1


def test_injected_markup_is_escaped(report: tuple[Database, Path]) -> None:
    _, out = report
    alpha = out / "agencies" / "alpha.html"
    raw = alpha.read_text()
    page = soup(alpha)
    assert XSS_TITLE in page.get_text()
    assert "<img src=x onerror=alert(1)>" in page.get_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "<script>alert" not in raw and "<img" not in raw
    for path in html_files(out):
        p = soup(path)
        assert all(s.get("src") for s in p.find_all("script")), path
        assert not p.find("img"), path
        for a in p.find_all("a", href=True):
            assert urlsplit(a["href"]).scheme in ("", "http", "https"), f"{path}: {a}"
    # unsafe URLs from crawled data are shown as text
    gamma = soup(out / "agencies" / "gamma-commission.html")
    assert "javascript:alert(2)" in gamma.get_text()
    assert "javascript:alert(4)" in page.get_text()


def test_changes_against_previous_runs(report: tuple[Database, Path]) -> None:
    _, out = report
    page = soup(out / "changes.html")
    new = table_by_caption(page, "New sites")
    assert {tr.td.get_text() for tr in new.tbody("tr")} == {
        "alpha-redirect.gov",
        "delta.gov",
        "beta-parked.gov",
    }
    removed = table_by_caption(page, "Removed sites")
    assert [tr.td.get_text() for tr in removed.tbody("tr")] == ["old.gov"]
    changed = table_by_caption(page, "Changed sites")
    rows = {(tr("td")[0].get_text(), tr("td")[2].get_text()) for tr in changed.tbody("tr")}
    assert ("alpha.gov", "https") in rows and ("beta.gov", "status") in rows
    plans = table_by_caption(page, "Plan status changes")
    assert "Department of Alpha" in plans.get_text()
    resolved = table_by_caption(page, "Resolved findings")
    assert "No Customer Service Plan on alpha.gov/open" in resolved.get_text()
    new_findings = table_by_caption(page, "New findings")
    assert len(new_findings.tbody("tr")) == 6  # site-unreachable moved from gamma to beta


def test_freeze_page_lists_flagged_domains_and_waivers(report: tuple[Database, Path]) -> None:
    _, out = report
    page = soup(out / "freeze.html")
    flagged = page.find("table", id="flagged-table")
    domains = [tr.th.get_text() for tr in flagged.tbody("tr")]
    assert domains == ["newfreeze.gov", "delta.gov"]  # in-freeze first; "outside" left out
    assert "rdap.example" in flagged.get_text()
    assert "ghost.gov" in table_by_caption(page, "Waivers for domains not in").get_text()
    assert "unlisted-thing.gov" in page.find("table", id="unlisted-links-table").get_text()


def test_guidelines_state_denominators_and_sources(report: tuple[Database, Path]) -> None:
    _, out = report
    page = soup(out / "guidelines.html")
    facts = {
        tr["data-key"]: [td.get_text(strip=True) for td in tr("td")]
        for tr in page.find("table", id="facts-table").tbody("tr")
    }
    # 6 sites: 1 unreachable excluded -> 5 answered; 2 active (live).
    assert facts["https"][:3] == ["4", "5", "80.0%"]  # alpha, redirect, parked, delta (+gamma no)
    assert facts["link_privacy"][:3] == ["2", "2", "100.0%"]
    assert facts["link_foia"][:2] == ["1", "2"]
    assert facts["security_txt"][:2] == ["1", "2"]
    assert facts["redirect"][:2] == ["1", "5"]
    assert "M-15-13" in facts["https"][4]
    assert "BOD 20-01" in facts["security_txt"][4]
    for key in ("dap", "robots_txt", "sitemap_xml", "uswds_banner", "site_search", "soft_404"):
        assert key in facts


def test_charts_have_text_alternatives_and_tables(report: tuple[Database, Path]) -> None:
    _, out = report
    page = soup(out / "index.html")
    svgs = page.find_all("svg")
    assert len(svgs) == 2
    for svg in svgs:
        title = page.find(id=svg["aria-labelledby"].split()[0])
        assert title.name == "title" and title.get_text()
    data = table_by_caption(page, "Site status for the")
    assert "Department of Alpha" in data.get_text()
    assert "newfreeze.gov" in table_by_caption(page, "Dated registrations").get_text()


def test_downloads_parse_and_match(report: tuple[Database, Path]) -> None:
    db, out = report
    with db.session() as s:
        run_id = s.scalar(select(CrawlRun.id).order_by(CrawlRun.id.desc()))
        audit_id = s.scalar(select(AuditRun.id).order_by(AuditRun.id.desc()))
        sites = sites_rows(s, run_id)
        plans = plans_rows(s, run_id, dt.date(2011, 10, 24))
        findings = findings_rows(s, audit_id)
        entries = entry_rows(s, find_snapshot(s))

    def read(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((out / name).read_text(encoding="utf-8"))))

    for name, columns, rows in (
        ("sites.csv", SITE_COLUMNS, sites),
        ("plans.csv", PLAN_COLUMNS, plans),
        ("findings.csv", FINDING_COLUMNS, findings),
        ("inventory.csv", INVENTORY_COLUMNS, entries),
    ):
        got = read(name)
        header = next(csv.reader(io.StringIO((out / name).read_text())))
        assert header == columns, name
        assert [
            r["domain" if "domain" in columns and name != "plans.csv" else "agency"] for r in got
        ] == [r["domain" if name != "plans.csv" else "agency"] for r in rows], name
    assert [r["status"] for r in read("sites.csv")] == [r["status"] for r in sites]
    alpha = next(r for r in read("plans.csv") if r["agency"] == "Department of Alpha")
    assert json.loads(alpha["evidence"])["snippets"]["signature_initiative"] == XSS_SNIPPET
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for key in (
        "format",
        "generated_at",
        "scope",
        "policy",
        "counts",
        "agencies",
        "sites",
        "plans",
        "findings",
        "freeze_rows",
        "inventory",
        "guidelines",
        "changes",
        "crawl",
    ):
        assert key in doc, key
    assert doc["counts"]["sites_by_status"] == {
        k: sum(1 for r in sites if r["status"] == k)
        for k in ("active", "redirect", "error", "unreachable", "parked")
    }
    assert doc["sites"] == json.loads(json.dumps(sites, default=str))
    assert len(doc["inventory"]) == len(entries)
    assert doc["scope"]["crawl_run"]["id"] == run_id
    assert doc["scope"]["audit_run"]["id"] == audit_id
    assert doc["scope"]["previous_audit_run"]["id"] == audit_id - 1
    assert {a["slug"] for a in doc["agencies"]} == {"alpha", "beta", "gamma-commission"}
    files = {a["href"] for a in soup(out / "downloads.html").find("main").find_all("a")}
    assert files == {"findings.csv", "sites.csv", "plans.csv", "inventory.csv", "report.json"}


def test_about_page_shows_policy_settings_and_limits(report: tuple[Database, Path]) -> None:
    _, out = report
    page = soup(out / "about.html")
    text = page.get_text(" ", strip=True)
    assert "Couldn't check is not absent" in text
    policy = page.find("table", id="policy-table")
    assert "deadlines.customer_service_plan" in policy.get_text()
    assert page.find("pre", class_="raw")
    assert "item_scraped_count" in page.find("table", id="stats-table").get_text()
    assert "crawl.max_depth" in page.find("table", id="settings-table").get_text()


# ------------------------------------------------------------------------------ edge cases


def test_empty_database_renders_with_no_data_messages(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/empty.db")
    index = render_report(db, tmp_path / "out", agencies=SEEDS)
    out = index.parent
    for name in PAGES:
        page = soup(out / name)
        assert len(page.find_all("h1")) == 1, name
    text = soup(index).get_text(" ", strip=True)
    assert "No crawl yet" in text and "No audit yet" in text
    assert "No registry snapshot loaded" in soup(out / "inventory.html").get_text()
    assert (
        "No previous" in soup(out / "changes.html").get_text()
        or "No crawl yet" in soup(out / "changes.html").get_text()
    )
    assert not list((out / "agencies").glob("*.html")) if (out / "agencies").exists() else True
    assert json.loads((out / "report.json").read_text())["sites"] == []
    assert (out / "sites.csv").read_text().splitlines() == [",".join(SITE_COLUMNS)]
    db.dispose()


def test_first_run_says_there_is_nothing_to_compare(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    with db.session() as s:
        first = s.scalar(select(CrawlRun.id).order_by(CrawlRun.id))
        first_audit = s.scalar(select(AuditRun.id).order_by(AuditRun.id))
    out = render_report(
        db, tmp_path / "out", run_id=first, audit_run_id=first_audit, agencies=SEEDS
    ).parent
    text = soup(out / "changes.html").get_text(" ", strip=True)
    assert "no previous crawl run" in text.lower()
    assert "No previous audit run" in text
    # run 1 found old.gov; the later run's pages are not mixed in
    inv = soup(out / "index.html")
    assert to_int(table_by_caption(inv, "Crawled domains by site status").tfoot.td.get_text()) == 4
    db.dispose()


def test_rerender_removes_stale_agency_pages(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    out = tmp_path / "out"
    (out / "agencies").mkdir(parents=True)
    (out / "agencies" / "gone.html").write_text("old")
    render_report(db, out, agencies=SEEDS)
    assert not (out / "agencies" / "gone.html").exists()
    db.dispose()


def test_full_list_renders_completely(tmp_path: Path) -> None:
    """16,000 domains (as with the full registry list) and 2,000 crawled sites: every row is
    there. How long it takes is measured in benchmarks/ (bench_report), not asserted here."""
    db = Database(f"sqlite:///{tmp_path}/big.db")
    n, crawled = 16_000, 2_000
    with db.session() as s:
        snap = RegistrySnapshot(
            source_name="full.csv",
            content_hash="f" * 64,
            as_of=dt.date(2026, 8, 18),
            kind="full",
            rows_read=n,
            rows_loaded=n,
            rows_skipped=0,
        )
        s.add(snap)
        run = CrawlRun(snapshot_id=snap.id, status="finished")
        s.add(run)
        s.flush()
        s.execute(insert(Domain), [{"id": i + 1, "name": f"d{i:05d}.gov"} for i in range(n)])
        agencies = [f"Federal Agency {i}" for i in range(150)]
        s.execute(insert(Agency), [{"id": i + 1, "name": a} for i, a in enumerate(agencies)])
        s.execute(
            insert(RegistryEntry),
            [
                {
                    "snapshot_id": snap.id,
                    "domain_id": i + 1,
                    "line": i + 2,
                    "domain_type": "Federal - Executive" if i < 1500 else "City",
                    "agency_name": agencies[i % 150] if i < 1500 else f"City {i}",
                    "agency_id": (i % 150) + 1 if i < 1500 else None,
                    "organization": "Org",
                    "state": "DC",
                }
                for i in range(n)
            ],
        )
        kinds = ["active", "redirect", "error", "unreachable", "parked"]
        ends, obs, tasks = [], [], []
        for i in range(crawled):
            domain, agency = f"d{i:05d}.gov", agencies[i % 150]
            for e in endpoints(kinds[i % 5], domain, f"Site {i}"):
                ends.append(
                    {
                        "run_id": run.id,
                        "domain": domain,
                        "redirect_chain": [],
                        "https_ok": False,
                        "redirects_to_https": False,
                        **e,
                    }
                )
            obs.append(
                {
                    "run_id": run.id,
                    "domain": domain,
                    "agency": agency,
                    "homepage": {"title": f"Site {i}", "required_links": ALL_LINKS},
                    "robots": {},
                    "sitemap": {},
                    "security_txt": {},
                    "soft_404": {},
                    "hostnames": [],
                    "unlisted_gov_domains": [],
                }
            )
            tasks.append(
                {
                    "run_id": run.id,
                    "job": "sites",
                    "key": domain,
                    "domain": domain,
                    "state": "done",
                    "worker": 0,
                }
            )
        keys = {k for e in ends for k in e}
        s.execute(insert(EndpointObservation), [dict.fromkeys(keys) | e for e in ends])
        s.execute(insert(SiteObservation), obs)
        s.execute(insert(CrawlTask), tasks)
    index = render_report(db, tmp_path / "out", agencies=SEEDS)
    rows = (index.parent / "inventory.html").read_text().count("<tr><td>")
    assert rows == n
    assert len(list((index.parent / "agencies").glob("*.html"))) == 150
    db.dispose()


def test_audit_without_summary_uses_its_findings(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    with db.session() as s:
        newest = s.scalars(select(AuditRun).order_by(AuditRun.id.desc())).first()
        assert newest is not None
        newest.summary = {}
    out = render_report(db, tmp_path / "out", agencies=SEEDS).parent
    flagged = soup(out / "freeze.html").find("table", id="flagged-table")
    assert [tr.th.get_text() for tr in flagged.tbody("tr")] == ["newfreeze.gov", "delta.gov"]
    doc = json.loads((out / "report.json").read_text())
    assert doc["counts"]["freeze_by_classification"]["in-freeze"] == 1
    db.dispose()


def test_unknown_explicit_run_raises_no_data(tmp_path: Path) -> None:
    from audit.run_selection import NoData

    db = make_db(tmp_path)
    with pytest.raises(NoData):
        render_report(db, tmp_path / "out", run_id=999)
    with pytest.raises(NoData):
        render_report(db, tmp_path / "out", audit_run_id=999)
    db.dispose()
