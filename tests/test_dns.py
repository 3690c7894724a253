"""`govaudit dns` and `govaudit export dns` through the real CLI against a real DNS server
(simweb's dnslib server on 127.0.0.1, planted zones in tests/dns_server.py): every planted
case is stored, and judged right; a server that does not answer is "couldn't check" with the
reason, never "no DMARC". Nothing reaches a real resolver: every run names the server.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_world import govaudit, govaudit_here
from tests.dns_server import AGENCY, PLANTED, planted_dns, planted_registry

# Every test here runs govaudit or the DNS server as processes.
pytestmark = pytest.mark.integration

# Seconds a query may take: the planted silent names cost this much; an answer under a
# loaded machine's scheduling must come well within it.
TIMEOUT = "3"


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("dns")
    db = f"sqlite:///{base}/dns.db"
    govaudit(
        None,
        db,
        "inventory",
        "load",
        str(planted_registry(base / "reg.csv")),
        "--as-of",
        "2024-01-01",
    )
    with planted_dns() as server:
        run = govaudit(None, db, "dns", "--nameserver", server.nameserver, "--timeout", TIMEOUT)
        asked = server.queries()
    rows = json.loads(govaudit_here(db, "export", "dns", "--format", "json").stdout)
    csv_text = govaudit_here(db, "export", "dns", "--format", "csv").stdout
    yield {
        "db": db,
        "path": base / "dns.db",
        "run": run,
        "asked": asked,
        "rows": {r["domain"]: r for r in rows},
        "csv": csv_text,
        "base": base,
    }


def test_every_planted_case_is_judged_right(observed: dict[str, Any]) -> None:
    rows = observed["rows"]
    assert set(PLANTED) <= set(rows)
    wrong = {
        domain: {k: (rows[domain][k], v) for k, v in want.items() if rows[domain][k] != v}
        for domain, want in PLANTED.items()
    }
    assert not {d: w for d, w in wrong.items() if w}, wrong
    for domain, row in rows.items():
        assert row["agency"] == AGENCY, domain
        assert row["resolver"].startswith("127.0.0.1:"), domain
        assert row["checked_at"], domain


def test_reasons_name_what_was_wrong(observed: dict[str, Any]) -> None:
    rows = observed["rows"]
    assert "11/10" in rows["spflookups.gov"]["spf_error"]
    assert "+all" in rows["spfall.gov"]["spf_error"]
    assert "p=none" in rows["dmarcnone.gov"]["email_reason"]
    assert "reports@dmarc.cyber.dhs.gov" in rows["norua.gov"]["email_reason"]
    assert "no DMARC record" in rows["nodmarc.gov"]["email_reason"]
    assert "NXDOMAIN" in rows["nodmarc.gov"]["email_reason"]
    assert "pct=50" in rows["pct50.gov"]["email_reason"]
    # couldn't check is not absent: the reason says the server did not answer
    timeout = rows["dmarctimeout.gov"]
    assert "_dmarc.dmarctimeout.gov TXT: timeout" in timeout["email_reason"]
    assert "no DMARC" not in timeout["email_reason"]
    assert timeout["dmarc"] == "" and timeout["dmarc_policy"] == ""
    assert "SERVFAIL" in rows["dmarcservfail.gov"]["email_reason"]
    assert "_spf.spftimeout.gov" in rows["spftimeout.gov"]["spf_error"]
    assert "do not answer" in rows["lame.gov"]["email_reason"]
    assert "NXDOMAIN" in rows["notindns.gov"]["email_reason"]
    assert "without" not in rows["compliant.gov"]["email_reason"]


def test_raw_answers_are_stored_with_time_and_resolver(observed: dict[str, Any]) -> None:
    conn = sqlite3.connect(observed["path"])
    try:
        stored = {
            domain: (resolver, json.loads(answers), json.loads(spf), seconds)
            for domain, resolver, answers, spf, seconds in conn.execute(
                "SELECT domain, resolver, answers, spf, seconds FROM dns_observation"
            )
        }
        settings = json.loads(conn.execute("SELECT settings FROM crawl_run").fetchone()[0])
    finally:
        conn.close()
    assert settings["jobs"] == ["dns"]
    assert settings["dns"]["nameservers"] == [observed["rows"]["compliant.gov"]["resolver"]]
    _, answers, spf, _ = stored["compliant.gov"]
    asked = {(a["name"], a["type"]) for a in answers}
    for rtype in ("NS", "SOA", "MX", "TXT", "A", "AAAA", "DS", "DNSKEY", "CAA"):
        assert ("compliant.gov", rtype) in asked
    assert {("www.compliant.gov", "A"), ("www.compliant.gov", "AAAA")} <= asked
    assert ("_dmarc.compliant.gov", "TXT") in asked
    assert all(isinstance(a["ms"], float) for a in answers)
    assert spf["valid"] is True and spf["library"].startswith("checkdmarc ")
    # the lookup that timed out is stored as a timeout, with the time it took
    _, answers, _, seconds = stored["dmarctimeout.gov"]
    dmarc = next(a for a in answers if a["name"] == "_dmarc.dmarctimeout.gov")
    assert dmarc["outcome"] == "timeout" and dmarc["ms"] >= float(TIMEOUT) * 900
    assert seconds >= float(TIMEOUT) * 0.9
    # NXDOMAIN is an answer, not a failure
    _, answers, _, _ = stored["nodmarc.gov"]
    assert next(a for a in answers if a["name"] == "_dmarc.nodmarc.gov")["outcome"] == "nxdomain"
    # the include that never answered is named in the SPF facts
    assert stored["spftimeout.gov"][2]["lookup_failures"][0].startswith("_spf.spftimeout.gov")
    # the server was asked, and only about the planted names; checkdmarc's own lookups (an
    # SPF include, CISA's report authorization) came to it too, not to a system resolver
    asked = set(observed["asked"])
    assert all(name.endswith(".gov") for name, _ in asked)
    assert ("_s8.spflookups.gov", "TXT") in asked
    assert ("*._report._dmarc.dmarc.cyber.dhs.gov", "TXT") in asked


def test_dmarc_subdomain_policy_comes_from_the_organizational_domain(tmp_path: Path) -> None:
    """A name with no DMARC record of its own gets its organizational domain's sp=."""
    db = f"sqlite:///{tmp_path}/sub.db"
    govaudit_here(db, "inventory", "load", str(planted_registry(tmp_path / "reg.csv")),
                  "--as-of", "2024-01-01")  # fmt: skip
    with planted_dns() as server:
        govaudit(None, db, "dns", "--domain", "compliant.gov", "--nameserver",
                 server.nameserver, "--timeout", TIMEOUT)  # fmt: skip
        govaudit(
            None,
            db,
            "dns",
            "--domain",
            "sub.inherit.gov",
            "--nameserver",
            server.nameserver,
            "--timeout",
            TIMEOUT,
        )
    rows = json.loads(govaudit_here(db, "export", "dns", "--format", "json").stdout)
    assert [r["domain"] for r in rows] == ["sub.inherit.gov"]
    row = rows[0]
    assert row["agency"] == AGENCY
    assert row["dmarc_policy"] == "quarantine"
    assert row["dmarc_subdomain_policy"] == "quarantine"
    assert row["email_verdict"] == "not-compliant"
    assert "inherit.gov" in row["email_reason"]
    # the newest run is the default; the earlier one is still there by id
    first = json.loads(govaudit_here(db, "export", "dns", "--run", "1", "--format", "json").stdout)
    assert [r["domain"] for r in first] == ["compliant.gov"]


def test_the_policy_decides_what_compliant_means(observed: dict[str, Any]) -> None:
    """Re-judged under another policy, without asking the DNS again."""
    draft = observed["base"] / "strict.toml"
    draft.write_text('[email]\nsubdomain_policy = true\ndmarc_policy = "quarantine"\n')
    rows = {
        r["domain"]: r
        for r in json.loads(
            govaudit_here(observed["db"], "--policy", str(draft), "export", "dns", "--run",
                     "1", "--format", "json").stdout
        )
    }  # fmt: skip
    assert rows["spnone.gov"]["email_verdict"] == "not-compliant"
    assert "sp=none" in rows["spnone.gov"]["email_reason"]
    assert rows["compliant.gov"]["email_verdict"] == "compliant"
    assert rows["dmarcnone.gov"]["email_verdict"] == "not-compliant"


def test_csv_has_exactly_the_issue_columns_and_words(observed: dict[str, Any]) -> None:
    reader = csv.DictReader(io.StringIO(observed["csv"]))
    assert reader.fieldnames == [
        "domain", "agency", "dns_state", "ns", "mx", "spf", "spf_valid", "spf_error",
        "dmarc", "dmarc_policy", "dmarc_subdomain_policy", "dmarc_pct", "dmarc_rua",
        "email_verdict", "email_reason", "ipv6", "dnssec", "resolver", "checked_at",
        "evidence",
    ]  # fmt: skip
    rows = {r["domain"]: r for r in reader}
    assert rows["compliant.gov"]["ipv6"] == "true"
    assert rows["unsigned.gov"]["dnssec"] == "false"
    assert rows["lame.gov"]["ipv6"] == "" and rows["lame.gov"]["dnssec"] == ""
    assert rows["dmarctimeout.gov"]["email_verdict"] == "couldn't-check"
    assert rows["compliant.gov"]["ns"] == "ns1.compliant.gov ns2.compliant.gov"
    assert rows["compliant.gov"]["mx"] == "10 mail.compliant.gov"
    evidence = json.loads(rows["dmarctimeout.gov"]["evidence"])
    assert "timeout" in evidence["answers"]["_dmarc.dmarctimeout.gov TXT"]
    assert set(
        json.loads(govaudit_here(observed["db"], "export", "dns", "--format", "json").stdout)[0]
    ) == set(reader.fieldnames)


def test_bad_options_are_refused_with_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/x.db"
    bad = govaudit(None, db, "dns", "--nameserver", "resolver.example:53", check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "govaudit: error: --nameserver 'resolver.example:53': not an IP address (IP[:PORT])"
    ]
    bad = govaudit(None, db, "dns", "--nameserver", "127.0.0.1:99999", check=False)
    assert bad.returncode == 2 and "port" in bad.stderr
    bad = govaudit(
        None, db, "dns", "--domain", "example.com", "--nameserver", "127.0.0.1", check=False
    )
    assert bad.returncode == 2 and "example.com" in bad.stderr
    none = govaudit_here(db, "export", "dns", check=False)
    assert none.returncode == 2
    assert "govaudit dns" in none.stderr


def add_crawl(db_path: Path, homepages: dict[str, str | None]) -> None:
    """A finished site crawl of some planted domains (no endpoints: only the DNS checks can
    be judged), so that guideline checks have sites to judge."""
    from audit.db import Database
    from audit.models import CrawlRun, CrawlTask, SiteObservation

    db = Database(f"sqlite:///{db_path}")
    with db.session() as s:
        run = CrawlRun(status="finished", settings={"jobs": ["sites"]})
        s.add(run)
        s.flush()
        for domain, homepage in homepages.items():
            s.add(CrawlTask(run_id=run.id, job="sites", key=domain, domain=domain,
                            agency=AGENCY, state="done"))  # fmt: skip
            s.add(SiteObservation(run_id=run.id, domain=domain, agency=AGENCY,
                                  homepage_url=homepage))  # fmt: skip
    db.dispose()


def test_the_bod_18_01_pack_and_the_email_rule(observed: dict[str, Any]) -> None:
    add_crawl(
        observed["path"],
        {
            "compliant.gov": "https://www.compliant.gov/",
            "spfall.gov": None,
            "dmarctimeout.gov": None,
            "norua.gov": None,
            "wwwonly6.gov": "https://wwwonly6.gov/",
            "lame.gov": None,
        },
    )
    pack = str(Path(__file__).resolve().parent.parent / "seeds/policies/bod-18-01.toml")
    out = govaudit_here(observed["db"], "guidelines", "--policy", pack, "--format", "json")
    data = json.loads(out.stdout)
    assert data["pack"]["name"] == "CISA BOD 18-01"
    checks = {c["id"]: c for c in data["checks"]}
    assert set(checks) == {
        "https-only", "https-valid", "hsts", "spf-valid", "dmarc-reject", "dmarc-reports-cisa"
    }  # fmt: skip
    for c in checks.values():
        assert c["source"].startswith("CISA BOD 18-01, II.1."), c["id"]
    spf = checks["spf-valid"]
    assert (spf["pass"], spf["fail"], spf["couldnt_check"]) == (4, 1, 1)  # lame.gov: unreachable
    reject = checks["dmarc-reject"]
    # dmarctimeout.gov: the _dmarc query timed out: couldn't check, never "no DMARC"
    assert (reject["pass"], reject["fail"], reject["couldnt_check"]) == (4, 0, 2)
    reports = checks["dmarc-reports-cisa"]
    assert (reports["pass"], reports["fail"], reports["couldnt_check"]) == (3, 1, 2)
    failing = {f["domain"]: f for f in reports["failing"]}
    assert set(failing) == {"norua.gov"}
    assert failing["norua.gov"]["evidence"]["url"] == "dns:_dmarc.norua.gov?type=TXT"
    # the table form names the pack too
    table = govaudit_here(observed["db"], "guidelines", "--policy", pack).stdout
    assert "CISA BOD 18-01" in table and "dmarc-reject" in table
    # the audit's email-security findings: the not-compliant domains, with their evidence
    govaudit_here(observed["db"], "audit")
    findings = json.loads(
        govaudit_here(observed["db"], "export", "findings", "--rule", "email-security",
                 "--format", "json").stdout
    )  # fmt: skip
    flagged = {f["domain"] for f in findings}
    want = {d for d, row in observed["rows"].items() if row["email_verdict"] == "not-compliant"}
    assert flagged == want
    assert "dmarctimeout.gov" not in flagged
    spfall = next(f for f in findings if f["domain"] == "spfall.gov")
    assert "+all" in spfall["summary"]
    evidence = spfall["evidence"]
    evidence = json.loads(evidence) if isinstance(evidence, str) else evidence
    assert evidence["answers"]["spfall.gov TXT"].startswith("v=spf1 +all")


@pytest.mark.postgres
def test_dns_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The same observation and judgement on PostgreSQL (two observer processes writing)."""
    wanted = ["compliant.gov", "spfall.gov", "dmarctimeout.gov", "lame.gov", "unsigned.gov"]
    govaudit_here(pg_url, "inventory", "load", str(planted_registry(tmp_path / "r.csv", wanted)),
                  "--as-of", "2024-01-01")  # fmt: skip
    with planted_dns() as server:
        govaudit(None, pg_url, "dns", "--nameserver", server.nameserver, "--timeout", TIMEOUT,
                 "--workers", "2")  # fmt: skip
    rows = {r["domain"]: r for r in json.loads(
        govaudit_here(pg_url, "export", "dns", "--format", "json").stdout
    )}  # fmt: skip
    assert set(rows) == set(wanted)
    for domain in wanted:
        for key, value in PLANTED[domain].items():
            assert rows[domain][key] == value, (domain, key)
