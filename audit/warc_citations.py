"""Which archived WARC records a finding cites, where their files are, and reading them back.
Read-only.

A finding's evidence names URLs (the /open page, the plan, the homepage, the RDAP query,
robots.txt...) and the crawl run it came from. The observations of that run (or, for RDAP
answers, of any run) fetched from those URLs carry `warc_file`, `warc_offset` and
`warc_digest`; the first URL of the evidence comes first (for a plan finding: the /open page).

Where a file is: the `warc_file` table names the folder each file of a run was written to
(a run resumed with another `--warc DIR` writes to several), and a file name is unique within
its run, so `(run, name)` finds the file wherever the run wrote it. Crawls stored before that
table existed fall back to the run's `warc_dir` setting. `read_cited` reads a record back,
checking that the record found is the one cited (its URL and payload digest).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from w3lib.url import safe_url_string

from audit.models import (
    AuditRun,
    CrawlRun,
    EndpointObservation,
    Finding,
    OpenTry,
    PageObservation,
    PlanDocument,
    RdapResult,
    SiteObservation,
    WarcFile,
)


@dataclass(frozen=True)
class RunWarcFile:
    """One WARC file a crawl run wrote: its name, the folder it was written to (absolute, as
    the writing machine saw it), that machine's name, and when the file was registered."""

    run_id: int
    name: str
    directory: str
    host: str | None
    created_at: dt.datetime | None

    @property
    def path(self) -> Path:
        return Path(self.directory) / self.name


def run_warc_files(session: Session, run_ids: Iterable[int]) -> list[RunWarcFile]:
    """Every WARC file the runs wrote, in the order they were registered (oldest first)."""
    runs = sorted({r for r in run_ids if r is not None})
    if not runs:
        return []
    query = select(WarcFile).where(WarcFile.run_id.in_(runs)).order_by(WarcFile.id)
    return [
        RunWarcFile(f.run_id, f.name, f.directory, f.host, f.created_at)
        for f in session.scalars(query)
    ]


class WarcFolders:
    """Where the files of some crawl runs are: the folder of each registered file, and every
    folder each run wrote to (registered files' folders, then its `warc_dir` setting)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.of_file: dict[tuple[int, str], str] = {}
        self.of_run: dict[int, list[str]] = {}

    def load(self, run_ids: Iterable[int]) -> None:
        runs = sorted({r for r in run_ids if r is not None and r not in self.of_run})
        if not runs:
            return
        for run in runs:
            self.of_run[run] = []
        for f in run_warc_files(self.session, runs):
            self.of_file[f.run_id, f.name] = f.directory
            if f.directory not in self.of_run[f.run_id]:
                self.of_run[f.run_id].append(f.directory)
        for run in self.session.scalars(select(CrawlRun).where(CrawlRun.id.in_(runs))):
            setting = (run.settings or {}).get("warc_dir")
            if setting and setting not in self.of_run[run.id]:
                self.of_run[run.id].append(setting)

    def candidates(self, run_id: int | None, name: str) -> tuple[str, ...]:
        """The folders that may hold a run's file: the one it was written to first."""
        if run_id is None:
            return ()
        self.load([run_id])
        own = self.of_file.get((run_id, name))
        return tuple(dict.fromkeys([*([own] if own else []), *self.of_run.get(run_id, [])]))


@dataclass(frozen=True)
class CitedRecord:
    """One archived fetch a finding cites."""

    source: str  # endpoint | page | robots.txt | /open try | plan document | rdap
    url: str
    final_url: str | None
    run_id: int | None
    fetched_at: dt.datetime | None
    status: int | None
    sha256: str | None
    warc_file: str
    warc_offset: int
    warc_digest: str | None
    # Where the file may be, the folder it was written to first (see WarcFolders).
    warc_dirs: tuple[str, ...]
    owner: str | None  # the domain (or agency) the observation belongs to

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "final_url": self.final_url,
            "crawl_run": self.run_id,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds")
            if self.fetched_at
            else None,
            "status": self.status,
            "sha256": self.sha256,
            "warc_file": self.warc_file,
            "warc_offset": self.warc_offset,
            "warc_digest": self.warc_digest,
        }


def evidence_urls(evidence: Any) -> list[str]:
    """Every http(s) URL in a finding's evidence, in order of appearance, each once."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif (
            isinstance(value, str)
            and value.startswith(("http://", "https://"))
            and value not in out
        ):
            out.append(value)

    walk(evidence)
    return out


class CitationIndex:
    """The archived observations of some crawl runs, by URL, for matching many findings."""

    def __init__(self, session: Session, run_ids: Iterable[int]) -> None:
        runs = sorted({r for r in run_ids if r is not None})
        self.by_url: dict[str, list[CitedRecord]] = {}
        self.rdap_by_url: dict[str, list[CitedRecord]] = {}
        self.folders = WarcFolders(session)
        self.folders.load(runs)
        tables: list[tuple[str, Any, str]] = [
            ("/open try", OpenTry, "agency"),
            ("plan document", PlanDocument, "agency"),
            ("endpoint", EndpointObservation, "domain"),
            ("page", PageObservation, "domain"),
        ]
        for source, model, owner in tables:
            query = select(model).where(model.run_id.in_(runs), model.warc_file.is_not(None))
            for row in session.scalars(query):
                self._add(self.by_url, source, row, getattr(row, owner))
        for site in session.scalars(
            select(SiteObservation).where(SiteObservation.run_id.in_(runs))
        ):
            robots = site.robots or {}
            if robots.get("warc_file") and robots.get("url"):
                record = CitedRecord(
                    "robots.txt",
                    robots["url"],
                    None,
                    site.run_id,
                    site.fetched_at,
                    robots.get("status"),
                    None,
                    robots["warc_file"],
                    int(robots["warc_offset"]),
                    robots.get("warc_digest"),
                    self.folders.candidates(site.run_id, robots["warc_file"]),
                    site.domain,
                )
                self.by_url.setdefault(record.url, []).append(record)
        rdap_runs = select(RdapResult).where(RdapResult.warc_file.is_not(None))
        for row in session.scalars(rdap_runs.order_by(RdapResult.fetched_at.desc())):
            self._add(self.rdap_by_url, "rdap", row, row.domain)

    def _add(self, index: dict[str, list[CitedRecord]], source: str, row: Any, owner: Any) -> None:
        final = getattr(row, "final_url", None)
        sha = getattr(row, "sha256", None) or getattr(row, "content_hash", None)
        status = getattr(row, "status", None)
        if status is None:
            status = getattr(row, "http_status", None)
        record = CitedRecord(
            source,
            row.url,
            final,
            row.run_id,
            row.fetched_at,
            status,
            sha,
            row.warc_file,
            int(row.warc_offset),
            row.warc_digest,
            self.folders.candidates(row.run_id, row.warc_file),
            owner,
        )
        for url in {row.url, final} - {None}:
            index.setdefault(url, []).append(record)

    def cited(self, finding: Finding) -> list[CitedRecord]:
        evidence = finding.evidence or {}
        owners = {finding.domain, finding.agency} - {None}
        out: list[CitedRecord] = []
        seen: set[tuple[str, int]] = set()

        def take(records: Iterable[CitedRecord], any_owner: bool = False) -> None:
            for r in records:
                key = (r.warc_file, r.warc_offset)
                if key in seen or not (any_owner or not owners or r.owner in owners):
                    continue
                seen.add(key)
                out.append(r)

        for url in evidence_urls(evidence):
            # A page of another domain can be the evidence (where an unlisted domain was
            # linked from); the RDAP answer is the newest for the URL, whichever run.
            take(self.by_url.get(url, []), any_owner=True)
            take(self.rdap_by_url.get(url, [])[:1], any_owner=True)
        if evidence.get("source") == "site crawl" and finding.domain:
            # An unreachable site: every endpoint try is the evidence.
            for records in self.by_url.values():
                take(r for r in records if r.source == "endpoint" and r.owner == finding.domain)
        return out


def finding_run_ids(session: Session, findings: Iterable[Finding]) -> set[int]:
    """The crawl runs findings draw on: the ones their evidence names and the audit's."""
    runs: set[int] = set()
    audits: set[int] = set()
    for f in findings:
        audits.add(f.audit_run_id)
        value = (f.evidence or {}).get("crawl_run")
        if isinstance(value, int):
            runs.add(value)
    for audit in session.scalars(select(AuditRun).where(AuditRun.id.in_(audits))):
        if audit.crawl_run_id is not None:
            runs.add(audit.crawl_run_id)
    return runs


def cited_records(session: Session, finding: Finding) -> list[CitedRecord]:
    index = CitationIndex(session, finding_run_ids(session, [finding]))
    return index.cited(finding)


# -- reading a cited record back -----------------------------------------------------------


@dataclass
class ExtractedRecord:
    """One record read back from a WARC file at its stored offset."""

    path: Path  # the file it was read from
    warc_headers: str
    http_headers: str
    body: bytes
    digest_ok: bool | None  # the payload digest recomputed matches the record's
    raw: bytes  # the record's gzip members as stored (its request record following it)
    target_uri: str | None
    payload_digest: str | None


class UnreadableRecord(Exception):
    """A cited record that could not be read back: one line saying where it was looked for
    and what was wrong."""


def extract_record(path: Path, offset: int) -> ExtractedRecord:
    """The record at `offset` of a WARC file (with the request record written with it).

    Raises OSError when the file cannot be read and ValueError when no whole, readable record
    is there (a damaged or foreign file never raises anything else).
    """
    # warcio writes its warnings about a damaged record ("perhaps Content-Length is invalid")
    # straight to stderr, in the middle of the command's own output: they go to the log.
    warnings = io.StringIO()
    with path.open("rb") as stream, contextlib.redirect_stderr(warnings):
        try:
            return _extract(stream, path, offset)
        except (OSError, ValueError):
            raise
        except Exception as exc:  # zlib.error, warcio's parse errors, EOFError...
            raise ValueError(f"no readable WARC record at offset {offset} ({exc})") from exc
        finally:
            if warnings.getvalue().strip():
                logging.getLogger(__name__).info(
                    "%s at offset %d: warcio: %s",
                    path,
                    offset,
                    " ".join(warnings.getvalue().split()),
                )


def _extract(stream: BinaryIO, path: Path, offset: int) -> ExtractedRecord:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    stream.seek(offset)
    iterator = ArchiveIterator(stream, check_digests=True)
    try:
        record = next(iterator)
    except (StopIteration, ArchiveLoadFailed) as exc:
        raise ValueError(f"no WARC record at offset {offset}") from exc
    warc_headers = record.rec_headers.to_str()
    http_headers = record.http_headers.to_str() if record.http_headers else ""
    body = record.content_stream().read()
    iterator.read_to_end(record)
    digest = record.rec_headers.get_header("WARC-Payload-Digest")
    digest_ok = None
    checker = getattr(record, "digest_checker", None)
    if checker is not None and digest:
        digest_ok = bool(checker.passed)
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    try:
        following = next(iterator)
    except (StopIteration, ArchiveLoadFailed):
        following = None
    members = 1
    if (
        following is not None
        and following.rec_type == "request"
        and following.rec_headers.get_header("WARC-Concurrent-To") == record_id
    ):
        members = 2
    raw = _gzip_members(stream, offset, members)
    uri = record.rec_headers.get_header("WARC-Target-URI")
    return ExtractedRecord(path, warc_headers, http_headers, body, digest_ok, raw, uri, digest)


def _gzip_members(stream: BinaryIO, offset: int, count: int) -> bytes:
    """The bytes of `count` gzip members from `offset`: govaudit writes one record per
    member, so these are the records exactly as stored."""
    stream.seek(offset)
    out = bytearray()
    for _ in range(count):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        while not inflater.eof:
            chunk = stream.read(65536)
            if not chunk:
                raise ValueError(f"WARC record at offset {offset} is cut short")
            inflater.decompress(chunk)
            tail = len(inflater.unused_data)
            out += chunk[: len(chunk) - tail]
            if inflater.eof:
                stream.seek(-tail, 1)
    return bytes(out)


def _same_url(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return safe_url_string(a.split("#", 1)[0]) == safe_url_string(b.split("#", 1)[0])


def _not_the_cited(found: ExtractedRecord, cited: CitedRecord) -> str | None:
    """Why the record found at the offset is not the one cited, or None when it is."""
    if not (_same_url(found.target_uri, cited.final_url) or _same_url(found.target_uri, cited.url)):
        return f"the record at offset {cited.warc_offset} is of {found.target_uri}, another URL"
    if cited.warc_digest and found.payload_digest != cited.warc_digest:
        return f"the record at offset {cited.warc_offset} has another payload digest"
    return None


def read_cited(cited: CitedRecord, folders: Sequence[str | Path] = ()) -> ExtractedRecord:
    """The cited record, read back from the first folder holding its file with that record
    at its offset: `folders` first (files moved or copied: `evidence --warc DIR`), then the
    folder it was written to, then the run's other folders.

    Raises UnreadableRecord (one line) when no folder has it.
    """
    looked: list[str] = []
    problems: list[str] = []
    for folder in dict.fromkeys([*(str(f) for f in folders), *cited.warc_dirs]):
        path = Path(folder) / cited.warc_file
        looked.append(folder)
        if not path.is_file():
            continue
        try:
            found = extract_record(path, cited.warc_offset)
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
            continue
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
            continue
        wrong = _not_the_cited(found, cited)
        if wrong is None:
            return found
        problems.append(f"{path}: {wrong}")
    if problems:
        raise UnreadableRecord("; ".join(problems))
    where = ", ".join(looked) if looked else "no recorded folder"
    raise UnreadableRecord(f"{cited.warc_file} is not in {where} (give --warc DIR)")
