"""`govaudit inventory`: load, list, diff and count registry snapshots."""

from __future__ import annotations

import atexit
import gc
import json
import sys
from pathlib import Path
from typing import Any

import click

from govaudit.app import App, fail_input, pass_app
from govaudit.output import emit
from govaudit.registry_files import DOTGOV_DATA_URLS, ensure_registry, load_files

__all__ = ["ensure_registry", "inventory", "load_files"]


@click.group()
def inventory() -> None:
    """The .gov registry inventory: load snapshots, list, diff, stats."""


@inventory.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help="Date of the snapshot (else the date in the file name, else the file's "
    "modification time).",
)
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
    transaction: a file that is not a registry export changes nothing and exits 2. A file
    with no date in its name (`current-federal.csv`) is dated by --as-of, else by its
    modification time; the output says which.
    """
    for path in files:
        if not path.is_file():
            fail_input(f"{path}: no such file")
    # At exit, the collector's last full pass over everything the imports made (SQLAlchemy,
    # the models) only delays the end of a load by 0.1 s: it is skipped (the database is
    # closed by the command's context, not by the collector). Registered for the exit, so a
    # process that runs the command in-process (a test) collects as usual until it ends.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
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


@inventory.command("fetch")
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="A registry list to download (repeatable; default: current-federal.csv and "
    "current-full.csv of the public dotgov-data repository).",
)
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("registry"),
    show_default=True,
    help="The registry folder to download into.",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
def inventory_fetch(urls: tuple[str, ...], folder: Path, timeout: float) -> None:
    """Download the current registry lists into the registry folder (FOLDER/NAME.csv).

    Uses the environment's proxy settings and normal TLS verification. A download that is
    not a registry export changes nothing (exit 2); an unchanged list keeps its file (and so
    its modification time, its date for `inventory load`).
    """
    from govaudit.registry_files import FetchError, fetch_list

    for url in urls or DOTGOV_DATA_URLS:
        try:
            path, changed = fetch_list(url, folder, timeout)
        except FetchError as exc:
            fail_input(str(exc))
        click.echo(f"{path}: {'downloaded' if changed else 'unchanged'} from {url}")


@inventory.group("sources")
def inventory_sources() -> None:
    """Website source lists: load CSV lists of host names, list what is loaded."""


@inventory_sources.command("load")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--source",
    metavar="NAME",
    help="The list's name (default: the file name without .csv/.csv.gz, e.g. pulse).",
)
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help="Date of the list (else the date in the file name, else its modification time).",
)
@click.option(
    "--bundled",
    is_flag=True,
    help="Load the Federal Website Index lists bundled with govaudit (seeds/website-index/).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_app
def sources_load(
    app: App,
    files: tuple[Path, ...],
    source: str | None,
    as_of: str | None,
    bundled: bool,
    fmt: str,
) -> None:
    """Load website source lists: any CSV with a host name or URL column (target_url, URL,
    hostname, website, Domain name...), gzip-compressed or not.

    Each row becomes a website (a host under a registered federal .gov domain) or is
    rejected with a counted reason: malformed, not .gov, not under a registered domain,
    non-federal, matched a non-public pattern, duplicate in the file. Idempotent: a file
    already loaded (same content) against the same registry adds nothing. A file that is
    not a source list is refused (exit 2) and the others still load.
    """
    from govaudit.website_sources import (
        bundled_source_lists,
        check_as_of,
        load_source_files,
        website_count,
    )

    check_as_of(as_of)
    if not files and not bundled:
        fail_input("give FILE... or --bundled")
    for path in files:
        if not path.is_file():
            fail_input(f"{path}: no such file")
    echo = (lambda line: click.echo(line, err=True)) if fmt == "json" else click.echo
    result = load_source_files(app, files, source, as_of, echo=echo) if files else None
    if bundled:
        paths, day = bundled_source_lists()
        more = load_source_files(app, paths, source, as_of or day, echo=echo)
        if result is None:
            result = more
        else:
            result.loads += more.loads
            result.errors += more.errors
    assert result is not None
    if fmt == "json":
        click.echo(json.dumps(result.as_json(website_count(app)), indent=2))
    else:
        total = website_count(app)
        click.echo(f"{total} websites in the inventory")
    if result.errors:
        sys.exit(2)


@inventory_sources.command("list")
@click.option("--format", "fmt", type=FORMAT, default="table", show_default=True)
@pass_app
def sources_list(app: App, fmt: str) -> None:
    """The loaded lists (files, registry snapshots, crawl runs) with their counts."""
    from audit.website_inventory import LIST_COLUMNS, list_rows

    with app.db.session() as session:
        rows = list_rows(session)
    emit(rows, LIST_COLUMNS, fmt)


CANDIDATE_COLUMNS = ["candidate", "host", "status", "status_reason", "since", "agency", "sources"]


@inventory.command("websites")
@click.option("--agency", metavar="TEXT", help="Only websites of agencies containing TEXT.")
@click.option("--source", metavar="NAME", help="Only websites this source lists or saw.")
@click.option(
    "--candidates",
    is_flag=True,
    help="Only the candidates to add (live websites only crawls found) and to retire (listed "
    "websites unreachable, parked or only redirecting, with since when), as the newest "
    "website crawl judged them.",
)
@click.option("--format", "fmt", type=FORMAT, default="table", show_default=True)
@pass_app
def inventory_websites(
    app: App, agency: str | None, source: str | None, candidates: bool, fmt: str
) -> None:
    """Every website of the inventory with its domain, agency, sources, first and last seen.

    JSON gives each source's sightings too (source, file, date, row, or the page that
    showed the host to a crawl).
    """
    from audit.website_inventory import WEBSITE_COLUMNS, website_rows
    from govaudit.website_sources import ensure_website_inventory

    ensure_website_inventory(app)
    if candidates:
        from audit.website_rows import judged_websites

        with app.db.session() as session:
            run, judged = judged_websites(session, None, agency, source)
        chosen = [{k: r.get(k) for k in CANDIDATE_COLUMNS} for r in judged if r["candidate"]]
        chosen.sort(key=lambda r: (r["candidate"], r["host"]))
        if fmt == "json":
            click.echo(
                json.dumps(
                    {
                        "crawl_run": run.id if run else None,
                        "add": [r for r in chosen if r["candidate"] == "add"],
                        "retire": [r for r in chosen if r["candidate"] == "retire"],
                    },
                    indent=2,
                )
            )
            return
        emit(chosen, CANDIDATE_COLUMNS, fmt)
        return
    with app.db.session() as session:
        rows = website_rows(session, agency, source)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    emit(rows, WEBSITE_COLUMNS, fmt)
