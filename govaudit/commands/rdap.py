"""`govaudit rdap`: registration dates from the registry's RDAP service."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from audit.crawl_settings import BY_NAME
from govaudit.app import App, domain_options, fail_input, pass_app
from govaudit.output import ProgressLine
from govaudit.rdap_lookup import rdap_base_url, rdap_candidates, unknown_domains
from govaudit.registry_files import ensure_registry

IANA_BOOTSTRAP_URL = "https://data.iana.org/rdap/dns.json"


def refresh_bootstrap(app: App, url: str) -> Path:
    """Refresh the IANA RDAP bootstrap copy (RFC 9224) in the data directory, not the install.

    Fetched with the environment's proxy settings and normal TLS verification; written only
    when it parses and names an RDAP service for .gov, so a bad download changes nothing.
    """
    import json as _json
    import os
    import urllib.request

    from audit.config_files import writable_seed_path

    target = writable_seed_path(
        str(app.policy.section("rdap").get("bootstrap_file", "rdap-dns.json"))
    )
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            raw = answer.read(5_000_000)
        data = _json.loads(raw)
        gov = [u for tlds, urls in data["services"] if "gov" in tlds for u in urls]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail_input(f"{url}: not a usable RDAP bootstrap file ({exc})")
    if not gov:
        fail_input(f"{url}: the bootstrap file names no RDAP service for .gov")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, target)
    return target


DOWNLOAD_TIMEOUT = BY_NAME["download_timeout"]


@click.command()
@click.option(
    "--domain", "domains", multiple=True, metavar="D", help="Ask only for D (repeatable)."
)
@click.option(
    "--only-unknown",
    is_flag=True,
    help="Skip domains that already have a conclusive cached answer.",
)
@click.option(
    "--rdap-url",
    metavar="URL",
    help="RDAP base URL (default: the IANA bootstrap for .gov in seeds/).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=DOWNLOAD_TIMEOUT.minimum),
    help="Download timeout, seconds (default: the policy's [crawl] download_timeout).",
)
@click.option(
    "--refresh-bootstrap",
    "refresh",
    is_flag=True,
    help="First download the current IANA bootstrap file into the data directory "
    "(GOVAUDIT_DATA_DIR, default ~/.local/share/govaudit; the GOVAUDIT_SEEDS folder when one "
    "is named) as rdap-dns.json, which then wins over the bundled seeds/rdap-dns.json.",
)
@click.option(
    "--bootstrap-url",
    default=IANA_BOOTSTRAP_URL,
    metavar="URL",
    help=f"Where --refresh-bootstrap reads it (default {IANA_BOOTSTRAP_URL}).",
)
@click.option(
    "--warc",
    "warc_dir",
    type=click.Path(file_okay=False, writable=True),
    metavar="DIR",
    help="Write every RDAP request and answer to WARC files in DIR.",
)
@pass_app
def rdap(
    app: App,
    domains: tuple[str, ...],
    only_unknown: bool,
    rdap_url: str | None,
    timeout: float | None,
    refresh: bool,
    bootstrap_url: str,
    warc_dir: str | None,
) -> None:
    """Ask the registry's RDAP service for each domain's registration date.

    Default: every domain of the newest snapshot, the unlisted .gov domains crawls found, and
    the waivers' domains. Answers are cached with their fetch time; 404 = not registered.
    """
    from audit.models import RdapResult
    from crawler.crawl_run import TaskSpec, create_run
    from govaudit.commands.crawl import warc_directory
    from govaudit.run_settings import run_settings

    # Read the seeds first: a bad file must be refused before anything is written.
    _ = app.policy, app.waivers
    if refresh:
        click.echo(f"rdap: bootstrap refreshed: {refresh_bootstrap(app, bootstrap_url)}", err=True)
    base = rdap_base_url(app, rdap_url)
    if domains:
        names = domain_options(domains)
        if only_unknown:
            names = unknown_domains(app, names)
        snapshot_id = None
    else:
        ensure_registry(app)
        snapshot_id, names = rdap_candidates(app, only_unknown)
    if not names:
        click.echo("rdap: nothing to ask")
        return
    settings = run_settings(
        ["rdap"],
        crawl=app.policy.crawl_settings.evolve({"download_timeout": timeout}),
        rdap_url=base,
        warc=bool(warc_dir),
        warc_dir=warc_directory(warc_dir) if warc_dir else None,
    )
    run_id = create_run(
        app.db, snapshot_id, settings, [TaskSpec("rdap", n, n, None) for n in names]
    )
    click.echo(f"rdap run {run_id}: {len(names)} domains from {base}", err=True)
    status = run_lookup(app, run_id, "rdap", RdapResult)
    if status != "finished":
        sys.exit(1)


def run_lookup(app: App, run_id: int, job: str, model: Any) -> str:
    """Crawl a one-job lookup run (`rdap`, `first-seen`) with a progress line, and print its
    answers counted by state (`model`'s `state` column); returns the run's status."""
    from sqlalchemy import func, select

    from crawler.crawl_run import execute

    line = ProgressLine(f"{job} run {run_id}")
    status = execute(app.db, run_id, [job], 1, app.verbose, on_tick=line)
    line.close()
    with app.db.session() as session:
        counts = dict(
            session.execute(
                select(model.state, func.count())
                .where(model.run_id == run_id)
                .group_by(model.state)
            ).all()
        )
    parts = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    click.echo(f"{job} run {run_id} {status}: {parts or 'no answers'}")
    return status
