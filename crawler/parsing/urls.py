"""URL policy and normalisation for the crawler.

``fetch_refusal`` is the single gate in front of every request the crawler makes: links found on
agency pages are untrusted input, and a link to ``http://169.254.169.254/`` or
``http://localhost:8080/`` must never be fetched from inside our network. Hosts are interpreted
the way browsers (WHATWG URL Standard) and ``inet_aton`` do, because that is how the resolver
underneath will interpret them: ``2130706433``, ``0x7f.1`` and ``0177.0.0.1`` all mean
127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit

from w3lib.url import safe_url_string

from audit.domain_names import DomainError, normalise_host

_ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# WHATWG strips leading/trailing C0 controls and spaces, and removes tab/CR/LF anywhere.
_STRIP_CHARS = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\r\n]")
_HOST_CHARS = re.compile(r"^[a-z0-9._\-]+$")
_PCT = re.compile(r"%[0-9a-fA-F]{2}")
# w3lib percent-encodes the path and query; it needs some host to parse, and ours is
# decided here (IDNA, IP-literal guard), so a placeholder stands in for it.
_PLACEHOLDER_ORIGIN = "http://placeholder.invalid"


@dataclass(frozen=True)
class _Parts:
    scheme: str
    userinfo: str | None
    host: str  # raw host text as written, brackets kept for IPv6
    port: int | None
    port_text: str | None
    path: str
    query: str


def _prepare(url: str) -> str:
    text = _TAB_NEWLINE.sub("", url.strip(_STRIP_CHARS))
    match = _SCHEME_RE.match(text)
    if match and match.group(1).lower() in _ALLOWED_SCHEMES:
        text = _fix_backslashes(text)
    return text


def _fix_backslashes(text: str) -> str:
    # Browsers read "\" as "/" before the query in http(s) URLs; so must we, or
    # "http://evil.example\@127.0.0.1/" means different hosts to us and to the fetcher.
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    return text[:cut].replace("\\", "/") + text[cut:]


def _split(url: str) -> _Parts | None:
    """Split a prepared absolute URL; None when it cannot be read as scheme://authority/..."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not url[len(parts.scheme) :].startswith("://"):
        return None
    netloc = parts.netloc
    userinfo: str | None = None
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
    port_text: str | None = None
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            return None
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
    else:
        host, colon, port_text_raw = netloc.partition(":")
        port_text = port_text_raw if colon else None
    port: int | None = None
    if port_text:
        if not port_text.isascii() or not port_text.isdigit():
            return None
        port = int(port_text)
        if port > 65535:
            return None
    return _Parts(
        scheme=parts.scheme.lower(),
        userinfo=userinfo,
        host=host,
        port=port,
        port_text=port_text,
        path=parts.path,
        query=parts.query,
    )


def _ipv4_number(part: str) -> int | None:
    radix = 10
    if part[:2].lower() == "0x":
        radix, part = 16, part[2:]
        if not part:
            return 0
    elif len(part) > 1 and part.startswith("0"):
        radix, part = 8, part[1:]
    try:
        return int(part, radix) if part.isascii() and part.isalnum() else None
    except ValueError:
        return None


def _ends_in_number(host: str) -> bool:
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if last.isascii() and last.isdigit():
        return True
    return (
        last[:2].lower() == "0x"
        and all(c in "0123456789abcdefABCDEF" for c in last[2:])
        and last.isascii()
    )


def _parse_ipv4(host: str) -> int | None:
    """WHATWG IPv4 parser (the same forms inet_aton accepts); None when it is not valid."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not 1 <= len(labels) <= 4 or "" in labels:
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for i, n in enumerate(values[:-1]):
        address += n * 256 ** (3 - i)
    return address


@lru_cache(maxsize=8192)
def _normalised_host(raw_host: str) -> str | None:
    """Percent-decoded, IDNA-mapped, lower-case host without trailing dot; None if invalid."""
    host = unquote(raw_host, errors="strict") if "%" in raw_host else raw_host
    try:
        return normalise_host(host)
    except (DomainError, UnicodeError):
        return None


# Pure and called for every link of every page: the same URLs recur across a site.
@lru_cache(maxsize=65536)
def fetch_refusal(url: str) -> str | None:
    """Why the crawler must not fetch ``url``, or None when it may.

    Reasons: ``"scheme"`` (not http/https), ``"malformed"`` (no scheme, no host, bad port,
    unreadable host), ``"userinfo"`` (``user:pass@`` in the authority: used to disguise hosts and
    never needed for public pages), ``"ip-literal"`` (IPv4 in any form browsers accept, or a
    bracketed IPv6 address), ``"localhost"``.
    """
    if not isinstance(url, str):
        return "malformed"
    text = _prepare(url)
    match = _SCHEME_RE.match(text)
    if not match:
        return "malformed"
    if match.group(1).lower() not in _ALLOWED_SCHEMES:
        return "scheme"
    try:
        raw_netloc = urlsplit(_TAB_NEWLINE.sub("", url.strip(_STRIP_CHARS))).netloc
    except ValueError:
        return "malformed"
    if "\\" in raw_netloc:
        # Browsers end the host at "\", most URL libraries do not: the two would fetch
        # different hosts, so the URL is refused rather than guessed.
        return "malformed"
    parts = _split(text)
    if parts is None:
        return "malformed"
    if parts.userinfo is not None:
        return "userinfo"
    if not parts.host:
        return "malformed"
    if parts.host.startswith("["):
        inner = parts.host[1:-1]
        try:
            ipaddress.ip_address(unquote(inner))
        except ValueError:
            return "malformed"
        return "ip-literal"
    host = _normalised_host(parts.host)
    if host is None:
        return "malformed"
    if _ends_in_number(host):
        # Per WHATWG a host ending in a numeric label is IPv4 or invalid; never a DNS name.
        return "ip-literal" if _parse_ipv4(host) is not None else "malformed"
    if not _HOST_CHARS.match(host) or any(not label for label in host.split(".")):
        return "malformed"
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost"
    return None


def _safe_path_and_query(path: str, query: str) -> tuple[str, str] | None:
    """Path and query percent-encoded by w3lib (upper-case escapes); None if it cannot."""
    if path and not path.startswith("/"):
        return None
    try:
        safe = safe_url_string(_PLACEHOLDER_ORIGIN + path + (f"?{query}" if query else ""))
    except (ValueError, UnicodeError):
        return None
    if not safe.startswith(_PLACEHOLDER_ORIGIN):
        return None
    rest = safe[len(_PLACEHOLDER_ORIGIN) :]
    safe_path, mark, safe_query = rest.partition("?")
    if "#" in safe_query or (not mark and "#" in safe_path):
        return None

    def upper(text: str) -> str:
        return _PCT.sub(lambda m: m.group(0).upper(), text)

    return upper(safe_path) or "/", upper(safe_query)


@lru_cache(maxsize=8192)
def _canonical_host(raw_host: str) -> str:
    if raw_host.startswith("["):
        return raw_host.lower()
    try:
        host = normalise_host(raw_host)
    except (DomainError, UnicodeError):
        return raw_host.lower()
    # IDNA mapping can turn e.g. a full-width solidus into "/", which would change how the
    # result parses; keep such hosts as written so canonical_url stays idempotent.
    return host if _HOST_CHARS.match(host) else raw_host.lower()


# Pure and called for every link of every page: the same URLs recur across a site.
@lru_cache(maxsize=65536)
def canonical_url(url: str) -> str:
    """The de-duplication key of a URL.

    Lower-cases scheme and host (IDNA-encoded), drops the default port, the fragment and empty
    user info, makes an empty path "/", percent-encodes characters that are not allowed in a
    URL and upper-cases percent escapes; keeps the query as is (order matters to some CMSs).
    Anything that is not an http(s) URL with a host is returned stripped but otherwise
    unchanged. Idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.
    """
    text = _prepare(url)
    return _canonicalise(text) or text


def _canonicalise(text: str) -> str | None:
    """Canonical form of a prepared URL; None unless it is an http(s) URL with a host."""
    match = _SCHEME_RE.match(text)
    if not match or match.group(1).lower() not in _ALLOWED_SCHEMES:
        return None
    parts = _split(text)
    if parts is None or not parts.host:
        return None
    host = _canonical_host(parts.host)
    if not host:
        return None
    authority = host
    if parts.userinfo:
        authority = f"{parts.userinfo}@{host}"
    if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
        authority += f":{parts.port}"
    encoded = _safe_path_and_query(parts.path, parts.query)
    if encoded is None:
        return None
    path, query = encoded
    result = f"{parts.scheme}://{authority}{path}"
    if query:
        result += f"?{query}"
    # Guard idempotence: if re-splitting would not give back the same pieces, the input was
    # too strange to canonicalise safely.
    again = _split(result)
    if again is None or _canonical_host(again.host) != host or again.path != path:
        return None
    return result


# Pure and called for every link of every page: the same URLs recur across a site.
@lru_cache(maxsize=65536)
def host_of(url: str) -> str:
    """Normalised host of an absolute URL (no brackets for IPv6), or "" when it has none."""
    parts = _split(_prepare(url)) if isinstance(url, str) else None
    if parts is None or not parts.host:
        return ""
    if parts.host.startswith("["):
        return parts.host[1:-1].lower()
    return _normalised_host(parts.host) or ""


# Pure and called for every link of every page: the same URLs recur across a site.
@lru_cache(maxsize=65536)
def join_url(base: str, href: str) -> str | None:
    """Resolve a link against its base and return it in canonical form, without fragment.

    None for hrefs that are not crawlable links: empty, fragment-only (same document; skip
    links), and any non-http(s) scheme (mailto:, tel:, javascript:, data:...).
    """
    if not isinstance(href, str) or not isinstance(base, str):
        return None
    ref = _TAB_NEWLINE.sub("", href.strip(_STRIP_CHARS))
    if not ref or ref.startswith("#"):
        return None
    match = _SCHEME_RE.match(ref)
    if match and match.group(1).lower() not in _ALLOWED_SCHEMES:
        return None
    try:
        joined = urljoin(_prepare(base), _prepare(ref) if match else _fix_backslashes(ref))
    except ValueError:
        return None
    return _canonicalise(_prepare(joined))
