"""The waivers file: seeds/waivers.csv (or --waivers), the Federal CIO's written waivers of
the freeze, one domain a line. Every problem is reported as `file:line: what is wrong`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from audit.config_files import SEEDS_DIR, SeedError, csv_rows
from audit.domain_names import DomainError, normalise_gov_domain


@dataclass(frozen=True)
class Waiver:
    domain: str
    granted_on: dt.date
    granted_by: str
    reference: str
    note: str
    source: str = field(default="")


def load_waivers(path: Path | None = None) -> list[Waiver]:
    path = path or SEEDS_DIR / "waivers.csv"
    waivers = []
    for line, row in csv_rows(path, ["domain", "granted_on", "granted_by", "reference", "note"]):
        try:
            domain = normalise_gov_domain(row["domain"])
        except DomainError as exc:
            raise SeedError(f"{path}:{line}: waiver for a malformed domain: {exc}") from exc
        try:
            granted = dt.date.fromisoformat(row["granted_on"])
        except ValueError as exc:
            raise SeedError(
                f"{path}:{line}: granted_on {row['granted_on']!r} is not a date (YYYY-MM-DD)"
            ) from exc
        if not row["granted_by"]:
            raise SeedError(f"{path}:{line}: granted_by is empty (who signed the waiver?)")
        waivers.append(
            Waiver(
                domain,
                granted,
                row["granted_by"],
                row["reference"],
                row["note"],
                f"{path.name}:{line}",
            )
        )
    return waivers
