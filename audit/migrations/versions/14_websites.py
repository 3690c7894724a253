"""websites: source lists, websites and their sightings; hosts a crawled site showed

Revision ID: 0004w
Revises: 0004dns
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004w"
down_revision = "0004dns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "website_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("registry_key", sa.String(length=64), nullable=True),
        sa.Column("host_column", sa.Text(), nullable=True),
        sa.Column("agency_column", sa.Text(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_run.id"], name=op.f("fk_website_list_crawl_run_id_crawl_run")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["registry_snapshot.id"],
            name=op.f("fk_website_list_snapshot_id_registry_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_website_list")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_website_list_content_hash")),
        sa.UniqueConstraint("crawl_run_id", name=op.f("uq_website_list_crawl_run_id")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_website_list_snapshot_id")),
    )
    with op.batch_alter_table("website_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_website_list_source"), ["source"], unique=False)
    op.create_table(
        "website",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_website")),
        sa.UniqueConstraint("host", name=op.f("uq_website_host")),
    )
    with op.batch_alter_table("website", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_website_domain"), ["domain"], unique=False)
    op.create_table(
        "website_sighting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("website_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("seen_on", sa.Text(), nullable=True),
        sa.Column("how", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["website_list.id"], name=op.f("fk_website_sighting_list_id_website_list")
        ),
        sa.ForeignKeyConstraint(
            ["website_id"], ["website.id"], name=op.f("fk_website_sighting_website_id_website")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_website_sighting")),
        sa.UniqueConstraint("list_id", "website_id", name=op.f("uq_website_sighting_list_id")),
    )
    with op.batch_alter_table("website_sighting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_website_sighting_list_id"), ["list_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_website_sighting_website_id"), ["website_id"], unique=False
        )
    with op.batch_alter_table("site_observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_hosts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site_observation", schema=None) as batch_op:
        batch_op.drop_column("seen_hosts")
    with op.batch_alter_table("website_sighting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_website_sighting_website_id"))
        batch_op.drop_index(batch_op.f("ix_website_sighting_list_id"))
    op.drop_table("website_sighting")
    with op.batch_alter_table("website", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_website_domain"))
    op.drop_table("website")
    with op.batch_alter_table("website_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_website_list_source"))
    op.drop_table("website_list")
