"""jobs: the log of every scheduled job run, and what each job has sent (once per key)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=50), nullable=False),
        sa.Column("as_of", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("no_recipient", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('DONE', 'FAILED')", name=op.f("ck_job_run_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_run_job"), ["job"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_run_started_at"), ["started_at"], unique=False)
    op.create_table(
        "job_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=50), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["job_run.id"], name=op.f("fk_job_sent_run_id_job_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_sent")),
        sa.UniqueConstraint("job", "key", name="uq_job_sent_job_key"),
    )
    with op.batch_alter_table("job_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_sent_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_sent_run_id"))
    op.drop_table("job_sent")
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_run_started_at"))
        batch_op.drop_index(batch_op.f("ix_job_run_job"))
    op.drop_table("job_run")
