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
@click.option(
    "--wacz",
    "wacz",
    is_flag=True,
    help="Also package every WARC record the findings cite as evidence.wacz in the report "
    "folder (replayable in ReplayWeb.page); the crawl must have run with --warc.",
)
@pass_app
def report(
    app: App,
    policy: Path | None,
    run_id: int | None,
    audit_run_id: int | None,
    out_dir: Path,
    wacz: bool = False,
) -> None:
    """Render the static HTML report (opens from file://, works offline).

    Prints the absolute path of index.html. Pages: overview, agencies, freeze, plans,
    inventory, changes, guidelines, methodology, and CSV/JSON downloads.
    """
    from audit.run_selection import NoData
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
    if wacz:
        _evidence_wacz(app, out_dir / "evidence.wacz", audit_run_id)
    click.echo(str(index))


def _evidence_wacz(app: App, target: Path, audit_run_id: int | None) -> None:
    """Every record the reported audit's findings cite, as one WACZ file."""
    from sqlalchemy import select

    from audit.models import Finding
    from audit.run_selection import NoData, latest_audit
    from audit.warc_citations import CitationIndex, finding_run_ids
    from govaudit.evidence_wacz import WaczError, read_records, write_wacz

    with app.db.session() as session:
        try:
            audit = latest_audit(session, audit_run_id)
        except NoData as exc:
            fail_input(f"--wacz: {exc}")
        findings = list(session.scalars(select(Finding).where(Finding.audit_run_id == audit.id)))
        index = CitationIndex(session, finding_run_ids(session, findings))
        cited = [record for finding in findings for record in index.cited(finding)]
    records, problems = read_records(cited)
    for problem in problems:
        click.echo(f"govaudit: warning: --wacz: {problem}", err=True)
    if not records:
        click.echo("govaudit: warning: --wacz: no finding cites an archived record", err=True)
        return
    try:
        pages = write_wacz(
            records, target, f"govaudit audit {audit.id}", "WARC records the findings cite"
        )
    except (WaczError, OSError) as exc:
        fail_input(f"--wacz {target}: {exc}")
    click.echo(f"wacz: {target.resolve()} ({len(records)} records, {pages} pages)", err=True)
