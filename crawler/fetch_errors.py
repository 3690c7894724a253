"""Naming why a fetch failed: dns, refused, tls, timeout, robots, refused-url, too-large, other;
in a crawl of web archives also not-archived (no capture near the date) and archive-error.

Through an HTTP proxy a failed connection comes back as a 502/504 from the proxy or a refused
CONNECT. RFC 9209 `Proxy-Status` error tokens (and the CONNECT reason phrase) say which
failure it was, so it is recorded as a connection failure, never as the site's HTTP error.
"""

from __future__ import annotations

import re

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

PROXY_TOKENS = {
    "dns_error": "dns",
    "dns_timeout": "dns",
    "destination_not_found": "dns",
    "destination_unavailable": "refused",
    "connection_refused": "refused",
    "connection_terminated": "refused",
    "destination_ip_prohibited": "refused",
    "destination_ip_unroutable": "refused",
    "connection_timeout": "timeout",
    "connection_read_timeout": "timeout",
    "connection_write_timeout": "timeout",
    "tls_protocol_error": "tls",
    "tls_certificate_error": "tls",
    "tls_alert_received": "tls",
}
# crawler.resolver's refusal; named here so this module stays free of Twisted resolver imports.
FORBIDDEN_ADDRESS = "resolves to a private address"
# Scrapy's own words when a body (announced, or unpacked) passes DOWNLOAD_MAXSIZE.
_TOO_LARGE_MESSAGES = ("larger than download max size", "exceeded DOWNLOAD_MAXSIZE")
_TOKEN = re.compile(r"error=\"?([a-z_]+)")


class NotArchived(IgnoreRequest):
    """No archive named for the crawl has a capture of the URL near the as-of date."""


class ArchiveUnavailable(Exception):
    """The archive could not say (it failed, refused or rate-limited us): couldn't check."""


def proxy_failure(response: Response) -> str | None:
    """The failure kind when this response is the proxy reporting it could not connect."""
    if response.status not in (502, 503, 504):
        return None
    header = response.headers.get(b"Proxy-Status")
    if not header:
        return None
    match = _TOKEN.search(header.decode("latin-1"))
    return PROXY_TOKENS.get(match.group(1), "other") if match else "other"


def failure_kind(exc: BaseException) -> tuple[str, str]:
    """(kind, one-line message) for an exception a download ended with."""
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, NotArchived):
        return "not-archived", text
    if isinstance(exc, ArchiveUnavailable):
        return "archive-error", text
    if name == "TooLargeDownload" or any(m in text for m in _TOO_LARGE_MESSAGES):
        return "too-large", "larger than the download size bound"
    if name == "ForbiddenAddressError" or FORBIDDEN_ADDRESS in text:
        return "refused-url", FORBIDDEN_ADDRESS
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in text:
            return "robots", "blocked by robots.txt"
        return "refused-url", text
    if name == "TunnelError":
        match = re.search(r"'reason': b?'([a-z_]+)'", text)
        token = match.group(1) if match else ""
        return PROXY_TOKENS.get(token, "refused"), f"proxy CONNECT failed: {token or text}"
    if name in ("DNSLookupError", "NoResolverError") or "DNS lookup failed" in text:
        return "dns", text
    if name in ("ConnectionRefusedError", "ConnectError", "ConnectionLost"):
        return "refused", text
    if "timeout" in name.lower() or "timed out" in text.lower() or "took longer" in text:
        return "timeout", text
    if "SSL" in text or "ssl" in name.lower() or "tls" in text.lower() or name == "Error":
        return "tls", text
    if name in ("ResponseNeverReceived", "ResponseFailed"):
        if "SSL" in repr(getattr(exc, "reasons", "")):
            return "tls", text
        return "refused", text
    return "other", f"{name}: {text}"
