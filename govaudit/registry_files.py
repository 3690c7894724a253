"""Registry files: dating, loading (idempotent by content) and fetching the current lists."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from audit.config_files import bundled_registry_files
from audit.registry_csv import RegistryFileError, as_of_from_name, read_registry_file
from govaudit.app import App, fail_input

MAX_PROBLEMS_SHOWN = 20
# The public registry lists as CISA publishes them (no date in their names).
DOTGOV_DATA_URLS = (
    "https://raw.githubusercontent.com/cisagov/dotgov-data/main/current-federal.csv",
    "https://raw.githubusercontent.com/cisagov/dotgov-data/main/current-full.csv",
)


def _stderr(line: str) -> None:
    click.echo(line, err=True)


@dataclass
class DatedFile:
    path: Path
    as_of: dt.date
    dated_by: str  # "name", "--as-of" or "modification time"


@dataclass
class RegistryLoad:
    """What one load did: per file, a snapshot added, already there, or refused."""

    files: int = 0
    loaded: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    newest: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "loaded": self.loaded,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "newest_snapshot": self.newest,
        }


def date_file(path: Path, given: str | None) -> DatedFile:
    """The snapshot date: --as-of, else the date in the name, else the file's modification
    time (the real lists are `current-federal.csv`: the day they were fetched is their date)."""
    if given:
        try:
            return DatedFile(path, dt.date.fromisoformat(given), "--as-of")
        except ValueError:
            fail_input(f"--as-of {given!r} is not a date (YYYY-MM-DD)")
    text = as_of_from_name(path.name)
    if text is not None:
        try:
            return DatedFile(path, dt.date.fromisoformat(text), "name")
        except ValueError:
            fail_input(f"{path}: as-of date {text!r} in the name is not a date (YYYY-MM-DD)")
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        fail_input(f"{path}: cannot read ({exc.strerror})")
    return DatedFile(path, dt.datetime.fromtimestamp(mtime, dt.UTC).date(), "modification time")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one file is read and stored.

    A file is tens of thousands of new rows, tuples and dicts (no reference cycles among
    them) that set off full collections over every object in the process; those took about
    0.1 s of a full list's load. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def show_problems(
    problems: Sequence[str], file: str, what: str, warn: Callable[[str], None]
) -> None:
    """The first MAX_PROBLEMS_SHOWN `file:line` problems of a file, then how many more."""
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        warn(f"govaudit: {problem}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        warn(f"govaudit: {file}: ... and {len(problems) - MAX_PROBLEMS_SHOWN} more {what} rows")


def load_registry_files(
    app: App,
    paths: Sequence[Path],
    as_of: str | None = None,
    allow_shrink: bool = False,
    echo: Callable[[str], None] = click.echo,
    warn: Callable[[str], None] = _stderr,
) -> RegistryLoad:
    """Load registry files, oldest first, each in its own transaction."""
    from audit.inventory import load_registry

    dated = sorted((date_file(p, as_of) for p in paths), key=lambda d: d.as_of)
    max_shrink = float(app.policy.section("inventory").get("max_shrink", 0.5))
    out = RegistryLoad(files=len(dated))
    for item in dated:
        path = item.path
        if item.dated_by != "name":
            echo(f"{path.name}: no date in the name: dated {item.as_of} by {item.dated_by}")
        try:
            with cyclic_gc_paused():
                parsed = read_registry_file(path)
                with app.db.session() as session:
                    result = load_registry(
                        session,
                        parsed,
                        item.as_of,
                        allow_shrink=allow_shrink,
                        max_shrink=max_shrink,
                    )
            if result.already_loaded:
                out.unchanged += 1
            else:
                out.loaded += 1
                for warning in parsed.warnings:
                    warn(f"govaudit: warning: {warning}")
                show_problems(parsed.problems, path.name, "skipped", warn)
            out.newest = max(out.newest or "", result.as_of.isoformat())
            echo(result.summary())
        except RegistryFileError as exc:
            warn(f"govaudit: error: {exc}")
            out.errors.append(str(exc))
            out.failed += 1
    return out


def load_files(
    app: App,
    paths: Sequence[Path],
    as_of: str | None = None,
    allow_shrink: bool = False,
    echo: Callable[[str], None] = click.echo,
) -> int:
    """Load registry files; return the number refused."""
    return load_registry_files(app, paths, as_of, allow_shrink, echo).failed


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


class FetchError(RuntimeError):
    """A download that cannot be used: nothing was written."""


def fetch_list(url: str, folder: Path, timeout: float = 60.0) -> tuple[Path, bool]:
    """Download one registry list into `folder` under its own name; return (path, changed).

    Through the environment's proxy (http_proxy/https_proxy) with normal TLS verification.
    The download must parse as a registry export before it replaces the file (atomically), and
    an unchanged list keeps its file untouched, so its modification time (its date) stays.
    """
    import urllib.error
    import urllib.parse
    import urllib.request

    from audit.registry_csv import parse_registry

    name = Path(urllib.parse.urlsplit(url).path).name
    if not name.endswith(".csv"):
        raise FetchError(f"{url}: not a .csv file name")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            data = answer.read(200_000_000)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: cannot download ({reason})") from exc
    try:
        parse_registry(data, name)
    except RegistryFileError as exc:
        raise FetchError(f"{url}: not a registry export ({exc})") from exc
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.is_file() and target.read_bytes() == data:
        return target, False
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target, True


def audited_entries(app: App, all_types: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """The newest snapshot's domains that govaudit crawls and asks RDAP about: federal ones
    (and those of no stated type). A full registry list also names cities, counties,
    states...: they are known (never "unlisted"), not crawled unless `all_types`."""
    from audit.fleet_figures import is_federal
    from audit.inventory import entry_rows, find_snapshot

    with app.db.session() as session:
        snap = find_snapshot(session)
        rows = entry_rows(session, snap)
    return snap.id, [r for r in rows if all_types or is_federal(r)]
