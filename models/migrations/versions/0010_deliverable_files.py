"""deliverable files: when a deliverable was completed, and an uploaded file's key, name, size, type, digest

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = ("completed_at", "file_key", "file_name", "file_size", "content_type", "sha256")


def upgrade() -> None:
    # Plain ADD COLUMNs (all nullable), no batch: on SQLite a batch would copy the table and
    # drop the change-log triggers migration 0007 put on deliverable.
    op.add_column("deliverable", sa.Column("completed_at", models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column("deliverable", sa.Column("file_key", sa.String(length=100), nullable=True))
    op.add_column("deliverable", sa.Column("file_name", sa.String(length=255), nullable=True))
    op.add_column("deliverable", sa.Column("file_size", sa.BigInteger(), nullable=True))
    op.add_column("deliverable", sa.Column("content_type", sa.String(length=100), nullable=True))
    op.add_column("deliverable", sa.Column("sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for name in reversed(_COLUMNS):
        op.drop_column("deliverable", name)
