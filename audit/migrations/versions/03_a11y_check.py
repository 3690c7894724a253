"""a11y_check: axe-core results per page (govaudit a11y)

Revision ID: 0002a
Revises: 0002p
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002a"
down_revision = "0002p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a11y_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("axe_version", sa.Text(), nullable=True),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_a11y_check_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_a11y_check")),
        sa.UniqueConstraint("run_id", "url", name=op.f("uq_a11y_check_run_id")),
    )
    with op.batch_alter_table("a11y_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_a11y_check_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_a11y_check_domain"), ["domain"], unique=False)


def downgrade() -> None:
    op.drop_table("a11y_check")
