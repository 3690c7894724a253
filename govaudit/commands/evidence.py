"""`govaudit evidence FINDING_ID`: a finding's evidence and the WARC records it cites."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import click

from govaudit.app import App, fail_input, pass_app


@dataclass
class ExtractedRecord:
    """One record read back from a WARC file at its stored offset."""

    warc_headers: str
    http_headers: str
    body: bytes
    digest_ok: bool | None  # the payload digest recomputed matches the record's
    raw: bytes  # the record's gzip members as stored (its request record following it)


def extract_record(path: Path, offset: int) -> ExtractedRecord:
    """The record at `offset` of a WARC file (with the request record written with it).

    Raises OSError when the file cannot be read and ValueError when no whole record is there.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with path.open("rb") as stream:
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
        digest_ok = None
        checker = getattr(record, "digest_checker", None)
        if checker is not None and record.rec_headers.get_header("WARC-Payload-Digest"):
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
    return ExtractedRecord(warc_headers, http_headers, body, digest_ok, raw)


def _gzip_members(stream: BinaryIO, offset: int, count: int) -> bytes:
    """The bytes of `count` gzip members from `offset`: govaudit writes one record per
    member, so these are the records exactly as stored."""
    import zlib

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


def _body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<binary body, {len(body)} bytes>"


@click.command()
@click.argument("finding_id", type=int)
@click.option(
    "--out",
    type=click.File("wb"),
    help="Also write the cited records (as stored, gzip per record) to this WARC file.",
)
@click.option(
    "--warc",
    "warc_dir",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Where the WARC files are (default: the directory the crawl wrote them to).",
)
@click.option(
    "--wacz",
    "wacz_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Also package the cited records as a WACZ file (CDXJ index, pages.jsonl, "
    "datapackage.json) that ReplayWeb.page replays.",
)
@pass_app
def evidence(
    app: App,
    finding_id: int,
    out: BinaryIO | None,
    warc_dir: str | None,
    wacz_file: Path | None = None,
) -> None:
    """A finding's evidence (URLs, times, hashes) and the archived records it cites.

    Prints each cited WARC record: its WARC headers, the original HTTP headers and the body.
    Exit 1 when a cited record could not be read back (file moved: give --warc DIR).
    """
    from audit.models import Finding
    from audit.warc_citations import cited_records
    from govaudit.evidence_wacz import PackedRecord, WaczError, write_wacz

    with app.db.session() as session:
        finding = session.get(Finding, finding_id)
        if finding is None:
            fail_input(f"no finding {finding_id} (see `govaudit export findings`: finding_id)")
        records = cited_records(session, finding)
        head = {
            "finding": finding.id,
            "rule": finding.rule,
            "severity": finding.severity,
            "domain": finding.domain,
            "agency": finding.agency,
            "summary": finding.summary,
            "audit_run": finding.audit_run_id,
        }
        evidence_data: dict[str, Any] = dict(finding.evidence or {})
    click.echo(f"finding {head['finding']}: {head['rule']} ({head['severity']})")
    click.echo(f"  {head['summary']}")
    for key in ("domain", "agency", "audit_run"):
        if head[key] is not None:
            click.echo(f"  {key}: {head[key]}")
    click.echo("evidence:")
    for line in json.dumps(evidence_data, indent=2, default=str, sort_keys=True).splitlines():
        click.echo(f"  {line}")
    if not records:
        click.echo("no archived record: the crawl behind this finding ran without --warc")
        if wacz_file is not None:
            fail_input(f"--wacz {wacz_file}: no archived record to package")
        return
    packed: list[PackedRecord] = []
    unreadable = 0
    archived: list[bytes] = []
    for number, cited in enumerate(records, 1):
        directory = Path(warc_dir or cited.warc_dir or ".")
        path = directory / cited.warc_file
        click.echo("")
        click.echo(f"record {number}: {cited.source} {cited.url}")
        facts = {
            "final_url": cited.final_url,
            "crawl_run": cited.run_id,
            "fetched_at": cited.fetched_at.isoformat(timespec="seconds")
            if cited.fetched_at
            else None,
            "status": cited.status,
            "sha256": cited.sha256,
            "warc": f"{path}#{cited.warc_offset}",
            "warc_digest": cited.warc_digest,
        }
        for key, value in facts.items():
            if value is not None:
                click.echo(f"  {key}: {value}")
        try:
            extracted = extract_record(path, cited.warc_offset)
        except OSError as exc:
            unreadable += 1
            click.echo(f"  couldn't read {path}: {exc.strerror or exc} (give --warc DIR)")
            continue
        except ValueError as exc:
            unreadable += 1
            click.echo(f"  couldn't read {path}: {exc}")
            continue
        verdict = {True: "verified", False: "MISMATCH", None: "not recorded"}[extracted.digest_ok]
        click.echo(f"  payload digest: {verdict}")
        click.echo("--- WARC record headers ---")
        click.echo(extracted.warc_headers.rstrip("\r\n"))
        if extracted.http_headers:
            click.echo("--- HTTP headers ---")
            click.echo(extracted.http_headers.rstrip("\r\n"))
        click.echo("--- body ---")
        click.echo(_body_text(extracted.body))
        archived.append(extracted.raw)
        packed.append(PackedRecord(extracted.raw, f"{cited.source} {cited.url}"))
    if unreadable:
        # --out is left unwritten: a partial evidence file would pass for the whole.
        click.echo(f"govaudit: error: {unreadable} cited record(s) could not be read", err=True)
        sys.exit(1)
    if out is not None:
        for raw in archived:
            out.write(raw)
        out.close()
    if wacz_file is not None:
        try:
            pages = write_wacz(
                packed, wacz_file, f"govaudit finding {head['finding']}", str(head["summary"])
            )
        except (WaczError, OSError) as exc:
            fail_input(f"--wacz {wacz_file}: {exc}")
        click.echo(f"wacz: {wacz_file.resolve()} ({len(packed)} records, {pages} pages)", err=True)
