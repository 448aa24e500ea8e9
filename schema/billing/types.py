"""Billing: time entries and expenses (what delivery costs and bills), invoices, their lines and
payments. Amounts are exact Decimal sums.

Money fields are split by who may read them: what the agency pays (cost rate, cost amount, an
expense's amount) is COST; what the client is billed is FINANCE (see auth/policy_table.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

import models
from models import InvoiceStatus as InvoiceStatusModel
from models.base import money, utcnow
from models.enums import InvoiceLineKind, InvoiceStatus, PaymentMethod
from resolvers.billing.invoices import line_amounts
from schema.base import ModelNode
from schema.clients.types import Client
from schema.context import Info
from schema.partners.sync_types import external_id_field
from schema.people.types import User

if TYPE_CHECKING:
    from schema.work.types import Project, Task


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
    async def time_entries(self, info: Info) -> list[Annotated[TimeEntry, strawberry.lazy("schema.billing.types")]]:
        return await info.context.loaders.billing.time_entries_by_line.load(int(self.id))

    @strawberry.field(description="The expense an EXPENSE line bills (empty once its invoice is void).")
    async def expenses(self, info: Info) -> list[Annotated[Expense, strawberry.lazy("schema.billing.types")]]:
        return await info.context.loaders.billing.expenses_by_line.load(int(self.id))


@strawberry.type
class Invoice(ModelNode):
    __model__ = models.Invoice
    __loader__ = "billing.invoice"

    id: relay.NodeID[int]
    number: int
    status: InvoiceStatus
    issue_date: dt.date
    due_date: dt.date
    paid_on: dt.date | None
    sent_at: dt.datetime | None
    voided_at: dt.datetime | None
    notes: str | None = strawberry.field(description="The team's notes on this invoice; never shown to the client.")
    external_id: str | None = external_id_field(models.ChangeEntity.INVOICE)

    @strawberry.field(description="Sent, not fully paid, and past its due date.")
    def is_overdue(self) -> bool:
        return self.status == InvoiceStatusModel.SENT and self.due_date < utcnow().date()

    @strawberry.field
    async def subtotal(self, info: Info) -> Decimal:
        return await info.context.loaders.billing.invoice_subtotal.load(self.id)

    @strawberry.field
    async def tax(self, info: Info) -> Decimal:
        return await info.context.loaders.billing.invoice_tax.load(self.id)

    @strawberry.field
    async def total(self, info: Info) -> Decimal:
        loaders = info.context.loaders
        return money(
            await loaders.billing.invoice_subtotal.load(self.id) + await loaders.billing.invoice_tax.load(self.id)
        )

    @strawberry.field
    async def amount_paid(self, info: Info) -> Decimal:
        return await info.context.loaders.billing.invoice_paid.load(self.id)

    @strawberry.field(description="Total less payments received; zero for a void invoice.")
    async def amount_due(self, info: Info) -> Decimal:
        if self.status == InvoiceStatusModel.VOID:
            return money(0)
        loaders = info.context.loaders
        total = await loaders.billing.invoice_subtotal.load(self.id) + await loaders.billing.invoice_tax.load(self.id)
        return money(total - await loaders.billing.invoice_paid.load(self.id))

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        return await info.context.loaders.billing.lines_by_invoice.load(self.id)

    @strawberry.field
    async def payments(self, info: Info) -> list[Payment]:
        return await info.context.loaders.billing.payments_by_invoice.load(self.id)


@strawberry.type
class Payment(ModelNode):
    __model__ = models.Payment
    __loader__ = "billing.payment"

    id: relay.NodeID[int]
    received_on: dt.date
    amount: Decimal
    method: PaymentMethod
    reference: str | None
    external_id: str | None = external_id_field(models.ChangeEntity.PAYMENT)

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        return await info.context.loaders.billing.invoice.load(self.invoice_id)  # type: ignore[attr-defined]


_ZERO = Decimal("0")


@strawberry.type(description="Hours someone worked on a project, with the cost and bill rates captured when logged.")
class TimeEntry(ModelNode):
    __model__ = models.TimeEntry
    __loader__ = "billing.time_entry"

    id: relay.NodeID[int]
    work_date: dt.date
    hours: Decimal
    billable: bool
    description: str | None = strawberry.field(
        description="The team's own words; the client is billed by invoice line."
    )
    created_at: dt.datetime
    cost_rate: Decimal | None = strawberry.field(
        description="What an hour of this person cost the agency, when logged."
    )
    bill_rate: Decimal | None = strawberry.field(description="What an hour of this person billed at, when logged.")

    @strawberry.field(description="Hours x cost rate.")
    def cost_amount(self) -> Decimal | None:
        return line_amounts(self.hours, self.cost_rate, _ZERO)[0]  # type: ignore[arg-type]

    @strawberry.field(description="Hours x bill rate when billable, else zero: what invoicing it bills before tax.")
    def billable_amount(self) -> Decimal | None:
        return line_amounts(self.hours, self.bill_rate, _ZERO)[0] if self.billable else money(0)  # type: ignore[arg-type]

    @strawberry.field(description="On an invoice line (of a draft or sent invoice); a void invoice releases it.")
    def invoiced(self) -> bool | None:
        return self.invoice_line_id is not None  # type: ignore[attr-defined]

    @strawberry.field(description="The invoice that bills this entry.")
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("schema.billing.types")] | None:
        line_id = self.invoice_line_id  # type: ignore[attr-defined]
        return None if line_id is None else await info.context.loaders.billing.invoice_by_line.load(line_id)

    @strawberry.field(description="Who worked.")
    async def user(self, info: Info) -> User | None:
        return await info.context.loaders.people.user.load(self.user_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def project(self, info: Info) -> Annotated[Project, strawberry.lazy("schema.work.types")] | None:
        return await info.context.loaders.work.project.load(self.project_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The task worked on, if any (null when the caller may not see it).")
    async def task(self, info: Info) -> Annotated[Task, strawberry.lazy("schema.work.types")] | None:
        task_id = self.task_id  # type: ignore[attr-defined]
        return None if task_id is None else await info.context.loaders.work.task.load(task_id)


@strawberry.type(description="Money the agency spent on a project; a billable one is passed on to the client at cost.")
class Expense(ModelNode):
    __model__ = models.Expense
    __loader__ = "billing.expense"

    id: relay.NodeID[int]
    description: str
    billable: bool
    incurred_on: dt.date
    created_at: dt.datetime
    amount: Decimal | None = strawberry.field(description="What the agency paid.")

    @strawberry.field(description="The amount when billable, else zero: what invoicing it bills before tax.")
    def billable_amount(self) -> Decimal | None:
        return self.amount if self.billable else money(0)

    @strawberry.field(description="On an invoice line (of a draft or sent invoice); a void invoice releases it.")
    def invoiced(self) -> bool | None:
        return self.invoice_line_id is not None  # type: ignore[attr-defined]

    @strawberry.field(description="The invoice that bills this expense.")
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("schema.billing.types")] | None:
        line_id = self.invoice_line_id  # type: ignore[attr-defined]
        return None if line_id is None else await info.context.loaders.billing.invoice_by_line.load(line_id)

    @strawberry.field(description="Who logged it.")
    async def created_by(self, info: Info) -> User | None:
        user_id = self.created_by_id  # type: ignore[attr-defined]
        return None if user_id is None else await info.context.loaders.people.user.load(user_id)

    @strawberry.field
    async def project(self, info: Info) -> Annotated[Project, strawberry.lazy("schema.work.types")] | None:
        return await info.context.loaders.work.project.load(self.project_id)  # type: ignore[attr-defined]
