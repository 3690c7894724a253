"""The `govaudit` command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

import click

from audit.db import Database
from audit.registry_csv import RegistryFileError, as_of_from_name, read_registry_file
from audit.seeds import (
    AgencySeed,
    Policy,
    SeedError,
    Waiver,
    bundled_registry_files,
    load_agencies,
    load_policy,
    load_waivers,
)

MAX_PROBLEMS_SHOWN = 20


class BadInput(click.ClickException):
    """Bad usage or bad input: exit 2 with one clear line."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"govaudit: error: {self.message}", err=True)


class Failure(click.ClickException):
    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"govaudit: error: {self.message}", err=True)


def fail_input(message: str) -> NoReturn:
    raise BadInput(message)


@dataclass
class App:
    db_url: str | None
    policy_path: Path | None
    agencies_path: Path | None
    waivers_path: Path | None
    verbose: int = 0
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.db_url)
        return self._db

    @cached_property
    def policy(self) -> Policy:
        try:
            return load_policy(self.policy_path)
        except SeedError as exc:
            fail_input(str(exc))

    @cached_property
    def agencies(self) -> list[AgencySeed]:
        try:
            return load_agencies(self.agencies_path)
        except SeedError as exc:
            fail_input(str(exc))

    @cached_property
    def waivers(self) -> list[Waiver]:
        try:
            return load_waivers(self.waivers_path)
        except SeedError as exc:
            fail_input(str(exc))


pass_app = click.make_pass_decorator(App)


def _version() -> str:
    try:
        return version("govaudit")
    except PackageNotFoundError:
        return "0.0.0"


def existing_file(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(f"{value}: no such file", ctx=ctx, param=param)
    return path


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db_url",
    envvar="GOVAUDIT_DB",
    metavar="URL",
    help="Database URL (env GOVAUDIT_DB). Default sqlite:///govaudit.db; PostgreSQL: "
    "postgresql://user:pass@host/db.",
)
@click.option(
    "--policy",
    callback=existing_file,
    metavar="FILE",
    help="A policy TOML laid over seeds/policy.toml for this command.",
)
@click.option(
    "--agencies",
    callback=existing_file,
    metavar="FILE",
    help="Use this agencies.csv instead of seeds/agencies.csv.",
)
@click.option(
    "--waivers",
    callback=existing_file,
    metavar="FILE",
    help="Use this waivers.csv instead of seeds/waivers.csv.",
)
@click.option("-v", "--verbose", count=True, help="More output (-v shows Scrapy's log).")
@click.version_option(_version(), prog_name="govaudit")
@click.pass_context
def cli(
    ctx: click.Context,
    db_url: str | None,
    policy: Path | None,
    agencies: Path | None,
    waivers: Path | None,
    verbose: int,
) -> None:
    """Crawl and audit the U.S. federal .gov web presence (OMB M-11-24, EO 13571).

    Data flows one way: registry snapshots and policy (seeds/) -> crawl (observations) ->
    audit (findings) -> report (static HTML). Exit codes: 0 success, 2 bad usage or input,
    1 other failure.
    """
    app = App(db_url, policy, agencies, waivers, verbose)
    ctx.obj = app
    # Closing the last connection lets SQLite fold its WAL back into the file, so the file
    # on disk is complete (and unchanged by a refused command) when govaudit exits.
    ctx.call_on_close(lambda: app._db.dispose() if app._db is not None else None)


# ---------------------------------------------------------------- output helpers


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, (list, tuple)):
            return ", ".join(map(str, value))
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items())
        return str(value)

    table = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [
        min(60, max([len(c)] + [len(row[i]) for row in table])) for i, c in enumerate(columns)
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in table:
        lines.append("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, default=str))
    elif fmt == "csv":
        from audit.export import to_csv

        click.echo(to_csv(rows, columns), nl=False)
    else:
        click.echo(format_table(rows, columns))


# ---------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create or migrate the schema to the newest version (also done automatically)."""
    from audit.db import make_engine, upgrade

    engine = make_engine(app.db.url)
    applied = upgrade(engine)
    engine.dispose()
    click.echo("schema upgraded" if applied else "schema already up to date")


# ---------------------------------------------------------------- inventory


@cli.group()
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
        rows, ["domain", "domain_type", "agency", "organization", "city", "state", "snapshot"], fmt
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


def main() -> None:
    from sqlalchemy.exc import DBAPIError

    from audit import commands  # noqa: F401  (registers the other command groups)
    from audit.db import DatabaseUnavailable, DatabaseURLError, database_url, redacted

    try:
        cli(prog_name="govaudit")
    except DatabaseURLError as exc:
        click.echo(f"govaudit: error: {exc}", err=True)
        sys.exit(2)
    except DatabaseUnavailable as exc:
        click.echo(f"govaudit: error: {exc}", err=True)
        sys.exit(1)
    except DBAPIError as exc:
        # A database that fails under us (disk full, read-only file, server stopped): one
        # line, and the transaction it ended was rolled back, so nothing half-written stays.
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        url = database_url(_db_option())
        click.echo(f"govaudit: error: database {redacted(url)}: {reason}", err=True)
        sys.exit(1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"govaudit: error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)


def _db_option() -> str | None:
    """The --db given on the command line, if any (for naming the database in an error)."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--db="):
            return arg.removeprefix("--db=")
    return None


if __name__ == "__main__":
    main()
