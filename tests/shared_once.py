"""Expensive test results made once per run, shared by pytest-xdist workers.

A session fixture runs once per worker; a crawl of a whole test world should run once per
run. `shared_once` makes a result in a folder of the run's base temporary directory (the
one above the workers' own) under a file lock: the first worker builds it, the others
wait and read what it wrote. Results are read-only; `copy_db` gives a test its own copy
of a crawled SQLite database to write to.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base temporary directory of this run, shared by its xdist workers."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is <run's basetemp>/popen-gwN.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_once(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], dict[str, Any]],
) -> dict[str, Any]:
    """`build(folder)` once per run; its JSON-able result, for every worker that asks.

    A build that fails is not tried again by the next worker: it fails with the same error.
    """
    root = run_folder(tmp_path_factory)
    folder = root / f"shared-{name}"
    done, failed = folder / "result.json", folder / "failed.txt"
    with FileLock(str(root / f"shared-{name}.lock")):
        if done.is_file():
            return json.loads(done.read_text(encoding="utf-8"))
        if failed.is_file():
            pytest.fail(f"{name} (made once for the run) failed: {failed.read_text()}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            result = build(folder)
        except BaseException as exc:
            failed.write_text(f"{type(exc).__name__}: {exc}"[-4000:], encoding="utf-8")
            raise
        done.write_text(json.dumps(result), encoding="utf-8")
        return result


def copy_db(db: str | Path, folder: Path, name: str = "copy.db") -> str:
    """A consistent copy of a SQLite database (URL or path) in `folder`; its URL."""
    source = Path(str(db).removeprefix("sqlite:///"))
    target = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # the WAL's committed pages too, unlike a file copy
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{target}"
