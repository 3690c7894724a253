"""The agencies file: seeds/agencies.csv (or --agencies), each agency's name, slug and primary
domain. Every problem is reported as `file:line: what is wrong`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from audit.config_files import SEEDS_DIR, SeedError, csv_rows
from audit.domain_names import DomainError, normalise_gov_domain


@dataclass(frozen=True)
class AgencySeed:
    agency: str
    slug: str
    primary_domain: str
    source: str


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_agencies(path: Path | None = None) -> list[AgencySeed]:
    path = path or SEEDS_DIR / "agencies.csv"
    agencies: list[AgencySeed] = []
    slugs: dict[str, int] = {}
    names: dict[str, int] = {}
    for line, row in csv_rows(path, ["agency", "slug", "primary_domain", "source"]):
        if not row["agency"]:
            raise SeedError(f"{path}:{line}: agency name is empty")
        if not _SLUG.match(row["slug"]):
            raise SeedError(f"{path}:{line}: slug {row['slug']!r} must be lower-case a-z, 0-9, -")
        if row["slug"] in slugs:
            raise SeedError(
                f"{path}:{line}: slug {row['slug']!r} already used on line {slugs[row['slug']]}"
            )
        if row["agency"] in names:
            raise SeedError(
                f"{path}:{line}: agency {row['agency']!r} already listed on line "
                f"{names[row['agency']]}"
            )
        try:
            domain = normalise_gov_domain(row["primary_domain"])
        except DomainError as exc:
            raise SeedError(f"{path}:{line}: bad primary_domain: {exc}") from exc
        slugs[row["slug"]] = line
        names[row["agency"]] = line
        agencies.append(AgencySeed(row["agency"], row["slug"], domain, row["source"]))
    return agencies
