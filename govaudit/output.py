"""How commands print: tables, CSV/JSON rows, and the live progress line on terminals."""

from __future__ import annotations

import json
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
