"""`govaudit report`: the static HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from govaudit.app import App, fail_input, file_option, pass_app


@click.command()
@file_option(
    "--policy",
    "A policy laid over seeds/policy.toml: its guideline checks make the Guidelines page "
    "(e.g. seeds/policies/m-23-22.toml).",
)
@click.option(
    "--run", "run_id", type=int, help="Crawl run to report (default: the newest finished)."
)
@click.option("--audit-run", "audit_run_id", type=int, help="Audit run (default: the newest).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the static report into.",
)
@pass_app
def report(
    app: App, policy: Path | None, run_id: int | None, audit_run_id: int | None, out_dir: Path
) -> None:
    """Render the static HTML report (opens from file://, works offline).

    Prints the absolute path of index.html. Pages: overview, agencies, freeze, plans,
    inventory, changes, guidelines, methodology, and CSV/JSON downloads.
    """
    from audit.export import NoData
    from reports.render import render_report

    app.use_seeds(policy)

    try:
        index = render_report(
            app.db,
            out_dir,
            run_id=run_id,
            audit_run_id=audit_run_id,
            policy=app.policy,
            agencies=app.agencies,
        )
    except NoData as exc:
        fail_input(str(exc))
    click.echo(str(index))
