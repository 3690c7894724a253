"""Certificates are verified and recorded, never refused (issue 10, case 1).

The simulated web signs its hosts with its own trustme CA; the crawl trusts it through
`SSL_CERT_FILE` (set by `web.proxy_env()`) or the crawl's `ca_bundle` setting, and chosen
hosts serve expired, wrong-host and self-signed certificates.
"""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from audit.db import Database
from crawler.crawl_run import TaskSpec, create_run, execute
from crawler.tls import HandshakeNotes, judge
from tests.crawl_world import export_here, govaudit, govaudit_here, registry_csv

pytestmark = pytest.mark.integration

PAGE = (
    "<html><head><title>{t}</title></head><body><p>{t} serves the public with programs, "
    "grants, data and guidance for people across the country.</p></body></html>"
)
MODES = {
    "good": "ok",
    "stale": "expired",
    "misnamed": "wrong-host",
    "homemade": "self-signed",
}


def tls_sites() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        name: {
            "hosts": [f"{name}.gov", f"www.{name}.gov"],
            "tls": mode,
            "headers": {"Strict-Transport-Security": "max-age=31536000"},
            "pages": {"/": {"body": PAGE.format(t=f"{name} agency")}},
        }
        for name, mode in MODES.items()
    }
    out["plain"] = {
        "hosts": ["plain.gov", "www.plain.gov"],
        "schemes": ["http"],
        "pages": {"/": {"body": PAGE.format(t="plain agency")}},
    }
    return out


DOMAINS = [f"{name}.gov" for name in tls_sites()]


@pytest.fixture(scope="module")
def tls_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from simweb.server import SimulatedWeb
    from tests.simweb_plugin import write_sites

    web = SimulatedWeb.from_directory(
        write_sites(tmp_path_factory.mktemp("tls-sites"), tls_sites())
    ).start()
    tmp = tmp_path_factory.mktemp("tls-crawl")
    db = f"sqlite:///{tmp}/crawl.db"
    govaudit_here(db, "inventory", "load", str(registry_csv(tmp / "r-2026-01-01.csv", DOMAINS)))
    govaudit(web, db, "crawl", "--only", "sites", "--workers", "1", "--timeout", "5")
    rows = {r["domain"]: r for r in export_here(db, "sites")}
    yield {"web": web, "db": db, "rows": rows, "tmp": tmp}
    web.stop()


def test_a_valid_certificate_counts_as_https(tls_world: Any) -> None:
    good = tls_world["rows"]["good.gov"]
    assert good["tls"] == "valid"
    assert good["https"] is True and good["hsts"] is True
    assert good["status"] == "active" and "HTTPS not counted" not in good["status_reason"]
    [www] = [d for d in good["tls_detail"] if d["url"] == "https://www.good.gov/"]
    assert www["state"] == "valid"
    assert "simweb test CA" in www["issuer"]
    assert www["names"] == ["www.good.gov"]
    assert www["not_after"].startswith("3000-")


@pytest.mark.parametrize(
    ("domain", "state", "reason"),
    [
        ("stale.gov", "expired", "expired"),
        ("misnamed.gov", "wrong-host", "does not name www.misnamed.gov"),
        ("homemade.gov", "untrusted", "issuer"),
    ],
)
def test_a_bad_certificate_is_recorded_and_not_counted(
    tls_world: Any, domain: str, state: str, reason: str
) -> None:
    row = tls_world["rows"][domain]
    assert row["tls"] == state
    # HTTPS and HSTS count only over a certificate that verifies...
    assert row["https"] is False and row["hsts"] is False
    # ...but the content is still fetched, and the status says why HTTPS does not count.
    assert row["status"] == "active"
    assert row["title"] == f"{domain.removesuffix('.gov')} agency"
    assert f"HTTPS not counted: certificate {state}" in row["status_reason"]
    detail = {d["url"]: d for d in row["tls_detail"]}
    www = detail[f"https://www.{domain}/"]
    assert www["state"] == state and reason in www["reason"]
    assert www["issuer"] and www["subject"] and www["not_after"] and www["sha256"]


def test_expiry_and_names_are_kept_as_evidence(tls_world: Any) -> None:
    stale = tls_world["rows"]["stale.gov"]["tls_detail"][0]
    assert stale["not_after"] < "2026-12-31"
    misnamed = tls_world["rows"]["misnamed.gov"]["tls_detail"][0]
    assert misnamed["names"] == ["wrong-host.simweb.invalid"]


def test_no_https_endpoint_leaves_tls_empty(tls_world: Any) -> None:
    plain = tls_world["rows"]["plain.gov"]
    assert plain["tls"] is None and plain["tls_detail"] == []
    assert plain["https"] is False and plain["status"] == "active"
    out = govaudit(tls_world["web"], tls_world["db"], "export", "sites", "--format", "csv").stdout
    header, *lines = out.splitlines()
    columns = header.split(",")
    # New columns go at the end: the web-archive ones came after the certificate ones.
    assert columns[-5:] == ["tls", "tls_detail", "archive", "as_of", "memento_datetime"]
    plain_line = next(line for line in lines if line.startswith("plain.gov,"))
    # tls and tls_detail empty, then the (empty) web-archive columns of a live run
    assert plain_line.endswith(",,[],,,")


def test_the_ca_bundle_setting_is_a_trust_root(
    tls_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without SSL_CERT_FILE the simulated CA is unknown; the crawl setting `ca_bundle`
    (what `--ca-bundle` sets) makes it trusted."""
    web = tls_world["web"]
    for key, value in web.proxy_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SSL_CERT_FILE")
    states: dict[str | None, dict[str, Any]] = {}
    for bundle in (None, web.ca_pem_path):
        db_url = f"sqlite:///{tmp_path}/bundle-{bundle is not None}.db"
        db = Database(db_url)
        govaudit_here(db_url, "inventory", "load", str(tls_world["tmp"] / "r-2026-01-01.csv"))
        crawl = {"download_timeout": 5, "ca_bundle": bundle}
        run_id = create_run(
            db,
            None,
            {"jobs": ["sites"], "crawl": crawl},
            [TaskSpec("sites", "good.gov", "good.gov", None)],
        )
        assert execute(db, run_id, ["sites"], workers=1) == "finished"
        db.dispose()
        [row] = export_here(db_url, "sites")
        states[bundle] = row
    assert states[None]["tls"] == "untrusted" and states[None]["https"] is False
    assert states[web.ca_pem_path]["tls"] == "valid" and states[web.ca_pem_path]["https"] is True


def _handshake(web: Any, host: str) -> str:
    """A standard verifying client (Python's ssl) through the proxy's CONNECT tunnel."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sock:
        sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 200")
        ctx = ssl.create_default_context(cafile=web.ca_pem_path)
        try:
            with ctx.wrap_socket(sock, server_hostname=host):
                return "verified"
        except ssl.SSLCertVerificationError as exc:
            return exc.verify_message


@pytest.mark.parametrize(
    ("host", "outcome"),
    [
        ("www.good.gov", "verified"),
        ("www.stale.gov", "certificate has expired"),
        ("www.misnamed.gov", "Hostname mismatch"),
        ("www.homemade.gov", "unable to get local issuer certificate"),
    ],
)
def test_the_simulated_web_uses_a_ca_that_clients_check(
    tls_world: Any, host: str, outcome: str
) -> None:
    assert outcome in _handshake(tls_world["web"], host)


@pytest.mark.parametrize(
    ("errors", "mismatch", "state"),
    [
        ({}, None, "valid"),
        ({10: 0}, None, "expired"),
        ({}, "no match", "wrong-host"),
        ({18: 0}, None, "untrusted"),
        ({20: 0, 10: 0}, "no match", "untrusted"),
        ({9: 0}, None, "other"),
        ({10: 0}, "no match", "expired"),
    ],
)
def test_judging_the_handshake(errors: dict[int, int], mismatch: str | None, state: str) -> None:
    notes = HandshakeNotes("www.x.gov", errors=dict(errors), host_mismatch=mismatch)
    assert judge(notes)[0] == state


def test_export_json_has_the_columns(tls_world: Any) -> None:
    rows = json.loads(
        govaudit(tls_world["web"], tls_world["db"], "export", "sites", "--format", "json").stdout
    )
    assert all({"tls", "tls_detail"} <= set(r) for r in rows)
