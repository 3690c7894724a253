"""Guideline checks judged over stored observations: per site pass / fail / not applicable /
couldn't check with evidence, tallied per check and per agency, and two drafts compared.

Pure functions: the audit run (audit/audit_run.py) gathers each site's facts from the store and
hands them over one site at a time; nothing here reads the database or the web.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from audit.guideline_predicates import (
    COULDNT_CHECK,
    FAIL,
    NOT_APPLICABLE,
    PASS,
    PREDICATES,
    SiteFacts,
)
from audit.policy_file import GuidelineCheck

NO_AGENCY = "(no agency)"
COUNT_KEYS = {PASS: "pass", FAIL: "fail", COULDNT_CHECK: "couldnt_check"}


@dataclass(frozen=True)
class CheckResult:
    check: str
    domain: str
    agency: str | None
    site_status: str
    outcome: str
    evidence: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "domain": self.domain,
            "agency": self.agency,
            "site_status": self.site_status,
            "outcome": self.outcome,
            "evidence": self.evidence,
        }


def judge(check: GuidelineCheck, site: SiteFacts) -> CheckResult:
    """One check on one site. A site whose status the check does not apply to is "not
    applicable"; otherwise the predicate decides, with its evidence."""
    if site.status not in check.applies_to:
        evidence = {
            "url": site.homepage_url,
            "fetched_at": site.fetched_at,
            "reason": f"site status {site.status} (the check applies to "
            f"{', '.join(check.applies_to)})",
        }
        outcome = NOT_APPLICABLE
    else:
        verdict = PREDICATES[check.test].function(site, check.args)
        outcome, evidence = verdict.outcome, verdict.evidence()
    evidence["crawl_run"] = site.crawl_run
    return CheckResult(check.id, site.domain, site.agency, site.status, outcome, evidence)


def checks_at(checks: Sequence[GuidelineCheck], level: str) -> list[GuidelineCheck]:
    """The checks that judge `level` ("domains" or "websites"; a check says which with
    `levels`, both by default)."""
    return [c for c in checks if level in c.levels]


def evaluate_sets(
    check_sets: Sequence[Sequence[GuidelineCheck]], sites: Iterable[SiteFacts]
) -> list[list[CheckResult]]:
    """Every set of checks on every site, in one pass over the sites (each site's kept
    homepage is parsed once, then dropped)."""
    results: list[list[CheckResult]] = [[] for _ in check_sets]
    for site in sites:
        for i, checks in enumerate(check_sets):
            results[i].extend(judge(c, site) for c in checks)
    return results


def evaluate(checks: Sequence[GuidelineCheck], sites: Iterable[SiteFacts]) -> list[CheckResult]:
    return evaluate_sets([checks], sites)[0]


def _share(passed: int, failed: int) -> float | None:
    return passed / (passed + failed) if passed + failed else None


def _counts(outcomes: Counter[str]) -> dict[str, Any]:
    passed, failed, couldnt = outcomes[PASS], outcomes[FAIL], outcomes[COULDNT_CHECK]
    return {
        "sites_judged": passed + failed + couldnt,
        "pass": passed,
        "fail": failed,
        "couldnt_check": couldnt,
        "not_applicable": outcomes[NOT_APPLICABLE],
        "pass_share": _share(passed, failed),
    }


def tally(checks: Sequence[GuidelineCheck], results: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """Per check: its definition, fleet-wide counts, per-agency counts, the failing sites.

    `sites_judged` counts the sites the check applies to (pass + fail + couldn't check);
    `pass_share` is pass / (pass + fail): sites that could not be checked are left out of it.
    """
    fleet: dict[str, Counter[str]] = defaultdict(Counter)
    agencies: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    failing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    couldnt: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        fleet[r.check][r.outcome] += 1
        agencies[r.check][r.agency or NO_AGENCY][r.outcome] += 1
        if r.outcome == FAIL:
            failing[r.check].append(r.as_json())
        elif r.outcome == COULDNT_CHECK:
            couldnt[r.check].append(r.as_json())
    rows = []
    for c in checks:
        rows.append(
            {
                **c.as_json(),
                **_counts(fleet[c.id]),
                "agencies": [
                    {"agency": name, **_counts(counts)}
                    for name, counts in sorted(agencies[c.id].items())
                ],
                "failing": sorted(failing[c.id], key=lambda f: f["domain"]),
                "couldnt_check_sites": sorted(couldnt[c.id], key=lambda f: f["domain"]),
            }
        )
    return rows


SUMMARY_COLUMNS = [
    "check",
    "severity",
    "sites_judged",
    "pass",
    "fail",
    "couldnt_check",
    "not_applicable",
    "pass_share",
    "title",
    "source",
]
AGENCY_COLUMNS = ["check", "agency", "sites_judged", "pass", "fail", "couldnt_check", "pass_share"]


def flat_rows(tallies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per check (agency empty: the whole fleet), then one per check and agency."""
    rows: list[dict[str, Any]] = []
    for t in tallies:
        rows.append({**{k: t.get(k) for k in SUMMARY_COLUMNS}, "check": t["id"], "agency": None})
        for a in t["agencies"]:
            rows.append(
                {
                    "check": t["id"],
                    "severity": t["severity"],
                    "title": t["title"],
                    "source": t["source"],
                    **a,
                }
            )
    return rows


def agency_failures(tallies: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Agency -> the checks its sites fail, each with the failing sites and evidence."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in tallies:
        by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in t["failing"]:
            by_agency[f["agency"] or NO_AGENCY].append(f)
        for agency, sites in by_agency.items():
            found[agency].append(
                {
                    "id": t["id"],
                    "title": t["title"],
                    "source": t["source"],
                    "severity": t["severity"],
                    "sites": sites,
                }
            )
    return dict(found)


COMPARE_COLUMNS = [
    "check",
    "agency",
    "change",
    "old_pass",
    "new_pass",
    "old_fail",
    "new_fail",
    "old_couldnt_check",
    "new_couldnt_check",
    "old_pass_share",
    "new_pass_share",
    "newly_failing",
    "newly_passing",
]


def compare(
    old_checks: Sequence[GuidelineCheck],
    new_checks: Sequence[GuidelineCheck],
    old_results: Sequence[CheckResult],
    new_results: Sequence[CheckResult],
) -> list[dict[str, Any]]:
    """What would change from the old draft to the new, per check and per agency.

    `change`: added, removed, changed (definition or outcome differ) or same. Per-agency
    rows are listed only where something differs; `newly_failing` / `newly_passing` name
    the sites whose outcome turns to fail / pass.
    """
    old_by_id = {c.id: c for c in old_checks}
    new_by_id = {c.id: c for c in new_checks}
    outcome: dict[tuple[str, str], dict[str, CheckResult]] = {}
    for side, results in (("old", old_results), ("new", new_results)):
        for r in results:
            outcome.setdefault((side, r.check), {})[r.domain] = r
    ids = [c.id for c in new_checks] + [c.id for c in old_checks if c.id not in new_by_id]
    rows: list[dict[str, Any]] = []
    for ident in ids:
        old = outcome.get(("old", ident), {})
        new = outcome.get(("new", ident), {})

        def scoped(agency: str | None, old: dict = old, new: dict = new) -> dict[str, Any]:
            def pick(side: dict[str, CheckResult]) -> dict[str, CheckResult]:
                if agency is None:
                    return side
                return {d: r for d, r in side.items() if (r.agency or NO_AGENCY) == agency}

            o, n = pick(old), pick(new)
            oc = Counter(r.outcome for r in o.values())
            nc = Counter(r.outcome for r in n.values())
            return {
                "old_pass": oc[PASS],
                "new_pass": nc[PASS],
                "old_fail": oc[FAIL],
                "new_fail": nc[FAIL],
                "old_couldnt_check": oc[COULDNT_CHECK],
                "new_couldnt_check": nc[COULDNT_CHECK],
                "old_pass_share": _share(oc[PASS], oc[FAIL]),
                "new_pass_share": _share(nc[PASS], nc[FAIL]),
                "newly_failing": sorted(
                    d for d, r in n.items() if r.outcome == FAIL and _was(o, d) != FAIL
                ),
                "newly_passing": sorted(
                    d for d, r in n.items() if r.outcome == PASS and _was(o, d) != PASS
                ),
            }

        if ident not in old_by_id:
            change = "added"
        elif ident not in new_by_id:
            change = "removed"
        else:
            same_definition = old_by_id[ident].definition() == new_by_id[ident].definition()
            same_outcomes = {d: r.outcome for d, r in old.items()} == {
                d: r.outcome for d, r in new.items()
            }
            change = "same" if same_definition and same_outcomes else "changed"
        rows.append({"check": ident, "agency": None, "change": change, **scoped(None)})
        agencies = sorted({r.agency or NO_AGENCY for r in [*old.values(), *new.values()]})
        for agency in agencies:
            row = scoped(agency)
            differs = any(row[f"old_{k}"] != row[f"new_{k}"] for k in ("pass", "fail"))
            differs = differs or row["old_couldnt_check"] != row["new_couldnt_check"]
            if differs or row["newly_failing"] or row["newly_passing"]:
                rows.append({"check": ident, "agency": agency, "change": change, **row})
    return rows


def _was(side: dict[str, CheckResult], domain: str) -> str | None:
    found = side.get(domain)
    return found.outcome if found else None
