"""Website source lists: loading files (idempotent by content), the bundled Federal Website
Index lists, and keeping the registry's own websites in the inventory."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from govaudit.app import App, fail_input
from govaudit.registry_files import cyclic_gc_paused, date_file, ensure_registry, show_problems

if TYPE_CHECKING:
    from audit.website_inventory import RegistryView, SourceLoad


def _stderr(line: str) -> None:
    click.echo(line, err=True)


def bundled_lists_dir() -> Path:
    return Path(str(resources.files("seeds"))) / "website-index"


def bundled_source_lists() -> tuple[list[Path], dt.date]:
    """The bundled Federal Website Index lists and the day they were copied."""
    folder = bundled_lists_dir()
    with (folder / "lists.toml").open("rb") as handle:
        meta = tomllib.load(handle)
    return sorted((folder / "source-lists").glob("*.csv.gz")), meta["as_of"]


def ensure_website_inventory(app: App) -> RegistryView:
    """The registry (the bundled one when none is loaded) with its own websites in the
    inventory: each federal domain, bare and www., of every snapshot (source `registry`)."""
    from audit.website_inventory import registry_view, sync_registry_websites

    ensure_registry(app)
    with app.db.session() as session:
        registry = registry_view(session)
        sync_registry_websites(session, registry)
    return registry


@dataclass
class SourcesLoad:
    loads: list[SourceLoad] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self, websites: int) -> dict[str, Any]:
        from audit.source_list_csv import REJECT_REASONS

        rejected = {r: sum(load.rejected.get(r, 0) for load in self.loads) for r in REJECT_REASONS}
        return {
            "files": [load.as_json() for load in self.loads],
            "failed": [{"error": e} for e in self.errors],
            "rows": sum(load.rows_read for load in self.loads),
            "rejected": rejected,
            "new_websites": sum(load.new_websites for load in self.loads),
            "websites": websites,
        }


def load_source_files(
    app: App,
    paths: Sequence[Path],
    source: str | None = None,
    as_of: str | dt.date | None = None,
    echo: Callable[[str], None] = click.echo,
    warn: Callable[[str], None] = _stderr,
) -> SourcesLoad:
    """Load source-list files, oldest first, each in its own transaction; a file that is
    not a source list is refused (named in `errors`) and the others still load."""
    from audit.nonpublic_names import bundled_nonpublic_names
    from audit.registry_csv import RegistryFileError
    from audit.source_list_csv import read_source_list
    from audit.website_inventory import load_source_list

    if isinstance(as_of, dt.date):
        dated = [(p, as_of) for p in paths]
    else:
        dated = []
        for item in (date_file(p, as_of) for p in paths):
            if item.dated_by == "modification time":
                echo(
                    f"{item.path.name}: no date in the name: dated {item.as_of} by {item.dated_by}"
                )
            dated.append((item.path, item.as_of))
    dated.sort(key=lambda item: item[1])
    registry = ensure_website_inventory(app)
    names = bundled_nonpublic_names()
    out = SourcesLoad()
    for path, day in dated:
        try:
            with cyclic_gc_paused():
                parsed = read_source_list(path, source)
                with app.db.session() as session:
                    result = load_source_list(session, parsed, day, registry, names)
        except RegistryFileError as exc:  # a SourceListError, or text that is not UTF-8
            warn(f"govaudit: error: {exc}")
            out.errors.append(str(exc))
            continue
        show_problems(result.problems, result.file, "rejected", warn)
        echo(result.summary())
        out.loads.append(result)
    return out


def website_count(app: App) -> int:
    from sqlalchemy import func, select

    from audit.models import Website

    with app.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Website)) or 0)


def check_as_of(text: str | None) -> None:
    if text is None:
        return
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        fail_input(f"--as-of {text!r} is not a date (YYYY-MM-DD)")
