"""a11y_check.roles: every role a checked page plays (homepage, open, plan)

A page is checked once per accessibility run whatever roles it plays (an /open page that is
also the plan); `kind` stays its first role. Rows from before hold their one role.

Revision ID: 0004r
Revises: 0028w
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004r"
down_revision = "0028w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("a11y_check") as batch:
        batch.add_column(sa.Column("roles", sa.JSON(), nullable=True))
    checks = sa.table("a11y_check", sa.column("kind", sa.String()), sa.column("roles", sa.JSON()))
    bind = op.get_bind()
    for (kind,) in bind.execute(sa.select(checks.c.kind).distinct()).all():
        bind.execute(checks.update().where(checks.c.kind == kind).values(roles=[kind]))


def downgrade() -> None:
    with op.batch_alter_table("a11y_check") as batch:
        batch.drop_column("roles")
