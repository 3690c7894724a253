"""`govaudit db`: the schema."""

from __future__ import annotations

import click

from govaudit.app import App, pass_app


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create or migrate the schema to the newest version (also done automatically)."""
    from audit.db import check_url, make_engine, upgrade

    check_url(app.db.url, app.create_db_dir)
    engine = make_engine(app.db.url)
    applied = upgrade(engine)
    engine.dispose()
    click.echo("schema upgraded" if applied else "schema already up to date")
