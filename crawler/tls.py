"""Certificate checks that record, rather than refuse: every https answer is still fetched.

Scrapy does not verify certificates (and refusing the handshake would lose the content and
the reason). `RecordingTLSPolicy` is the TLS policy of govaudit's download handler
(crawler/download_handler.py): each TLS connection gets a verify callback that accepts every
certificate but notes each OpenSSL verification error and whether the leaf names the host.
The notes are kept per (host, leaf fingerprint), and `certificate_check` reads them back for
a response through the certificate Scrapy attaches to it (`response.certificate`).

Only public interfaces: Twisted's `IPolicyForHTTPS` and `IOpenSSLClientConnectionCreator`,
pyOpenSSL and service_identity. (Until Scrapy 2.19 this was a `DOWNLOADER_CLIENTCONTEXTFACTORY`
subclassing Scrapy's private context factory and TLS options classes; the setting is
deprecated since Scrapy 2.15, whose notes say to subclass the download handler instead.)

Trust roots: certifi's bundle, the system's default paths, `SSL_CERT_FILE` when set, and the
crawl's `ca_bundle` setting (`GOVAUDIT_CA_BUNDLE`), all added together.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from OpenSSL import SSL, crypto
from scrapy.http import Response
from scrapy.settings import BaseSettings
from service_identity import VerificationError
from service_identity.exceptions import CertificateError
from service_identity.hazmat import DNS_ID, IPAddress_ID, verify_service_identity
from service_identity.pyopenssl import extract_patterns
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

logger = logging.getLogger(__name__)

# OpenSSL X509_V_ERR_* codes and what an auditor calls them.
_EXPIRED = {10: "certificate has expired"}
_UNTRUSTED = {
    2: "unable to get issuer certificate",
    18: "self-signed certificate",
    19: "self-signed certificate in chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    27: "certificate not trusted",
}
_OTHER = {
    7: "certificate signature failure",
    9: "certificate is not yet valid",
    12: "CRL has expired",
    23: "certificate revoked",
    24: "invalid CA certificate",
    26: "unsupported certificate purpose",
}
STATES = ("valid", "expired", "wrong-host", "untrusted", "other")


@dataclass
class HandshakeNotes:
    """What the verify callback saw of one host's certificate chain."""

    host: str
    errors: dict[int, int] = field(default_factory=dict)  # error code -> depth
    host_mismatch: str | None = None
    leaf: crypto.X509 | None = None


# (host, leaf sha256) -> notes, the newest MAX_NOTES: a process crawling the full list meets
# 30,000 hosts, and a host's notes are read only while its domain is crawled (at most
# max_open_units domains at once), so the oldest go first.
MAX_NOTES = 4096
_NOTES: OrderedDict[tuple[str, str], HandshakeNotes] = OrderedDict()


def trust_files(ca_bundle: str | None) -> list[str]:
    files: list[str] = []
    try:
        import certifi

        files.append(certifi.where())
    except ImportError:  # the system's store below still applies
        pass
    env = os.environ.get("SSL_CERT_FILE")
    for path in (env, ca_bundle):
        if path and path not in files:
            files.append(path)
    return files


# Scrapy's own context sets it too: some old servers never learnt RFC 5746 renegotiation.
_OP_LEGACY_SERVER_CONNECT = getattr(SSL, "OP_LEGACY_SERVER_CONNECT", 0x4)


def client_context(ca_files: list[str], ciphers: str = "DEFAULT") -> SSL.Context:
    """The one client context of a crawl: trust roots loaded once (it costs milliseconds),
    never changed after (pyOpenSSL 25.1+ warns when a context in use is changed)."""
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_options(
        SSL.OP_ALL
        | SSL.OP_NO_SSLv2
        | SSL.OP_NO_SSLv3
        | SSL.OP_NO_COMPRESSION
        | _OP_LEGACY_SERVER_CONNECT
    )
    ctx.set_mode(SSL.MODE_RELEASE_BUFFERS)
    ctx.set_default_verify_paths()
    for path in ca_files:
        ctx.load_verify_locations(path)
    ctx.set_cipher_list(ciphers.encode("ascii"))
    return ctx


@implementer(IOpenSSLClientConnectionCreator)
class RecordingConnectionCreator:
    """One TLS connection to `host`: SNI for names, and the recording verify callback."""

    def __init__(self, context: SSL.Context, host: str) -> None:
        self.context = context
        self.host = host
        self.is_dns = not _is_ip_literal(host)

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        conn = SSL.Connection(self.context, None)
        conn.set_app_data(tlsProtocol)
        if self.is_dns:
            conn.set_tlsext_host_name(self.host.encode("ascii"))
        conn.set_verify(
            SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT,
            _recording_callback(self.host, self.is_dns),
        )
        return conn


@implementer(IPolicyForHTTPS)
class RecordingTLSPolicy:
    """Verify every certificate, refuse none: the download handler's TLS policy."""

    def __init__(self, ca_bundle: str | None = None, ciphers: str = "DEFAULT") -> None:
        self.context = client_context(trust_files(ca_bundle), ciphers)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RecordingTLSPolicy:
        return cls(
            ca_bundle=settings.get("GOVAUDIT_CA_BUNDLE") or None,
            ciphers=settings.get("DOWNLOADER_CLIENT_TLS_CIPHERS") or "DEFAULT",
        )

    def creatorForNetloc(self, hostname: bytes, port: int) -> RecordingConnectionCreator:
        # URLs reach the handler with their host in ASCII (IDNA), as Scrapy's are.
        return RecordingConnectionCreator(self.context, hostname.decode("ascii"))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _recording_callback(host: str, is_dns: bool) -> Any:
    service = DNS_ID(host) if is_dns else IPAddress_ID(host)
    notes = HandshakeNotes(host)

    def callback(conn: SSL.Connection, cert: crypto.X509, err: int, depth: int, ok: int) -> bool:
        if err:
            notes.errors.setdefault(err, depth)
        if depth == 0 and notes.leaf is None:
            notes.leaf = cert
            try:
                verify_service_identity(extract_patterns(cert), [service], [])
            except (CertificateError, VerificationError) as exc:
                notes.host_mismatch = str(exc)
            key = (host, _fingerprint(cert))
            _NOTES[key] = notes
            _NOTES.move_to_end(key)
            while len(_NOTES) > MAX_NOTES:
                _NOTES.popitem(last=False)
        return True  # record, never refuse: the content is fetched whatever the certificate

    return callback


def _fingerprint(cert: crypto.X509) -> str:
    return cert.digest("sha256").decode("ascii")


def _name(name: crypto.X509Name) -> str:
    return ", ".join(
        f"{k.decode('latin-1')}={v.decode('utf-8', 'replace')}" for k, v in name.get_components()
    )


def _dns_names(cert: crypto.X509) -> list[str]:
    names: list[str] = []
    try:
        for pattern in extract_patterns(cert):
            text = getattr(pattern, "pattern", None)
            if isinstance(text, bytes):
                names.append(text.decode("ascii", "replace"))
    except Exception:  # an unreadable extension is evidence of nothing
        return names
    return names


def _not_after(cert: crypto.X509) -> str | None:
    raw = cert.get_notAfter()
    if not raw:
        return None
    when = dt.datetime.strptime(raw.decode("ascii"), "%Y%m%d%H%M%SZ")
    return when.isoformat(timespec="seconds") + "Z"


def judge(notes: HandshakeNotes) -> tuple[str, str]:
    """(state, reason) from what the handshake saw; untrusted before expired before host."""
    codes = set(notes.errors)
    for code in sorted(codes):
        if code in _UNTRUSTED:
            return "untrusted", _UNTRUSTED[code]
    if codes & set(_EXPIRED):
        return "expired", _EXPIRED[10]
    if notes.host_mismatch:
        return "wrong-host", f"certificate does not name {notes.host}"
    if codes:
        code = min(codes)
        return "other", _OTHER.get(code, f"OpenSSL verify error {code}")
    return "valid", "certificate verifies"


def certificate_check(response: Response) -> dict[str, Any] | None:
    """The certificate state of an https response, with its evidence; None for http."""
    if not response.url.startswith("https://"):
        return None
    host = (urlsplit(response.url).hostname or "").lower()
    certificate = getattr(response, "certificate", None)
    leaf = getattr(certificate, "original", None)
    key = (host, _fingerprint(leaf)) if leaf is not None else None
    notes = _NOTES.get(key) if key is not None else None
    if key is not None and notes is not None:
        _NOTES.move_to_end(key)
    if notes is None or notes.leaf is None:
        return {"state": "other", "reason": "no certificate check recorded", "host": host}
    state, reason = judge(notes)
    cert = notes.leaf
    return {
        "state": state,
        "reason": reason,
        "host": host,
        "issuer": _name(cert.get_issuer()),
        "subject": _name(cert.get_subject()),
        "names": _dns_names(cert),
        "not_after": _not_after(cert),
        "sha256": _fingerprint(cert),
    }
