"""Replayable evidence: the WARC records findings cite, packaged as a WACZ file.

`govaudit evidence FINDING_ID --wacz FILE` and `govaudit report --wacz` write one: the cited
records copied byte for byte (as `evidence --out` writes them) into one WARC file, packaged
by py-wacz (`wacz create`, which indexes it with cdxj-indexer into a CDXJ index) with a
`pages.jsonl` naming each cited page and its capture time, and `datapackage.json` with the
files' hashes. ReplayWeb.page (https://replayweb.page) opens it offline, and `wacz validate`
checks it.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.warc_citations import CitedRecord, UnreadableRecord, read_cited


class WaczError(RuntimeError):
    """The package could not be made; the message says why."""


@dataclass(frozen=True)
class PackedRecord:
    """A cited record as stored (its gzip members, the request record following it)."""

    raw: bytes
    label: str  # what cited it, e.g. "/open try https://www.x.gov/open"


def read_records(
    cited: Iterable[CitedRecord], folders: Sequence[str | Path] = ()
) -> tuple[list[PackedRecord], list[str]]:
    """The cited records' bytes as stored (read back as `govaudit evidence` reads them,
    wherever the run wrote them), each once, and a line per record that could not be read."""
    packed: list[PackedRecord] = []
    problems: list[str] = []
    seen: set[tuple[int, str, int]] = set()
    for record in cited:
        key = (record.run_id, record.warc_file, record.warc_offset)
        if key in seen:
            continue
        seen.add(key)
        try:
            extracted = read_cited(record, folders)
        except UnreadableRecord as exc:
            problems.append(f"couldn't read {record.warc_file}#{record.warc_offset}: {exc}")
            continue
        packed.append(PackedRecord(extracted.raw, f"{record.source} {record.url}"))
    return packed, problems


def _pages(warc: Path, labels: dict[int, str]) -> list[dict[str, str]]:
    """pages.jsonl entries: each response record's URL and capture time, titled by what
    cited it."""
    from warcio.archiveiterator import ArchiveIterator

    pages: list[dict[str, str]] = []
    with warc.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date")
            label = labels.get(iterator.get_record_offset(), url)
            if not any(p["url"] == url and p["ts"] == date for p in pages):
                pages.append({"url": url, "ts": date, "title": label})
    return pages


def write_wacz(records: list[PackedRecord], target: Path, title: str, description: str) -> int:
    """Write the WACZ file `target` holding `records`; returns the number of pages listed.
    Raises WaczError when there is nothing to package or py-wacz refuses."""
    from wacz.main import main as wacz_main

    if not records:
        raise WaczError("no archived record to package")
    with tempfile.TemporaryDirectory() as folder:
        warc = Path(folder) / "govaudit-evidence.warc.gz"
        labels: dict[int, str] = {}
        with warc.open("wb") as out:
            for record in records:
                labels[out.tell()] = record.label
                out.write(record.raw)
        pages = _pages(warc, labels)
        pages_file = Path(folder) / "pages.jsonl"
        header = {"format": "json-pages-1.0", "id": "pages", "title": title}
        lines = [json.dumps(header)] + [json.dumps(p) for p in pages]
        pages_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        args = ["create", "-o", str(partial), "--title", title, "--desc", description]
        if pages:
            args += ["--pages", str(pages_file)]
        chatter = io.StringIO()
        with contextlib.redirect_stdout(chatter):
            code = wacz_main([*args, str(warc)])
        if code != 0:
            partial.unlink(missing_ok=True)
            last = (chatter.getvalue().strip().splitlines() or ["no reason given"])[-1]
            raise WaczError(f"wacz create failed: {last}")
        partial.replace(target)
    return len(pages)
