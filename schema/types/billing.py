"""Invoices, their lines and payments; amounts are exact Decimal sums."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

import models
from models import InvoiceStatus as InvoiceStatusModel
from models.base import money, utcnow
from schema.context import Info
from schema.types.base import ModelNode
from schema.types.clients import Client
from schema.types.enums import InvoiceLineKind, InvoiceStatus, PaymentMethod

if TYPE_CHECKING:
    from schema.types.time import Expense, TimeEntry


@strawberry.type
class InvoiceLine:
    id: strawberry.ID
    kind: InvoiceLineKind
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal
    tax_amount: Decimal

    @strawberry.field(description="The time entries a TIME line bills (empty once its invoice is void).")
    async def time_entries(self, info: Info) -> list[Annotated[TimeEntry, strawberry.lazy("schema.types.time")]]:
        return await info.context.loaders.billing.time_entries_by_line.load(int(self.id))

    @strawberry.field(description="The expense an EXPENSE line bills (empty once its invoice is void).")
    async def expenses(self, info: Info) -> list[Annotated[Expense, strawberry.lazy("schema.types.time")]]:
        return await info.context.loaders.billing.expenses_by_line.load(int(self.id))


@strawberry.type
class Invoice(ModelNode):
    __model__ = models.Invoice
    __loader__ = "invoice"

    id: relay.NodeID[int]
    number: int
    status: InvoiceStatus
    issue_date: dt.date
    due_date: dt.date
    paid_on: dt.date | None
    sent_at: dt.datetime | None
    voided_at: dt.datetime | None
    notes: str | None = strawberry.field(description="The team's notes on this invoice; never shown to the client.")

    @strawberry.field(description="Sent, not fully paid, and past its due date.")
    def is_overdue(self) -> bool:
        return self.status == InvoiceStatusModel.SENT and self.due_date < utcnow().date()

    @strawberry.field
    async def subtotal(self, info: Info) -> Decimal:
        return await info.context.loaders.invoice_subtotal.load(self.id)

    @strawberry.field
    async def tax(self, info: Info) -> Decimal:
        return await info.context.loaders.invoice_tax.load(self.id)

    @strawberry.field
    async def total(self, info: Info) -> Decimal:
        loaders = info.context.loaders
        return money(await loaders.invoice_subtotal.load(self.id) + await loaders.invoice_tax.load(self.id))

    @strawberry.field
    async def amount_paid(self, info: Info) -> Decimal:
        return await info.context.loaders.invoice_paid.load(self.id)

    @strawberry.field(description="Total less payments received; zero for a void invoice.")
    async def amount_due(self, info: Info) -> Decimal:
        if self.status == InvoiceStatusModel.VOID:
            return money(0)
        loaders = info.context.loaders
        total = await loaders.invoice_subtotal.load(self.id) + await loaders.invoice_tax.load(self.id)
        return money(total - await loaders.invoice_paid.load(self.id))

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        return await info.context.loaders.lines_by_invoice.load(self.id)

    @strawberry.field
    async def payments(self, info: Info) -> list[Payment]:
        return await info.context.loaders.payments_by_invoice.load(self.id)


@strawberry.type
class Payment(ModelNode):
    __model__ = models.Payment
    __loader__ = "payment"

    id: relay.NodeID[int]
    received_on: dt.date
    amount: Decimal
    method: PaymentMethod
    reference: str | None

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        return await info.context.loaders.invoice.load(self.invoice_id)  # type: ignore[attr-defined]
