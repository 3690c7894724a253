"""kept responses: each site's final homepage and robots.txt response, bodies by hash

Revision ID: 0002g
Revises: 0003w
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002g"
down_revision = "0003w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_body",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_response_body")),
    )
    op.create_table(
        "kept_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=True),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_kept_response_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_response")),
        sa.UniqueConstraint("run_id", "domain", "purpose", name=op.f("uq_kept_response_run_id")),
    )
    with op.batch_alter_table("kept_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_response_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kept_response_domain"), ["domain"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kept_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_response_domain"))
        batch_op.drop_index(batch_op.f("ix_kept_response_run_id"))
    op.drop_table("kept_response")
    op.drop_table("response_body")
