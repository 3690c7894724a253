"""`govaudit demo`: the main job against the simulated .gov web."""

from __future__ import annotations

import time
from pathlib import Path

import click

from govaudit.app import App, fail_input
from govaudit.commands.audit import audit
from govaudit.commands.crawl import crawl
from govaudit.commands.rdap import rdap
from govaudit.registry_files import load_files


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

    Starts the simulated web on a free local port, loads the demo registry snapshots,
    crawls every demo domain and /open page, asks RDAP, audits, then crawls and audits the
    world again after it changed, and renders the report. Prints the absolute path of the
    report's index.html on its own line.
    """
    import os
    import shutil

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

    with SimulatedWeb.demo() as web:
        os.environ.update(web.proxy_env())  # the crawler processes inherit the proxy
        step(f"simulated .gov web on {web.proxy_url} ({len(web.hosts())} hosts)")
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
        for epoch in (1, 2):
            web.set_epoch(epoch)
            step(f"crawl {epoch} of 2 (the world {'as first seen' if epoch == 1 else 'later'})")
            try:
                ctx.invoke(crawl, workers=workers)
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
            step("audit")
            ctx.invoke(audit, fmt="table")
    step("report")
    from audit.seeds import SEEDS_DIR, SeedError, load_policy
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
