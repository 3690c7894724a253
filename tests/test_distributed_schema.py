"""procrastinate's schema on PostgreSQL: applied whole to a new database, brought up to date
by its migrations on an existing one (crawler/distributed.py, `ensure_schema`)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import pytest
from procrastinate.schema import SchemaManager

from crawler.distributed import (
    MIGRATIONS_TABLE,
    UNRECORDED_SCHEMA_VERSION,
    ensure_schema,
    libpq_url,
    migration_names,
    migration_version,
)

pytestmark = pytest.mark.postgres

OLD_SCHEMA = Path(__file__).parent / "fixtures" / "procrastinate" / "schema-3.0.2.sql"
OLD_VERSION = (3, 0, 2)


def _catalog(db_url: str, namespace: str = "public") -> dict[str, Any]:
    """procrastinate's objects in one schema of a database (its public one by default):
    tables' columns, functions (signature and body, blanks collapsed), indexes, triggers and
    enum types; govaudit's record of migrations left out."""
    with psycopg.connect(libpq_url(db_url)) as conn:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            # names as written in their own schema (`fresh.x` is `x` there)
            return sorted(
                tuple(v.replace(f"{namespace}.", "") if isinstance(v, str) else v for v in r)
                for r in conn.execute(sql, {"ns": namespace})
            )

        return {
            "columns": rows(
                "SELECT table_name, column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = %(ns)s "
                f"AND table_name <> '{MIGRATIONS_TABLE}'"
            ),
            "functions": [
                (name, args, re.sub(r"\s+", " ", body).strip())
                for name, args, body in rows(
                    "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc "
                    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = %(ns)s"
                )
            ],
            "indexes": rows(
                "SELECT indexname, indexdef FROM pg_indexes "
                f"WHERE schemaname = %(ns)s AND tablename <> '{MIGRATIONS_TABLE}'"
            ),
            "triggers": rows(
                "SELECT t.tgname, c.relname, p.proname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = %(ns)s"
            ),
            "enums": rows(
                "SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_type t "
                "JOIN pg_enum e ON e.enumtypid = t.oid "
                "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %(ns)s"
            ),
        }


def _new_schema_beside(db_url: str, namespace: str) -> None:
    """What the installed procrastinate applies to a new database, in a schema of its own."""
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {namespace}")
        conn.execute(f"SET search_path TO {namespace}")
        conn.execute(SchemaManager.get_schema())


def _recorded(db_url: str) -> list[str]:
    with psycopg.connect(libpq_url(db_url)) as conn:
        return sorted(r[0] for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE}"))


def _runs_a_job(db_url: str) -> bool:
    """A job deferred and run by the installed procrastinate on this database."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(db_url)))
    done: list[int] = []

    @app.task(name="schema_check", queue="schema-check")
    def schema_check(n: int) -> None:
        done.append(n)

    async def run() -> None:
        async with app.open_async():
            await schema_check.defer_async(n=7)
            await app.run_worker_async(queues=["schema-check"], wait=False)

    asyncio.run(run())
    return done == [7]


def test_a_new_database_gets_the_whole_schema_and_its_record(pg_url: str) -> None:
    assert ensure_schema(pg_url) == ["schema"]
    assert _recorded(pg_url) == migration_names()
    assert ensure_schema(pg_url) == []  # a second worker finds it done
    assert _runs_a_job(pg_url)


def test_an_older_schema_is_upgraded_by_the_migrations_it_lacks(pg_empty_url: str) -> None:
    """A database made with procrastinate 3.0.2 (and recorded so) is brought to exactly the
    schema the installed release applies to a new database, and procrastinate runs on it."""
    with psycopg.connect(libpq_url(pg_empty_url), autocommit=True) as conn:
        conn.execute(OLD_SCHEMA.read_text())
        conn.execute(
            f"CREATE TABLE {MIGRATIONS_TABLE} "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for name in migration_names():
            if migration_version(name) <= OLD_VERSION:
                conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (name) VALUES (%s)", (name,))
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
            "VALUES ('govaudit-crawl', 'govaudit.crawl_batch', '{\"run_id\": 1}')"
        )
    before = _catalog(pg_empty_url)

    applied = ensure_schema(pg_empty_url)

    expected = [n for n in migration_names() if migration_version(n) > OLD_VERSION]
    assert applied == expected and len(applied) >= 2  # at least one release's pre and post
    assert _recorded(pg_empty_url) == migration_names()
    assert before != _catalog(pg_empty_url)
    # the same schema as a new database's
    _new_schema_beside(pg_empty_url, "fresh")
    assert _catalog(pg_empty_url) == _catalog(pg_empty_url, "fresh")
    # the queued job survived the upgrade, and the queue works
    with psycopg.connect(libpq_url(pg_empty_url)) as conn:
        [(task, status)] = conn.execute(
            "SELECT task_name, status FROM procrastinate_jobs WHERE queue_name = 'govaudit-crawl'"
        ).fetchall()
    assert (task, status) == ("govaudit.crawl_batch", "todo")
    assert _runs_a_job(pg_empty_url)
    assert ensure_schema(pg_empty_url) == []


def test_a_schema_applied_before_the_record_counts_as_procrastinate_3_10s(pg_url: str) -> None:
    """Databases govaudit set up before it kept the record have the schema of 3.10, the
    only release it allowed then: nothing of it is applied again."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
        conn.execute(SchemaManager.get_schema())
    applied = ensure_schema(pg_url)
    assert applied == [
        n for n in migration_names() if migration_version(n) > UNRECORDED_SCHEMA_VERSION
    ]
    assert _recorded(pg_url) == migration_names()
    assert _runs_a_job(pg_url)
