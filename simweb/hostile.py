"""Hostile answers: what a broken or malicious web server does to a crawler.

A page with `hostile: NAME` (see docs/simulated-web.md) is answered by the behaviour NAME
instead of an ordinary response. Behaviours that need more than one response (bombs are
computed once, streams never end) write to the connection themselves and then close it.

| name | what the client gets |
| --- | --- |
| `huge` | announces 500 MB of HTML and streams it until the client hangs up |
| `huge-unannounced` | the same without Content-Length (ends when the connection closes) |
| `gzip-bomb` | 1 MB on the wire, `Content-Encoding: gzip`, 1 GiB of zeros unpacked |
| `brotli-bomb` | 0.2 MB on the wire, `Content-Encoding: br`, 1 GiB unpacked |
| `long-line` | a 10.5 MB HTML page that is one single line |
| `never-answers` | reads the request and never writes a byte |
| `trickle` | headers, then one byte of body a second, for ever |
| `binary-garbage` | 64 kB of random bytes served as text/html |
| `empty` | 200 with an empty body |
| `pdf-as-html` | a PDF file served as text/html |
| `html-as-octet-stream` | an HTML page served as application/octet-stream |
| `cp1252-as-utf8` | Windows-1252 text declared as UTF-8 |
| `utf16-bom` | UTF-16 with a byte-order mark, no charset given |
| `malformed-html` | unclosed tags, stray `</html>`, NULs and a `<title>` never closed |
| `robots-5mb` | a 5 MB robots.txt of comment and rule lines |
| `robots-garbage` | robots.txt of binary junk and lines without colons around real rules |
| `sitemap-xml-bomb` | a sitemap with nested entities (a billion laughs if expanded) |
| `sitemap-index-50000` | a sitemap index listing 50,000 sitemaps |
| `calendar` | an endless calendar: every day links the next and previous day |
| `session-ids` | every link carries a new session id |
| `deeper` | every page links one level deeper |
| `503-retry-after-date` | 503 with `Retry-After` as an HTTP-date 3 s ahead |
| `403-to-bots` | 403 to any User-Agent naming a bot, crawler or govaudit; a page to others |
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import hashlib
import os
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

HUGE_BYTES = 500 * 1024 * 1024
BOMB_BYTES = 1 << 30
LONG_LINE_BYTES = 10 * 1024 * 1024 + 512 * 1024
_CHUNK = 1 << 20

Writer = asyncio.StreamWriter


def _head(status: int, headers: list[tuple[str, str]], reason: str = "OK") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Server: simweb-hostile"]
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send(
    writer: Writer, body: bytes, content_type: str, head: bool, extra: list[tuple[str, str]]
) -> None:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra]
    writer.write(_head(200, [*headers, ("Connection", "close")]))
    if not head:
        writer.write(body)
    await writer.drain()


@functools.cache
def _gzip_bomb() -> bytes:
    # One deflate block of 1 MiB of zeros, ended by a full flush so it can be repeated.
    zeros = bytes(_CHUNK)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_BYTES // _CHUNK):
        crc = zlib.crc32(zeros, crc)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, BOMB_BYTES & 0xFFFFFFFF)
    return header + block * (BOMB_BYTES // _CHUNK) + final + trailer


@functools.cache
def _brotli_bomb() -> bytes:
    import brotli

    zeros = bytes(_CHUNK)
    compressor = brotli.Compressor(quality=1)
    parts = [compressor.process(zeros) for _ in range(BOMB_BYTES // _CHUNK)]
    return b"".join([*parts, compressor.finish()])


@functools.cache
def _long_line() -> bytes:
    start = b"<!doctype html><html><head><title>One line</title></head><body><p>"
    end = b"</p></body></html>"
    return start + b"a" * (LONG_LINE_BYTES - len(start) - len(end)) + end


@functools.cache
def _robots_5mb() -> bytes:
    lines = [b"User-agent: *", b"Disallow: /private/"]
    size, n = 0, 0
    while size < 5 * 1024 * 1024:
        lines.append(b"# filler comment line %d for a robots.txt nobody reads" % n)
        lines.append(b"Disallow: /archive/%d/" % n)
        size += len(lines[-1]) + len(lines[-2]) + 2
        n += 1
    return b"\n".join(lines) + b"\n"


@functools.cache
def _sitemap_index(count: int) -> bytes:
    head = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    )
    entries = b"".join(
        b"<sitemap><loc>https://example.invalid/s%d.xml</loc></sitemap>" % i for i in range(count)
    )
    return head + entries + b"</sitemapindex>"


_XML_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE urlset [\n<!ENTITY a "aaaaaaaaaa">\n'
    + b"".join(
        b'<!ENTITY %s "%s">\n' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10)
        for i in range(9)
    )
    + b"]>\n"
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc>https://www.example.gov/&j;</loc></url></urlset>\n"
)

_MALFORMED = (
    b"<html><head><title>Broken <b>page</head><body><div><p>unclosed <a href='/x'>link"
    b"</html></html>\x00\x00<p>after the end<table><tr><td>cell</body>"
)
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
    b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _link_page(title: str, hrefs: list[str]) -> bytes:
    links = "".join(f'<a href="{h}">{h}</a> ' for h in hrefs)
    return f"<html><head><title>{title}</title></head><body>{links}</body></html>".encode()


def _trap_page(name: str, path: str) -> bytes:
    parts = urlsplit(path)
    if name == "calendar":
        day = int(parse_qs(parts.query).get("day", ["0"])[0] or 0)
        return _link_page(
            f"Calendar day {day}",
            [f"{parts.path}?day={day + 1}", f"{parts.path}?day={day - 1}"],
        )
    if name == "session-ids":
        token = hashlib.sha256(os.urandom(8)).hexdigest()[:16]
        return _link_page("Session", [f"{parts.path}?sessionid={token}&n={i}" for i in range(3)])
    base = parts.path.rstrip("/")
    return _link_page(f"Depth {base.count('/')}", [f"{base}/d/"])


async def _static(name: str, writer: Writer, head: bool, path: str) -> None:
    html, text = "text/html; charset=utf-8", "text/plain; charset=utf-8"
    xml = "application/xml"
    loop = asyncio.get_running_loop()
    match name:
        case "gzip-bomb":
            body = await loop.run_in_executor(None, _gzip_bomb)
            await _send(writer, body, html, head, [("Content-Encoding", "gzip")])
        case "brotli-bomb":
            body = await loop.run_in_executor(None, _brotli_bomb)
            await _send(writer, body, html, head, [("Content-Encoding", "br")])
        case "long-line":
            await _send(writer, _long_line(), html, head, [])
        case "binary-garbage":
            await _send(writer, os.urandom(64 * 1024), html, head, [])
        case "empty":
            await _send(writer, b"", html, head, [])
        case "pdf-as-html":
            await _send(writer, _PDF, html, head, [])
        case "html-as-octet-stream":
            body = _link_page("Octet stream page", ["/about"])
            await _send(writer, body, "application/octet-stream", head, [])
        case "cp1252-as-utf8":
            body = "<html><title>Caf\u00e9 \u201cquoted\u201d</title><body>\u2014</body></html>"
            await _send(writer, body.encode("cp1252"), html, head, [])
        case "utf16-bom":
            body = "<html><head><title>UTF-16 page</title></head><body>hi</body></html>"
            await _send(writer, body.encode("utf-16"), "text/html", head, [])
        case "malformed-html":
            await _send(writer, _MALFORMED, html, head, [])
        case "robots-5mb":
            await _send(writer, _robots_5mb(), text, head, [])
        case "robots-garbage":
            body = b"\x00\xff\xfe junk\nno colon\nUser-agent: *\n::::\nDisallow: /private/\n"
            await _send(writer, body + os.urandom(512) + b"\nSitemap: \n", text, head, [])
        case "sitemap-xml-bomb":
            await _send(writer, _XML_BOMB, xml, head, [])
        case "sitemap-index-50000":
            await _send(writer, _sitemap_index(50_000), xml, head, [])
        case "calendar" | "session-ids" | "deeper":
            await _send(writer, _trap_page(name, path), html, head, [])


async def _huge(writer: Writer, head: bool, announce: bool) -> None:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Connection", "close")]
    if announce:
        headers.append(("Content-Length", str(HUGE_BYTES)))
    writer.write(_head(200, headers))
    if head:
        await writer.drain()
        return
    chunk = b"<p>" + b"x" * (64 * 1024 - 3)
    sent = 0
    while sent < HUGE_BYTES and not writer.is_closing():
        writer.write(chunk)
        sent += len(chunk)
        await writer.drain()


async def _trickle(writer: Writer, head: bool) -> None:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "100000")]
    writer.write(_head(200, [*headers, ("Connection", "close")]))
    await writer.drain()
    while not head and not writer.is_closing():
        writer.write(b"<")
        await writer.drain()
        await asyncio.sleep(1.0)


async def _never(writer: Writer, head: bool) -> None:
    await asyncio.Event().wait()  # until the client or the server stops


STREAMS: dict[str, Callable[[Writer, bool], Awaitable[None]]] = {
    "huge": lambda w, h: _huge(w, h, True),
    "huge-unannounced": lambda w, h: _huge(w, h, False),
    "trickle": _trickle,
    "never-answers": _never,
}
STATIC = frozenset(
    {
        "gzip-bomb",
        "brotli-bomb",
        "long-line",
        "binary-garbage",
        "empty",
        "pdf-as-html",
        "html-as-octet-stream",
        "cp1252-as-utf8",
        "utf16-bom",
        "malformed-html",
        "robots-5mb",
        "robots-garbage",
        "sitemap-xml-bomb",
        "sitemap-index-50000",
        "calendar",
        "session-ids",
        "deeper",
    }
)
BEHAVIOURS = frozenset(STREAMS) | STATIC | {"403-to-bots", "503-retry-after-date"}


def prepare(*names: str) -> None:
    """Compute the bombs now, so that serving one does not wait for it (a crawl with a
    short timeout would see a timeout rather than the bomb)."""
    for name in names:
        if name == "gzip-bomb":
            _gzip_bomb()
        elif name == "brotli-bomb":
            _brotli_bomb()
        elif name == "long-line":
            _long_line()
        elif name == "robots-5mb":
            _robots_5mb()
        elif name == "sitemap-index-50000":
            _sitemap_index(50_000)


_BOTS = ("bot", "crawl", "spider", "govaudit")


async def serve(name: str, writer: Writer, head: bool, path: str, user_agent: str = "") -> int:
    """Answer one request with behaviour `name`; returns the status sent. The caller closes
    the connection afterwards."""
    try:
        if name == "403-to-bots":
            if any(word in user_agent.lower() for word in _BOTS):
                body = b"<html><title>Access denied</title><body>Forbidden</body></html>"
                headers = [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
                writer.write(_head(403, [*headers, ("Connection", "close")], "Forbidden"))
                writer.write(b"" if head else body)
                await writer.drain()
                return 403
            await _send(writer, _link_page("Welcome, human", ["/about"]), "text/html", head, [])
        elif name == "503-retry-after-date":
            when = email.utils.formatdate(time.time() + 3, usegmt=True)
            headers = [("Retry-After", when), ("Content-Length", "0"), ("Connection", "close")]
            writer.write(_head(503, headers, "Service Unavailable"))
            await writer.drain()
            return 503
        elif name in STREAMS:
            await STREAMS[name](writer, head)
        else:
            await _static(name, writer, head, path)
    except (ConnectionError, OSError):
        pass
    return 200
