"""Where configuration files live and how they are read: the bundled seeds (the `seeds`
package: policy.toml, agencies.csv, waivers.csv, registry files), the user's own, and the
data directory govaudit writes to; and the browser the accessibility check and the report's
screenshots drive.

Every problem with a file is reported as `file:line: what is wrong` (SeedError, or the
caller's own error class).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

# The bundled seeds are package data (the `seeds` package), so an installed wheel finds them
# wherever it lives; GOVAUDIT_SEEDS names a folder of the user's own instead.
SEEDS_DIR = Path(os.environ.get("GOVAUDIT_SEEDS") or str(resources.files("seeds")))


# Debian's Chromium, the headless shell first: `chromium-headless-shell` is the same engine
# and version in the old headless mode (what Playwright itself runs headless pages in), with
# none of the full browser's layers, and checks a page with axe-core for about 40% of the full
# `chromium`'s CPU (the demo world's 50 pages: 16 CPU-s against 41, the same violations on
# every page; benchmarks/README.md). The full browser is used where only it is installed.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")


def chromium_path() -> str:
    """GOVAUDIT_CHROMIUM, else the first of CHROMIUM_CANDIDATES installed (else the last, for
    the message that says it is missing)."""
    given = os.environ.get("GOVAUDIT_CHROMIUM")
    if given:
        return given
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), CHROMIUM_CANDIDATES[-1])


def data_dir() -> Path:
    """Where govaudit keeps state it writes itself (never the install tree).

    GOVAUDIT_DATA_DIR, else the user's data directory (XDG on Linux).
    """
    given = os.environ.get("GOVAUDIT_DATA_DIR")
    if given:
        return Path(given)
    from platformdirs import user_data_path

    return user_data_path("govaudit", appauthor=False)


def writable_seed_path(name: str) -> Path:
    """Where a refreshed copy of a bundled seed file is written.

    The user's own seeds folder (GOVAUDIT_SEEDS) when one is named, else the data directory.
    """
    if os.environ.get("GOVAUDIT_SEEDS"):
        return SEEDS_DIR / name
    return data_dir() / name


def seed_path(name: str) -> Path:
    """A seed file as in force: a refreshed copy in the data directory wins over the bundled."""
    refreshed = writable_seed_path(name)
    return refreshed if refreshed.is_file() else SEEDS_DIR / name


class SeedError(ValueError):
    """A bad seed file; the message is one line naming the file and line."""


def toml_key_line(text: str, path: list[str | int]) -> int:
    """Best-effort line number of a key path such as ["freeze", "windows", 1, "end"]."""
    lines = text.splitlines()
    tables = [p for p in path if isinstance(p, str)]
    index = next((p for p in path if isinstance(p, int)), None)
    start = 0
    for depth in range(len(tables) - 1, 0, -1):
        header = ".".join(tables[:depth])
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(header)}\s*\]\]?\s*(#.*)?$")
        hits = [i for i, line in enumerate(lines) if pattern.match(line)]
        if hits:
            pick = index if (index is not None and index < len(hits)) else 0
            start = hits[pick]
            if len(tables) - depth == 0:
                return start + 1
            break
    key = re.compile(rf"^\s*{re.escape(str(tables[-1]))}\s*=") if tables else None
    for i in range(start, len(lines)):
        if i > start and lines[i].lstrip().startswith("["):
            break
        if key and key.match(lines[i]):
            return i + 1
    return start + 1


def read_toml(path: Path, error: type[Exception] = SeedError) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and data; `error("file:line: what is wrong")` when it has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from exc
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 puts the position in the message: "... (at line 2, column 13)".
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = where.group(1) if where else "1"
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise error(f"{path}:{line}: not valid TOML ({message})") from exc


def csv_rows(path: Path, expected: list[str]) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV seed file with the header `expected`, each with its line number;
    blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read ({exc})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for record in reader:
        line = reader.line_num
        if not record or not any(c.strip() for c in record) or record[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip() for c in record]
            if header != expected:
                raise SeedError(
                    f"{path}:{line}: header must be {','.join(expected)!r}, "
                    f"not {','.join(header)!r}"
                )
            continue
        if len(record) != len(header):
            raise SeedError(f"{path}:{line}: expected {len(header)} fields, found {len(record)}")
        rows.append((line, {k: v.strip() for k, v in zip(header, record, strict=True)}))
    if header is None:
        raise SeedError(f"{path}:1: no header (expected {','.join(expected)!r})")
    return rows


def bundled_registry_files() -> list[Path]:
    return sorted((SEEDS_DIR / "registry").glob("*.csv"))
