"""satisfaction survey: client survey scores for NPS on the Clients Dashboard

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("responded_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 10", name=op.f("ck_satisfaction_survey_score_range")),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_satisfaction_survey_client_id_client")),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], name=op.f("fk_satisfaction_survey_contact_id_contact")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_survey")),
    )
    with op.batch_alter_table("satisfaction_survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_satisfaction_survey_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_satisfaction_survey_responded_at"), ["responded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("satisfaction_survey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_survey_responded_at"))
        batch_op.drop_index(batch_op.f("ix_satisfaction_survey_client_id"))

    op.drop_table("satisfaction_survey")
