"""Inputs and payloads of logging time and expenses and of an invoice's life."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

from models import PaymentMethod as PaymentMethodModel
from models.enums import InvoiceStatus, PaymentMethod
from schema.billing.types import Expense, Invoice, Payment, TimeEntry
from schema.mutation_shape import payload


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
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1 to 255 characters of the sender's choosing (a UUID): sent again with the same input within "
        "24 hours, the first payment is answered and nothing is written; with another input, IDEMPOTENCY_KEY_REUSED.",
    )


@strawberry.input(description="Narrow the invoices list. Filters combine with AND.")
class InvoiceFilterInput:
    status: list[InvoiceStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    client_id: relay.GlobalID | None = None
    overdue: bool | None = strawberry.field(default=None, description="Sent, not fully paid, past its due date.")


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
