"""`govaudit audit`: every rule over the stored observations; the freeze table."""

from __future__ import annotations

from pathlib import Path

import click

from govaudit.app import App, fail_input, file_option
from govaudit.output import emit


@click.group(invoke_without_command=True)
@file_option("--policy", "A policy TOML laid over seeds/policy.toml.")
@file_option("--waivers", "Use this waivers.csv.")
@click.option(
    "--run", "run_id", type=int, help="Audit this crawl run (default: the newest finished)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_context
def audit(
    ctx: click.Context, policy: Path | None, waivers: Path | None, run_id: int | None, fmt: str
) -> None:
    """Run every audit rule over the stored observations and store the findings.

    Rules: freeze-registration, late-waiver, orphan-waiver, unlisted-domain,
    open-page-missing, plan-missing, plan-incomplete, plan-late, site-unreachable, and
    guideline:<id> for each failure of the policy's [[guidelines.checks]].
    Changing the policy (or trying a draft with --policy draft.toml) and re-running changes
    the findings without re-crawling.
    """
    import json as _json
    from collections import Counter

    from audit.audit_run import run_audit

    app: App = ctx.obj
    app.use_seeds(policy, waivers)
    if ctx.invoked_subcommand is not None:
        return
    from audit.config_files import SEEDS_DIR

    waivers_file = str(app.waivers_path or SEEDS_DIR / "waivers.csv")
    from audit.run_selection import NoData

    try:
        audit_id, drafts, data = run_audit(app.db, app.policy, app.waivers, run_id, waivers_file)
    except NoData as exc:
        fail_input(str(exc))
    counts = Counter((d.rule, d.severity) for d in drafts)
    if fmt == "json":
        click.echo(
            _json.dumps(
                {
                    "audit_run": audit_id,
                    "crawl_run": data.crawl_run_id,
                    "findings": len(drafts),
                    "by_rule": {f"{r}/{s}": n for (r, s), n in sorted(counts.items())},
                },
                indent=2,
            )
        )
        return
    seen = _seen_as(app, data.crawl_run_id or data.open_run_id)
    click.echo(
        f"audit run {audit_id} (crawl run {data.crawl_run_id or '-'}, "
        f"/open run {data.open_run_id or '-'}{f', {seen}' if seen else ''}): "
        f"{len(drafts)} findings"
    )
    rows = [{"rule": r, "severity": s, "findings": n} for (r, s), n in sorted(counts.items())]
    if rows:
        emit(rows, ["rule", "severity", "findings"], "table")


def _seen_as(app: App, run_id: int | None) -> str | None:
    """ "as archived near DATE" for an audit of a crawl of web archives, else None."""
    from audit.models import CrawlRun
    from audit.run_selection import seen_as

    if run_id is None:
        return None
    with app.db.session() as session:
        return seen_as(session.get(CrawlRun, run_id))


@audit.command("freeze")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--all", "show_all", is_flag=True, help="Also list domains classified outside or unknown."
)
@click.pass_obj
def audit_freeze(app: App, fmt: str, show_all: bool) -> None:
    """Print the freeze table alone: each domain's classification per freeze window."""
    import json as _json

    from audit.audit_run import gather

    with app.db.session() as session:
        data = gather(session, app.policy, app.waivers)
    rows = [
        r.as_json()
        for r in data.freeze_rows
        if show_all or r.classification.classification in ("in-freeze", "possibly-in-freeze")
    ]
    if fmt == "json":
        click.echo(_json.dumps(rows, indent=2))
        return
    emit(
        rows,
        [
            "domain",
            "agency",
            "window",
            "classification",
            "waiver",
            "registration_date",
            "interval",
            "basis",
        ],
        "table",
    )
