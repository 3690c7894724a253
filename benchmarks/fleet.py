"""A simulated fleet of .gov sites for the benchmarks, served by several processes.

Every domain is the same small site (the four endpoints with http->https and bare->www
redirects, robots.txt, sitemap.xml, security.txt, /open and N linked pages), so one site is
compiled once and shared by every domain: a 16,539-domain world is built in about a second.

    python -m benchmarks.fleet --domains FILE --pages 25 --delay 0.1 [--port P] [--hosts]

serves the fleet on 127.0.0.1 with SO_REUSEPORT (start several on the same port and the
kernel spreads the connections over them), prints ``port N`` once listening, and serves until
SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import signal
import sys
import threading
from pathlib import Path

from simweb.server import SimulatedWeb
from simweb.sites import Site

TEMPLATE_DOMAIN = "template.gov"


def page_links(pages: int, start: int) -> str:
    """Every page links to the homepage, /open and a few pages (the crawl dedups)."""
    chosen = [(start + k) % pages for k in range(min(pages, 5))] if pages else []
    return "".join(f'<a href="/p{i}">Page {i}</a> ' for i in chosen)


def template_site(pages: int, delay: float) -> Site:
    home_links = "".join(f'<a href="/p{i}">Page {i}</a> ' for i in range(pages))
    prose = (
        "<p>The agency serves the public with programs, grants, data and guidance. Find "
        "services, read news and reports, and contact our offices.</p>"
    )
    nav = '<a href="/">Home</a> <a href="/open">Open Government</a> <a href="/private/x">P</a>'

    def html(title: str, body: str) -> str:
        return (
            f"<!doctype html><html lang='en'><head><title>{title}</title>"
            f"<meta name='description' content='{title}'></head><body>"
            f"<header>{nav}</header><main><h1>{title}</h1>{prose}{body}</main></body></html>"
        )

    page_defs = {
        "/": {"body": html("Agency home", home_links)},
        "/open": {
            "body": html(
                "Open Government",
                '<a href="/open/customer-service-plan">Customer Service Plan</a>',
            )
        },
        "/sitemap.xml": {
            "body": (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                "<url><loc>/</loc></url></urlset>"
            ),
            "content_type": "application/xml",
        },
        "/.well-known/security.txt": {
            "text": "Contact: mailto:security@example.gov\nExpires: 2030-01-01T00:00:00Z\n"
        },
    }
    for i in range(pages):
        page_defs[f"/p{i}"] = {"body": html(f"Page {i}", page_links(pages, i + 1))}
    return Site.from_dict(
        {
            "hosts": [TEMPLATE_DOMAIN, f"www.{TEMPLATE_DOMAIN}"],
            "https_redirect": True,
            "redirect_host": {TEMPLATE_DOMAIN: f"www.{TEMPLATE_DOMAIN}"},
            "delay": delay,
            "robots": "User-agent: *\nDisallow: /private/\n",
            "pages": page_defs,
        },
        name="template",
    )


def fleet_sites(domains: list[str], pages: int, delay: float) -> list[Site]:
    """One site per domain, sharing the template's compiled pages."""
    template = template_site(pages, delay)
    base = template.at(1)
    out = []
    for domain in domains:
        hosts = (domain, f"www.{domain}")
        state = dataclasses.replace(base, hosts=hosts, redirect_host={domain: f"www.{domain}"})
        out.append(Site(name=domain, hosts=hosts, states=((0, state),)))
    return out


def website_sites(hosts: list[str], pages: int, delay: float) -> list[Site]:
    """One site per host (a website of the inventory: its https and http endpoints, http
    redirecting to https on the same host), sharing the template's compiled pages."""
    base = template_site(pages, delay).at(1)
    out = []
    for host in hosts:
        state = dataclasses.replace(base, hosts=(host,), redirect_host={})
        out.append(Site(name=host, hosts=(host,), states=((0, state),)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet")
    parser.add_argument("--domains", type=Path, required=True, help="one domain per line")
    parser.add_argument(
        "--hosts", action="store_true", help="the file lists websites (one site per host)"
    )
    parser.add_argument("--pages", type=int, default=25)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    # Stop with the benchmark that started us, even when it is killed (a timed-out test).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    domains = [d.strip() for d in args.domains.read_text().split() if d.strip()]
    make = website_sites if args.hosts else fleet_sites
    web = SimulatedWeb(
        make(domains, args.pages, args.delay),
        port=args.port,
        reuse_port=True,
        keep_log=False,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    web.start()
    print(f"port {web.port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
