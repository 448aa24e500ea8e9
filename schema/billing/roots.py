"""Roots of billing: the invoices list, logging time and expenses, and an invoice's life (create,
send, record payments, void).

Each mutation is a business function in resolvers/billing/ and a declaration (schema.mutation_shape).
"""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry import relay

import models
from models import InvoiceStatus as InvoiceStatusModel
from resolvers.billing import invoices, time_tracking
from schema.billing.inputs import (
    CreateInvoiceInput,
    CreateInvoicePayload,
    InvoiceFilterInput,
    LogExpenseInput,
    LogExpensePayload,
    LogTimeInput,
    LogTimePayload,
    RecordPaymentInput,
    RecordPaymentPayload,
    SendInvoicePayload,
    VoidInvoicePayload,
)
from schema.billing.types import Invoice, Payment
from schema.context import Info
from schema.ids import decode_id, lookup_id
from schema.mutation_shape import CallArguments, given, mutation
from schema.pagination import Connection


def _invoice_filter(filter: InvoiceFilterInput | None) -> invoices.InvoiceFilter:
    if filter is None:
        return invoices.InvoiceFilter()
    client_id = decode_id(filter.client_id, "Client", "filter.clientId")
    return invoices.InvoiceFilter(
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
        page = await invoices.list_invoices(
            info.context.db, info.context.principal, filters=_invoice_filter(filter), first=first, after=after
        )
        return Connection[Invoice].from_page(page)

    @strawberry.field(description="One invoice by its global id; null when there is none the caller may see.")
    async def invoice(self, info: Info, id: relay.GlobalID) -> Invoice | None:
        invoice_id = lookup_id(id, "Invoice")
        return None if invoice_id is None else await info.context.loaders.billing.invoice.load(invoice_id)


async def _with_invoice(info: Info, payment: models.Payment) -> RecordPaymentPayload:
    """The payment and its invoice as it is now (read after the commit)."""
    invoice = await info.context.loaders.billing.invoice.load(payment.invoice_id)
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
        invoices.create_invoice,
        CreateInvoicePayload,
        ids={"client_id": "Client"},
        description="Raise a DRAFT invoice for a client, optionally from its unbilled time and expenses.",
    )
    def create_invoice(self, info: Info, input: CreateInvoiceInput) -> CallArguments:
        lines = [invoices.LineInput(x.description, x.quantity, x.unit_price, x.tax_rate) for x in input.lines]
        return given(input) | dict(lines=lines)

    @mutation(
        invoices.send_invoice,
        SendInvoicePayload,
        ids={"id": "Invoice"},
        description="Send a DRAFT invoice: the client sees it in the portal and is notified.",
    )
    def send_invoice(self, info: Info, id: relay.GlobalID) -> CallArguments:
        return dict(invoice_id=id)

    @mutation(
        invoices.record_payment,
        RecordPaymentPayload,
        ids={"invoice_id": "Invoice"},
        result=_with_invoice,
        description="Record a partial or full payment on a SENT invoice; the last one marks it PAID.",
    )
    def record_payment(self, info: Info, input: RecordPaymentInput) -> CallArguments:
        return given(input)

    @mutation(
        invoices.void_invoice,
        VoidInvoicePayload,
        ids={"id": "Invoice"},
        description="Void a DRAFT invoice, or a SENT one with no payments; its time and expenses can be billed again.",
    )
    def void_invoice(self, info: Info, id: relay.GlobalID, reason: str | None = None) -> CallArguments:
        return dict(invoice_id=id, reason=reason)
