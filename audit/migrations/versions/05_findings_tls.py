"""certificate checks of https endpoints (issue 10, case 1)

Revision ID: 0002f
Revises: 0002j
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002f"
down_revision = "0002j"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("endpoint_observation") as batch:
        batch.add_column(sa.Column("tls", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tls_detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("endpoint_observation") as batch:
        batch.drop_column("tls_detail")
        batch.drop_column("tls")
