"""Certificate checks that record, rather than refuse: every https answer is still fetched.

Scrapy does not verify certificates (and refusing the handshake would lose the content and
the reason). `RecordingContextFactory` gives each TLS connection a verify callback that
accepts every certificate but notes each OpenSSL verification error and whether the leaf
names the host. The notes are kept per (host, leaf fingerprint), and `certificate_check`
reads them back for a response through the certificate Scrapy attaches to it.

Trust roots: certifi's bundle, the system's default paths, `SSL_CERT_FILE` when set, and the
crawl's `ca_bundle` setting (`GOVAUDIT_CA_BUNDLE`), all added together.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from OpenSSL import SSL, crypto
from scrapy.core.downloader.contextfactory import (
    _ScrapyCertificateOptions,
    _ScrapyClientContextFactory,
)
from scrapy.core.downloader.tls import _ScrapyClientTLSOptions26
from scrapy.crawler import Crawler
from scrapy.http import Response
from service_identity import VerificationError
from service_identity.exceptions import CertificateError
from service_identity.hazmat import DNS_ID, IPAddress_ID, verify_service_identity
from service_identity.pyopenssl import extract_patterns

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


class _TrustingCertificateOptions(_ScrapyCertificateOptions):
    ca_files: list[str] = []

    def _makeContext(self, skipCiphers: bool = False) -> SSL.Context:
        ctx = super()._makeContext(skipCiphers)
        ctx.set_default_verify_paths()
        for path in self.ca_files:
            ctx.load_verify_locations(path)
        return ctx


class _RecordingTLSOptions(_ScrapyClientTLSOptions26):
    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        conn = self._createConnection(tlsProtocol)
        if self._sendServerName:
            conn.set_tlsext_host_name(self._hostnameBytes)
        conn.set_verify(
            SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT,
            _recording_callback(self._hostnameASCII, self._hostnameIsDnsName),
        )
        return conn


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


class RecordingContextFactory(_ScrapyClientContextFactory):
    """DOWNLOADER_CLIENTCONTEXTFACTORY: verify every certificate, refuse none."""

    def __init__(self, *args: Any, ca_bundle: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ca_files = trust_files(ca_bundle)
        self._options: _TrustingCertificateOptions | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RecordingContextFactory:
        ca_bundle = crawler.settings.get("GOVAUDIT_CA_BUNDLE") or None
        return super().from_crawler(crawler, *args, ca_bundle=ca_bundle, **kwargs)

    def _get_cert_options(self) -> _TrustingCertificateOptions:
        # One context for every connection: loading the trust roots costs milliseconds.
        if self._options is None:
            options = _TrustingCertificateOptions(**self._get_cert_options_kwargs())
            options.ca_files = self._ca_files
            self._options = options
        return self._options

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        return _RecordingTLSOptions(
            self._get_cert_options()._makeTLSConnection, hostname.decode("ascii")
        )


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
