"""dashboard views: each staff user's saved dashboard views, and the health score's signal weights

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("no_activity_days", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("retention_months", sa.Integer(), nullable=True),
        sa.Column("client_filter", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "no_activity_days >= 1 AND months >= 1 AND top >= 1", name=op.f("ck_dashboard_view_positive_windows")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_dashboard_view_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_view")),
        sa.UniqueConstraint("user_id", "name", name="uq_dashboard_view_user_name"),
    )
    with op.batch_alter_table("dashboard_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_view_user_id"), ["user_id"], unique=False)
    op.create_table(
        "health_score_weight",
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("weight >= 0 AND weight <= 100", name=op.f("ck_health_score_weight_weight_range")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user_account.id"], name=op.f("fk_health_score_weight_updated_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("signal", name=op.f("pk_health_score_weight")),
    )


def downgrade() -> None:
    op.drop_table("health_score_weight")
    with op.batch_alter_table("dashboard_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_view_user_id"))
    op.drop_table("dashboard_view")
