"""A new SQLite database gets the recorded schema (audit/sqlite_schema.py) instead of running
alembic: it must be exactly the schema the migrations give, and anything else (an older
database, changed migration files) must still be migrated by alembic."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

import audit.db
from audit.db import SCHEMA_FILE, Database, make_engine, recorded_schema, upgrade
from audit.inventory import ENTRY_COLUMNS, _insert_tuples
from audit.models import RegistryEntry
from audit.sqlite_schema import migrate_with_alembic


def schema_of(path: Path) -> dict[str, Any]:
    """Everything that describes a SQLite database's schema, in creation order."""
    conn = sqlite3.connect(path)
    try:
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
        ).fetchall()
        tables = [name for kind, name, _, _ in master if kind == "table"]
        return {
            "master": master,
            "columns": {t: conn.execute(f"PRAGMA table_xinfo('{t}')").fetchall() for t in tables},
            "indexes": {t: conn.execute(f"PRAGMA index_list('{t}')").fetchall() for t in tables},
            "foreign_keys": {
                t: conn.execute(f"PRAGMA foreign_key_list('{t}')").fetchall() for t in tables
            },
            "version": conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            "user_version": conn.execute("PRAGMA user_version").fetchall(),
        }
    finally:
        conn.close()


def open_database(path: Path) -> None:
    db = Database(f"sqlite:///{path}")
    _ = db.engine
    db.dispose()


def forbid_alembic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of alembic's upgrade fail: the recorded schema must do the work."""
    from alembic import command

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("alembic ran although the recorded schema applies")

    monkeypatch.setattr(command, "upgrade", refuse)


def test_recorded_schema_matches_the_migration_files() -> None:
    assert recorded_schema() is not None, (
        "audit/migrations/sqlite_schema.json was recorded from other migration files: "
        "regenerate it with `python -m audit.sqlite_schema` (new SQLite databases fall back "
        "to alembic, slower, until then)"
    )


def test_new_database_gets_exactly_the_migrated_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrated = tmp_path / "migrated.db"
    new = tmp_path / "new.db"
    migrate_with_alembic(f"sqlite:///{migrated}")
    forbid_alembic(monkeypatch)
    open_database(new)
    assert schema_of(new) == schema_of(migrated)
    assert schema_of(new)["version"] == [(json.loads(SCHEMA_FILE.read_text())["head"],)]


def test_up_to_date_database_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_alembic(monkeypatch)
    path = tmp_path / "x.db"
    open_database(path)
    before = path.read_bytes()
    engine = make_engine(f"sqlite:///{path}")
    assert upgrade(engine) is False
    engine.dispose()
    assert path.read_bytes() == before


def test_older_database_is_migrated_by_alembic(tmp_path: Path) -> None:
    older = tmp_path / "older.db"
    fresh = tmp_path / "fresh.db"
    migrate_with_alembic(f"sqlite:///{older}", "0002p")
    assert schema_of(older)["version"] == [("0002p",)]
    open_database(older)
    migrate_with_alembic(f"sqlite:///{fresh}")
    assert schema_of(older) == schema_of(fresh)


def test_changed_migration_files_fall_back_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit.db, "migrations_digest", lambda: "other files")
    assert recorded_schema() is None
    from alembic import command

    calls: list[str] = []
    real_upgrade = command.upgrade

    def counting(cfg: Any, revision: str, **kwargs: Any) -> None:
        calls.append(revision)
        real_upgrade(cfg, revision, **kwargs)

    monkeypatch.setattr(command, "upgrade", counting)
    path = tmp_path / "x.db"
    open_database(path)
    assert calls == ["head"]
    migrated = tmp_path / "migrated.db"
    migrate_with_alembic(f"sqlite:///{migrated}")
    assert schema_of(path) == schema_of(migrated)


def test_a_database_with_foreign_tables_is_left_to_alembic(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    engine = make_engine(f"sqlite:///{path}")
    from audit.db import _sqlite_upgrade_from_record

    assert _sqlite_upgrade_from_record(engine) is None
    engine.dispose()


def test_plain_tuples_store_what_core_insert_stores(tmp_path: Path) -> None:
    """The entries' executemany of tuples binds every value (JSON too) as SQLAlchemy does."""
    extras = [{}, {"Status": "ready", "#9": "x"}, {"é": 'ü "q"'}, {}]
    rows = [
        (1, i + 1, None if i % 2 else i + 1, i + 2, "City", "City", "A", None, "S", "C", "ST")
        for i in range(len(extras))
    ]
    rows = [
        (*r, None, "ready" if r[1] > 1 else None, extra)
        for r, extra in zip(rows, extras, strict=True)
    ]
    stored = []
    for how in ("core", "tuples"):
        path = tmp_path / f"{how}.db"
        db = Database(f"sqlite:///{path}")
        table = RegistryEntry.__table__
        with db.engine.connect() as conn:
            # The rows name no stored snapshot, domain or agency: only their binding matters.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            if how == "core":
                conn.execute(
                    insert(table), [dict(zip(ENTRY_COLUMNS, r, strict=True)) for r in rows]
                )
            else:
                _insert_tuples(conn, table, ENTRY_COLUMNS, rows)
            conn.commit()
        db.dispose()
        raw = sqlite3.connect(path)
        stored.append(raw.execute("SELECT * FROM registry_entry ORDER BY id").fetchall())
        raw.close()
    assert stored[0] == stored[1]
    assert len(stored[0]) == len(rows)
    assert json.loads(stored[1][1][-1]) == extras[1]
