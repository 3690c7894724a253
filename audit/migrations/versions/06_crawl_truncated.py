"""site_observation.truncated: which crawl bound cut a site off

Revision ID: 0002h
Revises: 0002f
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002h"
down_revision = "0002f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site_observation") as batch:
        batch.add_column(sa.Column("truncated", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site_observation") as batch:
        batch.drop_column("truncated")
