"""The email and DNS judgement (audit/email_dns.py) on hand-made stored observations: the
DNS state, BOD 18-01 email compliance part by part, IPv6 of the homepage host, DNSSEC, and
the policy's `[email]` requirements. No DNS: these are the stored facts only."""

from __future__ import annotations

from typing import Any

import pytest

from audit.email_dns import (
    COMPLIANT,
    COULDNT,
    FAIL,
    NOT_COMPLIANT,
    OK,
    PASS,
    UNREACHABLE,
    EmailPolicy,
    dmarc_policy_part,
    dmarc_reports_part,
    dns_state,
    dnssec,
    email_verdict,
    ipv6,
    judge,
    spf_part,
)
from audit.policy_file import load_policy
from crawler.dns_query import Nameserver
from crawler.email_records import read_dmarc, read_spf

D = "example.gov"
CISA = "mailto:reports@dmarc.cyber.dhs.gov"


def ans(name: str, rtype: str, *records: str, outcome: str | None = None) -> dict[str, Any]:
    out = outcome or ("answer" if records else "nodata")
    entry: dict[str, Any] = {
        "name": name,
        "type": rtype,
        "outcome": out,
        "rcode": {"servfail": "SERVFAIL", "refused": "REFUSED", "nxdomain": "NXDOMAIN"}.get(
            out, None if out == "timeout" else "NOERROR"
        ),
        "records": list(records),
        "ms": 3.0,
    }
    if out == "timeout":
        entry["error"] = "no answer within 2.0 s"
    return entry


def observation(
    spf: dict[str, Any] | None = None, dmarc: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A compliant, signed, IPv6-ready domain; `spf` / `dmarc` change its parsed facts."""
    answers = {
        f"{D} NS": ans(D, "NS", "ns1.example.gov.", "ns2.example.gov."),
        f"{D} SOA": ans(D, "SOA", "ns1.example.gov. hostmaster.example.gov. 1 2 3 4 5"),
        f"{D} MX": ans(D, "MX", "10 mail.example.gov."),
        f"{D} TXT": ans(D, "TXT", "v=spf1 mx -all"),
        f"{D} A": ans(D, "A", "192.0.2.1"),
        f"{D} AAAA": ans(D, "AAAA", "2001:db8::1"),
        f"{D} DS": ans(D, "DS", "1 13 2 AB"),
        f"{D} DNSKEY": ans(D, "DNSKEY", "257 3 13 AA=="),
        f"www.{D} A": ans(f"www.{D}", "A", "192.0.2.1"),
        f"www.{D} AAAA": ans(f"www.{D}", "AAAA", "2001:db8::1"),
        f"_dmarc.{D} TXT": ans(f"_dmarc.{D}", "TXT", f"v=DMARC1; p=reject; rua={CISA}"),
    }
    spf_facts = {"records": ["v=spf1 mx -all"], "record": "v=spf1 mx -all", "valid": True,
                 "dns_lookups": 1, "all": "fail", "lookup_failures": []}  # fmt: skip
    dmarc_facts = {
        "location": f"_dmarc.{D}",
        "records": [f"v=DMARC1; p=reject; rua={CISA}"],
        "record": f"v=DMARC1; p=reject; rua={CISA}",
        "valid": True,
        "p": "reject",
        "sp": "reject",
        "sp_explicit": False,
        "pct": None,
        "rua": [CISA],
    }
    return {
        "domain": D,
        "agency": "Agency",
        "answers": list(answers.values()),
        "spf": {**spf_facts, **(spf or {})},
        "dmarc": {**dmarc_facts, **(dmarc or {})},
        "resolver": "127.0.0.1:5353",
        "checked_at": "2026-12-01T00:00:00",
    }


def _with(key: str, value: Any) -> dict[str, Any]:
    """The baseline with the answer to "NAME TYPE" replaced (None: not asked)."""
    obs = observation()
    obs["answers"] = [a for a in obs["answers"] if f"{a['name']} {a['type']}" != key]
    if value is not None:
        obs["answers"].append(value)
    return obs


def test_the_baseline_is_compliant_signed_and_reachable_over_ipv6() -> None:
    obs = observation()
    assert dns_state(obs)[0] == OK
    verdict = email_verdict(obs)
    assert verdict.verdict == COMPLIANT, verdict.reason
    assert ipv6(obs)[0] is True
    assert dnssec(obs)[0] is True


@pytest.mark.parametrize(
    ("soa", "ns", "ds", "state", "words"),
    [
        ("servfail", "servfail", "answer", UNREACHABLE, "do not answer"),
        ("timeout", "timeout", "nodata", UNREACHABLE, "do not answer"),
        ("nxdomain", "nxdomain", "nxdomain", UNREACHABLE, "not in DNS"),
        ("timeout", "timeout", "timeout", COULDNT, "no answer from the resolver"),
        ("refused", "refused", "refused", COULDNT, "refused"),
        ("servfail", "answer", "timeout", UNREACHABLE, "do not answer"),
        ("answer", "servfail", "timeout", OK, "answer"),
    ],
)
def test_dns_state(soa: str, ns: str, ds: str, state: str, words: str) -> None:
    def entry(name: str, rtype: str, outcome: str) -> dict[str, Any]:
        records = ("x",) if outcome == "answer" else ()
        return ans(name, rtype, *records, outcome=outcome)

    obs = observation()
    # every other question about the zone got what the SOA got
    obs["answers"] = [
        entry(a["name"], a["type"], {"NS": ns, "DS": ds}.get(a["type"], soa))
        for a in obs["answers"]
    ]
    got, reason = dns_state(obs)
    assert got == state
    assert words in reason
    if state != OK:
        assert email_verdict(obs).verdict == COULDNT
        assert ipv6(obs)[0] is None


def test_one_answer_from_the_zone_is_enough() -> None:
    """A SOA that timed out while the zone answered other questions is not an unreachable
    zone (and a resolver that serves NS from the parent's delegation while the zone's own
    nameservers are silent does not make the zone reachable either)."""
    obs = _with(f"{D} SOA", ans(D, "SOA", outcome="timeout"))
    assert dns_state(obs)[0] == OK
    lame = observation()
    lame["answers"] = [
        a if a["type"] in ("NS", "DS") else ans(a["name"], a["type"], outcome="servfail")
        for a in lame["answers"]
    ]
    state, reason = dns_state(lame)
    assert state == UNREACHABLE and "do not answer" in reason
    assert email_verdict(lame).verdict == COULDNT


def test_spf_parts() -> None:
    assert spf_part(observation()).outcome == PASS
    no_spf = observation(spf={"records": [], "record": None})
    assert spf_part(no_spf).outcome == FAIL
    assert "no SPF record" in spf_part(no_spf).reason
    no_mail = _with(f"{D} MX", ans(D, "MX"))
    no_mail["spf"] = {"records": [], "record": None}
    assert "v=spf1 -all" in spf_part(no_mail).reason
    plus_all = observation(spf={"all": "pass", "records": ["v=spf1 +all"]})
    assert spf_part(plus_all).outcome == FAIL and "+all" in spf_part(plus_all).reason
    invalid = observation(spf={"valid": False, "error": "Expected mechanism at position 7"})
    assert spf_part(invalid).outcome == FAIL
    # an include that got no answer: the record cannot be judged, not "invalid"
    failures = ["_spf.example.gov TXT: no answer within 2.0 s"]
    timed_out = observation(
        spf={"valid": False, "error": "no SPF record at the include", "lookup_failures": failures}
    )
    assert spf_part(timed_out).outcome == "couldn't check"
    # ... unless the limit of ten is exceeded anyway
    over = observation(
        spf={"valid": False, "dns_lookups": 11, "error": "11/10", "lookup_failures": failures}
    )
    assert spf_part(over).outcome == FAIL
    txt_timeout = _with(f"{D} TXT", ans(D, "TXT", outcome="timeout"))
    part = spf_part(txt_timeout)
    assert part.outcome == "couldn't check" and "timeout" in part.reason


def test_dmarc_policy_and_reports() -> None:
    assert dmarc_policy_part(observation()).outcome == PASS
    none = observation(dmarc={"p": "none", "sp": "none"})
    assert dmarc_policy_part(none).outcome == FAIL
    assert dmarc_policy_part(none, policy="none").outcome == PASS
    quarantine = observation(dmarc={"p": "quarantine", "sp": "quarantine"})
    assert dmarc_policy_part(quarantine, policy="quarantine").outcome == PASS
    assert dmarc_policy_part(quarantine).outcome == FAIL
    sp_none = observation(dmarc={"sp": "none", "sp_explicit": True})
    assert dmarc_policy_part(sp_none, subdomains=True).outcome == FAIL
    assert dmarc_policy_part(sp_none).outcome == PASS
    half = observation(dmarc={"pct": "50"})
    part = dmarc_policy_part(half)
    assert part.outcome == FAIL and "pct=50" in part.reason
    assert dmarc_policy_part(half, pct=50).outcome == PASS
    assert dmarc_policy_part(observation(dmarc={"pct": "x"})).outcome == FAIL
    assert dmarc_reports_part(observation()).outcome == PASS
    other = observation(dmarc={"rua": ["mailto:dmarc@example.gov"]})
    assert dmarc_reports_part(other).outcome == FAIL
    assert dmarc_reports_part(other, ["dmarc@example.gov"]).outcome == PASS
    upper = observation(dmarc={"rua": ["mailto:REPORTS@dmarc.cyber.dhs.gov"]})
    assert dmarc_reports_part(upper).outcome == PASS


def test_no_dmarc_and_unanswered_dmarc_differ() -> None:
    missing = _with(f"_dmarc.{D} TXT", ans(f"_dmarc.{D}", "TXT", outcome="nxdomain"))
    missing["dmarc"] = {"location": f"_dmarc.{D}", "records": [], "record": None}
    verdict = email_verdict(missing)
    assert verdict.verdict == NOT_COMPLIANT
    assert "no DMARC record" in verdict.reason
    silent = _with(f"_dmarc.{D} TXT", ans(f"_dmarc.{D}", "TXT", outcome="timeout"))
    silent["dmarc"] = {"location": f"_dmarc.{D}", "records": [], "record": None}
    verdict = email_verdict(silent)
    assert verdict.verdict == COULDNT
    assert "timeout" in verdict.reason and "no DMARC" not in verdict.reason


def test_a_definite_failure_wins_over_couldnt_check() -> None:
    obs = _with(f"_dmarc.{D} TXT", ans(f"_dmarc.{D}", "TXT", outcome="servfail"))
    obs["spf"] = {**obs["spf"], "all": "pass"}
    verdict = email_verdict(obs)
    assert verdict.verdict == NOT_COMPLIANT
    assert "+all" in verdict.reason


def test_inherited_dmarc_applies_the_organizational_domains_sp() -> None:
    obs = observation()
    obs["domain"] = f"mail.{D}"
    obs["answers"] = [
        ans(f"mail.{D}", "SOA", outcome="nodata"),
        ans(f"mail.{D}", "TXT", "v=spf1 -all"),
        ans(f"_dmarc.mail.{D}", "TXT", outcome="nxdomain"),
        ans(f"_dmarc.{D}", "TXT", f"v=DMARC1; p=reject; sp=none; rua={CISA}"),
    ]
    obs["dmarc"] = {**obs["dmarc"], "location": f"_dmarc.{D}", "sp": "none", "sp_explicit": True}
    part = dmarc_policy_part(obs)
    assert part.outcome == FAIL and f"sp=none of {D}" in part.reason
    row = judge(obs)
    assert row["dmarc_policy"] == "none" and row["dmarc_subdomain_policy"] == "none"


def test_ipv6_of_the_homepage_host() -> None:
    bare_only = _with(f"www.{D} AAAA", ans(f"www.{D}", "AAAA"))
    assert ipv6(bare_only)[0] is False  # www answers first, without AAAA
    assert ipv6(bare_only, homepage_host=D)[0] is True  # the crawl says the homepage is D
    www_only = _with(f"{D} AAAA", ans(D, "AAAA"))
    assert ipv6(www_only)[0] is True
    assert ipv6(www_only, homepage_host=D)[0] is False
    assert ipv6(www_only, homepage_host="elsewhere.gov")[0] is True
    no_site = observation()
    no_site["answers"] = [a for a in no_site["answers"] if a["type"] not in ("A", "AAAA")] + [
        ans(h, t) for h in (D, f"www.{D}") for t in ("A", "AAAA")
    ]
    known, reason = ipv6(no_site)
    assert known is None and "no website host" in reason
    failed = _with(f"www.{D} AAAA", ans(f"www.{D}", "AAAA", outcome="timeout"))
    assert ipv6(failed)[0] is None


def test_dnssec() -> None:
    assert dnssec(_with(f"{D} DS", ans(D, "DS")))[0] is False
    key_only = dnssec(_with(f"{D} DS", ans(D, "DS")))
    assert "DNSKEY but no DS" in key_only[1]
    assert dnssec(_with(f"{D} DNSKEY", ans(D, "DNSKEY")))[0] is False
    assert dnssec(_with(f"{D} DS", ans(D, "DS", outcome="timeout")))[0] is None
    assert dnssec(_with(f"{D} DNSKEY", ans(D, "DNSKEY", outcome="servfail")))[0] is None


def test_the_policys_email_section_sets_the_requirements(tmp_path: Any) -> None:
    bundled = EmailPolicy.from_section(load_policy().section("email"))
    assert bundled == EmailPolicy()
    draft = tmp_path / "draft.toml"
    draft.write_text(
        '[email]\ndmarc_policy = "quarantine"\ndmarc_pct = 50\n'
        'report_addresses = ["dmarc@example.gov"]\n'
    )
    policy = EmailPolicy.from_section(load_policy(draft).section("email"))
    obs = observation(dmarc={"p": "quarantine", "sp": "quarantine", "pct": "50",
                             "rua": ["mailto:dmarc@example.gov"]})  # fmt: skip
    assert email_verdict(obs).verdict == NOT_COMPLIANT
    assert email_verdict(obs, policy).verdict == COMPLIANT


# ------------------------------------------------------------------------------ the readers


def txt_answer(name: str, *records: str, outcome: str = "answer") -> dict[str, Any]:
    return ans(name, "TXT", *records, outcome=outcome)


# A nameserver where nothing answers: records that need no lookup never ask it.
NOWHERE = [Nameserver("127.0.0.1", 9)]


def test_read_spf_on_saved_answers() -> None:
    minus_all = read_spf(D, txt_answer(D, "google-site-verification=x", "v=spf1 -all"), NOWHERE, 1)
    assert minus_all["record"] == "v=spf1 -all" and minus_all["valid"] is True
    assert (minus_all["all"], minus_all["dns_lookups"]) == ("fail", 0)
    assert minus_all["library"].startswith("checkdmarc ")
    plus_all = read_spf(D, txt_answer(D, "v=spf1 ip4:192.0.2.1 +all"), NOWHERE, 1)
    assert plus_all["valid"] is True and plus_all["all"] == "pass"
    two = read_spf(D, txt_answer(D, "v=spf1 -all", "v=spf1 ~all"), NOWHERE, 1)
    assert two["valid"] is False and "more than one" in two["error"]
    bad = read_spf(D, txt_answer(D, "v=spf1 ip4:not-an-ip -all"), NOWHERE, 1)
    assert bad["valid"] is False and bad["error"]
    assert read_spf(D, txt_answer(D, "hello"), NOWHERE, 1)["records"] == []
    assert read_spf(D, txt_answer(D, outcome="timeout"), NOWHERE, 1) == {}


def test_read_dmarc_on_saved_answers() -> None:
    record = "v=DMARC1; p=quarantine; sp=none; pct=50"
    facts = read_dmarc(f"_dmarc.{D}", txt_answer(f"_dmarc.{D}", record), NOWHERE, 1)
    assert facts["valid"] is True and facts["record"] == record
    assert (facts["p"], facts["sp"], facts["sp_explicit"]) == ("quarantine", "none", True)
    # pct= is read from the record itself (checkdmarc 6 follows RFC 9989, which dropped it)
    assert facts["pct"] == "50" and facts["rua"] == []
    default_sp = read_dmarc(
        f"_dmarc.{D}", txt_answer(f"_dmarc.{D}", "v=DMARC1; p=reject"), NOWHERE, 1
    )
    assert (default_sp["sp"], default_sp["sp_explicit"], default_sp["pct"]) == (
        "reject",
        False,
        None,
    )
    wrong = read_dmarc(f"_dmarc.{D}", txt_answer(f"_dmarc.{D}", "v=DMARC1; p=rejected"), NOWHERE, 1)
    assert wrong["valid"] is False and "rejected" in wrong["error"]
    other = read_dmarc(f"_dmarc.{D}", txt_answer(f"_dmarc.{D}", "not dmarc"), NOWHERE, 1)
    assert other["records"] == [] and other["other_txt"] == ["not dmarc"]
    silent = read_dmarc(f"_dmarc.{D}", txt_answer(f"_dmarc.{D}", outcome="servfail"), NOWHERE, 1)
    assert silent["records"] == [] and "valid" not in silent
