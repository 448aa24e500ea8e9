"""partner apps: OAuth 2 client-credentials integrations and the clients each is limited to

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_app",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("oauth_client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.String(length=1000), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_partner_app_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_app")),
        sa.UniqueConstraint("oauth_client_id", name=op.f("uq_partner_app_oauth_client_id")),
    )
    op.create_table(
        "partner_app_client",
        sa.Column("partner_app_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_partner_app_client_client_id_client")),
        sa.ForeignKeyConstraint(
            ["partner_app_id"], ["partner_app.id"], name=op.f("fk_partner_app_client_partner_app_id_partner_app")
        ),
        sa.PrimaryKeyConstraint("partner_app_id", "client_id", name=op.f("pk_partner_app_client")),
    )
    with op.batch_alter_table("partner_app_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_app_client_client_id"), ["client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_app_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_app_client_client_id"))
    op.drop_table("partner_app_client")
    op.drop_table("partner_app")
