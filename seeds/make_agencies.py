"""Regenerate seeds/agencies.csv from a registry snapshot (run by hand; the CSV is committed).

    python seeds/make_agencies.py seeds/registry/federal-2026-08-18.csv > seeds/agencies.csv

Primary domains: chosen by hand for the 24 CFO Act agencies (31 U.S.C. 901(b)); for every
other agency, taken only when it is unambiguous: the agency's only domain in the snapshot, or
the only one of its domains spelling the agency's initials.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from audit.registry_csv import read_registry_file

CFO_ACT = {
    "Department of Agriculture": ("usda", "usda.gov"),
    "Department of Commerce": ("commerce", "commerce.gov"),
    "Department of Defense": ("defense", "defense.gov"),
    "Department of Education": ("ed", "ed.gov"),
    "Department of Energy": ("energy", "energy.gov"),
    "Department of Health and Human Services": ("hhs", "hhs.gov"),
    "Department of Homeland Security": ("dhs", "dhs.gov"),
    "Department of Housing and Urban Development": ("hud", "hud.gov"),
    "Department of the Interior": ("doi", "doi.gov"),
    "Department of Justice": ("justice", "justice.gov"),
    "Department of Labor": ("dol", "dol.gov"),
    "Department of State": ("state", "state.gov"),
    "Department of Transportation": ("dot", "transportation.gov"),
    "Department of the Treasury": ("treasury", "treasury.gov"),
    "Department of Veterans Affairs": ("va", "va.gov"),
    "Environmental Protection Agency": ("epa", "epa.gov"),
    "National Aeronautics and Space Administration": ("nasa", "nasa.gov"),
    "U.S. Agency for International Development": ("usaid", "usaid.gov"),
    "General Services Administration": ("gsa", "gsa.gov"),
    "National Science Foundation": ("nsf", "nsf.gov"),
    "Nuclear Regulatory Commission": ("nrc", "nrc.gov"),
    "Office of Personnel Management": ("opm", "opm.gov"),
    "Small Business Administration": ("sba", "sba.gov"),
    "Social Security Administration": ("ssa", "ssa.gov"),
}
SMALL_WORDS = {"of", "the", "and", "for", "on", "to", "in", "a", "an", "&"}


def initials(name: str) -> str:
    words = re.findall(r"[A-Za-z]+", name)
    return "".join(w[0] for w in words if w.lower() not in SMALL_WORDS).lower()


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def main(path: str) -> None:
    parsed = read_registry_file(Path(path))
    by_agency: dict[str, list[str]] = defaultdict(list)
    for row in parsed.rows:
        if row.agency:
            by_agency[row.agency].append(row.domain)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["agency", "slug", "primary_domain", "source"])
    used: set[str] = set()
    for agency, (slug, domain) in CFO_ACT.items():
        where = "registry" if agency in by_agency else "registry before 2026 (now under State)"
        out.writerow(
            [
                agency,
                slug,
                domain,
                f"CFO Act agency (31 U.S.C. 901(b)); primary domain chosen by hand ({where})",
            ]
        )
        used.add(slug)
    for agency in sorted(by_agency):
        if agency in CFO_ACT:
            continue
        domains = sorted(by_agency[agency])
        if len(domains) == 1:
            primary, source = domains[0], f"the agency's only domain in {parsed.source_name}"
        else:
            matches = [d for d in domains if d.removesuffix(".gov") == initials(agency)]
            if len(matches) != 1:
                continue
            primary = matches[0]
            source = f"the only one of its {len(domains)} domains spelling its initials"
        slug = initials(agency) if len(initials(agency)) >= 2 else slugify(agency)
        if slug in used:
            slug = slugify(agency)
        used.add(slug)
        out.writerow([agency, slug, primary, source])


if __name__ == "__main__":
    main(sys.argv[1])
