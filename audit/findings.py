"""What rules read (AuditInput, pure data) and what they return (FindingDraft)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from audit.domain_names import domain_kind
from audit.freeze import FirstCapture, FreezeRow, RdapView, SnapshotView, freeze_table
from audit.policy_file import Policy
from audit.waivers_file import Waiver


@dataclass(frozen=True)
class FindingDraft:
    rule: str
    severity: str
    summary: str
    evidence: dict[str, Any]
    domain: str | None = None
    agency: str | None = None
    window: str | None = None
    classification: str | None = None
    waiver: str | None = None


@dataclass
class AuditInput:
    """Everything the rules may look at, gathered by the runner from stored observations."""

    policy: Policy
    waivers: list[Waiver]
    snapshots: list[SnapshotView]
    # domain -> (agency, federal?) for every domain any snapshot lists, newest entry wins
    registry: dict[str, tuple[str | None, bool]]
    rdap: dict[str, RdapView]
    # the latest site crawl: run id and per-domain sites rows (audit.site_rows.site_row)
    crawl_run_id: int | None = None
    sites: list[dict[str, Any]] = field(default_factory=list)
    # unlisted .gov domain -> evidence of where the crawl saw it linked
    unlisted: dict[str, dict[str, Any]] = field(default_factory=dict)
    # domain -> its earliest capture in a web archive (`govaudit archive first-seen`)
    first_captures: dict[str, FirstCapture] = field(default_factory=dict)
    # domain -> first crawl that saw it alive {"run": id, "fetched_at": iso}
    first_alive: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the latest /open crawl: plan rows (audit.plan_rows.plan_row)
    open_run_id: int | None = None
    plans: list[dict[str, Any]] = field(default_factory=list)
    # agency -> its judged plan check (audit.plan_status.check_fields), for plan_check
    plan_checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the latest accessibility run: one dict per page (audit.a11y.a11y_pages)
    a11y_run_id: int | None = None
    a11y_pages: list[dict[str, Any]] = field(default_factory=list)
    # the newest DNS run: each domain judged (audit.email_dns.judge)
    dns_run_id: int | None = None
    dns_rows: list[dict[str, Any]] = field(default_factory=list)
    # the policy's guideline checks judged on every site of the site crawl
    # (audit.guidelines.CheckResult)
    guideline_results: list[Any] = field(default_factory=list)
    today: dt.date = field(default_factory=dt.date.today)

    @cached_property
    def freeze_rows(self) -> list[FreezeRow]:
        # The M-11-24 freeze bound federal agencies: other domain types (cities, states...)
        # are classified only when the policy says `federal_only = false`.
        federal_only = bool(self.policy.section("freeze").get("federal_only", True))
        # The freeze was of new .gov domains: the registry's fed.us names are not judged.
        domains: dict[str, tuple[str | None, bool | None]] = {
            name: value
            for name, value in self.registry.items()
            if (value[1] or not federal_only) and domain_kind(name) == "gov"
        }
        for name in self.unlisted:
            if name not in self.registry:
                domains[name] = (None, None)
        crawl = {d: {"unlisted": ev} for d, ev in self.unlisted.items()}
        for d, seen in self.first_alive.items():
            crawl.setdefault(d, {})["first_alive"] = seen
        return freeze_table(
            domains,
            self.snapshots,
            self.rdap,
            self.policy.windows,
            self.waivers,
            crawl,
            self.first_captures,
        )


def freeze_finding(
    row: FreezeRow, rule: str, severity: str, summary: str, evidence: dict[str, Any]
) -> FindingDraft:
    """A finding about one domain in one freeze window, with the row's classification."""
    c = row.classification
    return FindingDraft(
        rule=rule,
        severity=severity,
        domain=row.domain,
        agency=row.agency,
        window=c.window.name,
        classification=c.classification,
        waiver=row.waiver,
        summary=summary,
        evidence=evidence,
    )


def waiver_evidence(w: Waiver) -> dict[str, Any]:
    return {
        "granted_on": w.granted_on.isoformat(),
        "granted_by": w.granted_by,
        "reference": w.reference,
        "note": w.note,
        "source": w.source,
    }


def plan_evidence(row: dict[str, Any]) -> dict[str, Any]:
    """The evidence a plan finding carries: URLs visited with status and time, the plan."""
    return {
        "open_page_url": row["open_page_url"],
        "plan_url": row["plan_url"],
        "plan_content_type": row["plan_content_type"],
        "status_reason": row["status_reason"],
        "elements": row["elements"],
        "missing_elements": row["missing_elements"],
        "stated_date": row["stated_date"],
        "first_seen": row["first_seen"],
        "crawl_run": row["crawl_run"],
        "fetched_at": row["fetched_at"],
        **row["evidence"],
    }


def plan_findings(
    data: AuditInput, rule: str, severity: str, wanted: Any, summary: Any
) -> list[FindingDraft]:
    """Findings for the plan rows `wanted(row)` selects, worded by `summary(row)`."""
    return [
        FindingDraft(
            rule=rule,
            severity=severity,
            domain=row["domain"],
            agency=row["agency"],
            summary=summary(row),
            evidence=plan_evidence(row),
        )
        for row in data.plans
        if wanted(row)
    ]
