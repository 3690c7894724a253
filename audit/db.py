"""Engine, sessions and automatic schema migration (alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DB_URL = "sqlite:///govaudit.db"
MIGRATIONS = Path(__file__).parent / "migrations"
# The schema the migrations give a new SQLite database (audit/sqlite_schema.py records it).
SCHEMA_FILE = MIGRATIONS / "sqlite_schema.json"
# PostgreSQL advisory lock key held while the schema is migrated (any constant shared by
# every govaudit process; "govaudit" in ASCII).
MIGRATION_LOCK = 0x676F7661756469


_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@/\s]*@")


def mask_passwords(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***: logs, messages and stored
    settings never carry a database password."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("GOVAUDIT_DB") or DEFAULT_DB_URL


_DB_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*:([^@/?#]*)@")


def redacted(url: str, text: str | None = None) -> str:
    """`text` (default: the URL itself) with the URL's password replaced by ***, also where
    a driver's message quotes it without the URL around it."""
    text = mask_passwords(url if text is None else text)
    match = _DB_URL_PASSWORD.match(url)
    if match and match.group(1):
        text = text.replace(match.group(1), "***")
    return text


# The databases govaudit works with, as URL schemes (backend or backend+driver), and how to
# write them.
USABLE_SCHEMES = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}
USABLE_FORMS = "sqlite:///PATH (a file) or postgresql://user:pass@host/db"


def check_url(url: str, create_folder: bool = False, named_by: str = "--db") -> None:
    """Refuse, in one line (DatabaseURLError), a URL govaudit cannot use: one it cannot
    parse, another database or driver than SQLite and PostgreSQL with psycopg, or a SQLite
    file whose folder does not exist (a mistyped path), unless `create_folder` (the user's
    `--create-db-dir`) asks for that folder to be made. `named_by` says where the URL was
    given (`--db`, `GOVAUDIT_DB`, or a job config's `FILE:LINE: db`), for the message."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = redacted(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseURLError(
            f"{named_by} {shown!r}: not a usable database URL (use {USABLE_FORMS})"
        ) from None
    if parsed.drivername not in USABLE_SCHEMES:
        raise DatabaseURLError(
            f"{named_by} {shown}: unsupported database URL scheme {parsed.drivername!r} "
            f"(govaudit works with {USABLE_FORMS})"
        )
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file:")
    if not parsed.drivername.startswith("sqlite") or in_memory:
        return
    folder = Path(database).expanduser().parent
    if folder.is_dir():
        return
    if create_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseURLError(
                f"{named_by} {shown}: cannot create the folder {folder} ({exc.strerror or exc})"
            ) from None
        return
    raise DatabaseURLError(
        f"{named_by} {shown}: the folder {folder} does not exist "
        "(create it, or add --create-db-dir)"
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Several crawler processes write to one SQLite file: WAL lets readers go on while one
    # writes, and the busy timeout makes writers queue instead of failing at once.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> bool:
    """Bring the schema to the newest revision; return True when anything was applied.

    Checking first keeps an up-to-date database untouched (no write at all), which matters
    for the promise that a refused load leaves the file byte-for-byte as it was.
    """
    if engine.dialect.name == "sqlite":
        decided = _sqlite_upgrade_from_record(engine)
        if decided is not None:
            return decided
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return False
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several machines' workers may open a new database at once: one migrates, the
            # others wait for its transaction and then find the schema current.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            if MigrationContext.configure(conn).get_current_revision() == head:
                return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True


def migration_files() -> list[Path]:
    """Every file whose content decides the migrated schema."""
    return [MIGRATIONS / "env.py", *sorted((MIGRATIONS / "versions").glob("*.py"))]


def migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in migration_files():
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def recorded_schema() -> dict[str, Any] | None:
    """The recorded schema, if it was recorded from the migration files as they are now."""
    try:
        recorded = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("migrations") != migrations_digest():
        return None
    return recorded


def _sqlite_upgrade_from_record(engine: Engine) -> bool | None:
    """Without alembic when the recorded schema allows: True when a new (empty) database was
    given the recorded schema, False when the database is already at its head, None when
    alembic must decide (an older or foreign database, or migration files changed since the
    schema was recorded)."""
    recorded = recorded_schema()
    if recorded is None:
        return None
    with engine.connect() as conn:
        if _sqlite_revision(conn) == recorded["head"]:
            return False
        # The write lock is taken before the second look: two processes opening one new file
        # at once make the schema once (the second waits, then finds it made).
        conn.rollback()
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
            conn.rollback()
            return None
        for statement in recorded["statements"]:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT INTO alembic_version (version_num) VALUES (?)", (recorded["head"],)
        )
        conn.commit()
    return True


def _sqlite_revision(conn: Any) -> str | None:
    """The database's alembic revision; None for a database without one (new, or not ours)."""
    has_version = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).scalar()
    if not has_version:
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return rows[0][0] if len(rows) == 1 else None


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


class DatabaseURLError(ValueError):
    """The database URL cannot be used (bad form, unknown driver)."""


class DatabaseUnavailable(RuntimeError):
    """The database could not be opened (server down, no permission, not a database)."""


class Database:
    """One database URL, opened (and migrated) on first use."""

    def __init__(
        self, url: str | None = None, create_folder: bool = False, named_by: str = "--db"
    ) -> None:
        self.url = database_url(url)
        self.create_folder = create_folder
        self.named_by = named_by
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            check_url(self.url, self.create_folder, self.named_by)
            from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
            from sqlalchemy.exc import DatabaseError as DriverDatabaseError

            try:
                self._engine = make_engine(self.url)
                upgrade(self._engine)
            except (ArgumentError, NoSuchModuleError, ImportError) as exc:
                self._engine = None
                raise DatabaseURLError(
                    redacted(
                        self.url, f"{self.named_by} {self.url!r}: not a usable database URL ({exc})"
                    )
                ) from None
            except (OperationalError, DriverDatabaseError) as exc:
                self._engine = None
                reason = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
                raise DatabaseUnavailable(
                    redacted(
                        self.url, f"{self.named_by} {self.url}: cannot open the database ({reason})"
                    )
                ) from None
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        _ = self.engine
        assert self._sessions is not None
        with self._sessions() as sess, sess.begin():
            yield sess

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
