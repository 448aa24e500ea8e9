"""Invoices, their lines, and the payments received against them.

Line amounts are computed once when a line is written (quantity x unit price, then
tax, each rounded to the cent), so subtotal, tax, total, paid and due are exact SQL sums.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Money, UTCDateTime, enum_column, utcnow
from models.enums import InvoiceLineKind, InvoiceStatus, PaymentMethod


class Invoice(SQLModel, table=True):
    """Overdue is derived (sent, unpaid, due date passed), never stored."""

    __tablename__ = "invoice"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    number: int = Field(unique=True)
    status: InvoiceStatus = Field(default=InvoiceStatus.DRAFT, sa_type=enum_column(InvoiceStatus), index=True)
    issue_date: dt.date
    due_date: dt.date
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_on: dt.date | None = Field(default=None)
    voided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    notes: str | None = Field(default=None, sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    kind: InvoiceLineKind = Field(sa_type=enum_column(InvoiceLineKind))
    description: str = Field(sa_type=sa.String(500))
    quantity: Decimal = Field(sa_type=sa.Numeric(10, 2))
    unit_price: Decimal = Field(sa_type=Money)
    tax_rate: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(5, 4))
    amount: Decimal = Field(sa_type=Money)
    tax_amount: Decimal = Field(sa_type=Money)
    position: int = Field(default=0)


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    received_on: dt.date
    amount: Decimal = Field(sa_type=Money)
    method: PaymentMethod = Field(default=PaymentMethod.BANK_TRANSFER, sa_type=enum_column(PaymentMethod))
    reference: str | None = Field(default=None, sa_type=sa.String(200))
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
