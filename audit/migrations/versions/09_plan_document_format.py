"""plan_document.format: the document's format, from its bytes (pdf, docx, doc, rtf, ...)

Revision ID: 0004pf
Revises: 0002g
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004pf"
down_revision = "0002g"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_document") as batch:
        batch.add_column(sa.Column("format", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_document") as batch:
        batch.drop_column("format")
