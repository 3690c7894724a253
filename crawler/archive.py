"""The web as it was: every request of a crawl answered by a web archive's capture.

`govaudit crawl --archive URL --as-of DATE [--window DAYS]` runs the same spiders; this
downloader middleware answers each of their requests from the archive instead of the site:

1. The archive's CDX server lists the captures of the request's host inside the window, once
   per host (an archive without a CDX API is asked for the URL's Memento TimeMap instead).
2. The capture of that exact URL (scheme included: an http capture says nothing of https)
   closest to DATE is taken: the newest on or before DATE, else the oldest after it, within
   `window_days`. None: the next archive named is asked; none at all: `not-archived`.
3. The capture's original bytes are fetched (`<prefix><timestamp>id_/<url>`) and returned as
   the site's answer, with the captured status and headers. A captured redirect is returned as
   that redirect, with the archive's Location turned back into the original target, so the
   spider follows it (and asks the archive for the target) as it would on the live web.

The capture's URL, `Memento-Datetime` and distance from DATE go on the request's meta and into
a per-unit log that the observation pipeline stamps on each stored observation.

The archive is one host with its own limits: its requests share one download slot
(`DOWNLOAD_SLOTS`: default one at a time, three a second), go through Retry-After/429 backoff
(crawler/middlewares.py) and carry the crawl's User-Agent. The archive's robots.txt is not
asked: the CDX and replay endpoints are the archive's published interface for programs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.responsetypes import responsetypes
from w3lib.url import safe_url_string

from crawler.fetch_errors import ArchiveUnavailable, NotArchived
from crawler.middlewares import ScopeGuardMiddleware
from crawler.resolver import PublicAddressResolver
from crawler.warc import WarcMiddleware, request_unit

DEFAULTS: dict[str, Any] = {
    "window_days": 60,
    "far_days": 7,
    "concurrent_requests": 1,
    "requests_per_second": 3.0,
    "cdx_limit": 10000,
}
WAYBACK_MACHINE = "https://web.archive.org/web/"
# request.meta keys: a request to the archive itself (CDX, TimeMap, replay), and the capture
# that answered a spider's request.
ARCHIVE_REQUEST = "govaudit_archive_request"
CAPTURE = "govaudit_capture"
# Redirects between mementos of the same URL (an archive sending a timestamp to the nearest
# one it has) are the archive's own, followed here; a few at most.
MAX_ARCHIVE_HOPS = 3
LISTINGS_KEPT = 1024
_TIMESTAMP = re.compile(r"^\d{4,14}$")
# <prefix><14-digit timestamp><modifier like id_ or mp_>/<original URL>
_MEMENTO_PATH = re.compile(r"^(?P<ts>\d{4,14})(?P<mod>[a-z]{2}_)?/(?P<url>.+)$")
# Headers the archive adds about itself, or that no longer describe the body we hold.
_ARCHIVE_HEADERS = {
    "memento-datetime",
    "link",
    "content-location",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "preference-applied",
}


class ArchiveConfigError(ValueError):
    """An archive URL or date that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Archive:
    """One archive as the operator named it: a Wayback-style replay prefix (the URL to which
    `<timestamp>/<url>` is appended to replay a capture) and its CDX server endpoint."""

    prefix: str
    cdx_url: str

    @classmethod
    def from_url(cls, given: str) -> Archive:
        """Accepted: the Wayback Machine (`https://web.archive.org/web/`, or just
        `web.archive.org`), any Wayback or pywb replay prefix (`http://host:port/<coll>/`),
        or a memento URL copied from a browser (`.../web/20111024000000/http://x.gov/`),
        which is cut back to its prefix. `URL cdx=CDX` names the CDX endpoint when it is
        not `<prefix>cdx` (pywb's)."""
        text = given.strip()
        cdx: str | None = None
        if " cdx=" in text:
            text, _, cdx = text.partition(" cdx=")
            cdx = cdx.strip()
        if "://" not in text:
            text = "https://" + text
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArchiveConfigError(f"--archive {given}: not an http(s) URL of an archive")
        path = parts.path or "/"
        # A memento URL: keep what precedes the timestamp.
        match = re.search(r"/\d{4,14}\*?(?:[a-z]{2}_)?/(?:https?:/|[^/]+\.[^/]+)", path)
        if match:
            path = path[: match.start() + 1]
        if not path.endswith("/"):
            path += "/"
        host = parts.hostname.lower()
        if host == "web.archive.org" and path == "/":
            path = "/web/"
        prefix = urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))
        if cdx is None:
            if host == "web.archive.org":
                cdx = f"{parts.scheme}://{parts.netloc}/cdx/search/cdx"
            else:
                cdx = prefix + "cdx"
        return cls(prefix, cdx)

    @property
    def host(self) -> str:
        return urlsplit(self.prefix).netloc

    @property
    def slot(self) -> str:
        """The download slot every request to this archive shares."""
        return f"archive:{self.host}"

    def replay_url(self, timestamp: str, url: str, raw: bool = True) -> str:
        """The capture's URL: raw (`id_`) gives the original bytes; without, what a person
        opens to see the page."""
        return f"{self.prefix}{timestamp}{'id_' if raw else ''}/{url}"

    def timemap_url(self, url: str) -> str:
        return f"{self.prefix}timemap/link/{url}"

    def cdx_query(self, url: str, match_type: str, **params: Any) -> str:
        query = {"url": url, "output": "json"}
        if match_type != "exact":
            query["matchType"] = match_type
        query.update({k: str(v) for k, v in params.items() if v is not None})
        return f"{self.cdx_url}?{urlencode(query)}"

    def original_url(self, location: str) -> str | None:
        """The original URL of a capture URL of this archive (`<prefix><ts>[mod]/<url>`),
        None when the URL is not one."""
        if not location.startswith(self.prefix):
            return None
        match = _MEMENTO_PATH.match(location[len(self.prefix) :])
        if match is None:
            return None
        url = match.group("url")
        # Some archives collapse "//" after the scheme.
        url = re.sub(r"^(https?):/(?!/)", r"\1://", url)
        return url if url.startswith(("http://", "https://")) else None


@dataclass(frozen=True)
class Capture:
    """One capture as the CDX server (or a TimeMap) lists it."""

    timestamp: str  # 14 digits, UTC
    url: str  # the original URL as captured
    status: int | None
    mime: str | None = None
    memento_url: str | None = None  # from a TimeMap: the memento's own URL

    @property
    def when(self) -> dt.datetime:
        return dt.datetime.strptime(self.timestamp, "%Y%m%d%H%M%S")


def timestamp_of(day: dt.date, end: bool = False) -> str:
    return day.strftime("%Y%m%d") + ("235959" if end else "000000")


def _padded(timestamp: str) -> str | None:
    text = str(timestamp).strip()
    if not _TIMESTAMP.match(text):
        return None
    # A short timestamp is the start of its period: 2011 -> 20110101000000.
    padded = text + "00000101000000"[len(text) :]
    try:
        dt.datetime.strptime(padded, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return padded


def _capture(fields: dict[str, Any]) -> Capture | None:
    stamp = _padded(str(fields.get("timestamp", "")))
    url = fields.get("url") or fields.get("original")
    if stamp is None or not url:
        return None
    status = str(fields.get("status") or fields.get("statuscode") or "")
    mime = fields.get("mime") or fields.get("mimetype")
    return Capture(stamp, str(url), int(status) if status.isdigit() else None, mime)


def parse_cdx(body: bytes) -> list[Capture]:
    """Captures from a CDX server's answer, in the forms archives give: pywb's JSON lines
    (`output=json`), the Wayback Machine's JSON array of rows (first row the field names),
    CDXJ lines (`urlkey timestamp {json}`) or classic space-separated CDX lines (urlkey
    timestamp original mimetype statuscode ...). Lines that cannot be read are skipped.

    Raises ValueError when the answer is none of these (an HTML error page)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    if text.startswith("["):
        rows = json.loads(text)
        if not rows:
            return []
        header = [str(h) for h in rows[0]]
        if "timestamp" not in header:
            raise ValueError("a JSON CDX answer without field names")
        found = (_capture(dict(zip(header, row, strict=False))) for row in rows[1:])
        return [c for c in found if c is not None]
    if text.lstrip().startswith("<"):
        raise ValueError("an HTML page, not a CDX answer")
    out: list[Capture] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        fields: dict[str, Any] | None = None
        if line.startswith("{"):
            try:
                fields = json.loads(line)
            except ValueError:
                continue
        else:
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[2].startswith("{"):
                try:
                    fields = {**json.loads(parts[2]), "timestamp": parts[1]}
                except ValueError:
                    continue
            else:
                cols = line.split()
                if len(cols) >= 5:
                    fields = {
                        "timestamp": cols[1],
                        "original": cols[2],
                        "mimetype": cols[3],
                        "statuscode": cols[4],
                    }
        if fields is not None:
            capture = _capture(fields)
            if capture is not None:
                out.append(capture)
    return out


_LINK_SPLIT = re.compile(r",\s*(?=<)")
_PARAM = re.compile(r';\s*([a-zA-Z_-]+)\s*=\s*(?:"([^"]*)"|([^;,]*))')


def parse_timemap(body: bytes) -> list[Capture]:
    """Captures from a Memento TimeMap in link format (RFC 7089 section 5.1.1)."""
    text = body.decode("utf-8", "replace")
    original: str | None = None
    mementos: list[tuple[str, str]] = []
    for entry in _LINK_SPLIT.split(text.strip()):
        match = re.match(r"\s*<([^>]*)>(.*)", entry, re.DOTALL)
        if match is None:
            continue
        uri, params = match.groups()
        attrs = {k.lower(): quoted or bare for k, quoted, bare in _PARAM.findall(params)}
        rels = attrs.get("rel", "").split()
        if "original" in rels:
            original = uri
        if "memento" in rels and attrs.get("datetime"):
            try:
                when = parsedate_to_datetime(attrs["datetime"])
            except (TypeError, ValueError):
                continue
            if when.tzinfo is not None:
                when = when.astimezone(dt.UTC).replace(tzinfo=None)
            mementos.append((uri, when.strftime("%Y%m%d%H%M%S")))
    if original is None:
        return []
    return [Capture(stamp, original, None, None, uri) for uri, stamp in mementos]


def url_key(url: str) -> str:
    """A URL as captures are matched: scheme and host lower-cased, default port and
    fragment dropped, empty path as "/". The scheme counts: http and https differ."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return safe_url_string(f"{scheme}://{host}{parts.path or '/'}{query}")


def distance_days(when: dt.datetime, as_of: dt.date) -> int:
    """Days from the as-of date to the capture's day (negative: before)."""
    return (when.date() - as_of).days


def closest_capture(
    captures: list[Capture], url: str, as_of: dt.date, window_days: int
) -> Capture | None:
    """The capture of `url` to use as of `as_of`: the newest on or before that day, else the
    oldest after it, no more than `window_days` away; None when there is none."""
    key = url_key(url)
    mine = [c for c in captures if url_key(c.url) == key]
    before = [c for c in mine if -window_days <= distance_days(c.when, as_of) <= 0]
    if before:
        return max(before, key=lambda c: c.timestamp)
    after = [c for c in mine if 0 < distance_days(c.when, as_of) <= window_days]
    return min(after, key=lambda c: c.timestamp) if after else None


@dataclass(frozen=True)
class ArchiveSettings:
    archives: tuple[Archive, ...]
    as_of: dt.date
    window_days: int
    far_days: int
    cdx_limit: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchiveSettings:
        cfg = {**DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
        return cls(
            tuple(Archive.from_url(u) for u in cfg["urls"]),
            dt.date.fromisoformat(str(cfg["as_of"])),
            int(cfg["window_days"]),
            int(cfg["far_days"]),
            int(cfg["cdx_limit"]),
        )

    def names(self) -> str:
        return ", ".join(a.prefix for a in self.archives)


def archive_run_settings(
    urls: list[str],
    as_of: dt.date,
    window_days: int | None,
    policy: dict[str, Any],
    processes: int = 1,
) -> dict[str, Any]:
    """The `archive` entry of a crawl run's settings: the archives (checked), the date, the
    window and the politeness from the policy's [archive] section, shared by the run's
    `processes` crawler processes."""
    if not urls:
        raise ArchiveConfigError("--archive needs at least one archive URL")
    checked = [Archive.from_url(u).prefix for u in urls]
    cfg = {**DEFAULTS, **policy}
    if window_days is not None:
        cfg["window_days"] = window_days
    if int(cfg["window_days"]) < 0:
        raise ArchiveConfigError("--window must be 0 or more days")
    return {
        **cfg,
        "urls": list(dict.fromkeys(checked)),
        "as_of": as_of.isoformat(),
        "processes": max(1, processes),
    }


def scrapy_archive_settings(settings: dict[str, Any], archive: dict[str, Any]) -> dict[str, Any]:
    """The crawl's Scrapy settings turned to the archive: the archive middleware next to the
    scope guard, one download slot per archive at the archive's pace, capture-dated WARC
    records. Every request that reaches the network goes to an archive the operator named,
    so the private-address guard (for sites' URLs) steps aside: a local pywb is allowed."""
    cfg = {**DEFAULTS, **archive}
    middlewares = dict(settings.get("DOWNLOADER_MIDDLEWARES", {}))
    middlewares.update(
        {
            "crawler.middlewares.ScopeGuardMiddleware": None,
            "crawler.archive.ArchiveScopeGuard": 50,
            # After DomainSlotMiddleware (60) and before robots.txt (100): the site's own
            # robots.txt of today says nothing about reading an archive's copy.
            "crawler.archive.ArchiveMiddleware": 70,
            "crawler.middlewares.ResolvedAddressGuardMiddleware": None,
            "crawler.warc.WarcMiddleware": None,
            "crawler.archive.ArchiveWarcMiddleware": 950,
        }
    )
    # Each crawler process has its own download slot: the archive's limits are shared out
    # among the run's processes (one request in flight each at least).
    processes = max(1, int(cfg.get("processes", 1)))
    delay = processes / float(cfg["requests_per_second"])
    slots = {
        Archive.from_url(url).slot: {
            "concurrency": max(1, int(cfg["concurrent_requests"]) // processes),
            "delay": delay,
            "jitter": 0,
        }
        for url in cfg["urls"]
    }
    return {
        **settings,
        "DOWNLOADER_MIDDLEWARES": middlewares,
        "DOWNLOAD_SLOTS": {**settings.get("DOWNLOAD_SLOTS", {}), **slots},
        "TWISTED_DNS_RESOLVER": "crawler.archive.ArchiveResolver",
        "GOVAUDIT_ARCHIVE": cfg,
    }


class ArchiveResolver(PublicAddressResolver):
    """The crawl's resolver, trusting the archives' own names as it trusts a proxy's."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> ArchiveResolver:
        resolver = super().from_crawler(crawler, reactor)
        urls = crawler.settings.getdict("GOVAUDIT_ARCHIVE").get("urls", [])
        hosts = {(urlsplit(Archive.from_url(u).prefix).hostname or "") for u in urls}
        resolver.trusted_names = resolver.trusted_names | frozenset(hosts - {""})
        return resolver  # type: ignore[return-value]


class CaptureLog:
    """The captures that answered each unit's requests, by URL, until the unit is stored."""

    def __init__(self) -> None:
        self.by_unit: dict[Any, dict[str, dict[str, Any]]] = {}

    def add(self, unit: Any, url: str, capture: dict[str, Any]) -> None:
        self.by_unit.setdefault(unit, {})[url_key(url)] = capture

    def find(self, unit: Any, url: str | None) -> dict[str, Any] | None:
        if not url:
            return None
        return self.by_unit.get(unit, {}).get(url_key(url))

    def forget(self, unit: Any) -> None:
        self.by_unit.pop(unit, None)


def captures_for(crawler: Crawler) -> CaptureLog | None:
    """The crawler's capture log, or None in a crawl of the live web."""
    if not dict(crawler.settings.get("GOVAUDIT_ARCHIVE") or {}).get("as_of"):
        return None
    log = getattr(crawler, "govaudit_captures", None)
    if log is None:
        log = CaptureLog()
        crawler.govaudit_captures = log  # type: ignore[attr-defined]
    return log


CAPTURE_COLUMNS = ("capture_url", "memento_datetime", "capture_distance_days")


def stamp_captures(item: Any, unit: Any, log: CaptureLog) -> None:
    """Give each observation of a stored unit the capture that answered it (the final
    response's when redirected), and each redirect hop its own capture."""

    def place(row: dict[str, Any], *urls: str | None) -> None:
        for url in urls:
            found = log.find(unit, url)
            if found is not None:
                row.update({k: found[k] for k in CAPTURE_COLUMNS})
                return

    def hops(row: dict[str, Any]) -> None:
        chain = row.get("redirect_chain")
        if not isinstance(chain, list):
            return
        for hop in chain:
            found = log.find(unit, hop.get("url")) if isinstance(hop, dict) else None
            if found is not None:
                hop["capture_url"] = found["capture_url"]
                hop["memento_datetime"] = found["memento_datetime"].isoformat()

    for name in ("endpoints", "tries", "documents"):
        for row in getattr(item, name, None) or []:
            place(row, row.get("final_url"), row.get("url"))
            hops(row)
    for row in getattr(item, "pages", None) or []:
        place(row, row.get("url"))
    site = getattr(item, "site", None)
    if site and isinstance(site.get("robots"), dict) and site["robots"].get("url"):
        found = log.find(unit, site["robots"]["url"])
        if found is not None:
            site["robots"] = {
                **site["robots"],
                "capture_url": found["capture_url"],
                "memento_datetime": found["memento_datetime"].isoformat(),
            }
    log.forget(unit)


class ArchiveScopeGuard(ScopeGuardMiddleware):
    """The scope guard, letting through the crawl's own requests to the archive (which may be
    a local replay server on 127.0.0.1: the operator named it)."""

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(ARCHIVE_REQUEST):
            return
        super().process_request(request, spider)


def original_headers(headers: Headers) -> Headers:
    """The captured response's headers from an archive's replay of it: the archive's own
    headers dropped, the Wayback Machine's `X-Archive-Orig-*` copies restored."""
    out = Headers()
    restored: list[tuple[bytes, list[bytes]]] = []
    for name, values in headers.items():
        key = name.decode("latin-1").lower()
        if key.startswith("x-archive-orig-"):
            original = key[len("x-archive-orig-") :]
            if original not in _ARCHIVE_HEADERS:
                restored.append((original.encode("latin-1"), list(values)))
            continue
        if key in _ARCHIVE_HEADERS or key.startswith("x-archive-"):
            continue
        out.setlist(name, list(values))
    for name, values in restored:
        out.setlist(name, values)
    return out


def _redirect_target(
    archive: Archive, answer: Response, original_url: str
) -> tuple[str, str | None]:
    """Where a replayed redirect goes: (the original target, the archive's URL for it when
    the Location is one). A Location left as captured is relative to the original page."""
    raw = (answer.headers.get(b"Location") or b"").decode("latin-1").strip()
    in_archive = urljoin(answer.url, raw)
    original = archive.original_url(in_archive)
    if original is not None:
        return original, in_archive
    return urljoin(original_url, raw), None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ArchiveMiddleware:
    """Answers every spider request with the archive's capture (see the module's doc)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        cfg = crawler.settings.getdict("GOVAUDIT_ARCHIVE")
        # Without a date (`archive first-seen`) only the archive's own requests pass here.
        self.config = ArchiveSettings.from_dict(cfg) if cfg.get("as_of") else None
        self.log = captures_for(crawler) or CaptureLog()
        # (archive prefix, host) -> the host's captures in the window, as a future shared by
        # every request waiting for it; None: the archive has no CDX API (use TimeMaps).
        self.listings: OrderedDict[tuple[str, str], asyncio.Future[tuple[list[Capture], bool]]]
        self.listings = OrderedDict()
        self.no_cdx: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        return cls(crawler)

    @property
    def cfg(self) -> ArchiveSettings:
        assert self.config is not None
        return self.config

    async def process_request(
        self, request: Request, spider: Spider | None = None
    ) -> Response | None:
        if request.meta.get(ARCHIVE_REQUEST):
            request.meta["download_slot"] = request.meta[ARCHIVE_REQUEST]
            if _is_loopback(urlsplit(request.url).hostname or ""):
                # A replay server on this machine: no proxy can reach it for us.
                request.meta["proxy"] = None
            return None
        if (
            self.config is None
            or request.meta.get("govaudit_internal")
            or not request.url.startswith(("http://", "https://"))
        ):
            return None
        errors: list[Exception] = []
        for archive in self.cfg.archives:
            try:
                capture = await self._choose(archive, request)
                if capture is None:
                    continue
                response = await self._replay(archive, capture, request)
            except ArchiveUnavailable as exc:
                errors.append(exc)
                continue
            if response is not None:
                return response
        if errors:
            # Some archive could not say: couldn't check, not "not archived".
            raise errors[0]
        raise NotArchived(
            f"not archived near {self.cfg.as_of} (no capture within "
            f"{self.cfg.window_days} days in {self.cfg.names()})"
        )

    # -- asking the archive -------------------------------------------------------------
    def _archive_request(self, archive: Archive, url: str, for_request: Request) -> Request:
        return Request(
            url,
            callback=NO_CALLBACK,
            dont_filter=True,
            priority=for_request.priority,
            meta={
                ARCHIVE_REQUEST: archive.slot,
                "dont_redirect": True,
                "handle_httpstatus_all": True,
                "dont_obey_robotstxt": True,
                "autothrottle_dont_adjust_delay": True,
                # whose fetch it is, for the logs and the WARC writer
                "for_unit": request_unit(for_request),
            },
        )

    async def _get(self, archive: Archive, url: str, for_request: Request) -> Response:
        assert self.crawler.engine is not None
        return await self.crawler.engine.download_async(
            self._archive_request(archive, url, for_request)
        )

    async def _choose(self, archive: Archive, request: Request) -> Capture | None:
        cfg = self.cfg
        if archive.prefix not in self.no_cdx:
            captures, complete = await self._listing(archive, request)
            if archive.prefix not in self.no_cdx:
                found = closest_capture(captures, request.url, cfg.as_of, cfg.window_days)
                if found is not None or complete:
                    return found
                # The host's listing was cut at cdx_limit lines: ask for this URL alone.
                answer = await self._get(
                    archive,
                    archive.cdx_query(
                        request.url,
                        "exact",
                        limit=cfg.cdx_limit,
                        **self._window_params(),
                    ),
                    request,
                )
                return closest_capture(
                    self._captures(archive, answer, parse_cdx),
                    request.url,
                    cfg.as_of,
                    cfg.window_days,
                )
        answer = await self._get(archive, archive.timemap_url(request.url), request)
        if answer.status == 404:
            return None
        captures = self._captures(archive, answer, parse_timemap)
        return closest_capture(captures, request.url, cfg.as_of, cfg.window_days)

    def _window_params(self) -> dict[str, str]:
        cfg = self.cfg
        span = dt.timedelta(days=cfg.window_days)
        return {
            "from": timestamp_of(cfg.as_of - span),
            "to": timestamp_of(cfg.as_of + span, end=True),
        }

    def _captures(self, archive: Archive, answer: Response, parse: Any) -> list[Capture]:
        if answer.status != 200:
            raise ArchiveUnavailable(
                f"archive {archive.prefix} answered HTTP {answer.status} for {answer.url}"
            )
        try:
            return list(parse(answer.body))
        except ValueError as exc:
            raise ArchiveUnavailable(
                f"archive {archive.prefix}: unreadable answer from {answer.url} ({exc})"
            ) from None

    async def _listing(self, archive: Archive, request: Request) -> tuple[list[Capture], bool]:
        """The captures of the request's host in the window (read once per host), and
        whether the listing is complete (not cut at cdx_limit)."""
        host = (urlsplit(request.url).hostname or "").lower()
        key = (archive.prefix, host)
        future = self.listings.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self.listings[key] = future
            while len(self.listings) > LISTINGS_KEPT:
                self.listings.popitem(last=False)
            try:
                future.set_result(await self._read_listing(archive, host, request))
            except asyncio.CancelledError:
                future.cancel()
                self.listings.pop(key, None)
                raise
            except Exception as exc:
                # A failed listing is not asked again for this host (a failing archive is not
                # hammered URL by URL): every request of the host gets the failure.
                future.set_exception(exc)
                future.exception()
        else:
            self.listings.move_to_end(key)
        return await asyncio.shield(future)

    async def _read_listing(
        self, archive: Archive, host: str, request: Request
    ) -> tuple[list[Capture], bool]:
        limit = self.cfg.cdx_limit
        query = archive.cdx_query(host, "host", limit=limit, **self._window_params())
        answer = await self._get(archive, query, request)
        if answer.status in (400, 404, 405, 501):
            # No CDX API there (or not at this URL): Memento TimeMaps, URL by URL.
            self.no_cdx.add(archive.prefix)
            return [], False
        captures = self._captures(archive, answer, parse_cdx)
        return captures, len(captures) < limit

    async def _replay(
        self, archive: Archive, capture: Capture, request: Request
    ) -> Response | None:
        """The captured response as the site gave it, or None when the archive turns out
        not to hold that memento after all."""
        url = archive.replay_url(capture.timestamp, request.url)
        if capture.memento_url and archive.original_url(capture.memento_url) is None:
            url = capture.memento_url  # a TimeMap's memento outside the Wayback URL form
        answer = await self._get(archive, url, request)
        for _ in range(MAX_ARCHIVE_HOPS):
            if not (300 <= answer.status < 400 and answer.headers.get(b"Location")):
                break
            original, archived = _redirect_target(archive, answer, request.url)
            if archived is None or url_key(original) != url_key(request.url):
                break  # a captured redirect, returned as such below
            answer = await self._get(archive, archived, request)  # the same URL, another time
        memento_header = answer.headers.get(b"Memento-Datetime")
        if memento_header is None and answer.status >= 400:
            if answer.status == 404:
                return None
            raise ArchiveUnavailable(
                f"archive {archive.prefix} answered HTTP {answer.status} for {answer.url}"
            )
        when = capture.when
        if memento_header is not None:
            try:
                parsed = parsedate_to_datetime(memento_header.decode("latin-1"))
                when = parsed.astimezone(dt.UTC).replace(tzinfo=None)
            except (TypeError, ValueError):
                pass
        headers = original_headers(answer.headers)
        status = answer.status
        if 300 <= status < 400 and answer.headers.get(b"Location"):
            # A captured redirect: the archive points at its copy of the target; the spider
            # gets the original target, and the status as captured (pywb answers 307).
            headers[b"Location"] = _redirect_target(archive, answer, request.url)[0]
            if capture.status is not None and 300 <= capture.status < 400:
                status = capture.status
        found = {
            "archive": archive.prefix,
            "capture_url": archive.replay_url(capture.timestamp, request.url, raw=False),
            "memento_datetime": when,
            "capture_distance_days": distance_days(when, self.cfg.as_of),
        }
        request.meta[CAPTURE] = found
        self.log.add(request_unit(request), request.url, found)
        self.crawler.stats.inc_value("govaudit/archive/captures")
        response_cls = responsetypes.from_args(headers=headers, url=request.url, body=answer.body)
        return response_cls(
            url=request.url,
            status=status,
            headers=headers,
            body=answer.body,
            request=request,
            flags=["archive"],
            protocol=answer.protocol,
        )


class ArchiveWarcMiddleware(WarcMiddleware):
    """WARC records of an archive crawl: each capture under its original URL, dated with
    its `Memento-Datetime` and naming the capture (`WARC-Source-URI`), so the evidence
    replays as the page was then. The archive's own CDX and replay traffic is not recorded."""

    def __init__(self, crawler: Crawler, archive: Any) -> None:
        super().__init__(crawler, archive)
        self.archive = _CaptureDating(archive)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if request.meta.get(ARCHIVE_REQUEST):
            return response
        self.archive.capture = request.meta.get(CAPTURE)
        try:
            return super().process_response(request, response, spider)
        finally:
            self.archive.capture = None

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        if request.meta.get(ARCHIVE_REQUEST):
            return None
        return super().process_exception(request, exception, spider)


class _CaptureDating:
    """The WARC archive, with the capture being recorded (set around one `put`) dating it."""

    def __init__(self, archive: Any) -> None:
        self.inner = archive
        self.capture: dict[str, Any] | None = None

    def put(self, kind: str, data: dict[str, Any]) -> None:
        if self.capture is not None and kind == "response":
            extra = {"WARC-Source-URI": self.capture["capture_url"]}
            data = {
                **data,
                "at": self.capture["memento_datetime"],
                "warc_headers": {**data.get("warc_headers", {}), **extra},
            }
        self.inner.put(kind, data)
