"""``python -m simweb``: serve a simulated web as an HTTP proxy until Ctrl-C.

Example::

    python -m simweb --sites simweb/demo/sites --port 8899 --dns-port 8853
    # it prints the line to paste: export http_proxy=... https_proxy=... SSL_CERT_FILE=...
    curl -x http://127.0.0.1:8899 http://www.nsf.gov/
    curl -x http://127.0.0.1:8899 --cacert /tmp/simweb-.../simweb-ca.pem https://www.ssa.gov/open/
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence

from simweb.dns_server import DEMO_DNS_FILE, SimulatedDNS, ZoneError
from simweb.server import RequestRecord, SimulatedWeb
from simweb.sites import DEMO_SITES_DIR, SiteError


def export_line(web: SimulatedWeb) -> str:
    """`export http_proxy=... https_proxy=... SSL_CERT_FILE=...` for this instance."""
    env = web.proxy_env()
    names = ("http_proxy", "https_proxy", "SSL_CERT_FILE")
    return "export " + " ".join(f"{name}={shlex.quote(env[name])}" for name in names)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simweb",
        description="Serve virtual .gov web sites through an HTTP proxy on 127.0.0.1.",
    )
    parser.add_argument(
        "--sites",
        action="append",
        metavar="DIR",
        help=f"directory (or file) of site YAML files; repeatable (default: {DEMO_SITES_DIR})",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--epoch", type=int, default=1, help="world epoch to serve (default 1)")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    parser.add_argument(
        "--dns-port",
        type=int,
        default=0,
        help="UDP and TCP port of the world's DNS server (default: a free one)",
    )
    parser.add_argument(
        "--dns",
        metavar="FILE",
        help=f"zones of the DNS server, YAML (default: {DEMO_DNS_FILE})",
    )
    args = parser.parse_args(argv)

    def show(record: RequestRecord) -> None:
        if record.method == "CONNECT":
            target = record.path
        else:
            default = 80 if record.scheme == "http" else 443
            port = "" if record.port == default else f":{record.port}"
            target = f"{record.scheme}://{record.host}{port}{record.path}"
        note = f" ({record.error})" if record.error else ""
        print(f"{record.status} {record.method} {target}{note}", flush=True)

    try:
        web = SimulatedWeb.from_directory(
            args.sites or [DEMO_SITES_DIR],
            port=args.port,
            epoch=args.epoch,
            on_record=None if args.quiet else show,
        )
    except SiteError as exc:
        print(f"simweb: {exc}", file=sys.stderr)
        return 2
    try:
        dns = SimulatedDNS.from_file(args.dns or DEMO_DNS_FILE, port=args.dns_port)
    except ZoneError as exc:
        print(f"simweb: {exc}", file=sys.stderr)
        return 2
    web.start()
    dns.start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(
        f"simweb: HTTP proxy {web.proxy_url} serving {len(web.sites)} sites "
        f"({len(web.hosts())} hosts), epoch {web.epoch}",
        flush=True,
    )
    print(f"simweb: CA certificate {web.ca_pem_path}", flush=True)
    print(
        f"simweb: DNS {dns.nameserver} (UDP and TCP) serving {len(dns.zone_names())} zones; "
        f"govaudit dns --nameserver {dns.nameserver}",
        flush=True,
    )
    # The line a shell needs to crawl through the proxy with certificates verified: without
    # SSL_CERT_FILE every https site reads "certificate untrusted" (a new CA at each start).
    print("simweb: to use it, run this line in your shell:", flush=True)
    print(export_line(web), flush=True)
    hosts = web.hosts()
    example = next((h for h in hosts if h.startswith("www.")), hosts[0] if hosts else "")
    print(
        f"simweb: try  curl -x {web.proxy_url} --cacert {web.ca_pem_path} https://{example}/"
        "  (Ctrl-C to stop)",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        dns.stop()
        web.stop()
    print("simweb: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
