"""portal user's contact belongs to the user's own client (composite foreign key)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_contact_id_client_id", ["id", "client_id"])
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_user_account_contact_of_own_client", "contact", ["contact_id", "client_id"], ["id", "client_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("fk_user_account_contact_of_own_client", type_="foreignkey")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint("uq_contact_id_client_id", type_="unique")
