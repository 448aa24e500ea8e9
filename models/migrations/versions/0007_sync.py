"""sync: the change log (written by triggers), partner external ids, idempotency keys, marketing consent

The triggers write one `change_event` row per insert, update or delete of a client, contact,
invoice or payment, in the writing transaction (models/sync.py says how the feed orders them).
An invoice's lines are written with it and never change afterwards, so the invoice's own events
cover them. Existing rows get a `*.created` event each, so a first sync from the start of the log
is a full sync.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (table, entity, the record's client id as an expression over the row, which is NEW or OLD)
FOLLOWED = (
    ("client", "CLIENT", "{row}.id"),
    ("contact", "CONTACT", "{row}.client_id"),
    ("invoice", "INVOICE", "{row}.client_id"),
    ("payment", "PAYMENT", "(SELECT client_id FROM invoice WHERE invoice.id = {row}.invoice_id)"),
)

# An invoice's status change has an event of its own; any other update is "<entity>.updated".
_INVOICE_UPDATE = (
    "CASE WHEN NEW.status IS NOT OLD.status AND NEW.status = 'SENT' THEN 'invoice.sent'"
    " WHEN NEW.status IS NOT OLD.status AND NEW.status = 'PAID' THEN 'invoice.paid'"
    " WHEN NEW.status IS NOT OLD.status AND NEW.status = 'VOID' THEN 'invoice.voided'"
    " ELSE 'invoice.updated' END"
)

_PG_FUNCTION = """
CREATE FUNCTION agency_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_id bigint;
    row_client bigint;
    name text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_id := OLD.id;
    ELSE
        row_id := NEW.id;
    END IF;
    IF TG_TABLE_NAME = 'client' THEN
        row_client := row_id;
    ELSIF TG_TABLE_NAME = 'payment' THEN
        IF TG_OP = 'DELETE' THEN
            SELECT client_id INTO row_client FROM invoice WHERE invoice.id = OLD.invoice_id;
        ELSE
            SELECT client_id INTO row_client FROM invoice WHERE invoice.id = NEW.invoice_id;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        row_client := OLD.client_id;
    ELSIF TG_OP = 'UPDATE' THEN
        row_client := COALESCE(NEW.client_id, OLD.client_id);
    ELSE
        row_client := NEW.client_id;
    END IF;
    name := TG_TABLE_NAME || '.updated';
    IF TG_OP = 'INSERT' THEN
        name := TG_TABLE_NAME || '.created';
    ELSIF TG_OP = 'DELETE' THEN
        name := TG_TABLE_NAME || '.deleted';
    ELSIF TG_TABLE_NAME = 'invoice' THEN
        -- Nested: plpgsql may evaluate both sides of an AND, and only invoice rows have a status.
        IF NEW.status IS DISTINCT FROM OLD.status THEN
            name := CASE NEW.status WHEN 'SENT' THEN 'invoice.sent' WHEN 'PAID' THEN 'invoice.paid'
                                    WHEN 'VOID' THEN 'invoice.voided' ELSE 'invoice.updated' END;
        END IF;
    END IF;
    INSERT INTO change_event (txid, entity, entity_id, client_id, event, occurred_at)
    VALUES (pg_current_xact_id()::text::bigint, upper(TG_TABLE_NAME), row_id, row_client, name, now());
    RETURN NULL;
END
$$
"""

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, entity, client in FOLLOWED:
        for op_name, row, event in (
            ("INSERT", "NEW", f"'{table}.created'"),
            ("UPDATE", "NEW", _INVOICE_UPDATE if table == "invoice" else f"'{table}.updated'"),
            ("DELETE", "OLD", f"'{table}.deleted'"),
        ):
            client_expr = client.format(row=row)
            if table == "contact" and op_name == "UPDATE":
                client_expr = "COALESCE(NEW.client_id, OLD.client_id)"
            statements.append(
                f"CREATE TRIGGER change_event_{table}_{op_name.lower()} AFTER {op_name} ON {table} FOR EACH ROW BEGIN "
                "INSERT INTO change_event (txid, entity, entity_id, client_id, event, occurred_at) "
                f"VALUES (0, '{entity}', {row}.id, {client_expr}, {event}, {_SQLITE_NOW}); END"
            )
    return statements


def upgrade() -> None:
    op.create_table(
        "change_event",
        sa.Column("id", BigId, nullable=False),
        sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_change_event_txid_id", "change_event", ["txid", "id"], unique=False)
    op.create_table(
        "partner_external_id",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_app_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_app_id"], ["partner_app.id"], name=op.f("fk_partner_external_id_partner_app_id_partner_app")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_external_id")),
        sa.UniqueConstraint("partner_app_id", "entity", "external_id", name=op.f("uq_partner_external_id_external")),
        sa.UniqueConstraint("partner_app_id", "entity", "record_id", name=op.f("uq_partner_external_id_record")),
    )
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint("owner", "key", name=op.f("uq_idempotency_key_owner_key")),
    )
    op.create_index(op.f("ix_idempotency_key_created_at"), "idempotency_key", ["created_at"], unique=False)
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("marketing_consent", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("marketing_consent_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("marketing_consent_source", sa.String(length=200), nullable=True))

    # What exists already, as created (a full sync from the start of the log sees it all).
    for table, entity, client in FOLLOWED:
        client_expr = client.format(row=table)
        op.execute(
            "INSERT INTO change_event (txid, entity, entity_id, client_id, event, occurred_at) "
            f"SELECT 0, '{entity}', {table}.id, {client_expr}, '{table}.created', {table}.created_at "
            f"FROM {table} ORDER BY {table}.id"
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table, _entity, _client in FOLLOWED:
            op.execute(
                f"CREATE TRIGGER change_event_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION agency_change_event()"
            )
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _entity, _client in FOLLOWED:
            op.execute(f"DROP TRIGGER IF EXISTS change_event_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS agency_change_event()")
    else:
        for table, _entity, _client in FOLLOWED:
            for op_name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS change_event_{table}_{op_name}")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("marketing_consent_source")
        batch_op.drop_column("marketing_consent_at")
        batch_op.drop_column("marketing_consent")
    op.drop_index(op.f("ix_idempotency_key_created_at"), table_name="idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_table("partner_external_id")
    op.drop_index("ix_change_event_txid_id", table_name="change_event")
    op.drop_table("change_event")
