"""Billing roots: the invoices list, logging time and expenses, and an invoice's life
(create, send, record payments, void). Each mutation is a business function in resolvers/ and a
declaration (schema.mutation_shape): one transaction, with a typed payload."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import strawberry
from strawberry import relay

import models
from models import InvoiceStatus as InvoiceStatusModel
from models import PaymentMethod as PaymentMethodModel
from resolvers import billing, time_tracking
from schema.context import Info
from schema.ids import decode_id, lookup_id
from schema.mutation_shape import CallArguments, given, mutation, payload
from schema.types.billing import Invoice, Payment
from schema.types.enums import InvoiceStatus, PaymentMethod
from schema.types.pagination import Connection
from schema.types.time import Expense, TimeEntry

# ---- inputs


@strawberry.input(description="Hours the caller worked. Rates are captured from the caller's own at this moment.")
class LogTimeInput:
    project_id: relay.GlobalID
    task_id: relay.GlobalID | None = strawberry.field(default=None, description="A task of that project.")
    work_date: dt.date
    hours: Decimal = strawberry.field(description="More than 0, at most 24, at most 2 decimal places.")
    billable: bool = strawberry.field(
        description="Required: whether the client pays for these hours is never a default."
    )
    description: str | None = None


@strawberry.input(description="Money spent on a project; a billable expense is passed on at cost.")
class LogExpenseInput:
    project_id: relay.GlobalID
    description: str
    amount: Decimal = strawberry.field(description="More than 0, at most 2 decimal places.")
    billable: bool
    incurred_on: dt.date


@strawberry.input(description="A fixed line: quantity x unit price, then tax.")
class InvoiceLineInput:
    description: str
    quantity: Decimal = strawberry.field(description="More than 0.")
    unit_price: Decimal = strawberry.field(description="Zero or more.")
    tax_rate: Decimal = strawberry.field(default=Decimal("0"), description="A fraction from 0 to 1 (0.2 is 20%).")


@strawberry.input(description='Raise an invoice for a client ("Create Payment"). It starts as a DRAFT.')
class CreateInvoiceInput:
    client_id: relay.GlobalID
    issue_date: dt.date | None = strawberry.field(default=None, description="Default: today (UTC).")
    due_date: dt.date | None = strawberry.field(
        default=None, description="Default: issue date + the client's payment terms."
    )
    lines: list[InvoiceLineInput] = strawberry.field(default_factory=list)
    include_unbilled: bool = strawberry.field(
        default=False,
        description="Pull in the client's unbilled billable time (one TIME line per project and bill rate) "
        "and expenses (one EXPENSE line each).",
    )
    unbilled_through: dt.date | None = strawberry.field(
        default=None, description="Pull in only work done up to this date."
    )
    tax_rate: Decimal = strawberry.field(default=Decimal("0"), description="Tax rate of the pulled-in lines, 0 to 1.")
    notes: str | None = strawberry.field(default=None, description="For the team; never shown to the client.")


@strawberry.input(description="Money received against a sent invoice; partial or full.")
class RecordPaymentInput:
    invoice_id: relay.GlobalID
    amount: Decimal = strawberry.field(description="More than 0 and at most the amount due.")
    received_on: dt.date | None = strawberry.field(default=None, description="Default: today (UTC).")
    method: PaymentMethod = PaymentMethodModel.BANK_TRANSFER
    reference: str | None = None


@strawberry.input(description="Narrow the invoices list. Filters combine with AND.")
class InvoiceFilterInput:
    status: list[InvoiceStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    client_id: relay.GlobalID | None = None
    overdue: bool | None = strawberry.field(default=None, description="Sent, not fully paid, past its due date.")


# ---- payloads


@payload
class LogTimePayload:
    time_entry: TimeEntry | None = None


@payload
class LogExpensePayload:
    expense: Expense | None = None


@payload
class CreateInvoicePayload:
    invoice: Invoice | None = None


@payload
class SendInvoicePayload:
    invoice: Invoice | None = None


@payload
class RecordPaymentPayload:
    payment: Payment | None = None
    invoice: Invoice | None = None


@payload
class VoidInvoicePayload:
    invoice: Invoice | None = None


# ---- roots


def _invoice_filter(filter: InvoiceFilterInput | None) -> billing.InvoiceFilter:
    if filter is None:
        return billing.InvoiceFilter()
    client_id = decode_id(filter.client_id, "Client", "filter.clientId")
    return billing.InvoiceFilter(
        statuses=tuple(InvoiceStatusModel(s) for s in filter.status or ()), client_id=client_id, overdue=filter.overdue
    )


@strawberry.type
class BillingQuery:
    @strawberry.field(
        description="Invoices, newest number first, cursor-paginated (at most 100 a page). A client lists its own."
    )
    async def invoices(
        self, info: Info, first: int | None = 20, after: str | None = None, filter: InvoiceFilterInput | None = None
    ) -> Connection[Invoice] | None:
        page = await billing.list_invoices(
            info.context.db, info.context.principal, filters=_invoice_filter(filter), first=first, after=after
        )
        return Connection[Invoice].from_page(page)

    @strawberry.field(description="One invoice by its global id; null when there is none the caller may see.")
    async def invoice(self, info: Info, id: relay.GlobalID) -> Invoice | None:
        invoice_id = lookup_id(id, "Invoice")
        return None if invoice_id is None else await info.context.loaders.invoice.load(invoice_id)


async def _with_invoice(info: Info, payment: models.Payment) -> RecordPaymentPayload:
    """The payment and its invoice as it is now (read after the commit)."""
    invoice = await info.context.loaders.invoice.load(payment.invoice_id)
    # The model row stands in for the GraphQL type (Strawberry reads fields by attribute).
    return RecordPaymentPayload(payment=cast("Payment", payment), invoice=invoice)


@strawberry.type
class BillingMutation:
    @mutation(
        time_tracking.log_time,
        LogTimePayload,
        ids={"project_id": "Project", "task_id": "Task"},
        description="Log the caller's hours on a project (staff).",
    )
    def log_time(self, info: Info, input: LogTimeInput) -> CallArguments:
        return given(input)

    @mutation(
        time_tracking.log_expense,
        LogExpensePayload,
        ids={"project_id": "Project"},
        description="Log an expense on a project (staff).",
    )
    def log_expense(self, info: Info, input: LogExpenseInput) -> CallArguments:
        return given(input)

    @mutation(
        billing.create_invoice,
        CreateInvoicePayload,
        ids={"client_id": "Client"},
        description="Raise a DRAFT invoice for a client, optionally from its unbilled time and expenses.",
    )
    def create_invoice(self, info: Info, input: CreateInvoiceInput) -> CallArguments:
        lines = [billing.LineInput(x.description, x.quantity, x.unit_price, x.tax_rate) for x in input.lines]
        return given(input) | dict(lines=lines)

    @mutation(
        billing.send_invoice,
        SendInvoicePayload,
        ids={"id": "Invoice"},
        description="Send a DRAFT invoice: the client sees it in the portal and is notified.",
    )
    def send_invoice(self, info: Info, id: relay.GlobalID) -> CallArguments:
        return dict(invoice_id=id)

    @mutation(
        billing.record_payment,
        RecordPaymentPayload,
        ids={"invoice_id": "Invoice"},
        result=_with_invoice,
        description="Record a partial or full payment on a SENT invoice; the last one marks it PAID.",
    )
    def record_payment(self, info: Info, input: RecordPaymentInput) -> CallArguments:
        return given(input)

    @mutation(
        billing.void_invoice,
        VoidInvoicePayload,
        ids={"id": "Invoice"},
        description="Void a DRAFT invoice, or a SENT one with no payments; its time and expenses can be billed again.",
    )
    def void_invoice(self, info: Info, id: relay.GlobalID, reason: str | None = None) -> CallArguments:
        return dict(invoice_id=id, reason=reason)
