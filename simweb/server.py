"""The simulated web: an HTTP forward proxy on 127.0.0.1 that serves virtual hosts from data.

Clients (Scrapy, urllib, curl) use it as their HTTP and HTTPS proxy.  Plain HTTP requests arrive
in absolute form (``GET http://www.usda.gov/ HTTP/1.1``); HTTPS arrives as ``CONNECT host:443``,
after which the proxy itself terminates TLS with a certificate issued for that host name by a
per-instance :mod:`trustme` CA and serves the requests inside the tunnel.  No connection is ever
opened to anywhere: every host is virtual, and hosts outside the world fail like DNS failures.

Failures are signalled with RFC 9209 ``Proxy-Status`` error tokens in the reason phrase and the
``Proxy-Status`` header, so that a client can tell "could not reach the host" (``502 dns_error``,
``502 connection_refused``, ``403 destination_ip_prohibited``) from "the site answered 502".

The asyncio loop runs in a background thread; :meth:`SimulatedWeb.start` and
:meth:`SimulatedWeb.stop` are called from ordinary (synchronous) code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import email.utils
import logging
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import trustme

from simweb import hostile
from simweb.sites import (
    TEXT_TYPE,
    Page,
    Site,
    SiteError,
    SiteState,
    is_ip_literal,
    load_sites,
    not_found_page,
    status_page,
)

__all__ = ["RequestRecord", "SimulatedWeb"]

_LOG = logging.getLogger("simweb")

PROXY_NAME = "simweb"
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_LINE = 64 * 1024
MAX_HEADERS = 200
MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 300.0
TLS_HANDSHAKE_TIMEOUT = 15.0
# The name a `tls: wrong-host` site's certificate is issued for (not the site's own).
WRONG_HOST_NAME = "wrong-host.simweb.invalid"


@dataclass
class RequestRecord:
    """One request seen by the simulated web (a CONNECT, a refusal, or a served request).

    ``path`` includes the query; for a CONNECT it is the authority (``host:443``).
    ``finished`` is ``None`` while the answer is still being prepared (e.g. during a delay).
    ``error`` is the RFC 9209 Proxy-Status error token when the proxy answered instead of the
    site (``dns_error``, ``connection_refused``, ``destination_ip_prohibited``), else ``""``.
    """

    host: str
    port: int
    scheme: str
    method: str
    path: str
    started: float
    finished: float | None = None
    status: int = 0
    user_agent: str = ""
    refused: bool = False
    error: str = ""


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("Connection") or "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class _BadRequest(Exception):
    pass


@dataclass
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    delay: float = 0.0
    hostile: str | None = None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _split_authority(authority: str, default_port: int) -> tuple[str, int]:
    """Split ``host[:port]`` (IPv6 in brackets) into a lower-case host and a port."""
    text = authority.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise _BadRequest(f"bad authority {authority!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise _BadRequest(f"bad authority {authority!r}")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:
        host, port_text = f"[{text}]", ""  # a bare IPv6 address
    else:
        host, port_text = text, ""
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _BadRequest(f"bad port in {authority!r}")
        port = int(port_text)
    else:
        port = default_port
    host = host.lower().rstrip(".")
    if not host:
        raise _BadRequest(f"no host in {authority!r}")
    return host, port


def _is_prohibited(host: str) -> bool:
    h = host.strip("[]").rstrip(".").lower()
    return (
        is_ip_literal(host)
        or h == "localhost"
        or h.endswith(".localhost")
        or h == "localhost.localdomain"
    )


class SimulatedWeb:
    """A world of virtual web sites served through an HTTP proxy on 127.0.0.1."""

    def __init__(
        self,
        sites: Iterable[Site] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        epoch: int = 1,
        on_record: Callable[[RequestRecord], None] | None = None,
        reuse_port: bool = False,
        keep_log: bool = True,
    ) -> None:
        self.sites: list[Site] = list(sites)
        self._index: dict[str, Site] = {}
        for site in self.sites:
            for name in site.hosts:
                other = self._index.get(name)
                if other is not None:
                    raise SiteError(
                        f"{site.source or site.name}: host {name!r} is already defined by "
                        f"{other.source or other.name}"
                    )
                self._index[name] = site
        self._bind_host = host
        self._requested_port = port
        self._epoch = epoch
        self._on_record = on_record
        # Several server processes may share one port (SO_REUSEPORT, the kernel spreads the
        # connections) so that a large world is not served by one Python thread; a long run
        # can also drop the in-memory request log (hundreds of thousands of records).
        self._reuse_port = reuse_port
        self._keep_log = keep_log
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._counters: dict[tuple[str, str], int] = {}
        self._counter_lock = threading.Lock()
        self._ssl_contexts: dict[str, ssl.SSLContext] = {}
        self._ca: trustme.CA | None = None
        self._tmpdir: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._port: int | None = None
        self.ca_pem_path: str | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_directory(
        cls, path_or_paths: str | Path | Iterable[str | Path], **kwargs: Any
    ) -> SimulatedWeb:
        """Load every site file (``*.yaml``) of one or more directories (or single files)."""
        return cls(load_sites(path_or_paths), **kwargs)

    @classmethod
    def demo(cls, **kwargs: Any) -> SimulatedWeb:
        """The shipped demo world (``simweb/demo/sites``)."""
        from simweb.sites import DEMO_SITES_DIR

        return cls.from_directory(DEMO_SITES_DIR, **kwargs)

    # ------------------------------------------------------------------ public API

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the simulated web is not started")
        return self._port

    @property
    def proxy_url(self) -> str:
        return f"http://{self._bind_host}:{self.port}"

    def proxy_env(self) -> dict[str, str]:
        """Environment variables that make Scrapy, urllib, requests and curl use this proxy."""
        url = self.proxy_url
        return {
            "http_proxy": url,
            "https_proxy": url,
            "HTTP_PROXY": url,
            "HTTPS_PROXY": url,
            "no_proxy": "",
            "NO_PROXY": "",
            # OpenSSL-based clients (Scrapy, curl, requests) then trust this instance's CA.
            **({"SSL_CERT_FILE": self.ca_pem_path} if self.ca_pem_path else {}),
        }

    @property
    def epoch(self) -> int:
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Switch the world to the state of ``epoch`` (overrides with keys <= epoch apply)."""
        self._epoch = int(epoch)

    def hosts(self) -> list[str]:
        """Every host name of the world."""
        return sorted(self._index)

    def site_for(self, host: str) -> Site | None:
        return self._index.get(host.lower().rstrip("."))

    def requests(self, host: str | None = None) -> list[RequestRecord]:
        """A copy of the request log, optionally only the records of one host."""
        with self._log_lock:
            records = [dataclasses.replace(r) for r in self._log]
        if host is not None:
            h = host.lower().rstrip(".")
            records = [r for r in records if r.host == h]
        return records

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def reset_sequences(self) -> None:
        """Start every ``sequence`` page again from its first item."""
        with self._counter_lock:
            self._counters.clear()

    def max_concurrency(self, host: str) -> int:
        """Most requests to ``host`` that were in progress at the same time.

        Only requests served inside a connection count (not CONNECTs, not proxy refusals); an
        unfinished request counts as still in progress.
        """
        events: list[tuple[float, int]] = []
        for r in self.requests(host):
            if r.method == "CONNECT" or r.error or r.refused:
                continue
            events.append((r.started, 1))
            events.append((r.finished if r.finished is not None else float("inf"), -1))
        events.sort()  # at equal times, -1 sorts before +1: touching intervals do not overlap
        best = current = 0
        for _, delta in events:
            current += delta
            best = max(best, current)
        return best

    def start(self) -> SimulatedWeb:
        """Bind 127.0.0.1 (a free port unless one was given) and serve in a background thread."""
        if self._thread is not None:
            raise RuntimeError("the simulated web is already started")
        self._ca = trustme.CA(organization_name="simweb test CA")
        self._ssl_contexts = {}
        self._tmpdir = tempfile.mkdtemp(prefix="simweb-")
        pem = Path(self._tmpdir) / "simweb-ca.pem"
        self._ca.cert_pem.write_to_path(str(pem))
        self.ca_pem_path = str(pem)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(
                    asyncio.start_server(
                        self._handle_connection,
                        self._bind_host,
                        self._requested_port,
                        limit=MAX_LINE,
                        reuse_address=True,
                        reuse_port=self._reuse_port or None,
                    )
                )
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            self._server = server
            self._port = server.sockets[0].getsockname()[1]
            ready.set()
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="simweb", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            self._thread.join()
            self._thread = None
            self._cleanup_files()
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection, stop the loop and remove the CA file."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(Exception):
                fut.result(15)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None
        self._loop = None
        self._server = None
        self._port = None
        self._cleanup_files()

    def __enter__(self) -> SimulatedWeb:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f" at {self.proxy_url}" if self._port else ""
        return f"<SimulatedWeb {len(self.sites)} sites, {len(self._index)} hosts{where}>"

    # ------------------------------------------------------------------ internals

    def _cleanup_files(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None
        self.ca_pem_path = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    def _start(self, host: str, port: int, scheme: str, req: _Request, path: str) -> RequestRecord:
        """Log a request served by a site, as it starts."""
        return self._record(
            RequestRecord(
                host=host,
                port=port,
                scheme=scheme,
                method=req.method,
                path=path,
                started=time.monotonic(),
                user_agent=req.header("User-Agent") or "",
            )
        )

    def _record(self, record: RequestRecord) -> RequestRecord:
        if self._keep_log:
            with self._log_lock:
                self._log.append(record)
        return record

    def _finish(self, record: RequestRecord, status: int | None = None) -> None:
        with self._log_lock:
            if status is not None:
                record.status = status
            record.finished = time.monotonic()
        if self._on_record is not None:
            with contextlib.suppress(Exception):
                self._on_record(dataclasses.replace(record))

    def _ssl_context(self, host: str, mode: str = "ok") -> ssl.SSLContext:
        ctx = self._ssl_contexts.get(f"{mode}:{host}")
        if ctx is None:
            assert self._ca is not None
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.set_alpn_protocols(["http/1.1"])
            if mode == "expired":
                now = dt.datetime.now(dt.UTC)
                leaf = self._ca.issue_cert(
                    host,
                    not_before=now - dt.timedelta(days=400),
                    not_after=now - dt.timedelta(days=30),
                )
            elif mode == "wrong-host":
                leaf = self._ca.issue_cert(WRONG_HOST_NAME)
            elif mode == "self-signed":
                # A CA of its own that no client was told to trust, as a self-signed server has.
                leaf = trustme.CA(organization_name=f"self-signed {host}").issue_cert(host)
            else:
                leaf = self._ca.issue_cert(host)
            leaf.configure_cert(ctx)
            self._ssl_contexts[f"{mode}:{host}"] = ctx
        return ctx

    def _next_in_sequence(self, site: Site, key: str) -> int:
        with self._counter_lock:
            n = self._counters.get((site.name, key), 0)
            self._counters[(site.name, key)] = n + 1
        return n

    # ------------------------------------------------------------------ connection handling

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                try:
                    req = await asyncio.wait_for(_read_request(reader), IDLE_TIMEOUT)
                    if req is None:
                        break
                    if req.method == "CONNECT":
                        await self._handle_connect(req, reader, writer)
                        break
                    if not await self._handle_forward(req, writer):
                        break
                except _BadRequest as exc:
                    await _write(writer, _plain_answer(400, str(exc)), head=False, close=True)
                    break
        except (asyncio.CancelledError, TimeoutError):
            pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        except Exception:
            _LOG.exception("simweb: unexpected error while serving a connection")
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(writer.wait_closed(), 2)

    def _route(self, host: str, scheme: str, port: int) -> tuple[Site | None, int, str]:
        """Which site serves a target, or the proxy error (status, Proxy-Status token)."""
        if _is_prohibited(host):
            return None, 403, "destination_ip_prohibited"
        site = self._index.get(host)
        if site is None:
            return None, 502, "dns_error"
        state = site.at(self._epoch)
        if state.down or scheme not in state.schemes or port != DEFAULT_PORTS[scheme]:
            return None, 502, "connection_refused"
        return site, 0, ""

    async def _handle_forward(self, req: _Request, writer: asyncio.StreamWriter) -> bool:
        """A request sent to the proxy itself (absolute form, or origin form with Host)."""
        target = req.target
        if target.lower().startswith(("http://", "https://")):
            parts = urlsplit(target)
            scheme = parts.scheme.lower()
            host, port = _split_authority(parts.netloc.rpartition("@")[2], DEFAULT_PORTS[scheme])
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        elif target.startswith("/"):
            host_header = req.header("Host")
            if not host_header:
                await _write(writer, _plain_answer(400, "no Host header"), head=False, close=True)
                return False
            scheme = "http"
            host, port = _split_authority(host_header, 80)
            path = target
        else:
            await _write(writer, _plain_answer(400, "bad request target"), head=False, close=True)
            return False
        keep = req.keep_alive()
        record = self._start(host, port, scheme, req, path)
        site, status, token = self._route(host, scheme, port)
        if site is None:
            record.refused = token == "destination_ip_prohibited"
            record.error = token
            await _write(writer, _proxy_error(status, token, host), req.method == "HEAD", not keep)
            self._finish(record, status)
            return keep
        return await self._serve(site, host, scheme, req, path, record, writer, keep)

    async def _handle_connect(
        self, req: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, port = _split_authority(req.target, 443)
        record = self._record(
            RequestRecord(
                host=host,
                port=port,
                scheme="http" if port == 80 else "https",
                method="CONNECT",
                path=req.target,
                started=time.monotonic(),
                user_agent=req.header("User-Agent") or "",
            )
        )
        scheme = "http" if port == 80 else "https"
        site, status, token = self._route(host, scheme, port)
        if site is None:
            record.refused = token == "destination_ip_prohibited"
            record.error = token
            await _write(writer, _proxy_error(status, token, host), head=False, close=True)
            self._finish(record, status)
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: simweb\r\n\r\n")
        await writer.drain()
        self._finish(record, 200)
        if scheme == "https":
            tls_mode = site.at(self._epoch).tls
            if tls_mode == "broken":
                writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS\r\n")
                await writer.drain()
                return
            await writer.start_tls(
                self._ssl_context(host, tls_mode), ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT
            )
        while True:
            inner = await asyncio.wait_for(_read_request(reader), IDLE_TIMEOUT)
            if inner is None:
                return
            if inner.method == "CONNECT":
                await _write(writer, _plain_answer(400, "CONNECT inside a tunnel"), False, True)
                return
            path = inner.target
            if path.lower().startswith(("http://", "https://")):
                parts = urlsplit(path)
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            elif not path.startswith("/"):
                await _write(writer, _plain_answer(400, "bad request target"), False, True)
                return
            keep = inner.keep_alive()
            rec = self._start(host, port, scheme, inner, path)
            if site.at(self._epoch).down:  # the epoch changed while the tunnel was open
                self._finish(rec, 0)
                return
            if not await self._serve(site, host, scheme, inner, path, rec, writer, keep):
                return

    async def _serve(
        self,
        site: Site,
        host: str,
        scheme: str,
        req: _Request,
        path: str,
        record: RequestRecord,
        writer: asyncio.StreamWriter,
        keep: bool,
    ) -> bool:
        try:
            state = site.at(self._epoch)
            if state.delay:
                await asyncio.sleep(state.delay)
            answer = self._answer(site, state, host, scheme, path)
            record.status = answer.status
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if answer.hostile:
                record.status = await hostile.serve(
                    answer.hostile, writer, req.method == "HEAD", path, record.user_agent
                )
                return False
            await _write(writer, answer, head=req.method == "HEAD", close=not keep)
        finally:
            self._finish(record)
        return keep

    def _answer(self, site: Site, state: SiteState, host: str, scheme: str, path: str) -> _Answer:
        """The response of a site to a request (without the network part)."""
        common = list(state.headers)
        if scheme == "http" and state.https_redirect and "https" in state.schemes:
            return _redirect(301, f"https://{host}{path}", common)
        target = state.redirect_host.get(host)
        if target is not None:
            if "://" in target:
                return _redirect(301, f"{target}{path}", common)
            return _redirect(301, f"{scheme}://{target}{path}", common)
        if state.status_all is not None:
            return _page_answer(status_page(state.status_all), common)
        bare, _, _query = path.partition("?")
        if bare == "/robots.txt" and state.robots is not None:
            return _Answer(200, "OK", [*common, ("Content-Type", TEXT_TYPE)], state.robots)
        key_full, key_bare = (path.lower(), bare.lower()) if state.ignore_case else (path, bare)
        page = state.pages.get(key_full)
        key = key_full
        if page is None:
            page, key = state.pages.get(key_bare), key_bare
        if page is None:
            page, key = state.catch_all, "*catch_all*"
        if page is None:
            return _page_answer(not_found_page(), common)
        if page.sequence:
            n = self._next_in_sequence(site, key)
            page = page.sequence[min(n, len(page.sequence) - 1)]
        return _page_answer(page, common)


# ---------------------------------------------------------------------- HTTP helpers


def _page_answer(page: Page, common: Sequence[tuple[str, str]]) -> _Answer:
    headers = list(common)
    if page.content_type and (page.body or page.status < 300):
        headers.append(("Content-Type", page.content_type))
    if page.redirect is not None:
        headers.append(("Location", page.redirect))
    headers.extend(page.headers)
    return _Answer(page.status, _reason(page.status), headers, page.body, page.delay, page.hostile)


def _redirect(status: int, location: str, common: Sequence[tuple[str, str]]) -> _Answer:
    body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>\n'
    headers = [*common, ("Location", location), ("Content-Type", "text/html; charset=utf-8")]
    return _Answer(status, _reason(status), headers, body.encode("utf-8"))


def _plain_answer(status: int, message: str) -> _Answer:
    return _Answer(
        status,
        _reason(status),
        [("Content-Type", TEXT_TYPE)],
        f"simweb: {message}\n".encode(),
    )


def _proxy_error(status: int, token: str, host: str) -> _Answer:
    return _Answer(
        status,
        token,
        [("Proxy-Status", f"{PROXY_NAME}; error={token}"), ("Content-Type", TEXT_TYPE)],
        f"simweb: {token}: {host}\n".encode(),
    )


async def _write(writer: asyncio.StreamWriter, answer: _Answer, head: bool, close: bool) -> None:
    lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    names = {name.lower() for name, _ in answer.headers}
    if "server" not in names:  # a page may pose as another server (e.g. a parked Apache)
        lines.append(f"Server: {PROXY_NAME}")
    if "date" not in names:
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    lines.extend(f"{name}: {value}" for name, value in answer.headers)
    if "content-length" not in names:
        no_body = answer.status in (204, 304) or 100 <= answer.status < 200
        if not no_body:
            lines.append(f"Content-Length: {len(answer.body)}")
    lines.append(f"Connection: {'close' if close else 'keep-alive'}")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
    body = b"" if head or answer.status in (204, 304) else answer.body
    writer.write(head_bytes + body)
    await writer.drain()


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one request (line, headers and body); ``None`` at a clean end of the stream."""

    async def readline() -> bytes:
        try:
            return await reader.readline()
        except (asyncio.LimitOverrunError, ValueError):
            raise _BadRequest("line too long") from None

    line = await readline()
    while line in (b"\r\n", b"\n"):
        line = await readline()
    if not line:
        return None
    if not line.endswith(b"\n"):
        return None  # the client went away in the middle of a line
    parts = line.decode("latin-1").strip().split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("malformed request line")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    while True:
        hline = await readline()
        if not hline:
            raise asyncio.IncompleteReadError(b"", None)
        if hline in (b"\r\n", b"\n"):
            break
        if len(headers) >= MAX_HEADERS:
            raise _BadRequest("too many headers")
        name, sep, value = hline.decode("latin-1").partition(":")
        if not sep or not name.strip():
            raise _BadRequest("malformed header line")
        headers.append((name.strip(), value.strip()))
    req = _Request(method.upper(), target, version, headers)
    if req.method == "CONNECT":
        return req
    te = (req.header("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        chunks = []
        total = 0
        while True:
            size_line = (await readline()).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                while (await readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            total += size
            if total > MAX_BODY:
                raise _BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        req.body = b"".join(chunks)
    else:
        length_text = req.header("Content-Length")
        if length_text:
            if not length_text.isdigit() or int(length_text) > MAX_BODY:
                raise _BadRequest("bad Content-Length")
            req.body = await reader.readexactly(int(length_text))
    return req
