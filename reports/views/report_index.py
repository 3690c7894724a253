"""What every page of one report shares, computed once from `report_data.gather`'s data:
agencies with their slugs and pages, rows grouped per agency, counts, the freeze table,
run-to-run changes (`audit.run_changes`), and the context every template needs."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from audit.fleet_figures import REQUIRED_LINKS, is_federal
from audit.run_changes import finding_changes, plan_changes, site_changes
from audit.run_selection import JobProgress
from reports.display import slugify
from reports.views.freeze_table import freeze_counts, freeze_rows
from reports.views.labels import (
    CLASSIFICATIONS,
    PLAN_STATUS_LABELS,
    PLAN_STATUSES,
    RULE_LABELS,
    SITE_STATUSES,
    STATUS_LABELS,
)

Row = dict[str, Any]


@dataclass
class ReportIndex:
    data: dict[str, Any]
    freeze_rows: list[Row]
    freeze_counts: dict[str, dict[str, int]]
    slugs: dict[str, str]  # agency -> slug
    pages: dict[str, str]  # agency -> relative path of its page
    domains_of: dict[str, set[str]]
    findings_of: dict[str, list[Row]]
    freeze_rows_of: dict[str, list[Row]]
    agency_rows: list[Row]
    changes: dict[str, Any]
    common: dict[str, Any]
    inv_by_domain: dict[str, Row] = field(default_factory=dict)
    site_by_domain: dict[str, Row] = field(default_factory=dict)
    plan_by_agency: dict[str, Row] = field(default_factory=dict)
    seeds_by_name: dict[str, Row] = field(default_factory=dict)

    @property
    def inventory(self) -> list[Row]:
        return self.data["inventory"]

    @property
    def sites(self) -> list[Row]:
        return self.data["sites"]

    @property
    def plans(self) -> list[Row]:
        return self.data["plans"]

    @property
    def findings(self) -> list[Row]:
        return self.data["findings"]

    def site_agency(self, site: Row) -> str | None:
        return site["agency"] or (self.inv_by_domain.get(site["domain"]) or {}).get("agency")

    def status_counts(self) -> Counter[str]:
        return Counter(s["status"] for s in self.sites)

    def plan_counts(self) -> Counter[str]:
        return Counter(p["status"] for p in self.plans)

    def class_totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for counts in self.freeze_counts.values():
            totals.update(counts)
        return totals

    def dated_freeze_rows(self) -> list[Row]:
        return [r for r in self.freeze_rows if r["registration_date"] or r["interval"]]

    def freeze_class_totals(self) -> list[Row]:
        totals = self.class_totals()
        return [{"classification": c, "count": totals.get(c, 0)} for c in CLASSIFICATIONS]

    def plan_status_groups(self) -> list[Row]:
        """Agencies by plan status: the policy's statuses first, then any other in order."""
        counts = self.plan_counts()
        order = [*PLAN_STATUSES, *sorted(set(counts) - set(PLAN_STATUSES))]
        groups = {k: [p["agency"] for p in self.plans if p["status"] == k] for k in order}
        return [{"status": k, "count": len(v), "agencies": v} for k, v in groups.items()]


def _progress(run: Row | None) -> JobProgress | None:
    if not run or run.get("tasks_total") is None:
        return None
    return JobProgress(int(run["tasks_done"]), int(run["tasks_total"]))


def run_to_run_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Sites, plans and findings against the previous runs (pure: `audit.run_changes`)."""

    def run_id(key: str) -> int | None:
        return (data[key] or {}).get("id")

    return {
        "sites": site_changes(
            run_id("crawl_run"),
            run_id("previous_crawl_run"),
            data["sites"],
            data["previous_sites"],
            _progress(data["crawl_run"]),
        ),
        "plans": plan_changes(
            run_id("open_run"), run_id("previous_open_run"), data["plans"], data["previous_plans"]
        ),
        "findings": finding_changes(
            run_id("audit_run"),
            run_id("previous_audit_run"),
            data["findings"],
            data["previous_findings"],
        ),
    }


def partial_runs(data: dict[str, Any]) -> list[Row]:
    """The shown runs whose job did not finish (tasks left pending), for the banner on every
    page: what they show is part of the fleet, and nothing they missed reads as removed."""
    return [
        {"id": run["id"], "job": job, "done": run["tasks_done"], "total": run["tasks_total"]}
        for run, job in ((data["crawl_run"], "sites"), (data["open_run"], "/open"))
        if run and run.get("partial")
    ]


def build_index(data: dict[str, Any]) -> ReportIndex:
    seeds_by_name = {s["agency"]: s for s in data["agency_seeds"]}
    inventory, sites, plans, findings = (
        data["inventory"],
        data["sites"],
        data["plans"],
        data["findings"],
    )
    frows = freeze_rows(data["summary"], findings)
    ix = ReportIndex(
        data=data,
        freeze_rows=frows,
        freeze_counts=freeze_counts(data["summary"], frows),
        slugs={},
        pages={},
        domains_of=defaultdict(set),
        findings_of=defaultdict(list),
        freeze_rows_of=defaultdict(list),
        agency_rows=[],
        changes=run_to_run_changes(data),
        common={},
        inv_by_domain={e["domain"]: e for e in inventory},
        site_by_domain={s["domain"]: s for s in sites},
        plan_by_agency={p["agency"]: p for p in plans},
        seeds_by_name=seeds_by_name,
    )

    # Agencies and slugs: seeded slugs first, other names slugified and made unique.
    names: set[str] = set()
    names |= {e["agency"] for e in inventory if e["agency"] and is_federal(e)}
    names |= {a for a in (ix.site_agency(s) for s in sites) if a}
    names |= {p["agency"] for p in plans if p["agency"]}
    names |= {f["agency"] for f in findings if f["agency"]}
    names |= {r["agency"] for r in frows if r.get("agency")}
    used = {s["slug"] for s in data["agency_seeds"] if s["agency"] in names}
    for name in sorted(names):
        seed = seeds_by_name.get(name)
        if seed is not None:
            ix.slugs[name] = seed["slug"]
            continue
        base = slugify(name)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        ix.slugs[name] = slug
    ix.pages = {name: f"agencies/{slug}.html" for name, slug in ix.slugs.items()}

    # Rows per agency: a row of an agency without a page goes to the agency of its domain.
    for e in inventory:
        if e["agency"] in ix.slugs:
            ix.domains_of[e["agency"]].add(e["domain"])
    for s in sites:
        a = ix.site_agency(s)
        if a in ix.slugs:
            ix.domains_of[a].add(s["domain"])
    agency_of_domain: dict[str, str] = {}
    for a, ds in ix.domains_of.items():
        for d in ds:
            agency_of_domain.setdefault(d, a)

    def owner(row: Row) -> str | None:
        if row.get("agency") in ix.slugs:
            return row["agency"]
        return agency_of_domain.get(row.get("domain") or "")

    for f in findings:
        if a := owner(f):
            ix.findings_of[a].append(f)
    for r in frows:
        if a := owner(r):
            ix.freeze_rows_of[a].append(r)

    for name in sorted(ix.slugs):
        ds = ix.domains_of.get(name, set())
        counts = Counter(ix.site_by_domain[d]["status"] for d in ds if d in ix.site_by_domain)
        plan = ix.plan_by_agency.get(name)
        seed = seeds_by_name.get(name)
        ix.agency_rows.append(
            {
                "agency": name,
                "slug": ix.slugs[name],
                "page": ix.pages[name],
                "primary_domain": seed["primary_domain"] if seed else None,
                "domains": len(ds),
                "crawled": sum(counts.values()),
                "sites_by_status": {k: counts.get(k, 0) for k in SITE_STATUSES},
                "plan_status": plan["status"] if plan else None,
                "findings": len(ix.findings_of.get(name, [])),
            }
        )

    ix.common = {
        "generated_at": data["generated_at"],
        "crawl_run": data["crawl_run"],
        "open_run": data["open_run"],
        "audit_run": data["audit_run"],
        "snapshot": data["snapshot"],
        "notes": data["notes"],
        "partial_runs": partial_runs(data),
        "agency_pages": ix.pages,
        "status_labels": STATUS_LABELS,
        "plan_status_labels": PLAN_STATUS_LABELS,
        "rule_labels": RULE_LABELS,
        "site_statuses": SITE_STATUSES,
        "plan_statuses": PLAN_STATUSES,
        "classifications": CLASSIFICATIONS,
        "required_links": [
            {"key": k, "label": lbl, "source": src} for k, lbl, src in REQUIRED_LINKS
        ],
    }
    return ix


def filter_changes(changes: dict[str, Any], agency: str, domains: set[str]) -> dict[str, Any]:
    """The changes that concern one agency: its rows, or rows of its domains."""

    def mine(row: Row) -> bool:
        return row.get("agency") == agency or (row.get("domain") or "") in domains

    out: dict[str, Any] = {}
    for part, value in changes.items():
        if not value.get("available"):
            out[part] = value
            continue
        out[part] = {
            k: ([r for r in v if mine(r)] if isinstance(v, list) else v) for k, v in value.items()
        }
    return out


def evidence_by_freeze_row(findings: list[Row]) -> dict[tuple[str, str], list[Row]]:
    """(domain, window) -> the freeze findings that carry its evidence."""
    out: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for f in findings:
        if f["rule"] in ("freeze-registration", "late-waiver"):
            out[(f["domain"] or "", f["window"] or "")].append(f)
    return out
