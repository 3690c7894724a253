"""A small simulated .gov web with sites of known properties, and a way to crawl it.

Every test crawl runs the real `govaudit` command in a subprocess with the simulated web's
proxy set, so traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from simweb.server import SimulatedWeb

GOVAUDIT = str(Path(sys.executable).parent / "govaudit")

FOOTER = """
<footer>
 <a href="/privacy">Privacy Policy</a> <a href="/accessibility">Accessibility</a>
 <a href="/foia">FOIA</a> <a href="/no-fear">No FEAR Act</a>
 <a href="https://www.usa.gov/">USA.gov</a> <a href="/about">About Us</a>
 <a href="/contact">Contact</a> <a href="/open">Open Government</a>
</footer>"""

ALPHA_HOME = f"""<!doctype html><html lang="en"><head><title>Alpha Agency</title>
<meta name="description" content="The alpha agency">
<link rel="canonical" href="https://www.alpha.gov/">
<script src="https://dap.digitalgov.gov/Universal-Federated-Analytics-Min.js?agency=A"
 id="_fed_an_ua_tag"></script></head>
<body><section class="usa-banner">An official website of the United States government</section>
<form role="search" action="/search"><input type="search" name="q"></form>
<a href="/private/secret">Private</a> <a href="/missing">Gone</a>
<a href="/docs/one">One</a>
<a href="http://169.254.169.254/latest/meta-data/">meta</a> <a href="http://localhost/">local</a>
<a href="http://10.0.0.5/">ten</a> <a href="mailto:x@alpha.gov">mail</a>
<a href="javascript:alert(1)">js</a> <a href="ftp://ftp.alpha.gov/">ftp</a>
<a href="https://data.alpha.gov/">data</a> <a href="https://newthing.gov/">new</a>
<a href="https://www.beta.gov/">beta</a> <a href="https://www.example.com/">elsewhere</a>
{FOOTER}</body></html>"""

PROSE = (
    "<p>The agency serves the public with programs, grants, data and guidance. Find "
    "services, read news and reports, contact our offices, and learn about our mission "
    "and the people we serve across the country.</p>"
)

REGISTRY_DOMAINS = [
    "alpha.gov",
    "beta.gov",
    "gamma.gov",
    "delta.gov",
    "epsilon.gov",
    "zeta.gov",
    "eta.gov",
    "theta.gov",
]


# /open pages that cannot be checked (issue 10, case 5): agency -> primary domain. Not in
# REGISTRY_DOMAINS: only the /open tests crawl them.
OPEN_UNCHECKABLE = {"iota.gov": "Iota Agency", "kappa.gov": "Kappa Agency"}
# An application shell: the same page for every path, its content drawn by JavaScript.
SCRIPT_SHELL = (
    '<!doctype html><html lang="en"><head><title>Kappa Agency</title>'
    '<script src="/static/js/main.3f2a.js" defer></script></head><body>'
    "<noscript>You need to enable JavaScript to run this app.</noscript>"
    '<div id="root"></div></body></html>'
)


def sites() -> dict[str, dict[str, Any]]:
    page = "<html><head><title>{t}</title></head><body>{b}</body></html>"
    return {
        "alpha": {
            "hosts": ["alpha.gov", "www.alpha.gov"],
            "https_redirect": True,
            "redirect_host": {"alpha.gov": "www.alpha.gov"},
            "headers": {"Strict-Transport-Security": "max-age=31536000"},
            "robots": "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n"
            "Sitemap: https://www.alpha.gov/sitemap.xml\n",
            "pages": {
                "/": {"body": ALPHA_HOME},
                "/sitemap.xml": {"body_file": "sitemap.xml"},
                "/.well-known/security.txt": {
                    "text": "Contact: mailto:sec@alpha.gov\nPolicy: https://www.alpha.gov/vdp\n"
                },
                "/docs/one": {"body": page.format(t="One", b='<a href="/docs/two">Two</a>')},
                "/docs/two": {"body": page.format(t="Two", b='<a href="/docs/three">3</a>')},
                "/docs/three": {"body": page.format(t="Three", b="deep")},
                "/private/secret": {"body": page.format(t="Secret", b="no")},
                **{
                    p: {"title": p.strip("/")}
                    for p in (
                        "/privacy",
                        "/accessibility",
                        "/foia",
                        "/no-fear",
                        "/about",
                        "/contact",
                        "/open",
                        "/search",
                    )
                },
            },
        },
        "beta": {
            "hosts": ["beta.gov", "www.beta.gov"],
            "schemes": ["http"],
            "pages": {"/": {"body": page.format(t="Beta (http only)", b=PROSE)}},
        },
        "gamma": {
            "hosts": ["gamma.gov", "www.gamma.gov"],
            "redirect_host": {
                "gamma.gov": "https://www.alpha.gov",
                "www.gamma.gov": "https://www.alpha.gov",
            },
        },
        "delta": {"hosts": ["delta.gov", "www.delta.gov"], "down": True},
        "epsilon": {"hosts": ["epsilon.gov", "www.epsilon.gov"], "status_all": 403},
        "zeta": {
            "hosts": ["zeta.gov", "www.zeta.gov"],
            "catch_all": {"status": 200, "body": page.format(t="Zeta home", b=PROSE)},
            "pages": {"/": {"body": page.format(t="Zeta home", b=PROSE)}},
        },
        "iota": {
            "hosts": ["iota.gov", "www.iota.gov"],
            "https_redirect": True,
            "redirect_host": {"iota.gov": "www.iota.gov"},
            "pages": {
                "/": {"body": page.format(t="Iota Agency", b=PROSE)},
                # The Open Government page is hosted by a contractor, off the .gov domain.
                "/open": {"redirect": "https://open.example.com/iota", "status": 302},
            },
        },
        "kappa": {
            "hosts": ["kappa.gov", "www.kappa.gov"],
            "https_redirect": True,
            "redirect_host": {"kappa.gov": "www.kappa.gov"},
            "catch_all": {"status": 200, "body": SCRIPT_SHELL},
            "pages": {"/": {"body": SCRIPT_SHELL}},
        },
        "eta": {
            "hosts": ["eta.gov", "www.eta.gov"],
            "pages": {
                "/": {"body": page.format(t="Apache2 Debian Default Page: It works", b="It works!")}
            },
        },
    }


FILES = {
    "sitemap.xml": '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
    'sitemap/0.9"><url><loc>https://www.alpha.gov/</loc></url><url><loc>'
    "https://www.alpha.gov/about</loc></url><url><loc>https://www.alpha.gov/"
    "docs/one</loc></url></urlset>",
}


def registry_csv(path: Path, domains: list[str], agency: str = "Test Agency") -> Path:
    lines = [
        "Domain name,Domain type,Organization name,Suborganization name,City,State,"
        "Security contact email"
    ]
    lines += [f"{d},Federal - Executive,{agency},,Washington,DC,(blank)" for d in domains]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def govaudit(
    web: SimulatedWeb | None,
    db_url: str,
    *args: str,
    check: bool = True,
    timeout: float = 240,
    **popen: Any,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(web.proxy_env() if web else {}), "GOVAUDIT_DB": db_url}
    result = subprocess.run(
        [GOVAUDIT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **popen,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"govaudit {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def export(web: SimulatedWeb | None, db_url: str, what: str, *args: str) -> list[dict[str, Any]]:
    out = govaudit(web, db_url, "export", what, "--format", "json", *args).stdout
    return json.loads(out)


def invoke_here(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """`govaudit --db DB_URL ARGS` in this process, through click's test runner."""
    from govaudit.cli import cli

    return CliRunner().invoke(cli, ["--db", db_url, *args], env=env, catch_exceptions=False)


def govaudit_here(db_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`govaudit ARGS` run in this process (click's test runner), answered as `govaudit` is.

    For the commands that only read or write the database (export, inventory lists,
    guidelines, prune): a process start costs more CPU than such a command itself, and the
    process is not what the tests that use this are about. Nothing is fetched: no proxy.
    """
    result = invoke_here(db_url, *args)
    done = subprocess.CompletedProcess(
        ["govaudit", "--db", db_url, *args], result.exit_code, result.stdout, result.stderr
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"govaudit {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def export_here(db_url: str, what: str, *args: str) -> list[dict[str, Any]]:
    """`export` (JSON) of `govaudit_here`: the same rows as `export`, without a process."""
    return json.loads(govaudit_here(db_url, "export", what, "--format", "json", *args).stdout)
