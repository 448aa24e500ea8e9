"""client record: contact roles and reports-to, the project an opportunity became

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROLE = sa.Enum(
    "BILLING",
    "TECHNICAL",
    "EXECUTIVE_SPONSOR",
    "DAY_TO_DAY",
    "LEGAL",
    "MARKETING",
    name="contactrole",
    native_enum=False,
    create_constraint=False,
    length=25,
)


def upgrade() -> None:
    op.create_table(
        "contact_role",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("role", _ROLE, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], name=op.f("fk_contact_role_contact_id_contact")),
        sa.PrimaryKeyConstraint("contact_id", "role", name=op.f("pk_contact_role")),
    )
    op.create_index(op.f("ix_contact_role_role"), "contact_role", ["role"], unique=False)
    # A plain ADD COLUMN on SQLite: a batch would copy the table, and dropping the old contact
    # table would drop the change-log triggers migration 0007 put on it.
    for table, column, target in (("contact", "reports_to_id", "contact"), ("opportunity", "project_id", "project")):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(f"fk_{table}_{column}_{target}", table, target, [column], ["id"])
    op.create_index(op.f("ix_contact_reports_to_id"), "contact", ["reports_to_id"], unique=False)
    op.create_index("uq_opportunity_project_id", "opportunity", ["project_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_index("uq_opportunity_project_id")
        batch_op.drop_column("project_id")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_reports_to_id"))
        batch_op.drop_column("reports_to_id")
    op.drop_index(op.f("ix_contact_role_role"), table_name="contact_role")
    op.drop_table("contact_role")
