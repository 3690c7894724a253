"""`govaudit archive first-seen`: when a web archive first saw each domain."""

from __future__ import annotations

import sys

import click

from audit.crawl_settings import BY_NAME
from govaudit.app import App, domain_options, fail_input, pass_app

DOWNLOAD_TIMEOUT = BY_NAME["download_timeout"]


@click.group()
def archive() -> None:
    """Web archives as evidence (see also `govaudit crawl --archive URL --as-of DATE`)."""


@archive.command("first-seen")
@click.option(
    "--domain", "domains", multiple=True, metavar="D", help="Ask only for D (repeatable)."
)
@click.option(
    "--archive",
    "archives",
    multiple=True,
    metavar="URL",
    help="The archive to ask (repeatable; default the Wayback Machine, "
    "https://web.archive.org/web/); same forms as `crawl --archive`.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=DOWNLOAD_TIMEOUT.minimum),
    help="Download timeout, seconds (default: the policy's [crawl] download_timeout).",
)
@pass_app
def first_seen(
    app: App, domains: tuple[str, ...], archives: tuple[str, ...], timeout: float | None
) -> None:
    """Ask each archive's CDX server for each domain's earliest capture (any page of the
    domain or its subdomains) and store it: the domain existed by then, a "registered no
    later than" bound that `govaudit audit` uses for the freeze when RDAP has no date.

    Default: the domains that have no RDAP registration date (the newest snapshot's, the
    unlisted .gov domains crawls found, the waivers').
    """
    from sqlalchemy import select

    from audit.models import ArchiveFirstSeen, RdapResult
    from crawler.archive import DEFAULTS, WAYBACK_MACHINE, Archive, ArchiveConfigError
    from crawler.crawl_run import TaskSpec, create_run
    from govaudit.commands.rdap import run_lookup
    from govaudit.rdap_lookup import rdap_candidates
    from govaudit.registry_files import ensure_registry
    from govaudit.run_settings import run_settings

    _ = app.policy, app.waivers
    try:
        urls = [Archive.from_url(u).prefix for u in (archives or (WAYBACK_MACHINE,))]
    except ArchiveConfigError as exc:
        fail_input(str(exc))
    snapshot_id: int | None = None
    if domains:
        names = domain_options(domains)
    else:
        ensure_registry(app)
        snapshot_id, names = rdap_candidates(app, only_unknown=False)
        with app.db.session() as session:
            dated = set(
                session.scalars(
                    select(RdapResult.domain).where(RdapResult.registration.is_not(None))
                )
            )
        names = [n for n in names if n not in dated]
    if not names:
        click.echo("archive first-seen: nothing to ask")
        return
    archive_cfg = {**DEFAULTS, **app.policy.section("archive"), "urls": list(dict.fromkeys(urls))}
    settings = run_settings(
        ["first-seen"],
        crawl=app.policy.crawl_settings.evolve({"download_timeout": timeout}),
        archive=archive_cfg,
    )
    run_id = create_run(
        app.db, snapshot_id, settings, [TaskSpec("first-seen", n, n, None) for n in names]
    )
    click.echo(f"first-seen run {run_id}: {len(names)} domains, {', '.join(urls)}", err=True)
    status = run_lookup(app, run_id, "first-seen", ArchiveFirstSeen)
    with app.db.session() as session:
        for row in session.scalars(
            select(ArchiveFirstSeen)
            .where(ArchiveFirstSeen.run_id == run_id, ArchiveFirstSeen.state == "found")
            .order_by(ArchiveFirstSeen.domain)
        ):
            assert row.first_capture is not None
            click.echo(
                f"{row.domain}: first archived {row.first_capture.isoformat(timespec='seconds')} "
                f"({row.capture_url})"
            )
    if status != "finished":
        sys.exit(1)
