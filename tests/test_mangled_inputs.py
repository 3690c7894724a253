"""Every input file the user gives, mangled (issue 13: operator faults): a clear one-line
error naming the file, or a correct load; never a traceback, never a partial write."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.agencies_file import load_agencies
from audit.config_files import SEEDS_DIR, SeedError
from audit.policy_file import load_policy
from audit.waivers_file import load_waivers

REGISTRY = sorted((SEEDS_DIR / "registry").glob("*.csv"))[0]


@st.composite
def mangled(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` damaged the ways files get damaged."""
    kind = draw(
        st.sampled_from(
            ["truncate", "insert", "encoding", "line", "huge", "binary", "headerless", "empty"]
        )
    )
    cut = draw(st.integers(0, len(original)))
    if kind == "truncate":
        return original[:cut]
    if kind == "insert":
        return original[:cut] + draw(st.binary(min_size=1, max_size=40)) + original[cut:]
    if kind == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-32", "cp1252", "latin-1"]))
        return original.decode("utf-8").encode(codec, errors="replace")
    lines = original.splitlines(keepends=True)
    index = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "line":
        lines[index] = draw(st.text(max_size=80)).encode("utf-8", "surrogatepass") + b"\n"
        return b"".join(lines)
    if kind == "huge":
        lines[index] = lines[index].rstrip(b"\n") + b"x" * 100_000 + b"\n"
        return b"".join(lines)
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=400))
    if kind == "headerless":
        return b"".join(lines[1:])
    return b""


def _check_loader(loader: object, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            loader(path)  # type: ignore[operator]
        except SeedError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message, message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled((SEEDS_DIR / "policy.toml").read_bytes()))
def test_mangled_policy(data: bytes) -> None:
    _check_loader(load_policy, "policy.toml", data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled((SEEDS_DIR / "agencies.csv").read_bytes()))
def test_mangled_agencies(data: bytes) -> None:
    _check_loader(load_agencies, "agencies.csv", data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled((SEEDS_DIR / "waivers.csv").read_bytes()))
def test_mangled_waivers(data: bytes) -> None:
    _check_loader(load_waivers, "waivers.csv", data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled(REGISTRY.read_bytes()[:20_000].rsplit(b"\n", 1)[0] + b"\n"))
def test_mangled_registry_csv(data: bytes) -> None:
    """`inventory load` of a mangled registry file: loaded (exit 0) or refused with one line
    naming the file (exit 2) and nothing written."""
    from govaudit.cli import cli

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "registry-2026-01-01.csv"
        path.write_bytes(data)
        db = Path(folder) / "db.sqlite"
        result = CliRunner().invoke(
            cli, ["--db", f"sqlite:///{db}", "inventory", "load", str(path)], catch_exceptions=False
        )
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            errors = [line for line in result.output.splitlines() if line.strip()]
            assert errors and path.name in errors[-1], result.output
            assert "Traceback" not in result.output
            with sqlite3.connect(db) as conn:
                tables = {r[0] for r in conn.execute("select name from sqlite_master")}
                if "registry_snapshot" in tables:
                    assert conn.execute("select count(*) from registry_snapshot").fetchone() == (0,)
                    assert conn.execute("select count(*) from registry_entry").fetchone() == (0,)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled((Path(__file__).resolve().parent.parent / "examples/govaudit.toml").read_bytes()))
def test_mangled_run_config(data: bytes) -> None:
    """`govaudit run --config`: a mangled configuration is one ConfigError naming the file,
    or a correct load; never another exception."""
    from govaudit.job_config import ConfigError, load_config

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "govaudit.toml"
        path.write_bytes(data)
        try:
            load_config(path)
        except ConfigError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message, message
