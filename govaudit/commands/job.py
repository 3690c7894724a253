"""`govaudit run`: the periodic job (registry, crawl, RDAP, audit, report, prune)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from govaudit.app import App, BadInput, pass_app

EXIT_DONE, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3
EXIT_PARTIAL = 1


def _summary_line(summary: dict[str, Any]) -> None:
    click.echo(json.dumps(summary))


def _empty_summary(status: str, seconds: float) -> dict[str, Any]:
    """The summary of a run that never started (bad config, locked): every documented key."""
    from govaudit.periodic_job import JobResult

    return JobResult(None, status, {}, seconds).summary()


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="GOVAUDIT_CONFIG",
    metavar="FILE",
    help="TOML configuration (see examples/govaudit.toml; env GOVAUDIT_CONFIG). Every key can "
    "also be set by a GOVAUDIT_* variable.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Append the log to FILE (also [log] file); the log goes to stderr as well.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="The job's own log level (default INFO; Scrapy's is [log] scrapy_level, WARNING).",
)
@click.option("--no-rdap", is_flag=True, help="Skip the RDAP step.")
@click.option(
    "--quick",
    is_flag=True,
    help="Skip the slow optional step: accessibility in a browser (a11y = true otherwise).",
)
@pass_app
def run(
    app: App,
    config_path: Path | None,
    log_file: Path | None,
    log_level: str | None,
    no_rdap: bool,
    quick: bool,
) -> None:
    """The scheduled job: load new registry files, crawl, RDAP, accessibility, audit, report,
    prune.

    The report goes to OUT/runs/<UTC timestamp>/ and OUT/latest is then repointed to it in
    one atomic rename. One run at a time per database (a lock in the database; a stale lock
    of a killed run is taken over); a killed run continues at its step on the next run.
    Exit codes: 0 done, 1 failed, 2 bad input or config, 3 locked. The last line on stdout
    is a one-line JSON summary.
    """
    from govaudit import job_log
    from govaudit.job_config import ConfigError, load_config
    from govaudit.job_lock import Locked
    from govaudit.output import ProgressLine
    from govaudit.periodic_job import JobFailed, PeriodicJob

    started = time.monotonic()

    def leave(code: int, summary: dict[str, Any]) -> None:
        _summary_line(summary)
        sys.exit(code)

    if config_path is not None and not config_path.is_file():
        click.echo(f"govaudit: error: --config {config_path}: no such file", err=True)
        leave(EXIT_BAD_INPUT, _empty_summary("failed", time.monotonic() - started))
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"govaudit: error: {exc}", err=True)
        leave(EXIT_BAD_INPUT, _empty_summary("failed", time.monotonic() - started))
    if log_file is not None:
        config.values["log.file"] = str(log_file.resolve())
    if log_level is not None:
        config.values["log.level"] = log_level.upper()
    # Command-line options and GOVAUDIT_DB win over the file; the file over the defaults.
    if app.db_url is None and config["db"]:
        app.db_url = config["db"]
        where = config.where.get("db", "db")
        app.db_named_by = "GOVAUDIT_DB" if where == "GOVAUDIT_DB" else f"{where}: db"
    from audit.db import DatabaseURLError, check_url, database_url

    try:
        # The job's output folder is the job's to make (a database may live in it); any
        # other missing folder of a SQLite database is a mistyped path.
        Path(config["output"]).mkdir(parents=True, exist_ok=True)
        check_url(database_url(app.db_url), app.create_db_dir, app.db_named_by)
    except (DatabaseURLError, OSError) as exc:
        problem = str(exc) if isinstance(exc, DatabaseURLError) else f"output: {exc}"
        click.echo(f"govaudit: error: {problem}", err=True)
        leave(EXIT_BAD_INPUT, _empty_summary("failed", time.monotonic() - started))
    for attr, key in (("policy_path", "policy"), ("agencies_path", "agencies")):
        if getattr(app, attr) is None and config[key]:
            setattr(app, attr, Path(config[key]))
    if app.waivers_path is None and config["waivers"]:
        app.waivers_path = Path(config["waivers"])
    log_path = Path(config["log.file"]) if config["log.file"] else None
    try:
        log = job_log.configure(config["log.level"], log_path)
    except OSError as exc:
        click.echo(f"govaudit: error: log file {log_path}: {exc.strerror}", err=True)
        leave(EXIT_BAD_INPUT, _empty_summary("failed", time.monotonic() - started))
    from govaudit.job_config import unknown_variable_warnings

    for line in unknown_variable_warnings():
        log.warning("%s", line)
    job = PeriodicJob(
        app,
        config,
        log,
        rdap=config["rdap"] and not no_rdap,
        a11y=config["a11y"] and not quick,
        on_tick=lambda label: ProgressLine(label),
    )
    try:
        try:
            # Read the seeds first: a bad file is refused before anything is written.
            _ = app.policy, app.agencies, app.waivers
            result = job.run()
        except Locked as exc:
            log.error("%s", exc)
            leave(EXIT_LOCKED, _empty_summary("locked", time.monotonic() - started))
        except BadInput as exc:
            if job.job is None:
                log.error("%s", exc.message)
            leave(EXIT_BAD_INPUT, job.failed_result(time.monotonic() - started).summary())
        except (JobFailed, Exception) as exc:  # every failure ends with the summary line
            if job.job is None:
                log.error("%s", exc)
            leave(EXIT_FAILED, job.failed_result(time.monotonic() - started).summary())
        if result.status != "done":
            leave(EXIT_PARTIAL, result.summary())
        _summary_line(result.summary())
    finally:
        job_log.close(log)


@click.command()
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Keep the page-level rows of the newest N finished site crawls.",
)
@pass_app
def prune(app: App, keep: int) -> None:
    """Delete the page, link and endpoint rows of all but the newest N crawl runs.

    Findings, plan checks, site rows, RDAP answers and reports are kept forever; unfinished
    crawl runs are never touched. Deletes in batches, one transaction each, then VACUUM
    (SQLite) or ANALYZE (PostgreSQL). Takes the job lock: exits 3 while a `run` holds it.
    """
    from govaudit.job_lock import Locked, acquire
    from govaudit.retention import prune as prune_rows

    try:
        lock = acquire(app.db)
    except Locked as exc:
        click.echo(f"govaudit: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    with lock:
        result = prune_rows(app.db, keep)
    click.echo(result.summary())


__all__ = ["BadInput", "prune", "run"]
