"""Webhooks: the endpoints partner apps receive events at, and the log of every delivery.

An endpoint belongs to one partner app and follows the change log (models/sync.py) from its own
position, a `(txid, id)` pair: the dispatcher (resolvers/partners/webhooks.py) reads the events
after it, makes one delivery per event the endpoint subscribes to and the app may see, and moves
the position past them, in one transaction. A delivery is tried until the receiver answers 2xx or
the retries run out; every attempt is a row of `webhook_attempt`. Nothing is ever dropped: a
FAILED delivery stays in the log and can be replayed.

The endpoint's signing secret (`whsec_` and 32 random bytes in base64, as the Standard Webhooks
specification writes it) is kept as it is, not hashed: the server has to sign every message with
it (HMAC-SHA256 is symmetric), so a hash would be of no use. It is shown once, when it is made or
rotated; the API never returns it again, and only an ADMIN manages endpoints. Whoever reads the
database can sign messages as the agency: protect backups as the database itself, and rotate a
secret that may have leaked.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class DeliveryStatus(str, enum.Enum):
    PENDING = "PENDING"  # waiting for its next attempt (`next_attempt_at`)
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # every attempt failed; kept, and can be replayed


class WebhookEndpoint(SQLModel, table=True):
    """Where a partner app receives the events it subscribes to."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    partner_app_id: int = Field(foreign_key="partner_app.id", index=True)
    url: str = Field(sa_type=sa.String(2000))
    # The signing secret itself (see the module docstring: the server signs with it).
    secret: str = Field(sa_type=sa.String(100))
    # The event names it subscribes to, space-separated and sorted.
    event_types: str = Field(sa_type=sa.String(1000))
    active: bool = Field(default=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Its place in the change log: the events after (position_txid, position_id) are still to fan out.
    position_txid: int = Field(default=-1, sa_column=sa.Column(sa.BigInteger(), nullable=False))
    position_id: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))

    @property
    def event_set(self) -> frozenset[str]:
        return frozenset(self.event_types.split())


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: its message (id and signed body, fixed for every attempt and
    replay) and where its delivery stands."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "change_event_id", name="uq_webhook_delivery_endpoint_event"),
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    message_id: str = Field(sa_type=sa.String(40), unique=True)  # msg_..., the `webhook-id` header
    event_type: str = Field(sa_type=sa.String(40))
    change_event_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    payload: str = Field(sa_type=sa.Text())  # the JSON body, exactly as signed and sent
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=sa.String(20))
    attempts: int = Field(default=0)
    # The attempt after which a failure is final: the retry schedule's length + 1, and one more per replay.
    max_attempts: int = Field(default=1)
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.String(500))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One try at delivering: when, what the receiver answered (or why there was no answer), how long it took."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    attempted_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = Field(default=None)
    error: str | None = Field(default=None, sa_type=sa.String(500))
    duration_ms: int = Field(default=0)
