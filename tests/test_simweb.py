"""Tests of the simulated web: the proxy protocol, the site format, the PDF writer, the demo world
and a real Scrapy spider crawling through it."""

from __future__ import annotations

import concurrent.futures
import http.client
import io
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml

from simweb.pdf import make_pdf
from simweb.server import SimulatedWeb
from simweb.sites import DEMO_DIR, DEMO_WORLD_FILE, Site, SiteError, is_ip_literal, load_site_file

# ----------------------------------------------------------------------------- helpers


class Reply:
    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes) -> None:
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.reason} {self.body[:60]!r}>"


def _reply(resp: http.client.HTTPResponse) -> Reply:
    body = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    return Reply(resp.status, resp.reason, headers, body)


def fetch(
    web: SimulatedWeb,
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Reply:
    """One request through the proxy (absolute form for http, CONNECT + TLS for https)."""
    headers = {"User-Agent": "simweb-test", **(headers or {})}
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    path = slash + path or "/"
    if scheme == "http":
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=timeout)
        conn.request(method, url, headers=headers)
    else:
        ctx = ssl.create_default_context(cafile=web.ca_pem_path)
        conn = http.client.HTTPSConnection("127.0.0.1", web.port, timeout=timeout, context=ctx)
        host, _, port = authority.partition(":")
        conn.set_tunnel(host, int(port or 443))
        conn.request(method, path, headers=headers)
    try:
        return _reply(conn.getresponse())
    finally:
        conn.close()


def raw_exchange(web: SimulatedWeb, data: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes to the proxy and read until it closes the connection."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def open_tunnel(web: SimulatedWeb, host: str, port: int = 443) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    assert head.startswith(b"HTTP/1.1 200 "), head
    return sock


def read_response(sock: socket.socket | ssl.SSLSocket) -> Reply:
    """Read one HTTP/1.1 response with Content-Length from a socket (for keep-alive tests)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed early: {buf!r}"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    _, status, reason = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return Reply(int(status), reason, headers, body[:length])


SIMPLE: dict[str, Any] = {
    "alpha": {
        "hosts": ["alpha.gov", "www.alpha.gov"],
        "https_redirect": True,
        "redirect_host": {"alpha.gov": "www.alpha.gov"},
        "robots": "User-agent: *\nDisallow: /private/\n",
        "pages": {
            "/": {
                "headers": {"Strict-Transport-Security": "max-age=31536000"},
                "body": "<html><head><title>Alpha home</title></head><body>hi</body></html>",
            },
            "/open": {"redirect": "/open/", "status": 301},
            "/open/": {"title": "Open Government"},
            "/data.json": {"json": {"a": [1, 2]}},
            "/plan.pdf": {"pdf_text": "Customer Service Plan\nSignature Initiative"},
            "/flaky": {
                "sequence": [
                    {"status": 503, "headers": {"Retry-After": "1"}},
                    {"status": 200, "body": "ok"},
                ]
            },
            "/search?q=x": {"text": "exact query match"},
        },
        "epochs": {2: {"pages": {"/open/": {"status": 404}, "/new": {"title": "New page"}}}},
    },
    "beta": {"hosts": ["www.beta.gov"], "schemes": ["http"], "catch_all": {"title": "Soft"}},
    "gamma": {"hosts": ["www.gamma.gov"], "schemes": ["https"], "status_all": 403},
    "delta": {"hosts": ["www.delta.gov"], "down": True},
    "eps": {"hosts": ["www.eps.gov"], "tls": "broken", "pages": {"/": {"title": "plain ok"}}},
}


@pytest.fixture
def web(simulated_web_factory: Any) -> SimulatedWeb:
    return simulated_web_factory(SIMPLE)


# ----------------------------------------------------------------------------- protocol


def test_plain_http_through_urllib_proxy_handler(web: SimulatedWeb) -> None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": web.proxy_url, "https": web.proxy_url})
    )
    with opener.open("http://www.beta.gov/anything?x=1", timeout=10) as resp:
        body = resp.read().decode()
        assert resp.status == 200
        assert resp.headers["Server"] == "simweb"
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        assert int(resp.headers["Content-Length"]) == len(body.encode())
    assert "<title>Soft</title>" in body
    # The server stamps `finished` just after writing the answer, so the client can be a
    # moment ahead of it.
    deadline = time.monotonic() + 5
    while web.requests("www.beta.gov")[0].finished is None and time.monotonic() < deadline:
        time.sleep(0.01)
    (record,) = web.requests("www.beta.gov")
    assert (record.scheme, record.port, record.method, record.path) == (
        "http",
        80,
        "GET",
        "/anything?x=1",
    )
    assert record.status == 200 and record.finished is not None and not record.refused


def test_urllib_https_tunnel_trusting_the_ca(web: SimulatedWeb) -> None:
    ctx = ssl.create_default_context(cafile=web.ca_pem_path)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": web.proxy_url}),
        urllib.request.HTTPSHandler(context=ctx),
    )
    with opener.open("https://www.alpha.gov/", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert b"Alpha home" in resp.read()


def test_connect_tls_keep_alive_and_certificate(web: SimulatedWeb) -> None:
    sock = open_tunnel(web, "www.alpha.gov")
    ctx = ssl.create_default_context(cafile=web.ca_pem_path)
    with ctx.wrap_socket(sock, server_hostname="www.alpha.gov") as tls:
        cert = tls.getpeercert()
        names = [v for k, v in cert["subjectAltName"] if k == "DNS"]
        assert names == ["www.alpha.gov"]
        for path, status in [("/", 200), ("/data.json", 200), ("/missing", 404)]:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: www.alpha.gov\r\n\r\n".encode())
            reply = read_response(tls)
            assert reply.status == status, path
        tls.sendall(b"HEAD /plan.pdf HTTP/1.1\r\nHost: www.alpha.gov\r\nConnection: close\r\n\r\n")
        head = b""
        while chunk := tls.recv(65536):
            head += chunk
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"Content-Type: application/pdf" in head
    assert head.endswith(b"\r\n\r\n")  # HEAD: no body, though Content-Length is announced
    assert b"Content-Length: " in head and b"Connection: close" in head
    records = web.requests("www.alpha.gov")
    assert [r.method for r in records] == ["CONNECT", "GET", "GET", "GET", "HEAD"]
    assert records[0].path == "www.alpha.gov:443" and records[0].status == 200
    assert all(r.scheme == "https" and r.port == 443 for r in records)
    assert json.loads(fetch(web, "https://www.alpha.gov/data.json").body) == {"a": [1, 2]}


def test_plain_http_keep_alive_and_origin_form(web: SimulatedWeb) -> None:
    with socket.create_connection(("127.0.0.1", web.port), timeout=5) as sock:
        sock.sendall(b"GET http://www.beta.gov/a HTTP/1.1\r\nHost: www.beta.gov\r\n\r\n")
        assert read_response(sock).status == 200
        body = b"name=value"
        sock.sendall(b"POST /b HTTP/1.1\r\nHost: www.beta.gov\r\nContent-Length: 10\r\n\r\n" + body)
        assert read_response(sock).status == 200
        sock.sendall(b"GET /c HTTP/1.1\r\nHost: www.beta.gov\r\n\r\n")
        assert read_response(sock).status == 200
    assert [r.path for r in web.requests("www.beta.gov")] == ["/a", "/b", "/c"]


def test_dns_error_for_unknown_hosts(web: SimulatedWeb) -> None:
    reply = fetch(web, "http://www.nowhere.gov/")
    assert (reply.status, reply.reason) == (502, "dns_error")
    assert reply.headers["proxy-status"] == "simweb; error=dns_error"
    out = raw_exchange(web, b"CONNECT www.nowhere.gov:443 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 502 dns_error\r\n")
    assert b"Proxy-Status: simweb; error=dns_error\r\n" in out
    # a sub-domain of a known host is still unknown
    assert fetch(web, "http://sub.www.beta.gov/").reason == "dns_error"
    with pytest.raises(OSError, match="502 dns_error"):
        fetch(web, "https://www.nowhere.gov/")
    records = web.requests("www.nowhere.gov")
    assert {r.error for r in records} == {"dns_error"}
    assert not any(r.refused for r in records)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.delta.gov/",  # down
        "https://www.delta.gov/",  # down
        "https://www.beta.gov/",  # http-only site receiving CONNECT
        "http://www.gamma.gov/",  # https-only site receiving plain http
        "http://www.beta.gov:8080/",  # a port the site does not serve
    ],
)
def test_connection_refused(web: SimulatedWeb, url: str) -> None:
    if url.startswith("https"):
        with pytest.raises(OSError, match="502 connection_refused"):
            fetch(web, url)
    else:
        reply = fetch(web, url)
        assert (reply.status, reply.reason) == (502, "connection_refused")
        assert reply.headers["proxy-status"] == "simweb; error=connection_refused"


def test_broken_tls(web: SimulatedWeb) -> None:
    with pytest.raises(ssl.SSLError):
        fetch(web, "https://www.eps.gov/")
    assert fetch(web, "http://www.eps.gov/").status == 200


def test_https_redirect_and_redirect_host(web: SimulatedWeb) -> None:
    reply = fetch(web, "http://www.alpha.gov/open?x=1")
    assert reply.status == 301
    assert reply.headers["location"] == "https://www.alpha.gov/open?x=1"
    reply = fetch(web, "https://alpha.gov/about?y=2")
    assert (reply.status, reply.headers["location"]) == (301, "https://www.alpha.gov/about?y=2")
    # http on the bare domain: first to https on the same host
    assert fetch(web, "http://alpha.gov/").headers["location"] == "https://alpha.gov/"
    reply = fetch(web, "https://www.alpha.gov/open")
    assert (reply.status, reply.headers["location"]) == (301, "/open/")
    assert "Open Government" in fetch(web, "https://www.alpha.gov/open/").text


def test_catch_all_status_all_and_not_found(web: SimulatedWeb) -> None:
    for path in ("/", "/open", "/robots.txt", "/x/y/z?q=1"):
        reply = fetch(web, f"http://www.beta.gov{path}")
        assert reply.status == 200 and "<title>Soft</title>" in reply.text
    for path in ("/", "/robots.txt", "/open"):
        reply = fetch(web, f"https://www.gamma.gov{path}")
        assert reply.status == 403 and "Access Denied" in reply.text
    reply = fetch(web, "https://www.alpha.gov/nothing-here")
    assert reply.status == 404 and "<title>Page Not Found</title>" in reply.text


def test_robots_and_query_lookup(web: SimulatedWeb) -> None:
    reply = fetch(web, "https://www.alpha.gov/robots.txt")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert reply.text == "User-agent: *\nDisallow: /private/\n"
    assert fetch(web, "https://www.alpha.gov/search?q=x").text == "exact query match"
    assert fetch(web, "https://www.alpha.gov/search?q=other").status == 404
    assert fetch(web, "https://www.alpha.gov/?utm=1").status == 200  # falls back to the path


def test_epochs(web: SimulatedWeb) -> None:
    assert fetch(web, "https://www.alpha.gov/open/").status == 200
    assert fetch(web, "https://www.alpha.gov/new").status == 404
    web.set_epoch(2)
    assert web.epoch == 2
    assert fetch(web, "https://www.alpha.gov/open/").status == 404
    assert "New page" in fetch(web, "https://www.alpha.gov/new").text
    assert fetch(web, "https://www.alpha.gov/").status == 200  # untouched pages stay
    web.set_epoch(5)  # every override with key <= 5 applies
    assert fetch(web, "https://www.alpha.gov/new").status == 200
    web.set_epoch(1)
    assert fetch(web, "https://www.alpha.gov/open/").status == 200


def test_sequence(web: SimulatedWeb) -> None:
    first = fetch(web, "https://www.alpha.gov/flaky")
    assert (first.status, first.headers["retry-after"]) == (503, "1")
    assert [fetch(web, "https://www.alpha.gov/flaky").status for _ in range(3)] == [200] * 3
    web.reset_sequences()
    assert fetch(web, "https://www.alpha.gov/flaky").status == 503


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::1]", "2130706433", "0x7f000001", "127.1", "localhost", "app.localhost"],
)
def test_ip_literals_and_localhost_are_refused_without_connecting(
    web: SimulatedWeb, host: str
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.3)
    port = listener.getsockname()[1]
    try:
        reply = fetch(web, f"http://{host}:{port}/latest/meta-data/")
        assert (reply.status, reply.reason) == (403, "destination_ip_prohibited")
        assert reply.headers["proxy-status"] == "simweb; error=destination_ip_prohibited"
        out = raw_exchange(web, f"CONNECT {host}:{port} HTTP/1.1\r\n\r\n".encode())
        assert out.startswith(b"HTTP/1.1 403 destination_ip_prohibited\r\n")
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected to the real target
    finally:
        listener.close()
    records = web.requests()
    assert len(records) == 2
    assert all(r.refused and r.status == 403 for r in records)
    assert {r.method for r in records} == {"GET", "CONNECT"}


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "https://10.0.0.1/"]
)
def test_private_and_metadata_addresses_refused(web: SimulatedWeb, url: str) -> None:
    if url.startswith("https"):
        with pytest.raises(OSError, match="403 destination_ip_prohibited"):
            fetch(web, url)
    else:
        assert fetch(web, url).status == 403
    (record,) = web.requests()
    assert record.refused and record.error == "destination_ip_prohibited"


def test_is_ip_literal() -> None:
    for host in ["10.0.0.1", "[::1]", "::1", "2130706433", "0x7f.1", "1.2.3.4.", "fe80::1%eth0"]:
        assert is_ip_literal(host), host
    for host in ["www.usda.gov", "1password.gov", "a1.b2.gov", "localhost"]:
        assert not is_ip_literal(host), host


def test_request_log_and_clear(web: SimulatedWeb) -> None:
    before = time.monotonic()
    fetch(web, "https://www.alpha.gov/?a=b", headers={"User-Agent": "govaudit/1.0"})
    # The server marks a request finished after its last byte is written: the client may have
    # read the answer a moment before that mark.
    deadline = time.monotonic() + 5
    while True:
        records = web.requests("WWW.ALPHA.GOV")
        if (records and records[-1].finished is not None) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert [r.method for r in records] == ["CONNECT", "GET"]
    get = records[1]
    assert get.user_agent == "govaudit/1.0" and get.path == "/?a=b"
    assert before <= get.started <= get.finished  # type: ignore[operator]
    assert web.requests("www.beta.gov") == []
    web.clear_log()
    assert web.requests() == []


def test_delays_overlap_and_max_concurrency(simulated_web_factory: Any) -> None:
    delay = 2.0
    web = simulated_web_factory(
        {
            "slow": {"hosts": ["www.slow.gov"], "delay": delay, "pages": {"/": {"title": "s"}}},
            "page": {
                "hosts": ["www.page.gov"],
                "pages": {"/": {"title": "fast"}, "/slow": {"delay": 0.6, "body": "late"}},
            },
        }
    )
    # Timed by the server's own request log, not the test's clock: on a loaded machine (two
    # xdist workers, other jobs) the client's threads may start late, which proves nothing.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(fetch, web, "http://www.slow.gov/") for _ in range(4)]
        deadline = time.monotonic() + 30
        while len(web.requests("www.slow.gov")) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fetch(web, "http://www.page.gov/").status == 200
        assert all(f.result().status == 200 for f in futures)
        # The server notes a request's end just after its last byte went out.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(r.finished is None for r in web.requests()):
            time.sleep(0.01)
    slow = web.requests("www.slow.gov")
    (fast,) = web.requests("www.page.gov")
    ends = [r.finished for r in slow]
    assert len(slow) == 4 and fast.finished is not None and None not in ends
    # another host is not slowed down by the slow one: served while all four were waiting
    assert max(r.started for r in slow) <= fast.started
    assert fast.finished < min(e for e in ends if e is not None)
    # the four delays ran concurrently (one after another they would span 4 delays)
    assert web.max_concurrency("www.slow.gov") == 4
    assert max(e for e in ends if e is not None) - min(r.started for r in slow) < 2 * delay
    for _ in range(2):
        assert fetch(web, "https://www.page.gov/slow").text == "late"
    assert web.max_concurrency("www.page.gov") == 1  # sequential, CONNECTs not counted
    assert web.max_concurrency("www.unknown.gov") == 0


def test_body_file_templates_vars_and_extends(simulated_web_factory: Any) -> None:
    files = {
        "_base.yaml": yaml.safe_dump(
            {
                "vars": {"agency": "Base Agency", "footer": "{{> parts/footer.html}}"},
                "pages": {"/": {"body_file": "tpl/page.html", "vars": {"main": "home"}}},
            }
        ),
        "tpl/page.html": "<title>{{agency}}</title><main>{{main}}</main>{{footer}}",
        "parts/footer.html": "<footer>{{agency}} footer</footer>",
        "doc.txt": "plain {{agency}}",
        "logo.png": b"\x89PNG\r\n\x1a\nbinary{{notavar}}",
    }
    web = simulated_web_factory(
        {
            "site": {
                "extends": "_base.yaml",
                "hosts": ["www.tpl.gov"],
                "vars": {"agency": "Real Agency"},
                "pages": {
                    "/doc": {"body_file": "doc.txt"},
                    "/logo.png": {"body_file": "logo.png"},
                    "/rdap": {"json": {"x": 1}, "content_type": "application/rdap+json"},
                },
            }
        },
        files=files,
    )
    home = fetch(web, "https://www.tpl.gov/").text
    assert home == "<title>Real Agency</title><main>home</main><footer>Real Agency footer</footer>"
    doc = fetch(web, "https://www.tpl.gov/doc")
    assert (doc.text, doc.headers["content-type"]) == (
        "plain Real Agency",
        "text/plain; charset=utf-8",
    )
    logo = fetch(web, "https://www.tpl.gov/logo.png")
    assert logo.headers["content-type"] == "image/png" and logo.body == files["logo.png"]
    assert fetch(web, "https://www.tpl.gov/rdap").headers["content-type"] == "application/rdap+json"
    assert len(web.sites) == 1  # files starting with "_" are not sites


# ----------------------------------------------------------------------------- PDF


def test_pdf_round_trip_with_pypdf() -> None:
    lines = [
        "Customer Service Plan",
        "Published October 24, 2011",
        "Signature Initiative (online services) \\ 100% – “quoted”",
        *[f"Line {i}: " + "service standards " * 8 for i in range(120)],
    ]
    data = make_pdf(lines, title="Plan")
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) > 2
    assert reader.metadata is not None and reader.metadata.title == "Plan"
    first = reader.pages[0].extract_text()
    assert first.splitlines()[:3] == lines[:3]
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Line 119:" in text and text.split().count("standards") == 120 * 8


def test_pdf_page_served(web: SimulatedWeb) -> None:
    reply = fetch(web, "https://www.alpha.gov/plan.pdf")
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.body.startswith(b"%PDF-1.4")
    text = pypdf.PdfReader(io.BytesIO(reply.body)).pages[0].extract_text()
    assert text.splitlines() == ["Customer Service Plan", "Signature Initiative"]


# ----------------------------------------------------------------------------- loading errors


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hosts: [www.x.gov\npages: {", "invalid YAML at line"),
        ("- just\n- a list\n", "a site definition must be a mapping"),
        ("", "the file is empty"),
        ("hosts: [www.x.gov]\ncolour: blue\n", "unknown key 'colour'"),
        ("pages: {}\n", "hosts: expected a non-empty list"),
        ("hosts: [http://www.x.gov/]\n", "is not a valid host name"),
        ("hosts: [10.0.0.1]\n", "is not a valid host name"),
        ("hosts: [www.x.gov]\npages: {/: {status: 999}}\n", "pages./.status: expected an HTTP"),
        ("hosts: [www.x.gov]\npages: {/: {body_file: nope.html}}\n", "cannot read 'nope.html'"),
        ("hosts: [www.x.gov]\npages: {/: {body: '{{who}}'}}\n", "undefined template variable"),
        ("hosts: [www.x.gov]\npages: {/: {body: a, json: {}}}\n", "give only one of body, json"),
        ("hosts: [www.x.gov]\npages: {about: {body: a}}\n", "must start with '/'"),
        ("hosts: [www.x.gov]\ntls: maybe\n", "tls: expected ok or broken"),
        ("hosts: [www.x.gov]\nschemes: [ftp]\n", "schemes: expected a list of http and/or https"),
        ("hosts: [www.x.gov]\nepochs: {two: {}}\n", "an epoch must be a whole number"),
        ("hosts: [www.x.gov]\nepochs: {2: {hosts: [a.gov]}}\n", "'hosts' cannot change"),
        ("hosts: [www.x.gov]\nepochs: {2: {pages: {/: {delay: -1}}}}\n", "epochs.2.pages./.delay"),
        ("hosts: [www.x.gov]\nextends: missing.yaml\n", "extends: 'missing.yaml' not found"),
        ("hosts: [www.x.gov]\nredirect_host: {y.gov: x.gov}\n", "not one of the site's hosts"),
    ],
)
def test_bad_site_file_gives_a_clear_one_line_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    with pytest.raises(SiteError) as info:
        load_site_file(path)
    text = str(info.value)
    assert text.startswith(f"{path}: "), text
    assert message in text, text
    assert "\n" not in text


def test_duplicate_hosts_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("hosts: [www.same.gov]\n")
    (tmp_path / "b.yaml").write_text("hosts: [WWW.SAME.GOV.]\n")
    with pytest.raises(SiteError, match=r"b\.yaml: host 'www\.same\.gov' is already defined by"):
        SimulatedWeb.from_directory(tmp_path)


def test_site_from_dict_without_files() -> None:
    site = Site.from_dict({"hosts": "www.dict.gov", "pages": {"/": "<p>hi</p>"}}, name="d")
    with SimulatedWeb(sites=[site]) as web:
        assert web.proxy_env()["https_proxy"] == web.proxy_url == f"http://127.0.0.1:{web.port}"
        assert Path(web.ca_pem_path or "").read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert fetch(web, "https://www.dict.gov/").text == "<p>hi</p>"
    assert web.ca_pem_path is None  # removed at stop


# ----------------------------------------------------------------------------- the demo world


def load_world() -> dict[str, Any]:
    return yaml.safe_load(DEMO_WORLD_FILE.read_text())


def test_demo_world_file_matches_the_sites(demo_web: SimulatedWeb) -> None:
    world = load_world()
    domains = world["domains"]
    assert len(domains) >= 30
    # The bundled copy of the newest real registry snapshot.
    registry = Path(__file__).resolve().parent.parent / "seeds/registry/federal-2026-08-18.csv"
    listed = {line.split(",", 1)[0].lower() for line in registry.read_text().splitlines()}
    plan_statuses, site_statuses = set(world["plan_statuses"]), set(world["site_statuses"])
    for entry in domains:
        domain = entry["domain"]
        site = demo_web.site_for(entry["hosts"][0])
        assert site is not None and set(entry["hosts"]) == set(site.hosts), domain
        assert (DEMO_DIR / entry["site_file"]).is_file()
        assert entry["expected"]["plan"] in plan_statuses | {None}, domain
        assert entry["expected"]["site"] in site_statuses, domain
        assert domain in listed, f"{domain} is not in the .gov registry"
    for unlisted in world["unlisted_domains"]:
        assert demo_web.site_for(unlisted["domain"]) is None
        assert unlisted["domain"] not in listed


def _demo_fetch(web: SimulatedWeb, url: str) -> Reply:
    return fetch(web, url, timeout=5)


def test_demo_world_serves_what_world_yaml_says(demo_web: SimulatedWeb) -> None:
    from parsel import Selector

    demo_web.reset_sequences()
    for entry in load_world()["domains"]:
        domain, expected = entry["domain"], entry["expected"]
        if domain == "usaid.gov":
            assert demo_web.site_for("www.usaid.gov").at(1).delay == 30  # type: ignore[union-attr]
            continue
        start = entry["start_url"]
        if expected["site"] == "unreachable":
            with pytest.raises(OSError, match="connection_refused"):
                _demo_fetch(demo_web, start)
            continue
        home = _demo_fetch(demo_web, start)
        if expected["site"] == "redirect":
            assert home.status == 301 and home.headers["location"] == entry["redirect_to"]
            continue
        if expected["site"] == "error":
            assert home.status >= 400
            continue
        assert home.status == 200, domain
        facts = entry["homepage"]
        sel = Selector(text=home.text)
        assert sel.xpath("string(//title)").get() == facts["title"], domain
        assert sel.xpath("/html/@lang").get() == facts["lang"], domain
        assert bool(sel.css("script#_fed_an_ua_tag")) == facts["dap"], domain
        if entry.get("plan_url"):
            if domain == "transportation.gov":
                assert _demo_fetch(demo_web, entry["plan_url"]).status == 503  # flaky first
            plan = _demo_fetch(demo_web, entry["plan_url"])
            assert plan.status == 200, domain
            text = (
                "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(plan.body)).pages)
                if entry["plan_format"] == "pdf"
                else plan.text
            )
            assert "Customer Service Plan" in text, domain
            day = entry["plan_published"]
            assert time.strftime("%B", time.strptime(day, "%Y-%m-%d")) in text, domain
            has_standards = "Service Standards" in text
            assert has_standards == ("service_standards" not in entry.get("plan_missing", [])), (
                domain
            )
        for dead in entry.get("dead_links", []):
            assert _demo_fetch(demo_web, dead).status == 404, dead
        if expected["plan"] == "no-open-page" and not entry.get("soft_404"):
            status = _demo_fetch(demo_web, entry["open_url"]).status
            assert status in (200, 404), domain
            if entry["open_url"].endswith("/open"):
                assert status == 404, domain
    demo_web.reset_sequences()


def test_demo_rdap(demo_web: SimulatedWeb) -> None:
    base = "https://rdap.cloudflareregistry.com/rdap/domain/"
    reply = _demo_fetch(demo_web, base + "consumerfinance.gov")
    assert reply.headers["content-type"] == "application/rdap+json"
    data = json.loads(reply.body)
    assert data["objectClassName"] == "domain" and data["ldhName"] == "consumerfinance.gov"
    events = {e["eventAction"]: e["eventDate"] for e in data["events"]}
    assert events["registration"].startswith("2011-07-18")
    assert {"rdapConformance", "handle", "status", "entities", "nameservers", "notices"} <= set(
        data
    )
    assert json.loads(_demo_fetch(demo_web, base + "USDA.GOV").body)["ldhName"] == "usda.gov"
    missing = _demo_fetch(demo_web, base + "newprogram2011.gov")
    assert missing.status == 404 and json.loads(missing.body)["errorCode"] == 404
    limited = _demo_fetch(demo_web, base + "ibab.gov")
    assert limited.status == 429 and limited.headers["retry-after"] == "1"
    with pytest.raises(json.JSONDecodeError):
        json.loads(_demo_fetch(demo_web, base + "jwod.gov").body)
    world = {e["domain"]: e for e in load_world()["domains"]}
    for domain, entry in world.items():
        if entry["rdap"]["answer"] == "ok":
            page = demo_web.site_for("rdap.cloudflareregistry.com").at(1).pages  # type: ignore[union-attr]
            body = json.loads(page[f"/rdap/domain/{domain}"].body)
            reg = next(e for e in body["events"] if e["eventAction"] == "registration")
            assert reg["eventDate"][:10] == entry["rdap"]["registered"], domain


def test_demo_epoch_two(demo_web: SimulatedWeb) -> None:
    try:
        demo_web.set_epoch(2)
        with pytest.raises(OSError, match="connection_refused"):
            _demo_fetch(demo_web, "https://www.commerce.gov/")
        assert "OPM Customer Service Plan" in _demo_fetch(demo_web, "https://www.opm.gov/open").text
        assert _demo_fetch(demo_web, "https://www.va.gov/open").status == 200
    finally:
        demo_web.set_epoch(1)
    assert _demo_fetch(demo_web, "https://www.va.gov/open").status == 404
    assert _demo_fetch(demo_web, "https://www.commerce.gov/").status == 200


def test_demo_is_small() -> None:
    total = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file())
    assert total < 1_000_000


# ----------------------------------------------------------------------------- CLI


@pytest.mark.integration  # the simulated web's own process
def test_cli_serves_until_interrupted(tmp_path: Path) -> None:
    (tmp_path / "cli.yaml").write_text("hosts: [www.cli.gov]\npages: {/: {title: CLI}}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simweb", "--sites", str(tmp_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        port = int(match.group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "http://www.cli.gov/")
        assert b"<title>CLI</title>" in conn.getresponse().read()
        conn.close()
    finally:
        proc.send_signal(2)  # SIGINT, like Ctrl-C
        proc.wait(10)
    assert proc.returncode == 0


# ----------------------------------------------------------------------------- Scrapy


SPIDER = """
import json
import sys

import scrapy
from scrapy.crawler import CrawlerProcess

OUT, URLS = sys.argv[1], sys.argv[2:]


def write(record):
    with open(OUT, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\\n")


class Probe(scrapy.Spider):
    name = "probe"

    async def start(self):
        for url in URLS:
            yield scrapy.Request(
                url,
                callback=self.parse,
                errback=self.failed,
                dont_filter=True,
                meta={"handle_httpstatus_all": True, "dont_redirect": True},
            )

    def parse(self, response):
        write({
            "url": response.url,
            "status": response.status,
            "title": response.css("title::text").get(),
            "location": response.headers.get("Location", b"").decode(),
            "proxy_status": response.headers.get("Proxy-Status", b"").decode(),
        })

    def failed(self, failure):
        write({
            "url": failure.request.url,
            "error": type(failure.value).__name__,
            "message": str(failure.value),
        })


process = CrawlerProcess(settings={
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
    "ROBOTSTXT_OBEY": False,
    "RETRY_ENABLED": False,
    "DOWNLOAD_TIMEOUT": 10,
    "USER_AGENT": "govaudit-test (+https://example.invalid)",
})
process.crawl(Probe)
process.start()
"""


@pytest.mark.integration
def test_real_scrapy_spider_through_the_simulated_web(web: SimulatedWeb, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    script = tmp_path / "probe.py"
    script.write_text(SPIDER)
    urls = [
        "http://www.beta.gov/some/page",  # http host
        "https://www.alpha.gov/",  # https host through CONNECT + TLS
        "https://www.alpha.gov/open/",
        "http://www.alpha.gov/open",  # redirect to https, not followed
        "https://www.nowhere.gov/",  # CONNECT refused: dns_error
        "http://www.nowhere.gov/",  # plain http: 502 with Proxy-Status
    ]
    env = {**os.environ, **web.proxy_env()}
    proc = subprocess.run(
        [sys.executable, str(script), str(out), *urls],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    results = {r["url"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert results["http://www.beta.gov/some/page"]["status"] == 200
    assert results["http://www.beta.gov/some/page"]["title"] == "Soft"
    assert results["https://www.alpha.gov/"]["title"] == "Alpha home"
    assert results["https://www.alpha.gov/open/"]["title"] == "Open Government"
    redirect = results["http://www.alpha.gov/open"]
    assert (redirect["status"], redirect["location"]) == (301, "https://www.alpha.gov/open")
    tunnel = results["https://www.nowhere.gov/"]
    assert tunnel["error"] == "TunnelError"
    assert "'status': 502" in tunnel["message"] and "dns_error" in tunnel["message"]
    plain = results["http://www.nowhere.gov/"]
    assert (plain["status"], plain["proxy_status"]) == (502, "simweb; error=dns_error")
    served = [r for r in web.requests() if r.method != "CONNECT" and not r.error]
    assert served and all(r.user_agent.startswith("govaudit-test") for r in served)
    assert {(r.host, r.scheme) for r in served} >= {
        ("www.beta.gov", "http"),
        ("www.alpha.gov", "https"),
    }


def test_stop_is_idempotent_and_start_twice_fails(simulated_web_factory: Any) -> None:
    web = simulated_web_factory({"s": {"hosts": ["www.s.gov"]}})
    with pytest.raises(RuntimeError):
        web.start()
    web.stop()
    web.stop()
    with pytest.raises(RuntimeError):
        _ = web.port


def test_stop_with_open_connections(simulated_web_factory: Any) -> None:
    web = simulated_web_factory({"s": {"hosts": ["www.s.gov"], "delay": 30}})
    result: list[BaseException] = []

    def slow() -> None:
        try:
            fetch(web, "http://www.s.gov/", timeout=20)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    web.stop()
    thread.join(10)
    assert time.monotonic() - t0 < 8
    assert result  # the client saw the connection close
