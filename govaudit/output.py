"""How commands print: tables, CSV/JSON rows, and the live progress line on terminals."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import click


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
        min(MAX_CELL_WIDTH, max([len(c)] + [len(row[i]) for row in table]))
        for i, c in enumerate(columns)
    ]
    _fit(widths, columns, _available_width())
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in table:
        # A long value (a list of sites, a URL) goes on as many lines as it needs, in its
        # column: a table never cuts what it shows.
        folded = [_fold(v, w) for v, w in zip(row, widths, strict=True)]
        for i in range(max(len(f) for f in folded)):
            parts = [
                (f[i] if i < len(f) else "").ljust(w) for f, w in zip(folded, widths, strict=True)
            ]
            lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


# A column wider than this folds its long values onto further lines.
MAX_CELL_WIDTH = 60
# No column is folded narrower than this (or its name) to fit the terminal.
MIN_CELL_WIDTH = 8


def _available_width() -> int | None:
    """The terminal's width ($COLUMNS first); None when the output is not a terminal and
    COLUMNS is not set (a file or pipe gets the table at its natural width)."""
    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _fit(widths: list[int], columns: Sequence[str], limit: int | None) -> None:
    """Narrow the widest columns (their values fold onto further lines) until the table fits
    in `limit` characters, or no column can give more."""
    if limit is None:
        return
    floors = [max(MIN_CELL_WIDTH, len(c)) for c in columns]
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[widest] <= floors[widest]:
            return
        widths[widest] -= 1


def _fold(value: str, width: int) -> list[str]:
    if len(value) <= width:
        return [value]
    return textwrap.wrap(value, width, break_on_hyphens=False) or [""]


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, default=str))
    elif fmt == "csv":
        from audit.export import to_csv

        click.echo(to_csv(rows, columns), nl=False)
    else:
        click.echo(format_table(rows, columns))


class ProgressLine:
    """A live progress line on a terminal; silent otherwise (logs and pipes stay clean)."""

    def __init__(self, label: str, unit: str = "pages") -> None:
        self.label = label
        self.unit = unit
        self.live: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(stderr=True), refresh_per_second=4, transient=True)
            self.live.start()

    def __call__(self, prog: Any, elapsed: float) -> None:
        if self.live is None:
            return
        rate = prog.pages / elapsed if elapsed > 0 else 0.0
        finished = prog.done + prog.failed
        self.live.update(
            f"{self.label}: {finished}/{prog.total} done, {prog.failed} failed, "
            f"{prog.pages} {self.unit}, {rate:.1f} {self.unit}/s, {elapsed:.0f} s"
        )

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
