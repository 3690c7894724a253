"""The /open spider (crawler/spiders/open_pages.py) and the judgement of what it stored
(audit/plan_status.py): each agency's Open Government page and its Customer Service Plan (OMB
M-11-24), with the status words of `export plans` and their evidence.

Two parts:

* Spider-level checks on saved pages, offline: the real OpenPagesSpider is driven request by
  request by a tiny in-memory "downloader" (`drive`), and what it stored is judged by
  audit.plan_status, so every path of the verdict can be shown with a handful of pages and
  no network.
* Integration tests (`-m integration`) on the shipped demo world of the simulated web: ONE
  crawl of every agency in simweb/demo/seeds/agencies.csv with --keep-evidence, an audit, then
  a second, smaller crawl after the world moved on (epoch 2) and a second audit. Each agency's
  status is checked against simweb/demo/world.yaml, then the evidence of each situation.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import sqlite3
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefused
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure

from audit.models import utcnow
from audit.plan_status import PlanPolicy, check_fields, facts_from_rows, judge_plan
from audit.policy_file import load_policy
from crawler.items import PlanResult
from crawler.spiders.open_pages import OpenPagesSpider
from simweb.server import SimulatedWeb
from tests.crawl_world import govaudit

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "html"
DEMO = REPO / "simweb" / "demo"
SEEDS = DEMO / "seeds"
PLANS = load_policy().section("plans")
REQUIRED = list(PLANS["required_elements"])

# ============================================================================================
# Spider-level checks on saved pages (offline)
# ============================================================================================

HTML = "text/html; charset=utf-8"
NOT_FOUND = (
    b"<html><head><title>Page Not Found</title></head><body><h1>Not found</h1></body></html>"
)
PROSE = (
    "<p>The agency serves the public with programs, grants, data and guidance. Find services, "
    "read news and reports, contact our offices, and learn about our mission.</p>"
)


def page(title: str, body: str = "") -> bytes:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>".encode()


def plan_html(*, skip: tuple[str, ...] = (), published: str = "October 24, 2011") -> bytes:
    """A Customer Service Plan in HTML, modelled on www.ssa.gov/open/customerserviceplan/."""
    sections = {
        "signature_initiative": "<h2>Signature Initiative</h2><p>Online statements.</p>",
        "customer_groups": "<h2>Key Customer Groups</h2><p>Retirees and employers.</p>",
        "feedback_mechanisms": "<h2>Customer Feedback</h2><p>Online surveys.</p>",
        "service_standards": "<h2>Service Standards</h2><p>Answer calls in 5 minutes.</p>",
        "timeline": "<h2>Timing</h2><p>Launch in fiscal year 2012.</p>",
        "performance_goals": "<h2>Performance Goals</h2><p>Under the GPRA Modernization Act.</p>",
    }
    body = (
        f"<h1>Customer Service Plan</h1><p>Published {published}</p>"
        "<p>This plan responds to Executive Order 13571.</p>"
        + "".join(html for name, html in sections.items() if name not in skip)
    )
    return page("Customer Service Plan", body)


def ok(body: bytes, ctype: str | None = HTML) -> dict[str, Any]:
    return {"status": 200, "body": body, "ctype": ctype}


def status(code: int, body: bytes = NOT_FOUND) -> dict[str, Any]:
    return {"status": code, "body": body, "ctype": HTML}


def redirect(location: str, code: int = 301) -> dict[str, Any]:
    return {"status": code, "body": b"", "ctype": None, "location": location}


TIMEOUT = {"error": TxTimeoutError}
REFUSED = {"error": TxConnectionRefused}


def standard_site(domain: str, home: bytes | None = None) -> dict[str, dict[str, Any]]:
    """bare -> www, http -> https, a homepage; /open is up to each test."""
    www = f"www.{domain}"
    return {
        f"https://{domain}/": redirect(f"https://{www}/"),
        f"http://{www}/": redirect(f"https://{www}/"),
        f"http://{domain}/": redirect(f"https://{www}/"),
        f"https://{www}/": ok(home or page(f"{domain} home", PROSE)),
    }


async def _collect(agen: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in agen]


def spider_result(
    pages: dict[str, dict[str, Any]],
    domain: str = "alpha.gov",
    *,
    catch_all: dict[str, Any] | None = None,
    keep_evidence: bool = True,
    agency: str = "Alpha Agency",
) -> tuple[PlanResult, list[str]]:
    """Run OpenPagesSpider for one agency against `pages` (URL -> answer); unknown URLs get
    `catch_all` or a 404. Returns what the spider stores and the URLs requested."""
    spider = OpenPagesSpider(
        run_id=7,
        tasks=[(agency, domain)],
        agency_domains={agency: {domain}},
        plans=PLANS,
        keep_evidence=keep_evidence,
    )
    queue: list[Any] = asyncio.run(_collect(spider.start()))
    results: list[PlanResult] = []
    asked: list[str] = []
    while queue:
        request = queue.pop(0)
        asked.append(request.url)
        answer = pages.get(request.url, catch_all or status(404))
        if "error" in answer:
            failure = Failure(answer["error"]())
            failure.request = request  # type: ignore[attr-defined]
            outputs = list(spider._on_error(failure))
        else:
            headers = {}
            if answer.get("ctype"):
                headers["Content-Type"] = answer["ctype"]
            if answer.get("location"):
                headers["Location"] = answer["location"]
            headers.update(answer.get("headers") or {})
            cls = HtmlResponse if "html" in (answer.get("ctype") or "") else Response
            response = cls(
                request.url,
                status=answer["status"],
                headers=headers,
                body=answer["body"],
                request=request,
            )
            outputs = list(spider._on_response(response))
        for out in outputs:
            if isinstance(out, Request):
                queue.append(out)
            elif isinstance(out, PlanResult):
                results.append(out)
    assert len(results) == 1, f"expected one result, got {results}"
    return results[0], asked


def drive(
    pages: dict[str, dict[str, Any]],
    domain: str = "alpha.gov",
    *,
    catch_all: dict[str, Any] | None = None,
    keep_evidence: bool = True,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """`spider_result`, then what it stored judged by audit.plan_status. Returns the plan
    check, the evidence blobs the check rests on (the /open page and the plan) and the URLs
    requested."""
    result, asked = spider_result(pages, domain, catch_all=catch_all, keep_evidence=keep_evidence)
    observation = {**result.observation, "agency": result.agency, "fetched_at": utcnow()}
    facts = facts_from_rows(observation, result.tries, result.documents)
    judgement = judge_plan(facts, PlanPolicy.from_section(PLANS))
    check = check_fields(facts, judgement)
    plan = judgement.plan
    cited = {check["open_page_url"], plan and (plan.final_url or plan.url)}
    return check, [b for b in result.blobs if b["url"] in cited], asked


def test_saved_ssa_pages_give_a_published_plan_with_evidence() -> None:
    pages = {
        **standard_site("ssa.gov"),
        "https://www.ssa.gov/open": redirect("/open/"),
        "https://www.ssa.gov/open/": ok((FIXTURES / "ssa_open.html").read_bytes()),
        "https://www.ssa.gov/open/customerserviceplan/": ok(
            (FIXTURES / "ssa_customerserviceplan.html").read_bytes()
        ),
        "https://www.ssa.gov/open/customerserviceplan/SSA-Customer-Service-Plan-2011.pdf": ok(
            (FIXTURES / "customer_service_plan.pdf").read_bytes(), "application/pdf"
        ),
    }
    check, blobs, asked = drive(pages, "ssa.gov")
    assert check["status"] == "published", check["reason"]
    assert check["open_page_url"] == "https://www.ssa.gov/open/"
    assert check["plan_url"] == "https://www.ssa.gov/open/customerserviceplan/"
    assert check["plan_content_type"] == HTML
    assert check["extras"]["missing"] == []
    assert all(check["elements"][name] for name in REQUIRED)
    assert "Signature Initiative" in check["elements"]["signature_initiative"]
    assert str(check["stated_date"]) == "2011-10-24"
    evidence = check["evidence"]
    assert evidence["open_redirect_chain"] == [
        {"url": "https://www.ssa.gov/open", "status": 301, "location": "https://www.ssa.gov/open/"}
    ]
    # Every URL visited, with its status and when it was fetched.
    visited = {v["url"]: v for v in evidence["visits"]}
    assert visited["https://www.ssa.gov/open"]["final_url"] == "https://www.ssa.gov/open/"
    assert visited["https://www.ssa.gov/open/customerserviceplan/"]["status"] == 200
    assert all(v["fetched_at"] and "latency_ms" in v for v in evidence["visits"])
    # The "#plan" link and the plain link are one candidate; the PDF is another.
    candidates = [c["url"] for c in check["extras"]["candidates"]]
    assert candidates.count("https://www.ssa.gov/open/customerserviceplan/") == 1
    assert asked.count("https://www.ssa.gov/open/customerserviceplan/") == 1
    # --keep-evidence: /open and the plan, compressed, hashed.
    kept = {b["url"]: b for b in blobs}
    assert set(kept) == {
        "https://www.ssa.gov/open/",
        "https://www.ssa.gov/open/customerserviceplan/",
    }
    plan_blob = kept["https://www.ssa.gov/open/customerserviceplan/"]
    body = zlib.decompress(plan_blob["body"])
    assert hashlib.sha256(body).hexdigest() == plan_blob["sha256"] == check["plan_hash"]


def test_pdf_plan_is_read_even_when_served_as_octet_stream() -> None:
    pdf = (FIXTURES / "customer_service_plan.pdf").read_bytes()
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open Government", '<a href="/files/csp-2011.pdf">Customer Service Plan</a>')
        ),
        "https://www.alpha.gov/files/csp-2011.pdf": ok(pdf, "application/octet-stream"),
    }
    check, _, _ = drive(pages)
    assert check["plan_url"] == "https://www.alpha.gov/files/csp-2011.pdf"
    assert check["evidence"]["plan_kind"] == "pdf"
    assert check["status"] in ("published", "incomplete")
    assert check["elements"]["eo_13571_reference"]


def test_open_page_that_is_itself_the_plan_keeps_one_blob_and_the_stated_date() -> None:
    plan = plan_html(published="March 1, 2012")
    pages = {**standard_site("alpha.gov"), "https://www.alpha.gov/open": ok(plan)}
    check, blobs, _ = drive(pages)
    assert check["status"] == "published"
    assert check["plan_url"] == check["open_page_url"] == "https://www.alpha.gov/open"
    assert str(check["stated_date"]) == "2012-03-01"
    assert len(blobs) == 1  # /open and the plan are the same body: stored once
    assert zlib.decompress(blobs[0]["body"]) == plan


def test_plan_missing_two_elements_is_incomplete_and_lists_them() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open", '<a href="/open/customer-service-plan">Our plan</a>')
        ),
        "https://www.alpha.gov/open/customer-service-plan": ok(
            plan_html(skip=("service_standards", "timeline"))
        ),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "incomplete"
    assert check["extras"]["missing"] == ["service_standards", "timeline"]
    assert check["elements"]["service_standards"] is None
    assert check["elements"]["timeline"] is None
    assert check["reason"] == (
        "the plan misses two required elements: service standards and timeline"
    )


def test_plan_one_page_deeper_is_found() -> None:
    hub = page(
        "Customer Service",
        '<p>Executive Order 13571. Read our <a href="/open/cs/plan">Customer Service Plan</a>.</p>',
    )
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(page("Open", '<a href="/open/cs">Customer Service</a>')),
        "https://www.alpha.gov/open/cs": ok(hub),
        "https://www.alpha.gov/open/cs/plan": ok(plan_html()),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published"
    assert check["plan_url"] == "https://www.alpha.gov/open/cs/plan"
    depths = {c["url"]: c["depth"] for c in check["extras"]["candidates"]}
    assert depths["https://www.alpha.gov/open/cs/plan"] == 2


def test_dead_plan_link_behind_a_hub_is_no_plan_not_an_incomplete_hub() -> None:
    """The hub page mentions EO 13571 (one element) but is not the plan; the plan link it
    carries is dead: no-plan, with the dead link in the evidence."""
    hub = page(
        "Customer Service",
        '<p>Executive Order 13571. Read our <a href="/open/cs/plan.pdf">Customer Service '
        "Plan</a>.</p>",
    )
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(page("Open", '<a href="/open/cs">Customer Service</a>')),
        "https://www.alpha.gov/open/cs": ok(hub),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "no-plan", check["reason"]
    assert check["plan_url"] is None
    assert check["reason"] == "the plan link answers 404"
    dead = check["evidence"]["dead_links"]
    assert [(d["url"], d["status"], d["verdict"]) for d in dead] == [
        ("https://www.alpha.gov/open/cs/plan.pdf", 404, "dead")
    ]


def test_customer_service_page_that_is_no_plan_is_not_taken_for_one() -> None:
    """/open talks about customer service and links a contact page that mentions surveys:
    one element on a page that does not name a plan is not a plan."""
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page(
                "Open Government",
                "<p>We are committed to excellent customer service.</p>"
                '<a href="/contact">Contact customer service</a>',
            )
        ),
        "https://www.alpha.gov/contact": ok(
            page("Contact us", "<p>Call us. We also run surveys of our visitors.</p>")
        ),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "no-plan"
    assert check["plan_url"] is None
    assert check["reason"] == "the one candidate link holds none of the plan's elements"
    assert [c["url"] for c in check["extras"]["candidates"]] == ["https://www.alpha.gov/contact"]


def test_open_page_mentioning_customer_service_without_links_is_no_plan() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open Government", "<p>Our customer service plan is coming soon.</p>")
        ),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "no-plan"
    assert check["reason"] == "/open links no Customer Service Plan"
    assert check["open_page_url"] == "https://www.alpha.gov/open"


def test_plan_link_that_times_out_is_unreachable_not_no_plan() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open", '<a href="/open/customer-service-plan.pdf">Customer Service Plan</a>')
        ),
        "https://www.alpha.gov/open/customer-service-plan.pdf": TIMEOUT,
    }
    check, _, _ = drive(pages)
    assert check["status"] == "unreachable"
    assert check["reason"] == "the plan link times out, so the plan could not be checked"
    assert check["evidence"]["dead_links"][0]["verdict"] == "unchecked"


def test_plan_link_leaving_the_agency_domains_is_unreachable_not_dead() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open", '<a href="/open/plan">Customer Service Plan</a>')
        ),
        "https://www.alpha.gov/open/plan": redirect("https://docs.example.com/alpha-plan.pdf"),
    }
    check, _, asked = drive(pages)
    assert "https://docs.example.com/alpha-plan.pdf" not in asked
    assert check["status"] == "unreachable"
    assert check["reason"] == (
        "the plan link leads off the agency's domains, so the plan could not be checked"
    )


def test_open_redirect_into_a_cms_path_is_the_open_page() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": redirect("/open/Pages/default.aspx", 302),
        "https://www.alpha.gov/open/Pages/default.aspx": ok(
            page("Open", '<a href="/open/Pages/CustomerServicePlan.aspx">DOE plan</a>')
        ),
        "https://www.alpha.gov/open/Pages/CustomerServicePlan.aspx": ok(plan_html()),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published"
    assert check["open_page_url"] == "https://www.alpha.gov/open/Pages/default.aspx"
    assert check["evidence"]["open_redirect_chain"][0]["status"] == 302


def test_open_redirecting_to_the_homepage_is_no_open_page() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": redirect("https://www.alpha.gov/", 302),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "no-open-page"
    tries = {t["url"]: t for t in check["evidence"]["open_tries"]}
    assert tries["https://www.alpha.gov/open"]["verdict"] == "homepage"
    assert tries["https://www.alpha.gov/open"]["final_url"] == "https://www.alpha.gov/"
    assert check["reason"] == (
        "/open leads to the homepage on https://www.alpha.gov; "
        "the other seven /open URLs tried answer 404"
    )


def test_soft_404_site_is_no_open_page() -> None:
    home = page("Zeta home", PROSE)
    pages = {**standard_site("alpha.gov", home)}
    check, _, _ = drive(pages, catch_all=ok(home))
    assert check["status"] == "no-open-page"
    assert check["evidence"]["soft_404"]["status"] == 200
    assert {t["verdict"] for t in check["evidence"]["open_tries"]} == {"soft-404"}
    assert check["reason"] == (
        "/open and /open/ answer with the site's page for any address (a soft 404) "
        "on all four endpoints (www and bare, https and http)"
    )


def test_soft_404_with_a_distinct_not_found_page_is_detected_by_title() -> None:
    """Every path answers 200 with a 'Page not found' page that differs from the homepage."""
    missing = page("Page not found", "<p>Sorry, we could not find that page.</p>")
    check, _, _ = drive(standard_site("alpha.gov"), catch_all=ok(missing))
    assert check["status"] == "no-open-page"
    assert {t["verdict"] for t in check["evidence"]["open_tries"]} == {"soft-404"}
    assert check["evidence"]["soft_404"]["title"] == "Page not found"


def test_open_answering_404_everywhere_is_no_open_page() -> None:
    check, _, _ = drive(standard_site("alpha.gov"))
    assert check["status"] == "no-open-page"
    assert {t["verdict"] for t in check["evidence"]["open_tries"]} == {"http-404"}
    assert check["reason"] == (
        "/open and /open/ answer 404 on all four endpoints (www and bare, https and http)"
    )
    # The reason says it in words; every URL and its answer is in the evidence.
    assert len(check["evidence"]["open_tries"]) == 8
    assert "https://" not in check["reason"]


def test_https_only_site_without_open_is_still_no_open_page() -> None:
    """Plain http refused: those tries prove nothing, the https 404s do."""
    pages = {
        "https://alpha.gov/": redirect("https://www.alpha.gov/"),
        "https://www.alpha.gov/": ok(page("Alpha", PROSE)),
        "http://www.alpha.gov/open": REFUSED,
        "http://www.alpha.gov/open/": REFUSED,
    }
    check, _, _ = drive(pages)
    assert check["status"] == "no-open-page", check["reason"]


@pytest.mark.parametrize("code", [403, 429, 503])
def test_open_that_cannot_be_checked_is_unreachable_not_absent(code: int) -> None:
    """Homepage fine, /open answers 403/429/5xx (after retries), /open/ is 404: the page the
    policy names could not be checked, which is not the same as its absence."""
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": status(code, page("Error", "<p>Try again later.</p>")),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "unreachable"
    assert check["reason"] == (
        f"/open could not be checked: /open answers {code} on https://www.alpha.gov; "
        "the other seven /open URLs tried answer 404"
    )


def test_blocked_everywhere_is_unreachable_blocked() -> None:
    denied = status(403, page("Access Denied", "<p>Forbidden</p>"))
    check, _, _ = drive({}, catch_all=denied)
    assert check["status"] == "unreachable"
    assert check["reason"] == "blocked: the homepage and every /open URL answer 403"


def test_homepage_timeout_is_unreachable_after_one_try() -> None:
    check, _, asked = drive({}, catch_all=TIMEOUT)
    assert check["status"] == "unreachable"
    assert check["reason"] == "no homepage answered: https://www.alpha.gov times out"
    assert asked == ["https://www.alpha.gov/"]  # a slow host is not asked under its other names


def test_host_down_tries_every_homepage_name() -> None:
    check, _, asked = drive({}, catch_all=REFUSED)
    assert check["status"] == "unreachable"
    assert check["reason"] == (
        "no homepage answered: all four endpoints (www and bare, https and http) "
        "refuse the connection"
    )
    assert len(asked) == 4


def test_without_keep_evidence_no_bodies_are_kept() -> None:
    pages = {**standard_site("alpha.gov"), "https://www.alpha.gov/open": ok(plan_html())}
    check, blobs, _ = drive(pages, keep_evidence=False)
    assert check["status"] == "published"
    assert blobs == []
    assert check["plan_hash"] == hashlib.sha256(plan_html()).hexdigest()


# ============================================================================================
# Integration: the demo world of the simulated web
# ============================================================================================

WORLD = yaml.safe_load((DEMO / "world.yaml").read_text(encoding="utf-8"))
WORLD_BY_DOMAIN = {d["domain"]: d for d in WORLD["domains"]}
with (SEEDS / "agencies.csv").open(encoding="utf-8") as _f:
    AGENCIES = {row["primary_domain"]: row["agency"] for row in csv.DictReader(_f)}
EXPECTED = {d: WORLD_BY_DOMAIN[d]["expected"]["plan"] for d in AGENCIES}
SECOND_CRAWL = ["opm.gov", "ssa.gov", "va.gov", "commerce.gov", "treasury.gov"]
COMMON = (
    "--policy",
    str(SEEDS / "policy.toml"),
    "--agencies",
    str(SEEDS / "agencies.csv"),
    "--waivers",
    str(SEEDS / "waivers.csv"),
)


class DemoRuns:
    """What the module's crawls and audits left behind."""

    def __init__(self, web: SimulatedWeb, db_url: str, db_path: Path) -> None:
        self.web = web
        self.db_url = db_url
        self.db_path = db_path
        self.plans: dict[int, dict[str, dict[str, Any]]] = {}
        self.findings: dict[int, list[dict[str, Any]]] = {}
        self.plans_csv = ""
        self.transportation_open: list[int] = []

    def crawl(self, *args: str) -> str:
        """`govaudit crawl` in a subprocess, through the simulated web's proxy."""
        return govaudit(self.web, self.db_url, *COMMON, "crawl", *args).stderr

    def run(self, *args: str) -> str:
        """Any other command, in-process (no traffic; saves a process start per call)."""
        from govaudit.cli import cli

        result = CliRunner().invoke(cli, ["--db", self.db_url, *COMMON, *args])
        assert result.exit_code == 0, f"govaudit {' '.join(args)}: {result.output}"
        return result.stdout

    def export_plans(self, run: int) -> dict[str, dict[str, Any]]:
        rows = json.loads(self.run("export", "plans", "--run", str(run), "--format", "json"))
        return {r["domain"]: r for r in rows}

    def export_findings(self, rule: str | None = None, audit: int | None = None) -> list[Any]:
        args = ["export", "findings", "--format", "json"]
        args += ["--rule", rule] if rule else []
        args += ["--audit-run", str(audit)] if audit else []
        return json.loads(self.run(*args))

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as db:
            return db.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRuns]:
    db_path = tmp_path_factory.mktemp("open-pages") / "govaudit.db"
    with SimulatedWeb.demo() as web:
        web.set_epoch(1)
        web.reset_sequences()  # transportation.gov/open: 503 once, then 200
        runs = DemoRuns(web, f"sqlite:///{db_path}", db_path)
        runs.run("inventory", "load", str(SEEDS / "demo-federal-2014-12-16.csv"))
        # Crawl 1: every agency of agencies.csv, bodies kept. The overlay's 3-s timeout makes
        # usaid.gov (30-s delay) unreachable.
        runs.crawl("--only", "open", "--workers", "2", "--keep-evidence")
        runs.transportation_open = [
            r.status for r in web.requests("www.transportation.gov") if r.path == "/open"
        ]
        runs.plans[1] = runs.export_plans(1)
        runs.plans_csv = runs.run("export", "plans", "--run", "1", "--format", "csv")
        runs.run("audit")
        runs.findings[1] = runs.export_findings()
        # Crawl 2: the world later (opm.gov publishes its plan, commerce.gov goes down).
        web.set_epoch(2)
        try:
            domain_args = [a for d in SECOND_CRAWL for a in ("--domain", d)]
            runs.crawl("--only", "open", "--workers", "2", *domain_args)
            runs.plans[2] = runs.export_plans(2)
            runs.run("audit")
            runs.findings[2] = runs.export_findings()
        finally:
            web.set_epoch(1)
        yield runs


def findings_of(runs: DemoRuns, audit: int, rule: str) -> dict[str, dict[str, Any]]:
    return {f["domain"]: f for f in runs.findings[audit] if f["rule"] == rule}


@pytest.mark.integration
@pytest.mark.parametrize("domain", sorted(EXPECTED))
def test_each_agency_gets_the_status_world_yaml_expects(demo: DemoRuns, domain: str) -> None:
    row = demo.plans[1][domain]
    assert row["agency"] == AGENCIES[domain]
    assert row["status"] == EXPECTED[domain], row["status_reason"]


@pytest.mark.integration
def test_one_row_per_agency_with_the_public_columns(demo: DemoRuns) -> None:
    assert set(demo.plans[1]) == set(AGENCIES)
    for row in demo.plans[1].values():
        for key in (
            "agency",
            "domain",
            "open_page_url",
            "status",
            "plan_url",
            "plan_content_type",
            "elements",
            "missing_elements",
            "first_seen",
            "late",
            "evidence",
        ):
            assert key in row
        has_plan = row["status"] in ("published", "incomplete")
        assert (row["plan_url"] is not None) == has_plan
        assert (row["first_seen"] is not None) == has_plan
        if has_plan:
            assert set(row["elements"]) == set(REQUIRED)
            assert all(isinstance(v, bool) for v in row["elements"].values())
            assert row["evidence"]["plan_hash"]
        else:
            assert row["late"] is None


@pytest.mark.integration
def test_csv_export_has_the_same_rows(demo: DemoRuns) -> None:
    rows = list(csv.DictReader(io.StringIO(demo.plans_csv)))
    assert {r["domain"]: r["status"] for r in rows} == {
        d: r["status"] for d, r in demo.plans[1].items()
    }
    dol = next(r for r in rows if r["domain"] == "dol.gov")
    assert json.loads(dol["missing_elements"]) == ["service_standards", "timeline"]
    assert json.loads(dol["elements"])["signature_initiative"] is True


@pytest.mark.integration
def test_ssa_html_plan_linked_from_open(demo: DemoRuns) -> None:
    row = demo.plans[1]["ssa.gov"]
    assert row["open_page_url"] == "https://www.ssa.gov/open/"
    assert row["plan_url"] == "https://www.ssa.gov/open/customerserviceplan/"
    assert row["plan_content_type"].startswith("text/html")
    assert row["missing_elements"] == [] and all(row["elements"].values())
    snippets = row["evidence"]["snippets"]
    assert "Signature Initiative" in snippets["signature_initiative"]
    assert "Timing" in snippets["timeline"]
    assert row["stated_date"] == "2011-10-24" and row["late"] is False
    # /open -> /open/ is in the redirect chain; every visit has its status and time.
    assert row["evidence"]["open_redirect_chain"][0]["location"] == "https://www.ssa.gov/open/"
    visits = {v["url"]: v for v in row["evidence"]["visits"]}
    assert visits["https://www.ssa.gov/open/customerserviceplan/"]["status"] == 200
    assert all(v["fetched_at"] for v in visits.values())
    candidate = row["evidence"]["candidates"][0]
    assert candidate["url"] == row["plan_url"] and candidate["from"] == row["open_page_url"]
    # The kept plan body is the SSA-style plan, with its "Key Customer Groups" section.
    (body,) = demo.sql(
        "select body from evidence_blob where run_id = 1 and url = ?", row["plan_url"]
    )
    assert b"Key Customer Groups" in zlib.decompress(body[0])


@pytest.mark.integration
def test_nasa_pdf_plan(demo: DemoRuns) -> None:
    row = demo.plans[1]["nasa.gov"]
    assert row["status"] == "published"
    assert row["plan_url"] == "https://www.nasa.gov/open/plan/nasa-customer-service-plan.pdf"
    assert row["plan_content_type"] == "application/pdf"
    assert row["evidence"]["plan_kind"] == "pdf"
    assert row["stated_date"] == "2011-10-24"


@pytest.mark.integration
def test_doi_plan_one_page_deeper(demo: DemoRuns) -> None:
    row = demo.plans[1]["doi.gov"]
    assert row["plan_url"] == "https://www.doi.gov/open/customer-service/plan"
    depth = {c["url"]: c["depth"] for c in row["evidence"]["candidates"]}
    assert depth["https://www.doi.gov/open/customer-service"] == 1
    assert depth[row["plan_url"]] == 2


@pytest.mark.integration
@pytest.mark.parametrize(
    ("domain", "open_url", "hop"),
    [
        ("hhs.gov", "https://www.hhs.gov/portal/category/123", 301),
        ("energy.gov", "https://www.energy.gov/open/Pages/default.aspx", 302),
    ],
)
def test_open_redirecting_into_a_cms_path(
    demo: DemoRuns, domain: str, open_url: str, hop: int
) -> None:
    row = demo.plans[1][domain]
    assert row["status"] == "published"
    assert row["open_page_url"] == open_url
    chain = row["evidence"]["open_redirect_chain"]
    assert chain[0]["status"] == hop and chain[-1]["location"] == open_url
    assert row["plan_url"] == WORLD_BY_DOMAIN[domain]["plan_url"]


@pytest.mark.integration
def test_epa_soft_404_site(demo: DemoRuns) -> None:
    row = demo.plans[1]["epa.gov"]
    assert row["open_page_url"] is None and row["plan_url"] is None
    assert row["evidence"]["soft_404"]["status"] == 200  # the random path answered 200
    tries = row["evidence"]["open_tries"]
    assert tries[0]["url"] == "https://www.epa.gov/open"
    assert tries[0]["status"] == 200 and tries[0]["verdict"] == "soft-404"
    assert row["status_reason"].startswith(
        "/open and /open/ answer with the site's page for any address (a soft 404)"
    )


@pytest.mark.integration
def test_sba_open_redirects_to_the_homepage(demo: DemoRuns) -> None:
    row = demo.plans[1]["sba.gov"]
    first = row["evidence"]["open_tries"][0]
    assert first["url"] == "https://www.sba.gov/open"
    assert first["verdict"] == "homepage" and first["final_url"] == "https://www.sba.gov/"
    assert "/open leads to the homepage on all four endpoints" in row["status_reason"]


@pytest.mark.integration
def test_dol_plan_missing_two_elements(demo: DemoRuns) -> None:
    row = demo.plans[1]["dol.gov"]
    assert row["missing_elements"] == ["service_standards", "timeline"]
    assert row["elements"]["service_standards"] is False
    assert row["elements"]["timeline"] is False
    assert sum(row["elements"].values()) == len(REQUIRED) - 2
    assert set(row["evidence"]["snippets"]) == set(REQUIRED) - {"service_standards", "timeline"}


@pytest.mark.integration
def test_hud_mentions_customer_service_but_links_no_plan(demo: DemoRuns) -> None:
    row = demo.plans[1]["hud.gov"]
    assert row["open_page_url"] == "https://www.hud.gov/open"
    assert row["plan_url"] is None and row["elements"] == {}
    assert row["status_reason"] == "/open links no Customer Service Plan"


@pytest.mark.integration
def test_justice_dead_plan_link_is_no_plan_with_the_link(demo: DemoRuns) -> None:
    row = demo.plans[1]["justice.gov"]
    dead_url = "https://www.justice.gov/open/doj-customer-service-plan.pdf"
    assert row["plan_url"] is None
    assert [(d["url"], d["status"]) for d in row["evidence"]["dead_links"]] == [(dead_url, 404)]
    assert row["status_reason"] == "the plan link answers 404"


@pytest.mark.integration
def test_treasury_plan_published_late(demo: DemoRuns) -> None:
    row = demo.plans[1]["treasury.gov"]
    assert row["status"] == "published"
    assert row["stated_date"] == "2012-03-01"
    assert row["late"] is True
    on_time = [d for d, r in demo.plans[1].items() if r["late"] is False]
    assert "ssa.gov" in on_time and "usda.gov" in on_time  # usda: October 21, 2011


@pytest.mark.integration
@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        (
            "nrc.gov",
            re.escape(
                "no homepage answered: all four endpoints (www and bare, https and http) "
                "refuse the connection"
            ),
        ),
        ("usaid.gov", r"no homepage answered: https://www\.usaid\.gov time(s out|d out \w+ times)"),
        ("defense.gov", "blocked: the homepage and every /open URL answer 403"),
        ("dhs.gov", "robots.txt forbids the homepage, so /open could not be checked"),
    ],
)
def test_unreachable_sites_say_why(demo: DemoRuns, domain: str, reason: str) -> None:
    row = demo.plans[1][domain]
    assert row["status"] == "unreachable"
    assert re.fullmatch(reason, row["status_reason"]), row["status_reason"]
    assert row["open_page_url"] is None and row["plan_url"] is None


@pytest.mark.integration
def test_flaky_open_page_is_retried_not_reported_missing(demo: DemoRuns) -> None:
    assert demo.transportation_open[:2] == [503, 200]
    assert demo.plans[1]["transportation.gov"]["status"] == "published"


@pytest.mark.integration
def test_evidence_blobs_are_compressed_bodies_matching_their_hash(demo: DemoRuns) -> None:
    blobs = demo.sql("select url, content_type, sha256, body from evidence_blob where run_id = 1")
    assert blobs
    by_url: dict[str, list[tuple[str | None, str, bytes]]] = {}
    for url, ctype, sha, body in blobs:
        raw = zlib.decompress(body)
        assert hashlib.sha256(raw).hexdigest() == sha, url
        by_url.setdefault(url, []).append((ctype, sha, raw))
    for domain, row in demo.plans[1].items():
        if row["status"] in ("published", "incomplete"):
            kept = by_url[row["plan_url"]]
            assert [sha for _, sha, _ in kept] == [row["evidence"]["plan_hash"]], domain
            assert row["open_page_url"] in by_url, domain
        elif row["status"] == "no-plan":
            assert row["open_page_url"] in by_url, domain
    (nasa,) = by_url["https://www.nasa.gov/open/plan/nasa-customer-service-plan.pdf"]
    assert nasa[0] == "application/pdf" and nasa[2].startswith(b"%PDF-")
    # treasury's plan is its /open page: kept once
    assert len(by_url["https://www.treasury.gov/open"]) == 1
    kept_hosts = {url.split("/")[2] for url in by_url}
    for domain in ("nrc.gov", "usaid.gov", "defense.gov", "dhs.gov", "epa.gov", "va.gov"):
        assert f"www.{domain}" not in kept_hosts


@pytest.mark.integration
def test_second_crawl_opm_publishes_and_first_seen_is_the_first_sighting(demo: DemoRuns) -> None:
    before, after = demo.plans[1], demo.plans[2]
    assert set(after) == {d for d in SECOND_CRAWL}
    assert before["opm.gov"]["status"] == "no-plan"
    opm = after["opm.gov"]
    expected2 = WORLD_BY_DOMAIN["opm.gov"]["expected_epoch2"]
    assert opm["status"] == expected2["plan"] == "published"
    assert opm["plan_url"] == expected2["plan_url"]
    assert opm["stated_date"] == expected2["plan_published"]
    assert opm["late"] is True  # December 15, 2011
    assert opm["first_seen"] == opm["fetched_at"]  # first seen by the second crawl
    # ssa.gov's plan was first seen by the first crawl, and stays so.
    assert after["ssa.gov"]["first_seen"] == before["ssa.gov"]["first_seen"]
    assert after["ssa.gov"]["first_seen"] == before["ssa.gov"]["fetched_at"]
    assert after["ssa.gov"]["crawl_run"] == 2
    # The other epoch-2 changes of world.yaml.
    for domain in SECOND_CRAWL:
        want = WORLD_BY_DOMAIN[domain].get("expected_epoch2", WORLD_BY_DOMAIN[domain]["expected"])
        assert after[domain]["status"] == want["plan"], (domain, after[domain]["status_reason"])
    assert "refuse the connection" in after["commerce.gov"]["status_reason"]


@pytest.mark.integration
def test_second_crawl_keeps_no_bodies_without_keep_evidence(demo: DemoRuns) -> None:
    assert demo.sql("select count(*) from evidence_blob where run_id = 2") == [(0,)]


PLAN_RULES = {
    "open-page-missing": "no-open-page",
    "plan-missing": "no-plan",
    "plan-incomplete": "incomplete",
    "site-unreachable": "unreachable",
}


@pytest.mark.integration
@pytest.mark.parametrize("rule", sorted(PLAN_RULES))
def test_findings_match_the_plan_statuses(demo: DemoRuns, rule: str) -> None:
    found = findings_of(demo, 1, rule)
    want = {d for d, r in demo.plans[1].items() if r["status"] == PLAN_RULES[rule]}
    assert set(found) == want
    for domain, finding in found.items():
        assert finding["agency"] == AGENCIES[domain]
        assert finding["evidence"]["status_reason"] == demo.plans[1][domain]["status_reason"]
        assert finding["evidence"]["visits"] or rule == "site-unreachable"


@pytest.mark.integration
def test_finding_texts(demo: DemoRuns) -> None:
    incomplete = findings_of(demo, 1, "plan-incomplete")["dol.gov"]
    assert incomplete["summary"] == (
        "Department of Labor: plan https://www.dol.gov/open misses service_standards, timeline"
    )
    assert incomplete["evidence"]["missing_elements"] == ["service_standards", "timeline"]
    assert incomplete["severity"] == "medium"
    dead = findings_of(demo, 1, "plan-missing")["justice.gov"]
    assert dead["summary"].endswith("(the plan link answers 404)")
    assert dead["evidence"]["dead_links"][0]["status"] == 404
    blocked = findings_of(demo, 1, "site-unreachable")["defense.gov"]
    assert blocked["summary"].startswith(
        "Department of Defense: defense.gov could not be checked (blocked: "
    )
    soft = findings_of(demo, 1, "open-page-missing")["epa.gov"]
    assert "(a soft 404)" in soft["summary"]


@pytest.mark.integration
def test_plan_late_findings(demo: DemoRuns) -> None:
    late1 = findings_of(demo, 1, "plan-late")
    assert set(late1) == {d for d, r in demo.plans[1].items() if r["late"] is True}
    assert "treasury.gov" in late1
    assert (
        "plan dated 2012-03-01, after the deadline 2011-10-24" in late1["treasury.gov"]["summary"]
    )
    late2 = findings_of(demo, 2, "plan-late")
    assert {"treasury.gov", "opm.gov"} <= set(late2)
    assert "2011-12-15" in late2["opm.gov"]["summary"]


@pytest.mark.integration
def test_export_findings_rule_filter(demo: DemoRuns) -> None:
    rows = demo.export_findings("plan-incomplete", audit=1)
    assert [(r["rule"], r["domain"]) for r in rows] == [("plan-incomplete", "dol.gov")]
    rows = demo.export_findings("plan-late", audit=1)
    assert [r["domain"] for r in rows] == ["treasury.gov"]
    # Without --audit-run: the newest audit, of the second crawl (opm.gov's plan now late too).
    assert {r["domain"] for r in demo.export_findings("plan-late")} == {"opm.gov", "treasury.gov"}


@pytest.mark.integration
def test_couldnt_check_is_never_reported_as_absent(demo: DemoRuns) -> None:
    for audit in (1, 2):
        absent = set(findings_of(demo, audit, "open-page-missing")) | set(
            findings_of(demo, audit, "plan-missing")
        )
        unreachable = set(findings_of(demo, audit, "site-unreachable"))
        assert not absent & unreachable
    second = findings_of(demo, 2, "site-unreachable")
    assert "commerce.gov" in second  # the host went down: not "no plan"
    assert "opm.gov" not in findings_of(demo, 2, "plan-missing")
