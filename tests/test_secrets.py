"""A database URL's password never appears in error messages, logs, the workers' command
lines or crawl_run.settings (issue 13: secrets)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit.db import redacted
from crawler.crawl_run import _worker_command
from tests.conftest import ADMIN_URL
from tests.hostile_crawl import run_govaudit

SECRET = "s3cr3t-Pw"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://govaudit:{SECRET}@127.0.0.1:1/nothing",
        f"nosuchdriver://govaudit:{SECRET}@127.0.0.1/x",
        f"postgresql://govaudit:{SECRET}@127.0.0.1:99999999/x",
    ],
)
@pytest.mark.integration  # the real process's error output
def test_password_is_not_in_error_messages(url: str) -> None:
    result = run_govaudit(url, "inventory", "stats")
    assert result.returncode != 0
    assert SECRET not in result.stdout + result.stderr
    assert "***" in result.stderr
    assert "Traceback" not in result.stderr


def test_redacted() -> None:
    url = f"postgresql://u:{SECRET}@db.example/x"
    assert redacted(url) == "postgresql://u:***@db.example/x"
    assert redacted(url, f"cannot open {url}: bad {SECRET}") == (
        "cannot open postgresql://u:***@db.example/x: bad ***"
    )
    assert redacted("sqlite:///tmp/x.db") == "sqlite:///tmp/x.db"


def test_worker_command_line_carries_no_database_url() -> None:
    command = _worker_command(1, ["sites", "open"], 0, 2, 0, progress_fd=5)
    assert not any("://" in part for part in command)


@pytest.fixture
def secret_pg() -> Iterator[tuple[str, str]]:
    """A database owned by a throw-away role with a password no log could hold by chance."""
    if not ADMIN_URL:
        pytest.skip("GOVAUDIT_TEST_PG_URL is not set (make test starts PostgreSQL and sets it)")
    import psycopg

    tag = uuid.uuid4().hex[:12]
    role, password = f"govaudit_secret_{tag}", f"Pw-{tag}-Zq"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f'CREATE DATABASE "{role}" OWNER {role}')
    host = ADMIN_URL.rsplit("@", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql://{role}:{password}@{host}/{role}", password
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{role}" WITH (FORCE)')
            conn.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.postgres
def test_password_is_not_in_logs_or_settings(
    secret_pg: tuple[str, str], simulated_web_factory: Any, tmp_path: Path
) -> None:
    import psycopg

    from tests.crawl_world import registry_csv

    pg_url, password = secret_pg
    web = simulated_web_factory(
        {"one": {"hosts": ["one.gov", "www.one.gov"], "pages": {"/": {"title": "One"}}}}
    )
    registry = registry_csv(tmp_path / "r-2026-01-01.csv", ["one.gov"])
    outputs = [run_govaudit(pg_url, "-v", "inventory", "load", str(registry))]
    outputs.append(
        run_govaudit(pg_url, "-v", "crawl", "--only", "sites", "--workers", "1", web=web)
    )
    assert all(r.returncode == 0 for r in outputs), outputs[-1].stderr[-2000:]
    text = "".join(r.stdout + r.stderr for r in outputs)
    assert "Crawled" in text or "Spider" in text  # the Scrapy log was captured
    assert password not in text
    with psycopg.connect(pg_url) as conn:
        settings = conn.execute("select settings::text from crawl_run").fetchall()
    assert settings and all(password not in row[0] for row in settings)
