"""`govaudit inventory`: load, list, diff and count registry snapshots."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from audit.registry_csv import RegistryFileError, as_of_from_name, read_registry_file
from audit.seeds import bundled_registry_files
from govaudit.app import App, fail_input, pass_app
from govaudit.output import emit

MAX_PROBLEMS_SHOWN = 20


@click.group()
def inventory() -> None:
    """The .gov registry inventory: load snapshots, list, diff, stats."""


def _as_of(path: Path, given: str | None) -> dt.date:
    text = given or as_of_from_name(path.name)
    if text is None:
        fail_input(f"{path}: no as-of date: give --as-of YYYY-MM-DD or put one in the file name")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail_input(f"{path}: as-of date {text!r} is not a date (YYYY-MM-DD)")


def load_files(
    app: App,
    paths: Sequence[Path],
    as_of: str | None = None,
    allow_shrink: bool = False,
    echo: Callable[[str], None] = click.echo,
) -> int:
    """Load registry files, oldest first, each in its own transaction; return failures."""
    from audit.inventory import load_registry

    dated = sorted(((p, _as_of(p, as_of)) for p in paths), key=lambda pair: pair[1])
    max_shrink = float(app.policy.section("inventory").get("max_shrink", 0.5))
    failures = 0
    for path, day in dated:
        try:
            parsed = read_registry_file(path)
            with app.db.session() as session:
                result = load_registry(
                    session, parsed, day, allow_shrink=allow_shrink, max_shrink=max_shrink
                )
            if not result.already_loaded:
                for warning in parsed.warnings:
                    click.echo(f"govaudit: warning: {warning}", err=True)
                for problem in parsed.problems[:MAX_PROBLEMS_SHOWN]:
                    click.echo(f"govaudit: {problem}", err=True)
                if len(parsed.problems) > MAX_PROBLEMS_SHOWN:
                    click.echo(
                        f"govaudit: {path.name}: ... and "
                        f"{len(parsed.problems) - MAX_PROBLEMS_SHOWN} more skipped rows",
                        err=True,
                    )
            echo(result.summary())
        except RegistryFileError as exc:
            click.echo(f"govaudit: error: {exc}", err=True)
            failures += 1
    return failures


@inventory.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--as-of", metavar="YYYY-MM-DD", help="Date of the snapshot (else from file name).")
@click.option(
    "--allow-shrink",
    is_flag=True,
    help="Accept a file that drops more than the policy's max_shrink share of the "
    "previous snapshot's domains.",
)
@pass_app
def inventory_load(
    app: App, files: tuple[Path, ...], as_of: str | None, allow_shrink: bool
) -> None:
    """Load registry CSV FILES (any year's format) as snapshots.

    Idempotent: a file already loaded (same content hash) adds nothing. Each file is one
    transaction: a file that is not a registry export changes nothing and exits 2.
    """
    for path in files:
        if not path.is_file():
            fail_input(f"{path}: no such file")
    if load_files(app, files, as_of, allow_shrink):
        sys.exit(2)


def _snapshot(session: Any, when: str | None) -> Any:
    from audit.inventory import SnapshotNotFound, find_snapshot

    try:
        return find_snapshot(session, when)
    except SnapshotNotFound as exc:
        fail_input(str(exc))


FORMAT = click.Choice(["table", "csv", "json"])


@inventory.command("list")
@click.option("--snapshot", metavar="DATE", help="Snapshot date (default: the newest).")
@click.option("--agency", metavar="TEXT", help="Only agencies/organizations containing TEXT.")
@click.option("--format", "fmt", type=FORMAT, default="table", show_default=True)
@pass_app
def inventory_list(app: App, snapshot: str | None, agency: str | None, fmt: str) -> None:
    """Domains of a snapshot with their agency and attributes."""
    from audit.inventory import entry_rows

    with app.db.session() as session:
        rows = entry_rows(session, _snapshot(session, snapshot), agency)
    emit(
        rows,
        ["domain", "domain_type", "agency", "organization", "city", "state", "snapshot", "kind"],
        fmt,
    )


@inventory.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_app
def inventory_diff(app: App, old: str, new: str, fmt: str) -> None:
    """Domains added, removed and changed between snapshots OLD and NEW (dates)."""
    from audit.inventory import diff_snapshots

    with app.db.session() as session:
        result = diff_snapshots(session, _snapshot(session, old), _snapshot(session, new))
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{result['old']} -> {result['new']}: {len(result['added'])} added, "
        f"{len(result['removed'])} removed, {len(result['changed'])} changed"
    )
    for d in result["added"]:
        click.echo(f"+ {d}")
    for d in result["removed"]:
        click.echo(f"- {d}")
    for c in result["changed"]:
        click.echo(f"~ {c['domain']}: {c['field']}: {c['old']!r} -> {c['new']!r}")


@inventory.command("stats")
@click.option("--snapshot", metavar="DATE", help="Snapshot date (default: the newest).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_app
def inventory_stats(app: App, snapshot: str | None, fmt: str) -> None:
    """Domains per agency and type (as the 2011 State of the Federal Web report tabulated)."""
    from audit.inventory import snapshot_stats

    with app.db.session() as session:
        snap = _snapshot(session, snapshot)
        rows = snapshot_stats(session, snap)
        label = f"{snap.source_name} (as of {snap.as_of})"
    if fmt == "json":
        click.echo(json.dumps({"snapshot": label, "agencies": rows}, indent=2))
        return
    total = sum(r["domains"] for r in rows)
    click.echo(f"Snapshot {label}: {total} domains, {len(rows)} agencies")
    emit(rows, ["agency", "domains", "types"], "table")


def ensure_registry(app: App) -> None:
    """Load the bundled registry snapshot when the database has none yet."""
    from sqlalchemy import func, select

    from audit.models import RegistrySnapshot

    with app.db.session() as session:
        count = session.scalar(select(func.count()).select_from(RegistrySnapshot))
    if not count:
        files = bundled_registry_files()
        if not files:
            fail_input("no registry snapshot loaded and none bundled in seeds/registry/")
        load_files(app, files, echo=lambda line: click.echo(f"bundled registry: {line}", err=True))
