"""A local web archive made from govaudit's own WARC files, replayed by pywb's `wayback`.

The demo (and the tests) need an archive of the simulated web as it stood in 2011 without a
network: they crawl it with `--warc`, give the records capture dates (`redate_warcs`: a
record's WARC-Date is when govaudit fetched it, today), lay them out as a pywb collection
indexed with cdxj-indexer (`build_collection`), and serve it with pywb's `wayback` on a free
local port (`ReplayServer`), whose Wayback URLs, CDX server API and Memento TimeGate/TimeMap
`govaudit crawl --archive` then reads.

pywb is not a dependency of govaudit: its pins (pyOpenSSL < 26.2, brotlipy in place of
Brotli) break the crawler's TLS and brotli decoding, so it lives in a virtualenv of its own
(`make demo` and `make test` make `.venv-replay`). `GOVAUDIT_WAYBACK` names its `wayback`
program; otherwise the one on PATH is used.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

WAYBACK_ENV = "GOVAUDIT_WAYBACK"
START_SECONDS = 60.0


class ReplayUnavailable(RuntimeError):
    """pywb's `wayback` cannot be found or did not start; the message says how to fix it."""


def wayback_program() -> str:
    """The `wayback` program of pywb: $GOVAUDIT_WAYBACK, else on PATH."""
    given = os.environ.get(WAYBACK_ENV)
    if given:
        if not os.access(given, os.X_OK):
            raise ReplayUnavailable(f"{WAYBACK_ENV}={given}: not an executable pywb `wayback`")
        return given
    found = shutil.which("wayback")
    if found is None:
        raise ReplayUnavailable(
            "pywb's `wayback` was not found: install pywb in a virtualenv of its own "
            "(`make demo` makes .venv-replay) and set GOVAUDIT_WAYBACK to its bin/wayback"
        )
    return found


def redate_warcs(
    sources: Iterable[Path], target: Path, capture_time: Callable[[str], dt.datetime | None]
) -> int:
    """Copy the response and request records of `sources` into the WARC file `target`, each
    dated `capture_time(its URL)` (UTC); a URL given None is left out (never archived).
    Returns the number of responses copied."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    copied = 0
    with target.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for source in sources:
            with source.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type not in ("response", "request"):
                        continue
                    url = record.rec_headers.get_header("WARC-Target-URI") or ""
                    when = capture_time(url)
                    if when is None:
                        continue
                    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                    record.rec_headers.replace_header("WARC-Date", stamp)
                    writer.write_record(record)
                    copied += record.rec_type == "response"
    return copied


def build_collection(root: Path, name: str, warcs: Iterable[Path]) -> Path:
    """pywb's layout for collection `name` under `root` (collections/<name>/archive and
    indexes/index.cdxj, indexed with cdxj-indexer); returns the collection folder."""
    from cdxj_indexer.main import write_cdx_index

    folder = root / "collections" / name
    archive = folder / "archive"
    indexes = folder / "indexes"
    archive.mkdir(parents=True, exist_ok=True)
    indexes.mkdir(parents=True, exist_ok=True)
    copies = []
    for warc in warcs:
        copy = archive / warc.name
        shutil.copyfile(warc, copy)
        copies.append(str(copy))
    # Responses only: govaudit's metadata records (why a fetch failed) are not captures.
    write_cdx_index(
        str(indexes / "index.cdxj"),
        copies,
        {"sort": True, "post_append": True, "dir_root": str(archive), "records": "response"},
    )
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReplayServer:
    """pywb's `wayback` serving the collections under `root` on 127.0.0.1 (a free port)."""

    def __init__(self, root: Path, log: Path | None = None) -> None:
        self.root = root
        self.port = 0
        self.log = log or root / "wayback.log"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, collection: str) -> str:
        """The Wayback replay prefix of a collection: what `crawl --archive` takes."""
        return f"http://127.0.0.1:{self.port}/{collection}/"

    def start(self) -> ReplayServer:
        program = wayback_program()
        self.port = free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [program, "-p", str(self.port), "-b", "127.0.0.1"],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Never a proxy between us and the local server.
                env={**os.environ, "NO_PROXY": "*", "no_proxy": "*"},
            )
        deadline = time.monotonic() + START_SECONDS
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-500:]
                raise ReplayUnavailable(f"pywb's wayback exited at start: {tail.strip()}")
            try:
                opener.open(f"http://127.0.0.1:{self.port}/", timeout=2).close()
                return self
            except urllib.error.HTTPError:
                return self  # it answers
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ReplayUnavailable(
                        f"pywb's wayback did not answer on port {self.port}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
