"""RDAP registration dates through the real CLI against a simulated RDAP service, and the
audit on top of them (issue: freeze, done-when (b), (c), (d)).

The simulated web serves `https://rdap.test.gov/rdap/domain/<name>` with RFC 9083-shaped
answers: domain objects, a 404 error object, 429 with Retry-After (once, then an answer; and
always), malformed JSON and an answer slower than `--timeout`. Traffic goes to 127.0.0.1
only (the simulated web's proxy).

(b) every bad answer is stored with a clear state and the fetch time, and the audit still
runs; (c) a bad waivers.csv / policy.toml row is refused with file and line, and the
database is left byte for byte as it was; (d) another policy changes the findings without
a new crawl or RDAP request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from crawler.spiders.rdap import rdap_state
from tests.crawl_world import govaudit, registry_csv

RDAP_URL = "https://rdap.test.gov/rdap/"
RDAP_TYPE = "application/rdap+json"
CONFORMANCE = ["rdap_level_0", "icann_rdap_response_profile_0"]

INITIAL = "M-11-24 initial 90 days"  # 2011-06-13 .. 2011-09-11 (seeds/policy.toml)
YEAR_END = "M-11-24 extension to year end"  # 2011-09-12 .. 2011-12-31
GSA = "Indefinite extension until GSA review"  # 2012-01-01 .. 2014-12-08
DEFAULT_WINDOWS = (INITIAL, YEAR_END, GSA)


def domain_object(name: str, registered: str, *, upper: bool = False) -> dict[str, Any]:
    """An RDAP domain object shaped like the .gov registry's (RFC 9083)."""
    return {
        "rdapConformance": CONFORMANCE,
        "objectClassName": "domain",
        "handle": f"{name.split('.')[0].upper()}-GOV",
        "ldhName": name.upper() if upper else name,
        "links": [
            {
                "value": f"{RDAP_URL}domain/{name}",
                "rel": "self",
                "href": f"{RDAP_URL}domain/{name}",
                "type": RDAP_TYPE,
            }
        ],
        "status": ["client delete prohibited", "server transfer prohibited"],
        "events": [
            {"eventAction": "registration", "eventDate": registered},
            {"eventAction": "last changed", "eventDate": "2024-03-15T18:02:41.123456+00:00"},
            {"eventAction": "expiration", "eventDate": "2027-09-30T00:00:00-04:00"},
            {"eventAction": "last update of RDAP database", "eventDate": "2026-08-18T06:00:00Z"},
        ],
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "DOTGOV-REGISTRAR",
                "roles": ["registrar"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "x"]]],
            }
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": f"ns1.{name}"}],
        "secureDNS": {"delegationSigned": True},
        "notices": [
            {
                "title": "Terms of Use",
                "description": ["Simulated .gov RDAP answer for govaudit's tests."],
            }
        ],
    }


def error_object(code: int, title: str) -> dict[str, Any]:
    return {
        "rdapConformance": ["rdap_level_0"],
        "errorCode": code,
        "title": title,
        "description": [f"{title}."],
    }


def ok(name: str, registered: str, **page: Any) -> dict[str, Any]:
    return {"content_type": RDAP_TYPE, "json": domain_object(name, registered), **page}


TOO_MANY = {
    "status": 429,
    "headers": {"Retry-After": "1"},
    "content_type": RDAP_TYPE,
    "json": error_object(429, "Too Many Requests"),
}
MALFORMED = (
    '{"rdapConformance": ["rdap_level_0"], "objectClassName": "domain", "ldhName": '
    '"broken.gov", "events": [{"eventAction": "registration", "eventDate": "2003-02-10T'
)

RDAP_SITE = {
    "hosts": ["rdap.test.gov"],
    "schemes": ["https"],
    "catch_all": {
        "status": 404,
        "content_type": RDAP_TYPE,
        "json": error_object(404, "Not Found"),
    },
    "pages": {
        "/rdap/domain/newreg.gov": ok("newreg.gov", "2011-07-15T14:00:00Z"),
        "/rdap/domain/intime.gov": ok("intime.gov", "2011-08-01T10:00:00Z"),
        "/rdap/domain/latewaiver.gov": ok("latewaiver.gov", "2011-10-03T10:00:00Z"),
        # 2012-01-01 02:00 at +05:00 is 2011-12-31 21:00 UTC: the year-end window
        "/rdap/domain/offset.gov": ok("offset.gov", "2012-01-01T02:00:00+05:00"),
        "/rdap/domain/old.gov": {
            "content_type": RDAP_TYPE,
            "json": domain_object("old.gov", "1997-04-24T04:00:00Z", upper=True),
        },
        "/rdap/domain/flaky.gov": {
            "sequence": [TOO_MANY, ok("flaky.gov", "2012-03-01T09:30:00Z")],
        },
        "/rdap/domain/limited.gov": TOO_MANY,
        "/rdap/domain/broken.gov": {"content_type": RDAP_TYPE, "body": MALFORMED},
        "/rdap/domain/slow.gov": ok("slow.gov", "2011-07-01T00:00:00Z", delay=5),
    },
    "epochs": {
        2: {
            "pages": {
                "/rdap/domain/newreg.gov": {
                    "status": 500,
                    "content_type": RDAP_TYPE,
                    "json": error_object(500, "Internal Server Error"),
                },
                "/rdap/domain/limited.gov": ok("limited.gov", "2012-02-01T12:00:00Z"),
                "/rdap/domain/slow.gov": ok("slow.gov", "2013-05-05T12:00:00Z"),
            }
        }
    },
}

FIRST = ["old.gov"]
SECOND = [
    "old.gov",
    "newreg.gov",
    "intime.gov",
    "latewaiver.gov",
    "offset.gov",
    "flaky.gov",
    "limited.gov",
    "broken.gov",
    "slow.gov",
]
WAIVERS = (
    "domain,granted_on,granted_by,reference,note\n"
    "# test waivers: one in time, one late, one for a domain never registered\n"
    "intime.gov,2011-07-20,Federal CIO,W-1,in time\n"
    "latewaiver.gov,2011-11-01,Federal CIO,W-2,after the registration\n"
    "gone.gov,2011-08-01,Federal CIO,W-3,never registered\n"
)
RDAP_ARGS = ("rdap", "--rdap-url", RDAP_URL, "--timeout", "2")


def cli(web: Any, db: str, *args: str, check: bool = True) -> Any:
    """`govaudit ARGS` in-process (a subprocess costs a second of imports each time), with
    the simulated web's proxy in the environment: crawler processes it starts inherit it."""
    from click.testing import CliRunner

    from govaudit.cli import cli as govaudit_cli

    env = web.proxy_env() if web is not None else None
    result = CliRunner().invoke(govaudit_cli, ["--db", db, *args], env=env)
    result.returncode = result.exit_code  # type: ignore[attr-defined]
    if check and result.exit_code != 0:
        raise AssertionError(
            f"govaudit {' '.join(args)} exited {result.exit_code}:\n{result.output}"
        ) from result.exception
    return result


def export(db: str, what: str, *args: str) -> list[dict[str, Any]]:
    return json.loads(cli(None, db, "export", what, "--format", "json", *args).stdout)


def rdap_rows(db_url: str) -> list[dict[str, Any]]:
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM rdap_result ORDER BY id")]
    finally:
        con.close()


def count(db_url: str, table: str) -> int:
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def file_state(db_url: str) -> tuple[str, bool]:
    path = Path(db_url.removeprefix("sqlite:///"))
    wal = Path(str(path) + "-wal")
    return hashlib.sha256(path.read_bytes()).hexdigest(), wal.exists() and wal.stat().st_size > 0


def copy_db(db_url: str, folder: Path) -> str:
    target = folder / "copy.db"
    shutil.copy(db_url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def rdap_requests(web: Any) -> list[str]:
    return [r.path for r in web.requests("rdap.test.gov") if r.method != "CONNECT"]


def findings_by(rows: list[dict[str, Any]], rule: str) -> dict[tuple[str, str | None], Any]:
    return {(f["domain"], f["window"]): f for f in rows if f["rule"] == rule}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    web = SimulatedWeb.from_directory(
        write_sites(tmp_path_factory.mktemp("rdap-sites"), {"rdap": RDAP_SITE})
    ).start()
    tmp = tmp_path_factory.mktemp("rdap")
    db = f"sqlite:///{tmp}/rdap.db"
    waivers = tmp / "waivers.csv"
    waivers.write_text(WAIVERS, encoding="utf-8")
    files = [
        registry_csv(tmp / "registry-2011-01-01.csv", FIRST),
        registry_csv(tmp / "registry-2012-06-01.csv", SECOND),
    ]
    try:
        cli(None, db, "inventory", "load", *map(str, files))
        # the real command line in a subprocess, as an operator runs it
        asked = govaudit(web, db, "--waivers", str(waivers), *RDAP_ARGS)
        requests = rdap_requests(web)
        records = web.requests("rdap.test.gov")
        audited = cli(None, db, "--waivers", str(waivers), "audit", "--format", "json")
        findings = export(db, "findings")
        yield {
            "web": web,
            "db": db,
            "tmp": tmp,
            "waivers": waivers,
            "rdap_output": asked.stdout + asked.stderr,
            "requests": requests,
            "records": records,
            "rows": {r["domain"]: r for r in rdap_rows(db)},
            "audit": json.loads(audited.stdout),
            "findings": findings,
        }
    finally:
        web.stop()


# ---------------------------------------------------------------- (b) RDAP answers


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


WITHOUT_DATE = {**domain_object("x.gov", "2011-07-15T14:00:00Z"), "events": []}


@pytest.mark.parametrize(
    ("status", "kind", "body", "message", "retry_after", "state", "error"),
    [
        (
            200,
            None,
            _json(domain_object("x.gov", "2011-07-15T10:00:00-04:00")),
            None,
            None,
            "registered",
            None,
        ),
        (404, None, _json(error_object(404, "Not Found")), None, None, "not-registered", None),
        (
            200,
            None,
            _json(error_object(404, "Not Found")),
            None,
            None,
            "not-registered",
            "not-found",
        ),
        (
            429,
            None,
            _json(error_object(429, "Too Many Requests")),
            None,
            "1",
            "rate-limited",
            "HTTP 429 (Retry-After: 1)",
        ),
        (503, None, b"", None, None, "http-error", "HTTP 503"),
        (
            200,
            None,
            _json(error_object(500, "Server Error")),
            None,
            None,
            "http-error",
            "RDAP error 500",
        ),
        (200, None, MALFORMED.encode(), None, None, "malformed", "not JSON"),
        (200, None, b"<html>maintenance</html>", None, None, "malformed", "not JSON"),
        (200, None, _json(WITHOUT_DATE), None, None, "malformed", "no registration event"),
        (
            None,
            "timeout",
            b"",
            "Getting x took longer than 2.0 seconds.",
            None,
            "timeout",
            "timeout: Getting x took longer than 2.0 seconds.",
        ),
        (None, "dns", b"", None, None, "dns", "dns"),
    ],
)
def test_rdap_state_words(
    status: int | None,
    kind: str | None,
    body: bytes,
    message: str | None,
    retry_after: str | None,
    state: str,
    error: str | None,
) -> None:
    stored = rdap_state(status, kind, body, message, retry_after)
    assert stored["state"] == state
    if error is None:
        assert stored["error"] is None
    else:
        assert error in stored["error"]
    if state == "registered":
        assert stored["registration"] == dt.datetime(2011, 7, 15, 14, 0)  # naive UTC
    else:
        assert stored["registration"] is None


@pytest.mark.integration
def test_registration_dates_from_real_shaped_answers(world: Any) -> None:
    rows = world["rows"]
    expected = {
        "newreg.gov": "2011-07-15 14:00:00",
        "intime.gov": "2011-08-01 10:00:00",
        "latewaiver.gov": "2011-10-03 10:00:00",
        "offset.gov": "2011-12-31 21:00:00",  # converted to UTC
        "old.gov": "1997-04-24 04:00:00",  # ldhName in upper case
        "flaky.gov": "2012-03-01 09:30:00",  # after one 429
    }
    for domain, registration in expected.items():
        row = rows[domain]
        assert row["state"] == "registered", (domain, row["error"])
        assert str(row["registration"]).startswith(registration), domain
        assert row["http_status"] == 200 and row["error"] is None
        assert row["url"] == f"{RDAP_URL}domain/{domain}"
        assert json.loads(row["body"])["ldhName"].lower() == domain  # the answer is kept


@pytest.mark.integration
def test_every_bad_answer_is_stored_with_a_clear_state(world: Any) -> None:
    rows = world["rows"]
    # every asked domain has exactly one answer, with its fetch time
    assert sorted(rows) == sorted([*SECOND, "gone.gov"])
    assert len(rdap_rows(world["db"])) == len(rows)
    for row in rows.values():
        assert row["fetched_at"], row["domain"]
    gone = rows["gone.gov"]
    assert (gone["state"], gone["http_status"], gone["registration"]) == (
        "not-registered",
        404,
        None,
    )
    assert json.loads(gone["body"])["errorCode"] == 404
    limited = rows["limited.gov"]
    assert (limited["state"], limited["http_status"]) == ("rate-limited", 429)
    assert limited["error"] == "HTTP 429 (Retry-After: 1)" and limited["registration"] is None
    broken = rows["broken.gov"]
    assert broken["state"] == "malformed" and broken["registration"] is None
    assert "JSON" in broken["error"]
    slow = rows["slow.gov"]
    assert slow["state"] == "timeout" and slow["registration"] is None
    assert slow["http_status"] is None
    assert slow["error"].startswith("timeout: ") and "slow.gov" in slow["error"]
    # the command finished and said what it got
    out = world["rdap_output"]
    assert "finished" in out
    for part in ("1 malformed", "1 not-registered", "1 rate-limited", "1 timeout", "6 registered"):
        assert part in out, out


@pytest.mark.integration
def test_retry_after_is_honoured_and_a_timeout_is_not_retried(world: Any) -> None:
    asked = world["requests"]
    assert asked.count("/rdap/domain/flaky.gov") == 2  # 429, then the answer
    assert asked.count("/rdap/domain/limited.gov") == 3  # 1 + retry_times (2), then stored
    assert asked.count("/rdap/domain/slow.gov") == 1
    assert asked.count("/rdap/domain/newreg.gov") == 1
    limited = sorted(r.started for r in world["records"] if r.path == "/rdap/domain/limited.gov")
    # Retry-After: 1 was waited between the tries
    assert all(b - a >= 0.9 for a, b in pairwise(limited))


@pytest.mark.integration
def test_the_audit_runs_over_every_answer(world: Any) -> None:
    findings = world["findings"]
    assert world["audit"]["findings"] == len(findings)
    freeze = findings_by(findings, "freeze-registration")
    expect = {
        ("newreg.gov", INITIAL): ("in-freeze", "no-waiver", "high"),
        ("intime.gov", INITIAL): ("in-freeze", "waived", "info"),
        ("latewaiver.gov", YEAR_END): ("in-freeze", "late-waiver", "medium"),
        ("offset.gov", YEAR_END): ("in-freeze", "no-waiver", "high"),
        ("flaky.gov", GSA): ("in-freeze", "no-waiver", "high"),
    }
    # No RDAP date: the snapshots say (2011-01-01, 2012-06-01], which overlaps every window.
    for domain in ("limited.gov", "broken.gov", "slow.gov"):
        for window in DEFAULT_WINDOWS:
            expect[(domain, window)] = ("possibly-in-freeze", "no-waiver", "medium")
    assert set(freeze) == set(expect)
    for key, (classification, waiver, severity) in expect.items():
        f = freeze[key]
        assert (f["classification"], f["waiver"], f["severity"]) == (
            classification,
            waiver,
            severity,
        ), key
        assert f["agency"] == "Test Agency"
        assert f["rule"] == "freeze-registration" and f["evidence"]["note"]
    newreg = freeze[("newreg.gov", INITIAL)]["evidence"]
    assert newreg["basis"] == "rdap"
    assert newreg["rdap"]["registration"] == "2011-07-15T14:00:00"
    assert newreg["rdap"]["url"] == f"{RDAP_URL}domain/newreg.gov"
    assert newreg["rdap"]["fetched_at"]
    for domain, state in (
        ("limited.gov", "rate-limited"),
        ("broken.gov", "malformed"),
        ("slow.gov", "timeout"),
    ):
        evidence = freeze[(domain, INITIAL)]["evidence"]
        assert evidence["basis"] == "snapshots" and evidence["rdap"]["state"] == state
        assert evidence["snapshots"][0]["previous_absent"] == "2011-01-01"
        assert evidence["snapshots"][0]["first_listed"] == "2012-06-01"
    assert freeze[("intime.gov", INITIAL)]["evidence"]["waiver"]["granted_on"] == "2011-07-20"
    late = findings_by(findings, "late-waiver")
    assert set(late) == {("latewaiver.gov", YEAR_END)}
    assert late[("latewaiver.gov", YEAR_END)]["evidence"]["reference_date"] == "2011-10-03"
    orphan = findings_by(findings, "orphan-waiver")
    assert set(orphan) == {("gone.gov", None)}
    assert orphan[("gone.gov", None)]["evidence"]["rdap"]["state"] == "not-registered"
    assert not findings_by(findings, "unlisted-domain")  # nothing crawled
    for f in findings:
        assert {
            "rule",
            "severity",
            "domain",
            "agency",
            "window",
            "classification",
            "waiver",
            "evidence",
        } <= set(f)


@pytest.mark.integration
def test_export_findings_filters_by_rule(world: Any) -> None:
    only = export(world["db"], "findings", "--rule", "orphan-waiver")
    assert [(f["rule"], f["domain"]) for f in only] == [("orphan-waiver", "gone.gov")]
    text = cli(
        None, world["db"], "export", "findings", "--format", "csv", "--rule", "late-waiver"
    ).stdout
    header, *lines = text.splitlines()
    assert header.split(",")[:7] == [
        "rule",
        "severity",
        "domain",
        "agency",
        "window",
        "classification",
        "waiver",
    ]
    assert len(lines) == 1 and lines[0].startswith("late-waiver,medium,latewaiver.gov,")
    bad = cli(None, world["db"], "export", "findings", "--rule", "nope", check=False)
    assert bad.returncode == 2 and "unknown rule" in bad.stderr


@pytest.mark.integration
def test_cached_answers_and_only_unknown(world: Any, tmp_path: Path) -> None:
    """Later: the service answers 500 for newreg.gov, and now knows limited.gov and
    slow.gov. A newer inconclusive answer does not hide a cached date; `--only-unknown`
    asks again only for domains without a conclusive answer."""
    web, db = world["web"], copy_db(world["db"], tmp_path)
    waivers = ("--waivers", str(world["waivers"]))
    web.set_epoch(2)
    web.clear_log()
    try:
        cli(web, db, *waivers, *RDAP_ARGS, "--domain", "newreg.gov", "--domain", "limited.gov")
        web.clear_log()
        out = cli(web, db, *waivers, *RDAP_ARGS, "--only-unknown").stdout
        asked = sorted(set(rdap_requests(web)))
    finally:
        web.set_epoch(1)
    assert asked == ["/rdap/domain/broken.gov", "/rdap/domain/slow.gov"]
    assert "1 malformed, 1 registered" in out
    newest = {}
    for row in rdap_rows(db):
        newest[row["domain"]] = row
    assert newest["newreg.gov"]["state"] == "http-error"
    assert newest["limited.gov"]["state"] == "registered"
    cli(None, db, *waivers, "audit")
    freeze = findings_by(export(db, "findings"), "freeze-registration")
    # the cached registration date of newreg.gov still decides
    assert freeze[("newreg.gov", INITIAL)]["evidence"]["basis"] == "rdap"
    assert freeze[("newreg.gov", INITIAL)]["classification"] == "in-freeze"
    # limited.gov and slow.gov are now dated by RDAP: one window each, in-freeze
    for domain, day in (("limited.gov", "2012-02-01"), ("slow.gov", "2013-05-05")):
        assert [w for d, w in freeze if d == domain] == [GSA], domain
        f = freeze[(domain, GSA)]
        assert (f["classification"], f["severity"]) == ("in-freeze", "high")
        assert f["evidence"]["rdap"]["registration"].startswith(day)
    assert sorted(w for d, w in freeze if d == "broken.gov") == sorted(DEFAULT_WINDOWS)


# ---------------------------------------------------------------- (d) another policy


FUTURE_POLICY = """
# Another freeze: a hypothetical one in 1997 and a future one.
[[freeze.windows]]
name = "1997 freeze"
start = 1997-01-01
end = 1997-12-31
authority = "test"

[[freeze.windows]]
name = "future freeze"
start = 2030-01-01
end = 2030-12-31
authority = "test"
"""


@pytest.mark.integration
def test_another_policy_changes_the_findings_without_recrawling(world: Any, tmp_path: Path) -> None:
    db, web = copy_db(world["db"], tmp_path), world["web"]
    waivers = ("--waivers", str(world["waivers"]))
    policy = tmp_path / "future.toml"
    policy.write_text(FUTURE_POLICY, encoding="utf-8")
    runs, answers = count(db, "crawl_run"), rdap_requests(web)
    rdap_before = rdap_rows(db)

    cli(web, db, *waivers, "--policy", str(policy), "audit")
    after = export(db, "findings")
    freeze = findings_by(after, "freeze-registration")
    assert set(freeze) == {("old.gov", "1997 freeze")}
    assert freeze[("old.gov", "1997 freeze")]["severity"] == "high"
    assert freeze[("old.gov", "1997 freeze")]["evidence"]["rdap"]["registration"].startswith(
        "1997-04-24"
    )
    assert not findings_by(after, "late-waiver")
    assert set(findings_by(after, "orphan-waiver")) == {("gone.gov", None)}
    table = json.loads(
        cli(
            web, db, *waivers, "--policy", str(policy), "audit", "freeze", "--format", "json"
        ).stdout
    )
    assert [(r["domain"], r["window"], r["classification"]) for r in table] == [
        ("old.gov", "1997 freeze", "in-freeze")
    ]
    # the audit with the original policy gives the original findings again
    cli(web, db, *waivers, "audit")
    again = export(db, "findings")

    def key(f: dict[str, Any]) -> tuple[Any, ...]:
        return (f["rule"], f["severity"], f["domain"], f["window"], f["classification"])

    assert sorted(map(key, again)) == sorted(map(key, world["findings"]))
    # nothing was crawled or asked again
    assert count(db, "crawl_run") == runs
    assert rdap_rows(db) == rdap_before
    assert rdap_requests(web) == answers
    assert count(db, "audit_run") == 3  # the fixture's, the 1997/future one, the original


# ---------------------------------------------------------------- (c) bad seed files


BAD_WAIVERS = [
    # (text, line, words in the message)
    (
        "domain,granted_on,granted_by,reference,note\n"
        "# a comment\n"
        "intime.gov,2011-07-20,Federal CIO,W-1,ok\n"
        "late.gov,2011-13-45,Federal CIO,W-2,bad date\n",
        4,
        "not a date",
    ),
    (
        "domain,granted_on,granted_by,reference,note\n"
        "not a domain,2011-07-20,Federal CIO,W-1,bad\n",
        2,
        "malformed domain",
    ),
    (
        "domain,granted_on,granted_by,reference,note\n"
        "intime.gov,2011-07-20,Federal CIO,W-1,ok\n"
        "\n"
        "x.gov,2011-07-20,,W-2,who signed?\n",
        4,
        "granted_by is empty",
    ),
    (
        "domain,granted_on,granted_by,reference,note\nintime.gov,2011-07-20,Federal CIO,W-1\n",
        2,
        "expected 5 fields",
    ),
    ("domain,date,by,reference,note\n", 1, "header must be"),
    (
        "domain,granted_on,granted_by,reference,note\n"
        "www.intime.gov,2011-07-20,Federal CIO,W-1,a host\n",
        2,
        "malformed domain",
    ),
]

WINDOW = '[[freeze.windows]]\nname = "{name}"\nstart = {start}\nend = {end}\n'
BAD_POLICIES = [
    (
        WINDOW.format(name="a", start="2011-01-01", end="2011-12-31")
        + "\n"
        + WINDOW.format(name="b", start="2013-01-01", end="2012-12-31"),
        9,
        "ends",
    ),
    (
        WINDOW.format(name="a", start="2011-01-01", end="2011-12-31")
        + "\n"
        + WINDOW.format(name="a", start="2013-01-01", end="2013-12-31"),
        7,
        "two freeze",
    ),
    (WINDOW.format(name="a", start='"2011-01-01"', end="2011-12-31"), 3, "must be a date"),
    (
        "# a typo\n"
        + WINDOW.format(name="a", start="2011-01-01", end="2011-12-31")
        + "ned = 2012-01-01\n",
        6,
        "unknown key",
    ),
    ('[[freeze.windows]]\nname = "a"\nstart = 2011-01-01\nend = \n', 4, "not valid TOML"),
]


def _refused(result: Any, path: Path, line: int, words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert message.startswith("govaudit: error: "), message
    assert f"{path}:{line}:" in message or (f"{path}:" in message and f"line {line}" in message)
    assert words in message, message
    assert len(message.splitlines()) == 1, message
    assert "Traceback" not in result.stderr


@pytest.mark.integration
@pytest.mark.parametrize("case", range(len(BAD_WAIVERS)))
def test_bad_waivers_are_refused_with_file_and_line(world: Any, tmp_path: Path, case: int) -> None:
    text, line, words = BAD_WAIVERS[case]
    bad = tmp_path / "waivers.csv"
    bad.write_text(text, encoding="utf-8")
    db, web = world["db"], world["web"]
    state, answers = file_state(db), rdap_requests(web)
    for args in (
        ("--waivers", str(bad), "audit"),
        ("audit", "--waivers", str(bad)),
        ("--waivers", str(bad), "audit", "freeze"),
        ("--waivers", str(bad), *RDAP_ARGS),
    ):
        _refused(cli(web, db, *args, check=False), bad, line, words)
        assert file_state(db) == state, args  # the database is byte for byte unchanged
    assert rdap_requests(web) == answers  # nothing was asked


@pytest.mark.integration
@pytest.mark.parametrize("case", range(len(BAD_POLICIES)))
def test_bad_policy_is_refused_with_file_and_line(world: Any, tmp_path: Path, case: int) -> None:
    text, line, words = BAD_POLICIES[case]
    bad = tmp_path / "policy.toml"
    bad.write_text(text, encoding="utf-8")
    db, web = world["db"], world["web"]
    state, answers = file_state(db), rdap_requests(web)
    for args in (
        ("--policy", str(bad), "audit"),
        ("audit", "--policy", str(bad)),
        ("--policy", str(bad), "audit", "freeze", "--format", "json"),
        ("--policy", str(bad), *RDAP_ARGS, "--domain", "newreg.gov"),
    ):
        _refused(cli(web, db, *args, check=False), bad, line, words)
        assert file_state(db) == state, args
    assert rdap_requests(web) == answers


@pytest.mark.integration
def test_rdap_answers_archived_with_warc_are_cited_by_freeze_findings(
    world: Any, tmp_path: Path
) -> None:
    """`rdap --warc DIR` writes each answer to a WARC file; the freeze finding dated by it
    names that record (export findings) and `govaudit evidence` prints the answer."""
    web, db = world["web"], copy_db(world["db"], tmp_path)
    waivers = ("--waivers", str(world["waivers"]))
    warc = tmp_path / "warc"
    cli(web, db, *waivers, *RDAP_ARGS, "--warc", str(warc), "--domain", "newreg.gov")
    [row] = [r for r in rdap_rows(db) if r["domain"] == "newreg.gov" and r["warc_file"]]
    assert (warc / row["warc_file"]).exists()
    cli(None, db, *waivers, "audit")
    freeze = findings_by(export(db, "findings"), "freeze-registration")
    finding = freeze[("newreg.gov", INITIAL)]
    assert (finding["warc_file"], finding["warc_offset"]) == (row["warc_file"], row["warc_offset"])
    shown = cli(None, db, *waivers, "evidence", str(finding["finding_id"])).stdout
    assert f"rdap {row['url']}" in shown
    assert "payload digest: verified" in shown
    assert '"ldhName"' in shown or "ldhName" in shown
