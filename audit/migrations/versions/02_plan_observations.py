"""/open observations: tries, plan documents; plan_check becomes the audit's judgement

Revision ID: 0002p
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002p"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("homepage_tries", sa.JSON(), nullable=False),
        sa.Column("homepage", sa.JSON(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("homepage_fingerprint", sa.JSON(), nullable=False),
        sa.Column("probe", sa.JSON(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("failed_links", sa.JSON(), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("visits", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_open_observation_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_observation")),
        sa.UniqueConstraint("run_id", "agency", name=op.f("uq_open_observation_run_id")),
    )
    with op.batch_alter_table("open_observation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_observation_run_id"), ["run_id"], unique=False)

    op.create_table(
        "open_try",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error_kind", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("left_scope", sa.Boolean(), nullable=False),
        sa.Column("redirect_chain", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_open_try_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_try")),
    )
    with op.batch_alter_table("open_try", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_try_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_try_agency"), ["agency"], unique=False)

    op.create_table(
        "plan_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text_kind", sa.String(length=10), nullable=False),
        sa.Column("text_error", sa.Text(), nullable=True),
        sa.Column("text_z", sa.LargeBinary(), nullable=False),
        sa.Column("dates", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("link_text", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_plan_document_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_document")),
    )
    with op.batch_alter_table("plan_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_document_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_document_agency"), ["agency"], unique=False)

    with op.batch_alter_table("plan_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_run_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_check", schema=None) as batch_op:
        batch_op.drop_column("audit_run_id")
    for table, indexes in (
        ("plan_document", ("run_id", "agency")),
        ("open_try", ("run_id", "agency")),
        ("open_observation", ("run_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
