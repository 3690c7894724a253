"""Evidence an auditor can replay: every fetch written to WARC files (ISO 28500) with warcio.

`govaudit crawl --warc DIR` turns this on. A downloader middleware placed next to the
downloader sees each request as sent and each response as received (before decompression,
redirects and retries), and queues them; a writer thread turns them into WARC records and
writes them in batches, so the crawl's reactor never waits on the disk. Refused and failed
requests become `metadata` records giving the reason.

Each crawler process writes its own files, `govaudit-<run>-<started>-<host>.<pid>-<seq>.warc.gz`
(`started`: when the process began writing, UTC, to the second), so a file name is unique
across a run's attempts and machines: a resumed crawl, in the same folder or a new one, never
appends to an old file nor writes a second file of the same name. Files rotate at 1 GB.
Records are gzipped one by one and each is written with a single `write` call after it was
built whole in memory, so a process killed at any moment leaves files whose records are whole
or absent (at worst a truncated last gzip member, which readers skip).

The observation pipeline stamps each stored observation with where its record is
(`warc_file`, `warc_offset`, `warc_digest`), looked up by URL after waiting for the writer,
and registers each file with its folder and host (the `warc_file` table) in the same
transaction as the first observations that name it.
"""

from __future__ import annotations

import datetime as dt
import http
import io
import json
import logging
import os
import queue
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from w3lib.url import safe_url_string

from crawler.fetch_errors import failure_kind, proxy_failure

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 1024**3
QUEUE_LIMIT = 2000
# How long a download may wait for room in a full queue before its record is dropped (and
# counted in the stats as govaudit/warc/dropped): the crawl comes first.
QUEUE_WAIT_SECONDS = 2.0
BATCH_RECORDS = 64
# How long the pipeline waits for the writer before storing a batch (it is normally idle: it
# writes hundreds of records a second, more than a crawl process fetches).
SYNC_WAIT_SECONDS = 30.0
# Credentials the crawl sends (a proxy's, from its URL) never go into an archive.
SECRET_HEADERS = {"proxy-authorization", "authorization", "cookie"}
FILE_NAME = re.compile(
    r"^govaudit-(?P<run>\d+)-(?P<started>\d{14})-(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)"
    r"-(?P<seq>\d+)\.warc\.gz$"
)
# WARC 1.1 throughout (the warcinfo record says so): warcio writes 1.0 unless told.
WARC_VERSION = "1.1"
# rw-r--r-- (less under a stricter umask): evidence files are data, not programs.
FILE_MODE = 0o644


@dataclass(frozen=True)
class WarcLocation:
    """Where one record is: file name (in the run's WARC directory), byte offset of its
    gzip member, and its payload digest as written in the record (`sha1:BASE32`)."""

    file: str
    offset: int
    digest: str | None

    def columns(self) -> dict[str, Any]:
        return {"warc_file": self.file, "warc_offset": self.offset, "warc_digest": self.digest}


def masked_url(url: str) -> str:
    """The URL without its password (a proxy or service URL may carry one)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


def masked_text(text: str) -> str:
    """Any `scheme://user:password@` in free text (an error message naming a proxy) masked."""
    return re.sub(r"://([^/:@\s]*):[^@\s/]+@", r"://\1:***@", text)


def masked_settings(value: Any) -> Any:
    """Crawl settings fit for a warcinfo record: passwords in URLs masked, secret-looking
    keys dropped."""
    if isinstance(value, dict):
        return {
            k: masked_settings(v)
            for k, v in value.items()
            if not re.search(r"password|secret|token|api_?key", str(k), re.I)
        }
    if isinstance(value, list | tuple):
        return [masked_settings(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return masked_url(value)
    return value


def lookup_key(url: str) -> str:
    return safe_url_string(url.split("#", 1)[0])


def writer_host() -> str:
    """This machine's name as it goes into a file name: letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname()).strip("-") or "host"


def file_prefix(run_id: int, started: dt.datetime, pid: int | None = None) -> str:
    """`govaudit-<run>-<started>-<host>.<pid>`: one writer's files, unique across attempts
    (another start time or pid) and machines (another host)."""
    pid = os.getpid() if pid is None else pid
    return f"govaudit-{run_id}-{started:%Y%m%d%H%M%S}-{writer_host()}.{pid}"


def next_sequence(directory: Path, prefix: str) -> int:
    seqs = [
        int(m["seq"])
        for p in directory.glob(f"{prefix}-*.warc.gz")
        if (m := FILE_NAME.match(p.name)) and p.name.startswith(f"{prefix}-")
    ]
    return max(seqs, default=-1) + 1


class WarcArchive:
    """One process's WARC output: a queue, a writer thread, and the URL -> record index."""

    def __init__(
        self,
        directory: Path,
        run_id: int,
        worker: str,
        info: dict[str, Any],
        max_bytes: int = MAX_FILE_BYTES,
        stats: Any = None,
    ) -> None:
        self.directory = directory.absolute()
        self.run_id = run_id
        self.prefix = file_prefix(run_id, _now())
        self.host = socket.gethostname()
        # Files this process opened (name -> folder) and those the pipeline registered.
        self.opened: dict[str, str] = {}
        self.registered: set[str] = set()
        self.worker = worker
        self.info = info
        self.max_bytes = max_bytes
        self.stats = stats
        self.queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue(QUEUE_LIMIT)
        self.locations: dict[str, WarcLocation] = {}
        # The index entries each unit's requests made, dropped once the unit's observations
        # are stamped: the index holds the units in flight, not the whole run.
        self.unit_entries: dict[Any, list[tuple[str, WarcLocation]]] = {}
        self.lock = threading.Lock()
        self.fd: int | None = None
        self.name: str | None = None
        self.size = 0
        self.seq = -1
        self.error: str | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=self._run, name="govaudit-warc", daemon=True)
        self.thread.start()

    # -- the crawl's side (reactor thread): cheap, never waits long --------------------
    def put(self, kind: str, data: dict[str, Any]) -> None:
        if self.error is not None:
            return
        try:
            self.queue.put((kind, data), timeout=QUEUE_WAIT_SECONDS)
        except queue.Full:
            if self.stats is not None:
                self.stats.inc_value("govaudit/warc/dropped")
            logger.warning("govaudit: WARC queue full, record of %s dropped", data.get("url"))

    def sync(self) -> None:
        """Wait until every queued record is written (the pipeline calls this before it
        stores a batch, so the observations can name their records)."""
        deadline = time.monotonic() + SYNC_WAIT_SECONDS
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks and self.thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    # Observations stored now name no record rather than stall the crawl.
                    if self.stats is not None:
                        self.stats.inc_value("govaudit/warc/sync_timeout")
                    return
                self.queue.all_tasks_done.wait(left)

    def location(self, url: str | None) -> WarcLocation | None:
        if not url:
            return None
        with self.lock:
            return self.locations.get(lookup_key(url))

    def forget_unit(self, unit: Any) -> None:
        """Drop the index entries a finished unit's requests made (once its observations
        name their records); an entry a later request of the same URL replaced is kept."""
        with self.lock:
            for key, where in self.unit_entries.pop(unit, ()):
                if self.locations.get(key) is where:
                    del self.locations[key]

    def unregistered_files(self) -> dict[str, str]:
        """The files (name -> folder) opened since the pipeline last registered them."""
        with self.lock:
            return {n: d for n, d in self.opened.items() if n not in self.registered}

    def mark_registered(self, names: Any) -> None:
        with self.lock:
            self.registered.update(names)

    def close(self, **_signal: Any) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # -- the writer thread --------------------------------------------------------------
    def _run(self) -> None:
        from warcio.warcwriter import WARCWriter

        while True:
            first = self.queue.get()
            batch = [first]
            while first is not None and len(batch) < BATCH_RECORDS:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            for entry in batch:
                try:
                    if entry is not None and self.error is None:
                        self._write_entry(WARCWriter, *entry)
                except OSError as exc:
                    # A full or vanished disk stops the archive, not the crawl; the run's
                    # stats say so.
                    self.error = f"{type(exc).__name__}: {exc}"
                    logger.error("govaudit: WARC writing stopped: %s", self.error)
                    if self.stats is not None:
                        self.stats.set_value("govaudit/warc/error", self.error)
                except Exception as exc:
                    # One record warcio cannot build (a malformed header) is skipped, not
                    # the writer: a dead writer would leave sync() waiting forever.
                    assert entry is not None
                    logger.error(
                        "govaudit: WARC record of %s not written: %s", entry[1]["url"], exc
                    )
                    if self.stats is not None:
                        self.stats.inc_value("govaudit/warc/unwritable")
                finally:
                    self.queue.task_done()
            if any(entry is None for entry in batch):
                return

    def _write_entry(self, writer_cls: Any, kind: str, data: dict[str, Any]) -> None:
        records = self._build(writer_cls, kind, data)
        blobs = [self._serialise(writer_cls, r) for r in records]
        total = sum(len(b) for b in blobs)
        if self.fd is None or (self.size > 0 and self.size + total > self.max_bytes):
            self._open(writer_cls)
        assert self.fd is not None and self.name is not None
        main: WarcLocation | None = None
        for record, blob in zip(records, blobs, strict=True):
            offset = self.size
            _write_all(self.fd, blob)
            self.size += len(blob)
            if main is None:
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                main = WarcLocation(self.name, offset, digest)
        if self.stats is not None:
            self.stats.inc_value(f"govaudit/warc/{kind}")
        if main is not None:
            key = lookup_key(data["url"])
            with self.lock:
                self.locations[key] = main
                if data.get("unit") is not None:
                    self.unit_entries.setdefault(data["unit"], []).append((key, main))

    @staticmethod
    def _serialise(writer_cls: Any, record: Any) -> bytes:
        buf = io.BytesIO()
        writer_cls(buf, gzip=True, warc_version=WARC_VERSION).write_record(record)
        return buf.getvalue()

    def _open(self, writer_cls: Any) -> None:
        if self.fd is not None:
            os.close(self.fd)
        self.seq = max(self.seq + 1, next_sequence(self.directory, self.prefix))
        while True:
            name = f"{self.prefix}-{self.seq:05d}.warc.gz"
            try:
                self.fd = os.open(
                    self.directory / name,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND,
                    FILE_MODE,
                )
                break
            except FileExistsError:
                self.seq += 1
        self.name, self.size = name, 0
        with self.lock:
            self.opened[name] = str(self.directory)
        writer = writer_cls(io.BytesIO(), gzip=True, warc_version=WARC_VERSION)
        info = writer.create_warcinfo_record(name, self.info)
        blob = self._serialise(writer_cls, info)
        _write_all(self.fd, blob)
        self.size = len(blob)

    def _build(self, writer_cls: Any, kind: str, data: dict[str, Any]) -> list[Any]:
        from warcio.statusandheaders import StatusAndHeaders

        writer = writer_cls(io.BytesIO(), gzip=True, warc_version=WARC_VERSION)
        date = data["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        url = data["url"]
        if kind == "metadata":
            body = json.dumps(
                {"url": url, "reason": data["reason"], "kind": data["error_kind"]}, sort_keys=True
            ).encode()
            return [
                writer.create_warc_record(
                    url,
                    "metadata",
                    payload=io.BytesIO(body),
                    length=len(body),
                    warc_content_type="application/json",
                    warc_headers_dict={"WARC-Date": date},
                )
            ]
        status = int(data["status"])
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(data["body"]),
            length=None,
            warc_headers_dict={"WARC-Date": date, **data.get("warc_headers", {})},
            http_headers=StatusAndHeaders(
                f"{status} {phrase}", data["headers"], protocol=data["protocol"]
            ),
        )
        request_body = data.get("request_body") or b""
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(request_body),
            length=None,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
            http_headers=StatusAndHeaders(
                f"{data['method']} {data['target']} HTTP/1.1",
                data["request_headers"],
                is_http_request=True,
            ),
        )
        return [response, request]


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(blob)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _header_list(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WarcMiddleware:
    """Queues every response (with its request) and every refused or failed request.

    Placed just before the downloader (priority 950): responses are seen as they came off
    the wire (still compressed, before redirects and retries are handled) and requests with
    every header the other middlewares added.
    """

    def __init__(self, crawler: Crawler, archive: WarcArchive) -> None:
        self.crawler = crawler
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        archive = archive_for(crawler)
        if archive is None:
            # No message: Scrapy would log "Disabled ..." as a WARNING on every crawl.
            raise NotConfigured
        return cls(crawler, archive)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        failure = proxy_failure(response)
        if failure is not None:
            # The proxy's word that it could not connect: not the site's answer.
            self._metadata(request, failure, f"proxy: {failure} (HTTP {response.status})")
            return response
        parts = urlsplit(response.url)
        target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        request_headers = [("Host", parts.netloc)] + [
            (k, v) for k, v in _header_list(request.headers) if k.lower() not in SECRET_HEADERS
        ]
        self.archive.put(
            "response",
            {
                "url": response.url,
                "at": _now(),
                "status": response.status,
                "protocol": response.protocol or "HTTP/1.1",
                "headers": _header_list(response.headers),
                "body": response.body,
                "method": request.method,
                "target": target,
                "request_headers": request_headers,
                "request_body": request.body,
                "unit": request_unit(request),
                # Through a proxy the address is the proxy's, not the site's.
                "warc_headers": {"WARC-IP-Address": str(response.ip_address)}
                if response.ip_address and not request.meta.get("proxy")
                else {},
            },
        )
        return response

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        kind, message = failure_kind(exception)
        self._metadata(request, kind, message)
        return None

    def _metadata(self, request: Request, kind: str, reason: str) -> None:
        self.archive.put(
            "metadata",
            {
                "url": request.url,
                "at": _now(),
                "error_kind": kind,
                "reason": masked_text(reason)[:1000],
                "unit": request_unit(request),
            },
        )


def request_unit(request: Request) -> Any:
    """The unit a request was made for: the spider's, or the one whose request made the
    robots.txt middleware fetch its origin's robots.txt."""
    return request.meta.get("unit", request.meta.get("for_unit"))


def archive_for(crawler: Crawler) -> WarcArchive | None:
    """The crawler's one WarcArchive (made by whichever component asks first), or None when
    the run writes no WARC files."""
    existing = getattr(crawler, "govaudit_warc", None)
    if existing is not None:
        return existing
    settings = crawler.settings
    directory = settings.get("GOVAUDIT_WARC_DIR")
    if not directory:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        software = f"govaudit/{version('govaudit')}"
    except PackageNotFoundError:
        software = "govaudit"
    info = {
        "software": software,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": f"govaudit crawl run {settings.get('GOVAUDIT_RUN_ID')}",
        "govaudit-run": str(settings.get("GOVAUDIT_RUN_ID")),
        "govaudit-job": str(settings.get("GOVAUDIT_JOB")),
        "govaudit-worker": str(settings.get("GOVAUDIT_WORKER")),
        "http-header-user-agent": settings.get("USER_AGENT"),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "govaudit-settings": json.dumps(
            masked_settings(settings.getdict("GOVAUDIT_WARC_RUN_SETTINGS")),
            sort_keys=True,
            default=str,
        ),
    }
    archive = WarcArchive(
        Path(directory),
        settings.getint("GOVAUDIT_RUN_ID"),
        str(settings.get("GOVAUDIT_WORKER", "0")),
        info,
        max_bytes=settings.getint("GOVAUDIT_WARC_MAX_BYTES", MAX_FILE_BYTES),
        stats=crawler.stats,
    )
    crawler.govaudit_warc = archive  # type: ignore[attr-defined]
    # spider_closed comes after the pipelines closed (their last batch is written by then).
    crawler.signals.connect(archive.close, signal=signals.spider_closed)
    return archive


def stamp(item: Any, archive: WarcArchive) -> None:
    """Give each observation of a finished unit the location of its WARC record: the final
    response when the fetch was redirected, else the first answer or the failure record."""

    def place(row: dict[str, Any], *urls: str | None) -> None:
        for url in urls:
            found = archive.location(url)
            if found is not None:
                row.update(found.columns())
                return

    for row in getattr(item, "endpoints", None) or []:
        place(row, row.get("final_url"), row.get("url"))
    for row in getattr(item, "pages", None) or []:
        place(row, row.get("url"))
    site = getattr(item, "site", None)
    if site and isinstance(site.get("robots"), dict) and site["robots"].get("url"):
        # robots.txt facts live in a JSON column: the location goes in with them.
        robots = dict(site["robots"])
        place(robots, robots.get("url"))
        site["robots"] = robots
    for row in getattr(item, "tries", None) or []:
        place(row, row.get("final_url"), row.get("url"))
    for row in getattr(item, "documents", None) or []:
        place(row, row.get("final_url"), row.get("url"))
    result = getattr(item, "result", None)
    if isinstance(result, dict):
        place(result, result.get("url"))
