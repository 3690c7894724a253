"""Fleet-wide figures for the .gov guidelines task force (the report's guidelines table).

Pure functions over `audit.site_rows` site rows and `audit.inventory` entry rows. "Couldn't
check" is never "absent": sites that did not answer (unreachable) or refused to be checked
(blocked, robots.txt) are left out of every denominator but `all`, and each figure states
its denominator and the policy it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.site_status import could_not_check

Row = dict[str, Any]

SITE_STATUSES = ["active", "redirect", "error", "unreachable", "parked"]
# The homepage links OMB expects, in the order of site row `required_links`, with sources.
REQUIRED_LINKS: list[tuple[str, str, str]] = [
    ("privacy", "Privacy policy", "OMB M-17-06; E-Government Act of 2002 §208"),
    ("accessibility", "Accessibility", "Section 508 (29 U.S.C. 794d); OMB M-17-06"),
    ("foia", "FOIA", "Freedom of Information Act (5 U.S.C. 552); OMB M-17-06"),
    ("no_fear", "No FEAR Act", "No FEAR Act of 2002; OMB M-17-06"),
    (
        "inspector_general",
        "Inspector General",
        "Inspector General Act (as amended 2016); OMB M-17-06",
    ),
    ("usa_gov", "USA.gov", "OMB M-17-06"),
    ("about", "About", "OMB M-17-06"),
    ("contact", "Contact", "OMB M-17-06; 21st Century IDEA"),
    ("open_gov", "Open Government", "OMB M-10-06 (Open Government Directive); OMB M-11-24"),
]
# (key, label, population, site row field, source); the field is summed as a boolean.
SITE_FACTS: list[tuple[str, str, str, str, str]] = [
    ("https", "Serve HTTPS", "answered", "https", "OMB M-15-13 (HTTPS-Only Standard)"),
    (
        "https_enforced",
        "Redirect HTTP to HTTPS",
        "answered",
        "http_redirects_to_https",
        "OMB M-15-13",
    ),
    ("hsts", "Send HSTS", "answered", "hsts", "OMB M-15-13; CISA BOD 18-01"),
]
HOMEPAGE_FACTS: list[tuple[str, str, str, str, str]] = [
    (
        "robots_txt",
        "Publish robots.txt",
        "live",
        "robots_txt",
        "OMB M-17-06 (search engine optimization)",
    ),
    (
        "sitemap_xml",
        "Publish sitemap.xml",
        "live",
        "sitemap_xml",
        "OMB M-17-06 (search engine optimization)",
    ),
    (
        "security_txt",
        "Publish security.txt",
        "live",
        "security_txt",
        "CISA BOD 20-01 (vulnerability disclosure)",
    ),
    ("dap", "Use the Digital Analytics Program", "live", "dap", "OMB M-17-06; OMB M-23-22"),
    ("site_search", "Offer site search", "live", "site_search", "OMB M-17-06; OMB M-23-22"),
    (
        "uswds_banner",
        "Show the USWDS .gov banner",
        "live",
        "uswds_banner",
        "21st Century IDEA; OMB M-23-22",
    ),
    (
        "soft_404",
        "Answer 200 for a missing page (soft 404)",
        "live",
        "soft_404",
        "OMB M-17-06 (search engine optimization)",
    ),
]


def share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def is_federal(entry: Row) -> bool:
    """A registry entry of a federal domain (or of unknown type: old federal-only files)."""
    kind = entry.get("domain_type")
    return not kind or str(kind).lower().startswith("federal")


def site_populations(sites: Sequence[Row]) -> dict[str, list[Row]]:
    """The denominators: all crawled sites; `answered` (neither unreachable nor blocked);
    `live` (answered and active); and the two kinds that could not be checked."""
    blocked = [s for s in sites if (s["status_reason"] or "").startswith("blocked")]
    unreachable = [s for s in sites if s["status"] == "unreachable"]
    answered = [s for s in sites if not could_not_check(s["status"], s["status_reason"])]
    return {
        "all": list(sites),
        "answered": answered,
        "live": [s for s in answered if s["status"] == "active"],
        "unreachable": unreachable,
        "blocked": blocked,
    }


def fleet_figures(sites: Sequence[Row], inventory: Sequence[Row]) -> dict[str, Any]:
    """Every figure of the guidelines table, with its count, denominator, share and source,
    and the sites per federal agency (non-federal domains summed in `non_federal`)."""
    pops = site_populations(sites)
    facts: list[Row] = []

    def add(key: str, label: str, population: str, count: int, source: str) -> None:
        denominator = len(pops[population])
        facts.append(
            {
                "key": key,
                "label": label,
                "population": population,
                "count": count,
                "denominator": denominator,
                "share": share(count, denominator),
                "source": source,
            }
        )

    for key, label, population, field, source in SITE_FACTS:
        add(key, label, population, sum(bool(s[field]) for s in pops[population]), source)
    add(
        "redirect",
        "Redirect to another domain (consolidated)",
        "answered",
        sum(s["status"] == "redirect" for s in pops["answered"]),
        "OMB M-11-24 / State of the Federal Web report (consolidation)",
    )
    for key, label, source in REQUIRED_LINKS:
        add(
            f"link_{key}",
            f"Homepage links to {label}",
            "live",
            sum(bool((s["required_links"] or {}).get(key)) for s in pops["live"]),
            source,
        )
    for key, label, population, field, source in HOMEPAGE_FACTS:
        add(key, label, population, sum(bool(s[field]) for s in pops[population]), source)

    per_agency, non_federal = sites_per_agency(sites, inventory)
    registered = sorted(r["registered"] for r in per_agency if r["registered"])
    return {
        "populations": {name: len(rows) for name, rows in pops.items()},
        "facts": facts,
        "sites_per_agency": per_agency,
        "agencies_with_domains": len(registered),
        "median_domains_per_agency": registered[len(registered) // 2] if registered else 0,
        "max_domains_per_agency": registered[-1] if registered else 0,
        "non_federal": non_federal,
    }


def sites_per_agency(
    sites: Sequence[Row], inventory: Sequence[Row]
) -> tuple[list[Row], dict[str, int]]:
    """Registered and crawled domains per federal agency, by site status; and the count of
    non-federal domains and organisations. With the full registry list every city and county
    is its own "agency", which would drown the table, so those are only summed."""
    per_agency: dict[str, Row] = {}
    nf_domains = 0
    nf_orgs: set[str] = set()
    for entry in inventory:
        name = entry["agency"] or "(no agency)"
        if not is_federal(entry):
            nf_domains += 1
            nf_orgs.add(name)
            continue
        per_agency.setdefault(name, _agency_count_row(name))["registered"] += 1
    for s in sites:
        name = s["agency"] or "(no agency)"
        row = per_agency.setdefault(name, _agency_count_row(name))
        row["crawled"] += 1
        row[s["status"]] = row.get(s["status"], 0) + 1
    rows = sorted(per_agency.values(), key=lambda r: (-r["registered"], -r["crawled"], r["agency"]))
    return rows, {"domains": nf_domains, "organizations": len(nf_orgs)}


def _agency_count_row(name: str) -> Row:
    return {"agency": name, "registered": 0, "crawled": 0, **dict.fromkeys(SITE_STATUSES, 0)}
