"""warc_file: every WARC file a crawl run wrote, with its folder and host

Revision ID: 0028w
Revises: 0004pf
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028w"
down_revision = "0004pf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warc_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("directory", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_warc_file_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_file")),
        sa.UniqueConstraint("run_id", "name", name=op.f("uq_warc_file_run_id")),
    )
    with op.batch_alter_table("warc_file") as batch:
        batch.create_index(batch.f("ix_warc_file_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("warc_file") as batch:
        batch.drop_index(batch.f("ix_warc_file_run_id"))
    op.drop_table("warc_file")
