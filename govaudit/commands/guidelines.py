"""`govaudit guidelines`: the guideline checks of a policy judged on the stored crawl, per
check and per agency; `--compare OLD NEW` shows what would change between two drafts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from govaudit.app import App, fail_input, file_option
from govaudit.output import emit


def _load(path: Path) -> Any:
    from audit.config_files import SeedError
    from audit.policy_file import load_policy

    try:
        return load_policy(path)
    except SeedError as exc:
        fail_input(str(exc))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _for_table(rows: list[dict[str, Any]], share_keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**r, **{k: _pct(r.get(k)) for k in share_keys}} for r in rows]


@click.command()
@file_option("--policy", "A policy (or draft) whose [[guidelines.checks]] to judge.")
@click.option(
    "--compare",
    nargs=2,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OLD.toml NEW.toml",
    help="Judge two drafts and show, per check and per agency, what would change.",
)
@click.option("--run", "run_id", type=int, help="Crawl run to judge (default: the newest).")
@click.option(
    "--level",
    type=click.Choice(["domains", "websites"]),
    default="domains",
    show_default=True,
    help="Judge registered domains (the site crawl) or every website (the newest "
    "`crawl --websites`); only the checks whose `levels` include it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_context
def guidelines(
    ctx: click.Context,
    policy: Path | None,
    compare: tuple[Path, Path] | None,
    run_id: int | None,
    level: str,
    fmt: str,
) -> None:
    """Judge the policy's guideline checks on the stored crawl (nothing is fetched).

    Per check: sites judged (the sites it applies to), pass, fail, couldn't check, not
    applicable, and the pass share (pass / (pass + fail): couldn't check is left out), then
    the same per agency. A task force member tries a draft with `--policy draft.toml`, or
    compares two with `--compare OLD.toml NEW.toml`.
    """
    from audit.audit_run import judge_guidelines
    from audit.guidelines import (
        AGENCY_COLUMNS,
        COMPARE_COLUMNS,
        SUMMARY_COLUMNS,
        checks_at,
        flat_rows,
        tally,
    )
    from audit.guidelines import (
        compare as compare_results,
    )
    from audit.run_selection import NoData

    app: App = ctx.obj
    if compare:
        for given in compare:
            if not given.is_file():
                fail_input(f"--compare {given}: no such file")
        old, new = _load(compare[0]), _load(compare[1])
        sets = [checks_at(old.guideline_checks, level), checks_at(new.guideline_checks, level)]
    else:
        app.use_seeds(policy)
        sets = [checks_at(app.policy.guideline_checks, level)]
        if not app.policy.guideline_checks:
            fail_input(f"{app.policy.sources[-1]}: no [[guidelines.checks]] in the policy")
        if not sets[0]:
            fail_input(f"{app.policy.sources[-1]}: no guideline check applies to {level}")
    try:
        with app.db.session() as session:
            crawl_run, results = judge_guidelines(session, sets, run_id, level)
    except NoData as exc:
        fail_input(str(exc))
    if compare:
        rows = compare_results(sets[0], sets[1], results[0], results[1])
        if fmt == "json":
            click.echo(json.dumps({"crawl_run": crawl_run, "changes": rows}, indent=2))
            return
        if fmt == "table":
            click.echo(
                f"{compare[0]} -> {compare[1]} on crawl run {crawl_run} "
                "(agency empty: the whole fleet)"
            )
            rows = _for_table(rows, ("old_pass_share", "new_pass_share"))
        emit(rows, COMPARE_COLUMNS, fmt)
        return
    tallies = tally(sets[0], results[0])
    pack = app.policy.guideline_pack
    if fmt == "json":
        click.echo(
            json.dumps(
                {"crawl_run": crawl_run, "pack": pack, "checks": tallies}, indent=2, default=str
            )
        )
        return
    flat = flat_rows(tallies)
    if fmt == "csv":
        emit(flat, ["check", "agency", *SUMMARY_COLUMNS[2:]], "csv")
        return
    name = pack.get("name") or Path(str(pack.get("file"))).name
    click.echo(
        f"guidelines: {name} ({pack.get('file')}), crawl run {crawl_run}: {len(tallies)} checks"
        + (" (websites)" if level == "websites" else "")
    )
    fleet = [r for r in flat if r["agency"] is None]
    emit(_for_table(fleet, ("pass_share",)), SUMMARY_COLUMNS[:-1], "table")
    click.echo("\nper agency")
    agencies = [r for r in flat if r["agency"] is not None]
    emit(_for_table(agencies, ("pass_share",)), AGENCY_COLUMNS, "table")
