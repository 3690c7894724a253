"""Operator faults (issue 13): a full disk and a read-only database file end in one clear
line and a non-zero exit, leave the stored data intact, and the next run continues."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.config_files import SEEDS_DIR
from tests.hostile_crawl import rows, run_govaudit

# A tmpfs mounted per test and `govaudit` processes that hit it.
pytestmark = pytest.mark.integration

REGISTRY = sorted((SEEDS_DIR / "registry").glob("*.csv"))[0]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 600 kB tmpfs (needs root, as in CI's container): too small for a registry load."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs: {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("govaudit: error:"), result.stderr
    return lines[0]


@pytest.mark.slow
def test_disk_full_then_space_freed(small_disk: Path) -> None:
    db = small_disk / "govaudit.db"
    url = f"sqlite:///{db}"
    line = _one_line_error(run_govaudit(url, "inventory", "load", str(REGISTRY)))
    assert "disk is full" in line
    assert rows(str(db), "select count(*) from registry_snapshot") == [(0,)]
    assert rows(str(db), "select count(*) from registry_entry") == [(0,)]
    subprocess.run(["mount", "-o", "remount,size=30m", str(small_disk)], check=True)
    again = run_govaudit(url, "inventory", "load", str(REGISTRY))
    assert again.returncode == 0, again.stderr
    assert rows(str(db), "select count(*) from registry_snapshot") == [(1,)]


@pytest.mark.slow
def test_report_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/govaudit.db"
    assert run_govaudit(url, "inventory", "load", str(REGISTRY)).returncode == 0
    filler = small_disk / "filler"
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={filler}", "bs=1k", "count=590"],
        check=False,
        capture_output=True,
    )
    line = _one_line_error(run_govaudit(url, "report", "--out", str(small_disk / "report")))
    assert "No space left on device" in line


@pytest.mark.slow
def test_read_only_database(small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=30m", str(small_disk)], check=True)
    db = small_disk / "govaudit.db"
    url = f"sqlite:///{db}"
    assert run_govaudit(url, "inventory", "load", str(REGISTRY)).returncode == 0
    before = rows(str(db), "select count(*) from registry_entry")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    _one_line_error(run_govaudit(url, "inventory", "load", str(REGISTRY), "--as-of", "2027-01-01"))
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert rows(str(db), "select count(*) from registry_entry") == before
    assert rows(str(db), "select count(*) from registry_snapshot") == [(1,)]
