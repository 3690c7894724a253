"""Reading the public .gov registry CSV in every format it has been published in.

Columns are mapped by header name, never by position: headers changed over the years
(`Domain Name`/`Domain name`, `Agency`, `Organization`, `Organization name`,
`Suborganization name`, `Status`, `Security Contact Email`...). See
../shared/data/dotgov/SOURCES.md for the history this module follows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from audit.domain_names import DomainError, normalise_registry_domain


class RegistryFileError(ValueError):
    """The file is not a usable registry export; the message names the file and line."""


# header (lower case, single-spaced) -> our field
HEADER_FIELDS = {
    "domain name": "domain",
    "domain": "domain",
    "domain type": "domain_type",
    "agency": "agency",
    "organization": "organization",
    "organization name": "organization",
    "suborganization name": "suborganization",
    "suborganization": "suborganization",
    "city": "city",
    "state": "state",
    "status": "status",
    "security contact email": "security_contact",
}

# Placeholder the registry writes for a missing security contact (from 2018-12 on).
BLANK_PLACEHOLDERS = {"(blank)"}

_SPACES = re.compile(r"\s+")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class RegistryRow(NamedTuple):
    """One stored row of a file (a named tuple: a full list is 16,000 of them, and a frozen
    dataclass took three times as long to build)."""

    line: int
    domain: str
    domain_type: str | None
    domain_type_raw: str | None
    agency: str | None
    organization: str | None
    suborganization: str | None
    city: str | None
    state: str | None
    security_contact: str | None
    status: str | None
    extra: dict[str, str]


@dataclass
class ParsedRegistry:
    source_name: str
    content_hash: str
    columns: list[str]
    rows: list[RegistryRow] = field(default_factory=list)
    rows_read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # "file:line: message" per skipped row
    warnings: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        types = {r.domain_type or "" for r in self.rows}
        return "federal" if all(t.startswith("Federal") for t in types) else "full"


def clean(value: str | None) -> str | None:
    if value is None:
        return None
    # str.split() splits on exactly the characters `\s` matches: the same as collapsing
    # white space with _SPACES and stripping, at a fraction of the cost per cell.
    text = " ".join(value.split())
    if not text or text in BLANK_PLACEHOLDERS:
        return None
    return text


_FEDERAL_AGENCY = re.compile(r"^Federal Agency\b", re.IGNORECASE)


def _federal_type(text: str | None) -> str | None:
    return None if text is None else _FEDERAL_AGENCY.sub("Federal", text)


def normalise_domain_type(raw: str | None) -> str | None:
    """`Federal Agency - Executive` (2018-2021) and `Federal - Executive` (2021-) are one type."""
    return _federal_type(clean(raw))


def as_of_from_name(name: str) -> str | None:
    match = _DATE_IN_NAME.search(name)
    return match.group(0) if match else None


def decode_csv_text(data: bytes, name: str) -> str:
    """UTF-8 text of a CSV file (BOM dropped); RegistryFileError naming file and line."""
    if not data.strip():
        raise RegistryFileError(f"{name}: the file is empty")
    if b"\x00" in data[:65536]:
        raise RegistryFileError(f"{name}: binary content (NUL bytes), not a CSV file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegistryFileError(f"{name}:{line}: not UTF-8 text ({exc.reason})") from exc


def parse_registry(data: bytes, source_name: str) -> ParsedRegistry:
    """Parse a registry export; raise RegistryFileError when it is not one at all."""
    text = decode_csv_text(data, source_name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise RegistryFileError(f"{source_name}:1: no CSV header ({exc})") from exc
    fields: list[str | None] = []
    seen_fields: set[str] = set()
    for raw in header:
        key = _SPACES.sub(" ", raw).strip().lower()
        name = HEADER_FIELDS.get(key)
        if name in seen_fields:
            name = None
        if name:
            seen_fields.add(name)
        fields.append(name)
    if "domain" not in seen_fields:
        shown = ",".join(header)[:80]
        raise RegistryFileError(
            f"{source_name}:1: not a registry CSV: no 'Domain name' column in the header "
            f"(first line: {shown!r})"
        )
    # From 2026 on the old Agency values moved to `Organization name` and the sub-unit to
    # `Suborganization name`; keep `agency` meaning the top-level body across all years.
    newer_layout = "agency" not in seen_fields and "suborganization" in seen_fields
    parsed = ParsedRegistry(
        source_name=source_name,
        content_hash=hashlib.sha256(data).hexdigest(),
        columns=list(header),
    )
    for expected in ("domain_type", "city", "state"):
        if expected not in seen_fields:
            parsed.warnings.append(
                f"{source_name}:1: no {expected.replace('_', ' ')!r} column; "
                "those values are left empty"
            )
    first_line: dict[str, int] = {}
    named = [(i, name) for i, name in enumerate(fields) if name]
    unnamed = [i for i, name in enumerate(fields) if not name]
    # Few distinct domain types per file: normalise each once.
    domain_types: dict[str | None, tuple[str | None, str | None]] = {}
    try:
        for record in reader:
            line = reader.line_num
            parsed.rows_read += 1
            if not "".join(record).strip():
                parsed.skipped["empty row"] += 1
                continue
            width = len(record)
            values: dict[str, str | None] = {name: record[i] for i, name in named if i < width}
            extra: dict[str, str] = {}
            if unnamed or width > len(fields):
                for i in [*unnamed, *range(len(fields), width)]:
                    if i < width and record[i].strip():
                        label = (
                            header[i].strip()
                            if i < len(header) and header[i].strip()
                            else f"#{i + 1}"
                        )
                        extra[label] = record[i].strip()
            raw_domain = values.get("domain") or ""
            try:
                domain = normalise_registry_domain(raw_domain)
            except DomainError as exc:
                parsed.skipped["invalid domain"] += 1
                parsed.problems.append(f"{source_name}:{line}: skipped: {exc}")
                continue
            if domain in first_line:
                parsed.skipped["duplicate domain"] += 1
                parsed.problems.append(
                    f"{source_name}:{line}: skipped: duplicate of {domain} "
                    f"(first on line {first_line[domain]})"
                )
                continue
            first_line[domain] = line
            organization = clean(values.get("organization"))
            suborganization = clean(values.get("suborganization"))
            if newer_layout:
                agency, organization = organization, suborganization
            else:
                agency = clean(values.get("agency"))
            raw_type = values.get("domain_type")
            if raw_type not in domain_types:
                type_raw = clean(raw_type)
                domain_types[raw_type] = (_federal_type(type_raw), type_raw)
            domain_type, domain_type_raw = domain_types[raw_type]
            parsed.rows.append(
                RegistryRow(
                    line=line,
                    domain=domain,
                    domain_type=domain_type,
                    domain_type_raw=domain_type_raw,
                    agency=agency,
                    organization=organization,
                    suborganization=suborganization,
                    city=clean(values.get("city")),
                    state=clean(values.get("state")),
                    security_contact=clean(values.get("security_contact")),
                    status=clean(values.get("status")),
                    extra=extra,
                )
            )
    except csv.Error as exc:
        raise RegistryFileError(f"{source_name}:{reader.line_num}: broken CSV ({exc})") from exc
    if not parsed.rows:
        reason = "no data rows (header only)" if parsed.rows_read == 0 else "no valid domain rows"
        raise RegistryFileError(f"{source_name}: {reason}")
    return parsed


def read_registry_file(path: Path) -> ParsedRegistry:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryFileError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_registry(data, path.name)
