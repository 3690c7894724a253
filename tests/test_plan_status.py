"""Plans judged in audit/ (audit/plan_status.py, audit/plan_text.py) from what the /open crawl
stored: re-judging under another policy without a crawl, lateness without a stated date,
citation dates, and /open pages that could not be checked (left scope, script-only)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from audit.db import Database
from audit.findings import AuditInput
from audit.models import (
    AuditRun,
    CrawlRun,
    CrawlTask,
    EvidenceBlob,
    OpenObservation,
    OpenTry,
    PlanCheck,
    PlanDocument,
)
from audit.plan_rows import plan_row, plans_rows
from audit.plan_status import lateness
from audit.plan_text import DateMention, date_mentions, find_stated_date, stated_date
from audit.policy_file import load_policy
from audit.rules import plan_late
from crawler.items import PlanResult
from tests.crawl_world import export, govaudit, registry_csv
from tests.test_open_pages import ok, page, plan_html, spider_result, standard_site

TEXTS = Path(__file__).parent / "fixtures" / "text"
DEADLINE = dt.date(2011, 10, 24)


def cli(db_url: str, *args: str) -> str:
    from govaudit.cli import cli as govaudit_cli

    result = CliRunner().invoke(govaudit_cli, ["--db", db_url, *args])
    assert result.exit_code == 0, f"govaudit {' '.join(args)}: {result.output}"
    return result.stdout


def store(db: Database, run_id: int, result: PlanResult, finished: dt.datetime) -> None:
    """Write a spider result the way crawler/pipelines.py does, with its run and task."""
    with db.session() as s:
        if s.get(CrawlRun, run_id) is None:
            s.add(CrawlRun(id=run_id, status="finished", finished_at=finished))
            s.flush()
        s.execute(
            insert(OpenObservation),
            [{**result.observation, "run_id": run_id, "agency": result.agency}],
        )
        s.execute(
            insert(OpenTry),
            [{**t, "run_id": run_id, "agency": result.agency} for t in result.tries],
        )
        s.execute(
            insert(PlanDocument),
            [{**d, "run_id": run_id, "agency": result.agency} for d in result.documents],
        )
        if result.blobs:
            s.execute(insert(EvidenceBlob), [{**b, "run_id": run_id} for b in result.blobs])
        s.add(
            CrawlTask(
                run_id=run_id,
                job="open",
                key=result.agency,
                domain=result.observation["domain"],
                agency=result.agency,
                state="done",
            )
        )


def open_plan_site(domain: str, plan: bytes) -> dict[str, dict[str, Any]]:
    return {**standard_site(domain), f"https://www.{domain}/open": ok(plan)}


# ============================================================================================
# Re-judging under another policy, without a crawl
# ============================================================================================


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A throw-away database: SQLite, and PostgreSQL (conftest's `pg_url`)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/plans.db"
    return str(request.getfixturevalue("pg_url"))


def test_changed_element_patterns_rejudge_the_plan_without_a_crawl(
    any_db_url: str, tmp_path: Path
) -> None:
    db_url = any_db_url
    db = Database(db_url)
    result, _ = spider_result(open_plan_site("alpha.gov", plan_html()), "alpha.gov")
    store(db, 1, result, dt.datetime(2026, 1, 5))
    # Under the shipped policy: every element is there ("Timing" is a timeline).
    cli(db_url, "audit")
    default_rows = json.loads(cli(db_url, "export", "plans", "--format", "json"))
    assert [(r["agency"], r["status"]) for r in default_rows] == [("Alpha Agency", "published")]
    # Another policy: a timeline must be called a Gantt chart. Same stored observations.
    other = tmp_path / "other.toml"
    other.write_text('[plans.elements]\ntimeline = ["gantt\\\\s+chart"]\n', encoding="utf-8")
    assert load_policy(other).section("plans")["elements"]["timeline"] == ["gantt\\s+chart"]
    out = json.loads(cli(db_url, "audit", "--policy", str(other), "--format", "json"))
    assert out  # the audit reports its findings
    rows = json.loads(cli(db_url, "--policy", str(other), "export", "plans", "--format", "json"))
    (row,) = rows
    assert row["status"] == "incomplete"
    assert row["missing_elements"] == ["timeline"]
    assert row["elements"]["timeline"] is False and row["elements"]["signature_initiative"]
    assert row["status_reason"] == "the plan misses one required element: timeline"
    findings = json.loads(
        cli(db_url, "export", "findings", "--rule", "plan-incomplete", "--format", "json")
    )
    assert [(f["agency"], f["evidence"]["missing_elements"]) for f in findings] == [
        ("Alpha Agency", ["timeline"])
    ]
    with db.session() as s:
        audits = s.scalars(select(AuditRun).order_by(AuditRun.id)).all()
        assert [a.summary["plan_counts"] for a in audits] == [
            {"published": 1},
            {"incomplete": 1},
        ]
        assert audits[-1].policy["plans"]["elements"]["timeline"] == ["gantt\\s+chart"]
        # plan_check holds the newest audit's judgement, for SQL readers.
        (check,) = s.scalars(select(PlanCheck)).all()
        assert (check.status, check.audit_run_id) == ("incomplete", audits[-1].id)
    # Back under the shipped policy, the same observations are a published plan again.
    again = json.loads(cli(db_url, "export", "plans", "--format", "json"))
    assert again[0]["status"] == "published"  # export judges with the policy given


def test_a_lower_inline_threshold_makes_the_open_page_the_plan() -> None:
    from audit.plan_status import PlanPolicy, facts_from_rows, judge_plan

    text = "<h1>Open Government</h1><p>Our signature initiative and customer feedback.</p>"
    result, _ = spider_result(open_plan_site("alpha.gov", page("Open", text)), "alpha.gov")
    facts = facts_from_rows(
        {**result.observation, "agency": result.agency, "fetched_at": dt.datetime(2026, 1, 1)},
        result.tries,
        result.documents,
    )
    plans = load_policy().section("plans")
    assert judge_plan(facts, PlanPolicy.from_section(plans)).status == "no-plan"
    lower = PlanPolicy.from_section({**plans, "inline_min_elements": 2})
    judged = judge_plan(facts, lower)
    assert judged.status == "incomplete"
    assert judged.plan is not None and judged.plan.source == "open"


# ============================================================================================
# Issue 10, case 2: no stated date -> lateness unknown, unless seen before the deadline
# ============================================================================================

UNDATED_PLAN = plan_html().replace(b"<p>Published October 24, 2011</p>", b"")


def test_undated_plan_is_not_late_but_unknown(tmp_path: Path) -> None:
    assert b"Published" not in UNDATED_PLAN
    db_url = f"sqlite:///{tmp_path}/undated.db"
    db = Database(db_url)
    result, _ = spider_result(open_plan_site("alpha.gov", UNDATED_PLAN), "alpha.gov")
    store(db, 1, result, dt.datetime(2026, 1, 5))
    cli(db_url, "audit")
    (row,) = json.loads(cli(db_url, "export", "plans", "--format", "json"))
    assert row["status"] == "published"
    assert row["stated_date"] is None and row["first_seen"]
    assert row["late"] is None
    assert row["date_note"] == "date not stated"
    late = json.loads(cli(db_url, "export", "findings", "--rule", "plan-late", "--format", "json"))
    assert late == []


def test_undated_plan_first_seen_by_a_run_that_ended_before_the_deadline_is_on_time(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path}/early.db")
    early, _ = spider_result(open_plan_site("alpha.gov", UNDATED_PLAN), "alpha.gov")
    store(db, 1, early, dt.datetime(2011, 9, 30, 12))
    later, _ = spider_result(open_plan_site("alpha.gov", UNDATED_PLAN), "alpha.gov")
    store(db, 2, later, dt.datetime(2026, 1, 5))
    with db.session() as s:
        (row,) = plans_rows(s, 2, DEADLINE, load_policy().section("plans"))
        assert s.get(CrawlRun, 1).finished_at == dt.datetime(2011, 9, 30, 12)
    assert row["crawl_run"] == 2 and row["stated_date"] is None
    assert row["late"] is False
    assert row["date_note"].startswith("date not stated; first seen by a crawl that ended")


@pytest.mark.parametrize(
    ("stated", "ended", "late", "note"),
    [
        (dt.date(2012, 3, 1), None, True, None),
        (dt.date(2011, 10, 21), dt.datetime(2026, 1, 1), False, None),
        (None, dt.datetime(2026, 1, 1), None, "date not stated"),
        (None, None, None, "date not stated"),
        (None, dt.datetime(2011, 10, 24, 23), False, "date not stated; first seen by a crawl"),
    ],
)
def test_lateness(
    stated: dt.date | None, ended: dt.datetime | None, late: bool | None, note: str | None
) -> None:
    got_late, got_note = lateness(stated, True, DEADLINE, ended)
    assert got_late is late
    assert (got_note or "").startswith(note or "") and (got_note is None) == (note is None)
    assert lateness(stated, False, DEADLINE, ended) == (None, None)


def test_no_plan_late_finding_without_a_stated_date() -> None:
    check = {
        "agency": "Alpha Agency",
        "domain": "alpha.gov",
        "open_page_url": "https://www.alpha.gov/open",
        "status": "published",
        "reason": "the plan has every required element",
        "plan_url": "https://www.alpha.gov/open",
        "plan_content_type": "text/html",
        "plan_hash": "ab" * 32,
        "stated_date": None,
        "elements": {},
        "extras": {},
        "evidence": {},
        "run_id": 3,
        "fetched_at": dt.datetime(2026, 1, 5),
    }
    undated = plan_row(check, dt.datetime(2026, 1, 5), DEADLINE, dt.datetime(2026, 1, 6))
    dated = plan_row(
        {**check, "agency": "Beta", "stated_date": dt.date(2012, 3, 1)}, None, DEADLINE
    )
    data = AuditInput(
        policy=load_policy(), waivers=[], snapshots=[], registry={}, rdap={}, plans=[undated, dated]
    )
    assert [f.agency for f in plan_late.check(data)] == ["Beta"]


# ============================================================================================
# Issue 10, case 3: a cited order, memo, act or law's date is never the plan's date
# ============================================================================================


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plan_citing_eo_undated.txt", None),
        ("plan_citing_memo_and_act_posted.txt", dt.date(2011, 10, 21)),
        ("plan_published_then_citations.txt", dt.date(2011, 10, 24)),
    ],
)
def test_citation_dates_in_plan_texts(name: str, expected: dt.date | None) -> None:
    text = (TEXTS / name).read_text(encoding="utf-8")
    assert find_stated_date(text) == expected
    # The same from the dates the crawl stores (date and context, as JSON).
    stored = [
        DateMention.from_json(json.loads(json.dumps(m.as_json()))) for m in date_mentions(text)
    ]
    found = stated_date(stored)
    assert (found.date if found else None) == expected


@pytest.mark.parametrize(
    "text",
    [
        "This plan is issued pursuant to Executive Order 13571 of April 27, 2011.",
        "Issued in response to OMB Memorandum M-11-24 (June 13, 2011), Implementing EO 13571.",
        "Released under the GPRA Modernization Act of 2010, January 4, 2011.",
        "Published as required by E.O. 13571, signed April 27, 2011",
        "Issued under Public Law 111-352 (January 4, 2011)",
        "Dated per the Act, March 2011",
    ],
)
def test_citation_date_is_never_the_plan_date(text: str) -> None:
    assert find_stated_date(text) is None
    assert any(m.is_citation for m in date_mentions(text))


def test_a_date_after_a_citation_still_counts_when_it_is_the_plan_date() -> None:
    text = "Executive Order 13571 of April 27, 2011 asks for plans. Issued: October 24, 2011"
    assert find_stated_date(text) == dt.date(2011, 10, 24)
    assert [m.is_citation for m in date_mentions(text)] == [True, False]


# ============================================================================================
# Issue 10, case 5 on the simulated web: left scope, script-only page
# ============================================================================================


@pytest.mark.integration
def test_open_pages_that_could_not_be_checked_on_the_simulated_web(tmp_path: Path) -> None:
    from simweb.server import SimulatedWeb
    from tests.crawl_world import FILES, OPEN_UNCHECKABLE, sites
    from tests.simweb_plugin import write_sites

    folder = write_sites(tmp_path / "world", sites(), FILES)
    agencies = tmp_path / "agencies.csv"
    agencies.write_text(
        "agency,slug,primary_domain,source\n"
        + "".join(
            f"{name},{name.split()[0].lower()},{d},test\n" for d, name in OPEN_UNCHECKABLE.items()
        ),
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path}/open.db"
    registry = registry_csv(tmp_path / "registry-2026-01-01.csv", sorted(OPEN_UNCHECKABLE))
    with SimulatedWeb.from_directory(folder) as web:
        govaudit(None, db, "inventory", "load", str(registry))
        govaudit(
            web,
            db,
            "--agencies",
            str(agencies),
            "crawl",
            "--only",
            "open",
            "--workers",
            "1",
            "--timeout",
            "5",
        )
        rows = {r["domain"]: r for r in export(web, db, "plans")}
        govaudit(None, db, "--agencies", str(agencies), "audit")
        findings = export(None, db, "findings")
    iota, kappa = rows["iota.gov"], rows["kappa.gov"]
    assert iota["status"] == "unreachable"
    assert iota["status_reason"] == "/open leads off the agency's domains, to open.example.com"
    assert iota["evidence"]["open_tries"][0]["final_url"] == "https://open.example.com/iota"
    assert iota["evidence"]["open_tries"][0]["verdict"] == "left-scope"
    assert kappa["status"] == "unreachable"
    assert kappa["status_reason"].startswith("script-only page: ")
    assert {t["verdict"] for t in kappa["evidence"]["open_tries"]} <= {"soft-404", "homepage"}
    by_rule = {(f["rule"], f["domain"]) for f in findings}
    for domain in OPEN_UNCHECKABLE:
        assert ("site-unreachable", domain) in by_rule
        assert ("open-page-missing", domain) not in by_rule
