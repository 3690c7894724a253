"""dns observations: each domain's DNS answers, SPF and DMARC as `govaudit dns` saw them

Revision ID: 0004dns
Revises: 0004_archive
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004dns"
down_revision = "0004_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dns_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("resolver", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("spf", sa.JSON(), nullable=False),
        sa.Column("dmarc", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_dns_observation_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_observation")),
        sa.UniqueConstraint("run_id", "domain", name=op.f("uq_dns_observation_run_id")),
    )
    with op.batch_alter_table("dns_observation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dns_observation_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dns_observation_domain"), ["domain"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dns_observation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dns_observation_domain"))
        batch_op.drop_index(batch_op.f("ix_dns_observation_run_id"))
    op.drop_table("dns_observation")
