"""web archives: archive and as-of date of a crawl run, each fetch's capture, first captures

Revision ID: 0004_archive
Revises: 0004r
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_archive"
down_revision = "0004r"
branch_labels = None
depends_on = None

TABLES = ("endpoint_observation", "page_observation", "open_try", "plan_document")


def upgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.add_column(sa.Column("archive", sa.Text(), nullable=True))
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("capture_url", sa.Text(), nullable=True))
            batch.add_column(sa.Column("memento_datetime", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("capture_distance_days", sa.Integer(), nullable=True))
    op.create_table(
        "archive_first_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("archive", sa.Text(), nullable=False),
        sa.Column("query_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("first_capture", sa.DateTime(), nullable=True),
        sa.Column("capture_url", sa.Text(), nullable=True),
        sa.Column("captured_url", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_archive_first_seen_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_first_seen")),
    )
    with op.batch_alter_table("archive_first_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_first_seen_domain"), ["domain"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("archive_first_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_first_seen_domain"))
    op.drop_table("archive_first_seen")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("capture_distance_days")
            batch.drop_column("memento_datetime")
            batch.drop_column("capture_url")
    with op.batch_alter_table("crawl_run") as batch:
        batch.drop_column("as_of")
        batch.drop_column("archive")
