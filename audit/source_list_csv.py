"""Reading website source lists: any CSV with a host name or URL column, gzip-compressed or
not, and the host names in its rows cleaned of the junk real lists carry.

The Federal Website Index's lists name their column `target_url`; other inventories say
`URL`, `Domain name`, `website`... The column is chosen by header name (HOST_COLUMNS, in
that order of preference), never by position. A cell is cleaned (`%20` prefixes and other
escapes, upper case, a scheme, user, port, path, query, trailing dots) before it is judged;
what cannot be a host name is rejected as malformed, with the reason.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from audit.domain_names import DomainError, normalise_host
from audit.registry_csv import RegistryFileError, decode_csv_text


class SourceListError(RegistryFileError):
    """The file cannot be read as a source list; the message names the file (and line)."""


class HostRejected(ValueError):
    """A cell that is not a usable host name; `reason` is one of REJECT_REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


# Why a row did not become a website (the counted reasons, in the order they are judged).
MALFORMED = "malformed"
NOT_GOV = "not .gov"
UNREGISTERED = "not under a registered domain"
NON_FEDERAL = "non-federal"
NON_PUBLIC = "matched a non-public pattern"
DUPLICATE = "duplicate in the file"
REJECT_REASONS = (MALFORMED, NOT_GOV, UNREGISTERED, NON_FEDERAL, NON_PUBLIC, DUPLICATE)

# header (lower case, single-spaced) of the host column, most specific first
HOST_COLUMNS = (
    "target_url",
    "target url",
    "hostname",
    "host",
    "host name",
    "url",
    "website",
    "website url",
    "websites",
    "site",
    "site url",
    "domain name",
    "domain",
    "initial_domain",
    "final_url",
)
AGENCY_COLUMNS = (
    "agency",
    "federal agency",
    "agency name",
    "organization",
    "organization name",
    "owner",
)

_SPACES = re.compile(r"\s+")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_ALL_DIGITS = re.compile(r"[0-9.]+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def clean_host(raw: str) -> str:
    """The host name a cell names (lower case, ASCII/IDNA, no port, path or trailing dot);
    raise HostRejected(MALFORMED) when the cell names none."""
    text = raw.strip()
    if "%" in text:
        text = unquote(text).strip()
    if not text:
        raise HostRejected(MALFORMED, "empty")
    lower = text.lower()
    match = _SCHEME.match(lower)
    rest = lower[match.end() :] if match else lower.removeprefix("//")
    host = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        raise HostRejected(MALFORMED, f"{text!r} is an IP address, not a host name")
    name, _, port = host.partition(":")
    if port and not port.isdigit():
        raise HostRejected(MALFORMED, f"{text!r} has a bad port")
    name = name.strip().rstrip(".")
    if not name.isascii():
        try:
            name = normalise_host(name)
        except DomainError as exc:
            raise HostRejected(MALFORMED, str(exc)) from None
    if _HOST_NAME.fullmatch(name) is None:
        raise HostRejected(MALFORMED, f"{text!r} is not a host name")
    if _ALL_DIGITS.fullmatch(name):
        raise HostRejected(MALFORMED, f"{text!r} is an IP address, not a host name")
    return name


class SourceRow(NamedTuple):
    line: int
    cell: str
    agency: str | None


@dataclass
class ParsedSourceList:
    file: str  # the file's name as given
    source: str  # the list's name (the file name without .csv/.csv.gz, or --source)
    content_hash: str  # of the uncompressed bytes: the same list gzipped or not is one list
    columns: list[str]
    host_column: str
    agency_column: str | None
    rows: list[SourceRow] = field(default_factory=list)  # every row (an empty one too)


def source_name(path_name: str) -> str:
    """`pulse.csv`, `pulse.csv.gz` -> `pulse`."""
    name = Path(path_name).name
    for suffix in (".gz", ".csv", ".txt"):
        name = name.removesuffix(suffix)
    return name or path_name


def as_of_from_name(name: str) -> str | None:
    match = _DATE_IN_NAME.search(name)
    return match.group(0) if match else None


def _inflate(data: bytes, name: str) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceListError(f"{name}: broken gzip data ({exc})") from exc


def _pick(header: list[str], wanted: tuple[str, ...]) -> int | None:
    keys = [_SPACES.sub(" ", h).strip().lower() for h in header]
    for name in wanted:
        if name in keys:
            return keys.index(name)
    return None


def parse_source_list(data: bytes, file: str, source: str | None = None) -> ParsedSourceList:
    """Parse a source list; raise SourceListError when it is not one at all."""
    raw = _inflate(data, file)
    text = decode_csv_text(raw, file)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise SourceListError(f"{file}:1: no CSV header ({exc})") from exc
    host_at = _pick(header, HOST_COLUMNS)
    if host_at is None:
        shown = ",".join(header)[:80]
        raise SourceListError(
            f"{file}:1: no host name or URL column in the header (one of target_url, URL, "
            f"hostname, website, Domain name...; first line: {shown!r})"
        )
    agency_at = _pick(header, AGENCY_COLUMNS)
    parsed = ParsedSourceList(
        file=file,
        source=source or source_name(file),
        content_hash=hashlib.sha256(raw).hexdigest(),
        columns=list(header),
        host_column=header[host_at],
        agency_column=header[agency_at] if agency_at is not None else None,
    )
    try:
        for record in reader:
            cell = record[host_at] if host_at < len(record) else ""
            agency = None
            if agency_at is not None and agency_at < len(record):
                agency = " ".join(record[agency_at].split()) or None
            parsed.rows.append(SourceRow(reader.line_num, cell, agency))
    except csv.Error as exc:
        raise SourceListError(f"{file}:{reader.line_num}: broken CSV ({exc})") from exc
    return parsed


def read_source_list(path: Path, source: str | None = None) -> ParsedSourceList:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceListError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_source_list(data, path.name, source)
