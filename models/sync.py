"""What partner integrations sync by: the change log, their external ids, their idempotency keys.

**The change log** (`change_event`) is written by database triggers (migration 0007), never by
application code, so every write path lands in it: mutations, bulk conditional UPDATEs, the CLI,
imports. One row per change to a client, a contact, an invoice (its lines count as the invoice)
or a payment, in the same transaction as the change: a rolled-back change leaves no event.

Ordering (what makes the feed's cursor monotonic, `resolvers.partners.sync`): events are read in
`(txid, id)` order.
- SQLite runs one write transaction at a time, so ids are handed out in commit order; `txid` is 0.
- PostgreSQL runs writers concurrently, so a lower id can commit after a higher one. Each event
  carries its transaction's id (`pg_current_xact_id()`), and a reader only takes events whose
  transaction is older than every transaction still running (`pg_snapshot_xmin` of its snapshot):
  all of those have committed or rolled back, and every later event has a higher txid. So a cursor
  `(txid, id)` never has an event appear behind it. The price: an event waits for the oldest
  transaction still running before it shows in the feed.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

# SQLite only makes an INTEGER PRIMARY KEY the rowid (and AUTOINCREMENT only works on one).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ChangeEntity(str, enum.Enum):
    """The records the change log follows."""

    CLIENT = "CLIENT"
    CONTACT = "CONTACT"
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"


# The event names the triggers write, by entity (an invoice's status change has its own name).
CHANGE_EVENTS: dict[ChangeEntity, tuple[str, ...]] = {
    ChangeEntity.CLIENT: ("client.created", "client.updated"),
    ChangeEntity.CONTACT: ("contact.created", "contact.updated", "contact.deleted"),
    ChangeEntity.INVOICE: ("invoice.created", "invoice.updated", "invoice.sent", "invoice.paid", "invoice.voided"),
    ChangeEntity.PAYMENT: ("payment.created", "payment.updated", "payment.deleted"),
}


class ChangeEvent(SQLModel, table=True):
    """One change to a followed record, written by the triggers of migration 0007."""

    __tablename__ = "change_event"
    __table_args__ = (
        sa.Index("ix_change_event_txid_id", "txid", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    # PostgreSQL: the writing transaction's id; SQLite: 0 (its writers are serial).
    txid: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, server_default="0"))
    entity: ChangeEntity = Field(sa_type=sa.String(20))
    entity_id: int
    # The record's client when it was changed: how row scope reads an event whose record is gone.
    client_id: int | None = Field(default=None)
    event: str = Field(sa_type=sa.String(40))
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartnerExternalId(SQLModel, table=True):
    """A partner app's own id for one of our records (the Xero contact id, the QuickBooks invoice
    id): at most one per app per record, and one record per app per external id."""

    __tablename__ = "partner_external_id"
    __table_args__ = (
        sa.UniqueConstraint("partner_app_id", "entity", "record_id", name="uq_partner_external_id_record"),
        sa.UniqueConstraint("partner_app_id", "entity", "external_id", name="uq_partner_external_id_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_app_id: int = Field(foreign_key="partner_app.id")
    entity: ChangeEntity = Field(sa_type=sa.String(20))
    record_id: int
    external_id: str = Field(sa_type=sa.String(255))
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdempotencyKey(SQLModel, table=True):
    """A write taken with an idempotency key: who sent it (`owner`: `app:<id>` or `user:<id>`), the
    key, which mutation and a digest of its input, and what it produced. The same key again with
    the same input answers the first result; with a different input it is refused
    (IDEMPOTENCY_KEY_REUSED). Written in the write's own transaction."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("owner", "key", name="uq_idempotency_key_owner_key"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(sa_type=sa.String(80))
    key: str = Field(sa_type=sa.String(255))
    operation: str = Field(sa_type=sa.String(80))
    request_digest: str = Field(sa_type=sa.String(64))
    result_id: int | None = Field(default=None)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
