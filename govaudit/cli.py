"""The `govaudit` command line: the root group, and every command group registered by name."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from govaudit.app import App, existing_file
from govaudit.commands.a11y import a11y
from govaudit.commands.archive import archive
from govaudit.commands.audit import audit
from govaudit.commands.crawl import crawl
from govaudit.commands.db import db
from govaudit.commands.demo import demo
from govaudit.commands.distributed_worker import worker
from govaudit.commands.dns import dns
from govaudit.commands.evidence import evidence
from govaudit.commands.export import export
from govaudit.commands.guidelines import guidelines
from govaudit.commands.inventory import inventory
from govaudit.commands.job import prune, run
from govaudit.commands.rdap import rdap
from govaudit.commands.report import report


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govaudit")
    except PackageNotFoundError:
        return "0.0.0"


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # click.version_option wants the version string when the command is built; reading the
    # package metadata only for --version keeps it out of every start.
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"govaudit, version {_version()}")
    ctx.exit()


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
    "--create-db-dir",
    is_flag=True,
    help="Create the folder of a SQLite --db file if it does not exist (otherwise refused: "
    "a mistyped path).",
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
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    db_url: str | None,
    create_db_dir: bool,
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
    app = App(db_url, policy, agencies, waivers, verbose, create_db_dir=create_db_dir)
    if ctx.get_parameter_source("db_url") is click.core.ParameterSource.ENVIRONMENT:
        app.db_named_by = "GOVAUDIT_DB"
    # `govaudit run` says it in its log; the list of known names is read only when needed.
    if ctx.invoked_subcommand != "run" and any(
        name.upper().startswith("GOVAUDIT_") and name != "GOVAUDIT_DB" for name in os.environ
    ):
        from govaudit.job_config import unknown_variable_warnings

        for line in unknown_variable_warnings():
            click.echo(f"govaudit: warning: {line}", err=True)
    ctx.obj = app
    # `govaudit run` checks them itself, after its --config, so that even a refused run ends
    # with its JSON summary line.
    if ctx.invoked_subcommand != "run":
        app.check_files()
    # Closing the last connection lets SQLite fold its WAL back into the file, so the file
    # on disk is complete (and unchanged by a refused command) when govaudit exits.
    ctx.call_on_close(lambda: app._db.dispose() if app._db is not None else None)


for command in (
    db,
    inventory,
    crawl,
    worker,
    rdap,
    archive,
    dns,
    a11y,
    audit,
    guidelines,
    export,
    evidence,
    report,
    demo,
    run,
    prune,
):
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="govaudit")
    except Exception as exc:
        _exit_on_error(exc)
        raise


def _exit_on_error(exc: Exception) -> None:
    """Exit with one line for the errors that have one; return for any other."""
    # The database's errors are classes of modules that only a command opening the database
    # imports: they are looked up only then, so that start-up does not import SQLAlchemy.
    if "audit.db" in sys.modules:
        from audit.db import DatabaseUnavailable, DatabaseURLError

        if isinstance(exc, DatabaseURLError):
            click.echo(f"govaudit: error: {exc}", err=True)
            sys.exit(2)
        if isinstance(exc, DatabaseUnavailable):
            click.echo(f"govaudit: error: {exc}", err=True)
            sys.exit(1)
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import DBAPIError

        from audit.db import database_url, redacted

        if isinstance(exc, DBAPIError):
            # A database that fails under us (disk full, read-only file, server stopped): one
            # line, and the transaction it ended was rolled back, so nothing half-written
            # stays.
            reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
            url = database_url(_db_option())
            click.echo(
                f"govaudit: error: database {redacted(url)}: {redacted(url, reason)}", err=True
            )
            sys.exit(1)
    if isinstance(exc, OSError):
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
