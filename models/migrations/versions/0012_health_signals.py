"""health signals: when a project completed, the log of scope changes, time by work date

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Backfill: a project already COMPLETED gets, as the moment it completed, the latest completion
of its tasks when it has completed tasks (the work ended then), else its last update (the
status change that completed it was an update). Open and cancelled projects stay null. The
scope change log starts with one PROJECT_CANCELLED entry per project already cancelled (at its
last update, the cancellation); earlier budget and end-date edits were not recorded as such.
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE project SET completed_at = COALESCE("
        "(SELECT MAX(task.completed_at) FROM task WHERE task.project_id = project.id), project.updated_at) "
        "WHERE status = 'COMPLETED'"
    )
    op.create_table(
        "scope_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "BUDGET_CHANGED",
                "END_DATE_MOVED",
                "TASK_ADDED",
                "PROJECT_CANCELLED",
                name="scopechangekind",
                native_enum=False,
                length=25,
            ),
            nullable=False,
        ),
        sa.Column("is_reduction", sa.Boolean(), nullable=False),
        sa.Column("old_budget", models.base.Money(precision=14, scale=2), nullable=True),
        sa.Column("new_budget", models.base.Money(precision=14, scale=2), nullable=True),
        sa.Column("old_end_date", sa.Date(), nullable=True),
        sa.Column("new_end_date", sa.Date(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["user_account.id"], name=op.f("fk_scope_change_changed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_scope_change_project_id_project")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_scope_change_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope_change")),
    )
    with op.batch_alter_table("scope_change", schema=None) as batch_op:
        batch_op.create_index("ix_scope_change_project_id_occurred_at", ["project_id", "occurred_at"], unique=False)
    op.execute(
        "INSERT INTO scope_change (project_id, kind, is_reduction, occurred_at) "
        "SELECT id, 'PROJECT_CANCELLED', TRUE, updated_at FROM project WHERE status = 'CANCELLED' ORDER BY id"
    )
    with op.batch_alter_table("time_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_time_entry_work_date"), ["work_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("time_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_entry_work_date"))
    with op.batch_alter_table("scope_change", schema=None) as batch_op:
        batch_op.drop_index("ix_scope_change_project_id_occurred_at")
    op.drop_table("scope_change")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_column("completed_at")
