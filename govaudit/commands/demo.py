"""`govaudit demo`: the main job against the simulated .gov web."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from govaudit.app import App, fail_input
from govaudit.archive_demo import archive_step
from govaudit.commands.audit import audit
from govaudit.commands.crawl import crawl
from govaudit.commands.dns import dns
from govaudit.commands.rdap import rdap
from govaudit.registry_files import load_files

# Browser pages at once (never two on one host): the demo's 50 pages in about half a minute.
DEMO_A11Y_CONCURRENCY = 4


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("govaudit-demo"),
    show_default=True,
    help="Folder for the demo's database and report (a previous demo's folder is replaced; "
    "any other non-empty folder is refused).",
)
@click.option("--workers", type=click.IntRange(min=1), help="Crawler processes per crawl.")
@click.pass_context
def demo(ctx: click.Context, out_dir: Path, workers: int | None) -> None:
    """The whole audit against the simulated .gov web, offline, in about a minute.

    Starts the simulated web (and its DNS) on free local ports, loads the demo registry
    snapshots, crawls every demo domain and /open page, asks RDAP and the DNS, audits, then
    crawls the world again after it changed, checks its pages' accessibility in Chromium,
    audits again, and renders the report. Without Chromium the accessibility check is
    skipped with one line saying so (the report's Accessibility page says how to enable it).
    Prints the absolute path of the report's index.html on its own line.
    """
    import os
    import shutil

    from simweb.dns_server import SimulatedDNS
    from simweb.server import SimulatedWeb
    from simweb.sites import DEMO_DIR

    app: App = ctx.obj
    seeds = DEMO_DIR / "seeds"
    out_dir = out_dir.resolve()
    marker = out_dir / ".govaudit-demo"
    if out_dir.exists() and any(out_dir.iterdir()):
        if not marker.exists():
            fail_input(
                f"--out {out_dir}: not empty and not a previous demo's folder; "
                "give a new or empty folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by govaudit demo; replaced by the next demo run\n")
    app.db_url = f"sqlite:///{out_dir / 'govaudit-demo.db'}"
    app.policy_path = app.policy_path or seeds / "policy.toml"
    app.agencies_path = app.agencies_path or seeds / "agencies.csv"
    app.waivers_path = app.waivers_path or seeds / "waivers.csv"
    started = time.monotonic()

    def step(message: str) -> None:
        click.echo(f"demo [{time.monotonic() - started:5.1f} s] {message}", err=True)

    with SimulatedWeb.demo() as web, SimulatedDNS.demo() as demo_dns:
        os.environ.update(web.proxy_env())  # the crawler processes inherit the proxy
        step(f"simulated .gov web on {web.proxy_url} ({len(web.hosts())} hosts)")
        step(f"simulated DNS on {demo_dns.nameserver} ({len(demo_dns.zone_names())} zones)")
        if load_files(
            app,
            sorted(seeds.glob("demo-federal-*.csv")),
            echo=lambda line: step(f"registry: {line}"),
        ):
            raise click.ClickException("the demo registry did not load")
        # Websites beyond www (issue 21): a demo source list with some junk rows.
        from govaudit.website_sources import load_source_files

        load_source_files(
            app,
            sorted(seeds.glob("demo-websites-*.csv")),
            echo=lambda line: step(f"websites: {line}"),
            warn=lambda line: None,
        )
        # Each crawl's WARC files make the demo's web archive (govaudit/archive_demo.py).
        warc_dirs = {epoch: out_dir / "warc" / f"epoch-{epoch}" for epoch in (1, 2)}
        for epoch in (1, 2):
            web.set_epoch(epoch)
            step(f"crawl {epoch} of 2 (the world {'as first seen' if epoch == 1 else 'later'})")
            try:
                ctx.invoke(crawl, workers=workers, warc_dir=str(warc_dirs[epoch]))
            except SystemExit as exc:
                if exc.code:
                    raise click.ClickException(f"demo crawl {epoch} did not finish") from exc
            step(f"website crawl {epoch} of 2")
            try:
                ctx.invoke(crawl, workers=workers, websites=True)
            except SystemExit as exc:
                if exc.code:
                    raise click.ClickException(
                        f"demo website crawl {epoch} did not finish"
                    ) from exc
            if epoch == 1:
                step("RDAP registration dates")
                ctx.invoke(rdap)
                step("email and DNS of every domain")
                ctx.invoke(dns, nameservers=(demo_dns.nameserver,), timeout=2.0)
            else:
                check_accessibility(app, web.ca_pem_path, step)
            step("audit")
            ctx.invoke(audit, fmt="table")
    archive_step(ctx, crawl, out_dir, warc_dirs, workers, step)
    step("report")
    from audit.config_files import SEEDS_DIR, SeedError
    from audit.policy_file import load_policy
    from reports.render import render_report

    # The same data with the second guideline set (OMB M-23-22), in a folder of its own;
    # each report links to the other from its Guidelines page.
    pack_file = SEEDS_DIR / "policies" / "m-23-22.toml"
    try:
        pack = load_policy(app.policy_path, more=[pack_file])
    except SeedError as exc:
        fail_input(str(exc))
    index = render_report(
        app.db,
        out_dir / "report",
        policy=app.policy,
        agencies=app.agencies,
        other_reports=[("OMB M-23-22 checks", "../report-m-23-22/guidelines.html")],
    )
    step("report with the OMB M-23-22 guideline checks")
    render_report(
        app.db,
        out_dir / "report-m-23-22",
        policy=pack,
        agencies=app.agencies,
        other_reports=[("M-11-24 task force figures", "../report/guidelines.html")],
    )
    step(f"done; database {out_dir / 'govaudit-demo.db'}")
    click.echo(str(index))


def check_accessibility(app: App, ca_pem: Path, step: Callable[[str], None]) -> None:
    """`govaudit a11y` over the crawl's pages, trusting the simulated web's CA; without
    Chromium (or certutil, to trust that CA) one line says so and the demo goes on."""
    import shutil

    from crawler.a11y import chromium_missing
    from govaudit.a11y_job import a11y_options, a11y_targets, create_a11y_run, execute_a11y_run
    from govaudit.job_units import one_line

    missing = chromium_missing() or (
        None
        if shutil.which("certutil")
        else "certutil not found: install Debian's libnss3-tools (apt-get install libnss3-tools)"
    )
    if missing:
        step(
            f"accessibility skipped: {missing}; "
            "the report's Accessibility page says how to enable it"
        )
        return
    snapshot_id, targets = a11y_targets(app, None)
    options = a11y_options(app, concurrency=DEMO_A11Y_CONCURRENCY, ca_bundle=ca_pem)
    run_id = create_a11y_run(app, snapshot_id, targets, options, {"demo": True})
    step(f"accessibility: {len(targets)} pages in Chromium with axe-core")
    try:
        counts = execute_a11y_run(app, run_id, options)
    except Exception as exc:  # the demo goes on to its report, as a `partial` run would
        step(f"accessibility failed: {one_line(exc)}; the report is made without it")
        return
    step(
        f"accessibility: {counts['checked']} checked, {counts['couldnt_check']} couldn't check, "
        f"{counts['failed']} failed, {counts['serious']} with serious or critical violations"
    )
