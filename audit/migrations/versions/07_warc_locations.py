"""WARC record locations on the observations findings cite (govaudit crawl --warc)

Revision ID: 0003w
Revises: 0002h
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003w"
down_revision = "0002h"
branch_labels = None
depends_on = None

TABLES = ("endpoint_observation", "page_observation", "open_try", "plan_document", "rdap_result")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("warc_file", sa.Text(), nullable=True))
            batch.add_column(sa.Column("warc_offset", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("warc_digest", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("warc_digest")
            batch.drop_column("warc_offset")
            batch.drop_column("warc_file")
