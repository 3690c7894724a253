"""Recording the schema the migrations give a new SQLite database, so that it can be created
without running alembic (whose import and per-operation work cost about half a second on every
new database: `govaudit inventory load` into a new file spent a quarter of its time there).

`migrations/sqlite_schema.json` holds the `sqlite_master` statements of a database migrated
by alembic from nothing to head, in creation order, and a digest of the migration files it was
recorded from. It is used only while those files are byte-for-byte the same (anything else
falls back to alembic), so it can never give a schema other than the migrations'; SQLite
stores each statement's text as given, so replaying them gives an identical `sqlite_master`
(tests/test_sqlite_schema.py compares them). PostgreSQL databases are always migrated by
alembic. audit/db.py reads the record and applies it.

Regenerate after adding a migration: `python -m audit.sqlite_schema`.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from audit.db import SCHEMA_FILE, alembic_config, make_engine, migrations_digest


def schema_statements(conn: sqlite3.Connection) -> list[str]:
    """The statements that created a database's schema, in creation order (indexes that a
    UNIQUE or PRIMARY KEY constraint makes have none: their table's statement makes them)."""
    return [
        sql
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        )
    ]


def migrate_with_alembic(url: str, revision: str = "head") -> None:
    """Run the migrations on a database with alembic alone (never the recorded schema)."""
    from alembic import command

    engine = make_engine(url)
    cfg = alembic_config(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def record_schema(target: Path = SCHEMA_FILE) -> dict[str, Any]:
    """Migrate a new database with alembic and write its schema to `target`."""
    with tempfile.TemporaryDirectory() as folder:
        migrate_with_alembic(f"sqlite:///{folder}/schema.db")
        conn = sqlite3.connect(f"{folder}/schema.db")
        try:
            (head,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            statements = schema_statements(conn)
        finally:
            conn.close()
    recorded = {"migrations": migrations_digest(), "head": head, "statements": statements}
    target.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
    return recorded


if __name__ == "__main__":
    written = record_schema()
    print(f"{SCHEMA_FILE}: {len(written['statements'])} statements, head {written['head']}")
