"""`govaudit evidence FINDING_ID`: a finding's evidence and the WARC records it cites."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

import click

from govaudit.app import App, fail_input, pass_app


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
    "warc_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Look for the WARC files in DIR first (files moved or copied; repeatable). "
    "Default: the folders the crawl wrote them to.",
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
    warc_dirs: tuple[str, ...],
    wacz_file: Path | None = None,
) -> None:
    """A finding's evidence (URLs, times, hashes) and the archived records it cites.

    Prints each cited WARC record: its WARC headers, the original HTTP headers and the body,
    read from the folder each file was written to (a resumed crawl may have written to
    several). Exit 1 when a cited record could not be read back (file moved: give --warc
    DIR); the other records are still shown.
    """
    from audit.models import Finding
    from audit.warc_citations import UnreadableRecord, cited_records, read_cited
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
        click.echo("")
        click.echo(f"record {number}: {cited.source} {cited.url}")
        extracted, problem = None, ""
        try:
            extracted = read_cited(cited, warc_dirs)
        except UnreadableRecord as exc:
            problem = str(exc)
        facts = {
            "final_url": cited.final_url,
            "crawl_run": cited.run_id,
            "fetched_at": cited.fetched_at.isoformat(timespec="seconds")
            if cited.fetched_at
            else None,
            "status": cited.status,
            "sha256": cited.sha256,
            "warc": f"{extracted.path if extracted else cited.warc_file}#{cited.warc_offset}",
            "warc_digest": cited.warc_digest,
        }
        for key, value in facts.items():
            if value is not None:
                click.echo(f"  {key}: {value}")
        if extracted is None:
            unreadable += 1
            click.echo(f"  couldn't read the record: {problem}")
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
        # A record cited twice (an /open page that is also the plan) is written once.
        if extracted.raw not in archived:
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
