"""Email and DNS judged from one domain's stored DNS observation (`govaudit dns`).

Pure functions of the observation as stored (`dns_observation`: the answers, and the SPF and
DMARC records as checkdmarc read them) and of the policy's `[email]` requirements:

* the DNS state: `ok`, `unreachable` (the domain's nameservers do not answer, or it is not
  in DNS at all) or `couldn't-check` (the resolver itself did not answer);
* BOD 18-01 email compliance: a valid SPF record (`v=spf1 -all` for a domain that sends no
  mail), DMARC `p=reject` at `pct=100` with CISA's report address in `rua` (and, when the
  policy asks, an `sp=` no weaker); `compliant`, `not-compliant` or `couldn't-check` with the
  reason;
* IPv6 of the website (AAAA for the homepage host) and DNSSEC (DS at the parent, DNSKEY
  published): true, false, or None when not known.

A timeout, SERVFAIL or REFUSED is "couldn't check" with the reason, never "no record"; an
NXDOMAIN for `_dmarc.` is "no DMARC record". A definite failure (SPF `+all`, `p=none`) makes
a domain not compliant even when another part could not be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OK, UNREACHABLE, COULDNT = "ok", "unreachable", "couldn't-check"
COMPLIANT, NOT_COMPLIANT = "compliant", "not-compliant"
DNS_STATES = (OK, UNREACHABLE, COULDNT)
EMAIL_VERDICTS = (COMPLIANT, NOT_COMPLIANT, COULDNT)
# The guideline predicates' outcome words (audit.guideline_predicates).
PASS, FAIL, COULDNT_CHECK = "pass", "fail", "couldn't check"
ANSWERED = ("answer", "nodata", "nxdomain")
POLICY_STRENGTH = {"none": 0, "quarantine": 1, "reject": 2}
CISA_REPORTS = "reports@dmarc.cyber.dhs.gov"

Observation = Mapping[str, Any]


@dataclass(frozen=True)
class EmailPolicy:
    """What email compliance asks (policy `[email]`; defaults: CISA BOD 18-01)."""

    directive: str = "CISA BOD 18-01"
    dmarc_policy: str = "reject"
    dmarc_pct: int = 100
    report_addresses: tuple[str, ...] = (CISA_REPORTS,)
    # True: an sp= weaker than dmarc_policy fails too. CISA's own BOD 18-01 report judged
    # p= alone, and so does the default.
    subdomain_policy: bool = False

    @staticmethod
    def from_section(section: Mapping[str, Any] | None) -> EmailPolicy:
        s = dict(section or {})
        default = EmailPolicy()
        return EmailPolicy(
            directive=str(s.get("directive", default.directive)),
            dmarc_policy=str(s.get("dmarc_policy", default.dmarc_policy)),
            dmarc_pct=int(s.get("dmarc_pct", default.dmarc_pct)),
            report_addresses=tuple(s.get("report_addresses", default.report_addresses)),
            subdomain_policy=bool(s.get("subdomain_policy", default.subdomain_policy)),
        )


@dataclass(frozen=True)
class Part:
    """One part of a judgement: pass, fail or couldn't check, with the reason."""

    outcome: str
    reason: str
    # (name, type) of the answers it rests on, for the evidence
    answers: tuple[tuple[str, str], ...] = ()
    match: Any = None


@dataclass(frozen=True)
class EmailVerdict:
    verdict: str
    reason: str
    parts: dict[str, Part] = field(default_factory=dict)


# ------------------------------------------------------------------------------ answers


def answer(obs: Observation, name: str, rtype: str) -> dict[str, Any] | None:
    """The stored answer for NAME TYPE (the last one asked), or None when not asked."""
    found = None
    for entry in obs.get("answers") or []:
        if entry.get("name") == name and entry.get("type") == rtype:
            found = entry
    return found


def describe(entry: Mapping[str, Any] | None) -> str:
    """One answer in a few words: `NAME TYPE: outcome (detail)`."""
    if entry is None:
        return "not asked"
    head = f"{entry['name']} {entry['type']}"
    outcome = entry.get("outcome")
    if outcome == "answer":
        return f"{head}: {' | '.join(entry.get('records') or [])}"
    if outcome == "nodata":
        return f"{head}: no record (NOERROR, no data)"
    if outcome == "nxdomain":
        return f"{head}: NXDOMAIN (the name does not exist)"
    if outcome == "timeout":
        return f"{head}: timeout ({entry.get('error') or 'no answer'})"
    code, error = entry.get("rcode") or outcome, entry.get("error")
    return f"{head}: {code}" + (f" ({error})" if error and error != code else "")


def _answered(entry: Mapping[str, Any] | None) -> bool:
    return entry is not None and entry.get("outcome") in ANSWERED


def _records(obs: Observation, name: str, rtype: str) -> list[str]:
    entry = answer(obs, name, rtype)
    return list(entry.get("records") or []) if entry and entry["outcome"] == "answer" else []


def _host(text: str) -> str:
    return text.rstrip(".").lower()


def ns_hosts(obs: Observation) -> list[str]:
    return sorted(_host(r) for r in _records(obs, obs["domain"], "NS"))


def mx_hosts(obs: Observation) -> list[str]:
    """`PREFERENCE HOST` of each MX record, lowest preference first."""
    out = []
    for record in _records(obs, obs["domain"], "MX"):
        pref, _, host = record.partition(" ")
        out.append((int(pref) if pref.isdigit() else 0, _host(host)))
    return [f"{p} {h}" for p, h in sorted(out)]


# ------------------------------------------------------------------------------ DNS state


def dns_state(obs: Observation) -> tuple[str, str]:
    """(ok | unreachable | couldn't-check, reason). The zone answers when any question about
    the domain or a name in it got an answer (records, no data, or NXDOMAIN for a name below
    it). NS and DS do not count: a resolver may answer them from the parent's delegation
    while the zone's own nameservers are silent. When nothing answered, the parent's answers
    tell a silent zone from a silent resolver."""
    domain = obs["domain"]
    asked = [
        a
        for a in obs.get("answers") or []
        if a["name"] == domain or a["name"].endswith("." + domain)
    ]
    own = [a for a in asked if a["type"] not in ("NS", "DS")]
    if not own:
        return COULDNT, f"no DNS answer stored for {domain}"
    apex = [a for a in asked if a["name"] == domain and a["type"] in ("SOA", "NS")]
    if any(a["outcome"] == "nxdomain" for a in apex):
        return UNREACHABLE, f"{domain} is not in DNS (NXDOMAIN)"
    if any(a["outcome"] in ANSWERED for a in own):
        return OK, f"{domain}'s nameservers answer"
    failures = "; ".join(describe(a) for a in (apex or own[:2]))
    if all(a["outcome"] == "refused" for a in own):
        return COULDNT, f"the resolver refused the queries ({failures})"
    delegation = [answer(obs, domain, "DS"), answer(obs, domain, "NS")]
    parent = delegation[0]
    if any(_answered(a) for a in delegation):
        return (
            UNREACHABLE,
            f"{domain}'s nameservers do not answer ({failures}), though the parent zone does",
        )
    return COULDNT, f"no answer from the resolver ({failures}; {describe(parent)})"


# ------------------------------------------------------------------------------ SPF


def spf_part(obs: Observation) -> Part:
    """A valid SPF record: one `v=spf1` record that checkdmarc parses, within ten DNS
    lookups, every lookup answered, not ending in `+all`."""
    domain = obs["domain"]
    txt = answer(obs, domain, "TXT")
    keys = ((domain, "TXT"),)
    if not _answered(txt):
        return Part(COULDNT_CHECK, describe(txt), keys)
    spf = obs.get("spf") or {}
    records = spf.get("records") or []
    if not records:
        sends_no_mail = not _records(obs, domain, "MX")
        hint = " (a domain that sends no mail publishes v=spf1 -all)" if sends_no_mail else ""
        return Part(FAIL, f"no SPF record{hint}", keys)
    lookups = spf.get("dns_lookups")
    over_limit = isinstance(lookups, int) and lookups > 10
    failures = spf.get("lookup_failures") or []
    if failures and not over_limit:
        return Part(COULDNT_CHECK, f"SPF lookups got no answer: {'; '.join(failures[:3])}", keys)
    if spf.get("valid") is False:
        return Part(FAIL, f"SPF record not valid: {spf.get('error')}", keys, spf.get("record"))
    if spf.get("all") == "pass":
        return Part(
            FAIL, f"SPF record ends in +all: any host may send mail as {domain}", keys, records[0]
        )
    count = f"{lookups} DNS lookup{'s' if lookups != 1 else ''}" if lookups is not None else ""
    return Part(PASS, f"valid SPF record{f' ({count})' if count else ''}", keys, records[0])


# ------------------------------------------------------------------------------ DMARC


def dmarc_location(obs: Observation) -> tuple[str, bool]:
    """The `_dmarc.` name whose record applies, and whether it is inherited from the
    organizational domain (the domain itself has none)."""
    own = f"_dmarc.{obs['domain']}"
    location = (obs.get("dmarc") or {}).get("location") or own
    return location, location != own


def dmarc_record_part(obs: Observation) -> Part:
    """The domain's DMARC record (or its organizational domain's): present and valid."""
    dmarc = obs.get("dmarc") or {}
    location, inherited = dmarc_location(obs)
    own = answer(obs, f"_dmarc.{obs['domain']}", "TXT")
    entry = answer(obs, location, "TXT")
    keys = tuple(dict.fromkeys([(f"_dmarc.{obs['domain']}", "TXT"), (location, "TXT")]))
    for step in (own, entry):
        if not _answered(step):
            return Part(COULDNT_CHECK, describe(step), keys)
    records = dmarc.get("records") or []
    if not records:
        assert entry is not None
        if entry["outcome"] == "nxdomain":
            why = f"{location} does not exist (NXDOMAIN)"
        elif entry.get("records"):
            why = f"{location} has TXT records, none of them DMARC"
        else:
            why = f"{location} has no TXT record"
        return Part(FAIL, f"no DMARC record: {why}", keys)
    if dmarc.get("valid") is False:
        return Part(FAIL, f"DMARC record not valid: {dmarc.get('error')}", keys, records[0])
    source = f" (inherited from {location.removeprefix('_dmarc.')})" if inherited else ""
    return Part(PASS, f"DMARC record{source}", keys, records[0])


def dmarc_pct(dmarc: Mapping[str, Any]) -> int | str:
    """pct= as a number (100 when absent: RFC 7489's default), or the text when not one."""
    raw = dmarc.get("pct")
    if raw is None or raw == "":
        return 100
    text = str(raw).strip()
    return int(text) if text.isdigit() else text


def effective_policy(obs: Observation) -> tuple[str | None, str | None]:
    """(policy for the domain, policy for its subdomains): p= and sp= (sp= defaults to p=);
    a domain without a record of its own gets its organizational domain's sp=."""
    dmarc = obs.get("dmarc") or {}
    if dmarc.get("valid") is not True:
        return None, None
    _location, inherited = dmarc_location(obs)
    p, sp = dmarc.get("p"), dmarc.get("sp") or dmarc.get("p")
    return (sp, sp) if inherited else (p, sp)


def dmarc_policy_part(
    obs: Observation, policy: str = "reject", pct: int = 100, subdomains: bool = False
) -> Part:
    """DMARC at least `policy` (none < quarantine < reject) for the domain (and, when
    `subdomains`, an explicit sp=) on at least `pct` percent of mail."""
    record = dmarc_record_part(obs)
    if record.outcome != PASS:
        return record
    dmarc = obs.get("dmarc") or {}
    location, inherited = dmarc_location(obs)
    p, sp = effective_policy(obs)
    want = POLICY_STRENGTH.get(policy, 2)
    problems = []
    if POLICY_STRENGTH.get(p or "none", 0) < want:
        tag = f"sp={p} of {location.removeprefix('_dmarc.')}" if inherited else f"p={p}"
        problems.append(f"{tag} (asks for {policy})")
    if (
        subdomains
        and not inherited
        and dmarc.get("sp_explicit")
        and POLICY_STRENGTH.get(sp or "none", 0) < want
    ):
        problems.append(f"sp={sp} leaves subdomains below {policy}")
    share = dmarc_pct(dmarc)
    if not isinstance(share, int):
        problems.append(f"pct={share} is not a number")
    elif share < pct:
        problems.append(f"pct={share} (asks for pct={pct})")
    match = {"p": p, "sp": sp, "pct": share}
    if problems:
        return Part(FAIL, "DMARC " + "; ".join(problems), record.answers, match)
    return Part(PASS, f"DMARC p={p}, sp={sp}, pct={share}", record.answers, match)


def rua_addresses(dmarc: Mapping[str, Any]) -> list[str]:
    return [str(u) for u in dmarc.get("rua") or []]


def dmarc_reports_part(obs: Observation, addresses: Sequence[str] = (CISA_REPORTS,)) -> Part:
    """Every address in `addresses` receives the aggregate reports (`rua=mailto:...`)."""
    record = dmarc_record_part(obs)
    if record.outcome != PASS:
        return record
    rua = rua_addresses(obs.get("dmarc") or {})
    mailto = {u.lower().removeprefix("mailto:") for u in rua if u.lower().startswith("mailto:")}
    missing = [a for a in addresses if a.lower() not in mailto]
    if missing:
        given = f"rua={','.join(rua)}" if rua else "no rua="
        return Part(
            FAIL,
            f"DMARC reports do not go to {', '.join(missing)} ({given})",
            record.answers,
            rua,
        )
    return Part(PASS, f"DMARC reports go to {', '.join(addresses)}", record.answers, rua)


# ------------------------------------------------------------------------------ email


def email_verdict(obs: Observation, policy: EmailPolicy | None = None) -> EmailVerdict:
    """BOD 18-01 email compliance of one domain, with the reason."""
    policy = policy or EmailPolicy()
    state, why = dns_state(obs)
    if state != OK:
        return EmailVerdict(COULDNT, f"DNS {state}: {why}")
    parts = {"spf": spf_part(obs)}
    record = dmarc_record_part(obs)
    if record.outcome == PASS:
        parts["dmarc_policy"] = dmarc_policy_part(
            obs, policy.dmarc_policy, policy.dmarc_pct, policy.subdomain_policy
        )
        parts["dmarc_reports"] = dmarc_reports_part(obs, policy.report_addresses)
    else:
        parts["dmarc"] = record
    failed = [p.reason for p in parts.values() if p.outcome == FAIL]
    unchecked = [p.reason for p in parts.values() if p.outcome == COULDNT_CHECK]
    if failed:
        return EmailVerdict(NOT_COMPLIANT, "; ".join(failed), parts)
    if unchecked:
        return EmailVerdict(COULDNT, "; ".join(unchecked), parts)
    return EmailVerdict(COMPLIANT, "; ".join(p.reason for p in parts.values()), parts)


# ------------------------------------------------------------------------------ IPv6, DNSSEC


def _has_address(obs: Observation, host: str) -> bool:
    return bool(_records(obs, host, "A") or _records(obs, host, "AAAA"))


def website_host(obs: Observation, homepage_host: str | None = None) -> str | None:
    """The host whose AAAA counts: the crawl's homepage host when it is the domain or its
    www host, else the first of www.D and D that has an address (None: neither has)."""
    hosts = [f"www.{obs['domain']}", obs["domain"]]
    if homepage_host in hosts:
        return homepage_host
    return next((h for h in hosts if _has_address(obs, h)), None)


def ipv6(obs: Observation, homepage_host: str | None = None) -> tuple[bool | None, str]:
    """AAAA for the website's homepage host: the crawl's homepage host when it is the domain
    or its www host, else the first of www.D and D that has an address."""
    domain = obs["domain"]
    state, why = dns_state(obs)
    if state != OK:
        return None, f"DNS {state}: {why}"
    host = website_host(obs, homepage_host)
    if host is None:
        hosts = [f"www.{domain}", domain]
        asked = [answer(obs, h, t) for h in hosts for t in ("A", "AAAA")]
        failed = [a for a in asked if a is not None and not _answered(a)]
        if failed:
            return None, f"couldn't check: {describe(failed[0])}"
        return None, f"no website host: neither {hosts[0]} nor {domain} has an address"
    entry = answer(obs, host, "AAAA")
    if entry is not None and entry["outcome"] == "answer":
        return True, describe(entry)
    if _answered(entry):
        return False, f"{host} has no AAAA record"
    return None, f"couldn't check: {describe(entry)}"


def dnssec(obs: Observation) -> tuple[bool | None, str]:
    """Signed: a DS record at the parent and a DNSKEY in the zone."""
    domain = obs["domain"]
    ds, key = answer(obs, domain, "DS"), answer(obs, domain, "DNSKEY")
    if not _answered(ds):
        return None, f"couldn't check: {describe(ds)}"
    assert ds is not None
    if ds["outcome"] != "answer":
        if key is not None and key["outcome"] == "answer":
            return False, "a DNSKEY but no DS at the parent: no chain of trust"
        return False, "no DS record at the parent (unsigned)"
    if not _answered(key):
        return None, f"DS at the parent; couldn't check the DNSKEY: {describe(key)}"
    assert key is not None
    if key["outcome"] != "answer":
        return False, "a DS at the parent but no DNSKEY in the zone: validation fails"
    return True, "DS at the parent and DNSKEY in the zone"


# ------------------------------------------------------------------------------ rows


def answer_lines(obs: Observation) -> dict[str, str]:
    """Every stored answer as `NAME TYPE` -> what came back (with the time it took)."""
    out = {}
    for entry in obs.get("answers") or []:
        text = describe(entry).split(": ", 1)[1]
        out[f"{entry['name']} {entry['type']}"] = f"{text} [{entry.get('ms')} ms]"
    return out


def judge(
    obs: Observation, policy: EmailPolicy | None = None, homepage_host: str | None = None
) -> dict[str, Any]:
    """Everything judged about one domain: the `govaudit export dns` row (see DNS_COLUMNS in
    audit/dns_results.py) and the parts behind it."""
    policy = policy or EmailPolicy()
    state, state_reason = dns_state(obs)
    email = email_verdict(obs, policy)
    spf = obs.get("spf") or {}
    dmarc = obs.get("dmarc") or {}
    known = state == OK
    spf_check = spf_part(obs) if known else None
    p, sp = effective_policy(obs)
    has_six, six_reason = ipv6(obs, homepage_host)
    signed, signed_reason = dnssec(obs)
    if spf_check is None or spf_check.outcome == COULDNT_CHECK:
        spf_valid, spf_error = None, (spf_check.reason if spf_check else state_reason)
    else:
        spf_valid = spf_check.outcome == PASS
        spf_error = None if spf_valid else spf_check.reason
    return {
        "domain": obs["domain"],
        "agency": obs.get("agency"),
        "dns_state": state,
        "dns_reason": state_reason,
        "ns": " ".join(ns_hosts(obs)),
        "mx": ", ".join(mx_hosts(obs)),
        "spf": spf.get("record") or (spf.get("records") or [""])[0],
        "spf_valid": spf_valid,
        "spf_error": spf_error,
        "dmarc": dmarc.get("record") or "",
        "dmarc_policy": p or "",
        "dmarc_subdomain_policy": sp or "",
        "dmarc_pct": dmarc_pct(dmarc) if dmarc.get("valid") is True else None,
        "dmarc_rua": ",".join(rua_addresses(dmarc)),
        "dmarc_location": dmarc_location(obs)[0],
        "email_verdict": email.verdict,
        "email_reason": email.reason,
        # which parts failed: spf, dmarc (no valid record), dmarc_policy, dmarc_reports
        "email_failures": [k for k, part in email.parts.items() if part.outcome == FAIL],
        "ipv6": has_six,
        "ipv6_reason": six_reason,
        "dnssec": signed,
        "dnssec_reason": signed_reason,
        "resolver": obs.get("resolver") or "",
        "checked_at": obs.get("checked_at"),
        "evidence": {
            "dns_state": f"{state}: {state_reason}",
            "ipv6": six_reason,
            "dnssec": signed_reason,
            "spf_warnings": spf.get("warnings") or [],
            "spf_lookup_failures": spf.get("lookup_failures") or [],
            "dmarc_location": dmarc_location(obs)[0],
            "library": spf.get("library") or dmarc.get("library"),
            "dns_run": obs.get("run_id"),
            "answers": answer_lines(obs),
        },
    }
