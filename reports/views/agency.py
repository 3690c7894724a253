"""agencies/<slug>.html: one agency's domains, homepage links, /open page and plan with its
evidence, freeze rows and findings, and its changes since the previous run."""

from __future__ import annotations

import re
from typing import Any

from audit.guidelines import agency_failures
from reports.display import evidence_items
from reports.views.accessibility import agency_a11y
from reports.views.email_dns import agency_dns, email_dns_view
from reports.views.guidelines import pack_label
from reports.views.labels import FLAGGED_CLASSIFICATIONS, FREEZE_RULES
from reports.views.report_index import ReportIndex, evidence_by_freeze_row, filter_changes
from reports.views.websites import agency_websites

Row = dict[str, Any]


def _hops(chain: Any) -> list[Row]:
    return [
        {"url": h.get("url"), "status": h.get("status"), "location": h.get("location")}
        for h in chain or []
        if isinstance(h, dict)
    ]


def plan_view(plan: Row) -> Row:
    """A plans row with its evidence arranged for display."""
    ev = plan.get("evidence") or {}
    snippets = ev.get("snippets") or {}
    elements = [
        {"name": name, "found": bool(found), "snippet": snippets.get(name)}
        for name, found in (plan.get("elements") or {}).items()
    ]
    for name in plan.get("missing_elements") or []:
        if name not in (plan.get("elements") or {}):
            elements.append({"name": name, "found": False, "snippet": None})
    visits = [
        {
            "url": v.get("url"),
            "final_url": v.get("final_url"),
            "status": v.get("status"),
            "error": v.get("error"),
            "fetched_at": v.get("fetched_at"),
            "chain": _hops(v.get("chain")),
        }
        for v in ev.get("visits") or []
        if isinstance(v, dict)
    ]
    known = {
        "visits",
        "snippets",
        "candidates",
        "dead_links",
        "open_tries",
        "soft_404",
        "open_redirect_chain",
        "notes",
        "plan_hash",
        "elements_unread",
    }
    soft = ev.get("soft_404")
    return {
        **plan,
        "element_rows": elements,
        "visits": visits,
        "open_chain": _hops(ev.get("open_redirect_chain")),
        "open_tries": [t for t in ev.get("open_tries") or [] if isinstance(t, dict)],
        "candidates": [c for c in ev.get("candidates") or [] if isinstance(c, dict)],
        "dead_links": [d for d in ev.get("dead_links") or [] if isinstance(d, dict)],
        "notes": [str(n) for n in ev.get("notes") or []],
        "soft_404_probe": evidence_items(soft) if isinstance(soft, dict) else [],
        "plan_hash": ev.get("plan_hash"),
        "elements_unread": ev.get("elements_unread"),
        "other_evidence": evidence_items(
            {k: v for k, v in ev.items() if k not in known and v not in (None, "", [], {})}
        ),
    }


def agency_views(ix: ReportIndex) -> list[Row]:
    """One context per agency page, in the order of the agencies index."""
    evidence = evidence_by_freeze_row(ix.findings)
    checks = ix.data.get("guideline_checks") or {}
    failing_checks = agency_failures(checks.get("checks") or [])
    # the Email and DNS page's words and labels, for each agency's DNS rows
    dns_context = {
        k: v
        for k, v in email_dns_view(ix).items()
        if k in ("dns_run", "verdict_labels", "state_labels", "directive")
    }
    pages = []
    for row in ix.agency_rows:
        name = row["agency"]
        ds = sorted(ix.domains_of.get(name, set()))
        domain_rows = []
        for d in ds:
            e = ix.inv_by_domain.get(d)
            s = ix.site_by_domain.get(d)
            domain_rows.append(
                {
                    "domain": d,
                    "anchor": "d-" + re.sub(r"[^a-z0-9.-]", "-", d.lower()),
                    "in_registry": e is not None,
                    "domain_type": e["domain_type"] if e else None,
                    "organization": e["organization"] if e else None,
                    "site": s,
                    "status": s["status"] if s else "not-crawled",
                }
            )
        findings = ix.findings_of.get(name, [])
        plan = ix.plan_by_agency.get(name)
        pages.append(
            {
                **ix.common,
                "agency": row,
                "seed": ix.seeds_by_name.get(name),
                "domains": domain_rows,
                "live_sites": [r for r in domain_rows if r["status"] == "active"],
                "hostnames": sorted(
                    {h for r in domain_rows if r["site"] for h in (r["site"]["hostnames"] or [])}
                ),
                "plan": plan_view(plan) if plan else None,
                "a11y_pages": agency_a11y(ix, name),
                "dns_rows": agency_dns(ix, name, set(ds)),
                **dns_context,
                "freeze_rows": [
                    {**r, "findings": evidence.get((r["domain"] or "", r["window"] or ""), [])}
                    for r in ix.freeze_rows_of.get(name, [])
                    if r["classification"] in FLAGGED_CLASSIFICATIONS
                ],
                "freeze_findings": [f for f in findings if f["rule"] in FREEZE_RULES],
                # guideline failures are listed per check below (the report's guideline set)
                "other_findings": [
                    f
                    for f in findings
                    if f["rule"] not in FREEZE_RULES and not f["rule"].startswith("guideline:")
                ],
                "guidelines_available": bool(checks.get("available")),
                "guidelines_label": pack_label(checks.get("pack") or {}),
                "failing_checks": failing_checks.get(name, []),
                "changes": filter_changes(ix.changes, name, set(ds)),
                "websites": agency_websites(ix, name),
            }
        )
    return pages
