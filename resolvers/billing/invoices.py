"""Invoices ("Create Payment" in the guide): raising one for a client, optionally from its unbilled
time and expenses, sending it, recording payments against it, voiding it; and the invoices list.

Two rules hold even under concurrent requests:
- Invoice numbers are sequential and unique. On PostgreSQL the number is taken under a
  transaction-scoped advisory lock (`pg_advisory_xact_lock`) before `max(number) + 1`; on SQLite
  every writing transaction already holds the database's write lock (BEGIN IMMEDIATE). The unique
  constraint on `invoice.number` is the last line of defence.
- Each time entry and expense is billed at most once. The unbilled rows are read after that lock,
  and then claimed with a conditional UPDATE (`... SET invoice_line_id = <line> WHERE id IN (...)
  AND invoice_line_id IS NULL`); if fewer rows are claimed than were read, another transaction
  billed some of them first and the whole invoice is rolled back with ALREADY_BILLED.

Decisions where the brief was silent:
- Pulled time becomes one TIME line per (project, bill rate): quantity is the hours, unit price the
  captured rate. Each billable expense becomes its own EXPENSE line at its amount (quantity 1).
  `taxRate` (default 0) applies to those pulled lines; fixed lines carry their own.
  `unbilledThrough` limits pulled time and expenses to work done up to that date.
- An invoice needs at least one line, and a total above zero (NOTHING_TO_BILL / ZERO_TOTAL).
- Void releases the invoice's time entries and expenses (they can be billed again); its lines stay
  on the void invoice as history. A void is client-visible only if the invoice had been sent.
- A payment is recorded on a SENT invoice only; the one that brings the amount due to zero marks
  it PAID, `paid_on` being the latest payment's date. A payment date may not be in the future.
- When an invoice is sent, every active portal user of the client gets a notification and an
  e-mail; a client with no portal user yet gets the e-mail at its primary contact's address.
- Invoice notes are internal (the team's: "chased twice"). A void reason is appended to them.
- Activity summaries name invoices by number but carry no amounts: MEMBERs read the feed too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import (
    contact_scope,
    expense_scope,
    invoice_scope,
    project_scope,
    time_entry_scope,
    user_scope,
)
from models import (
    ActivityKind,
    Client,
    Contact,
    Expense,
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Project,
    Role,
    TimeEntry,
    User,
)
from models.base import CENT, money, utcnow
from resolvers.activity import notify, queue_email, record_activity
from resolvers.db import RequestDb
from resolvers.errors import InputError
from resolvers.idempotency import claim as claim_idempotency_key
from resolvers.lookup import visible_row
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.validation import MAX_MONEY, decimal_input, not_in_future, text_input, today

FIRST_INVOICE_NUMBER = 1001


# pg_advisory_xact_lock key for invoice numbering (any constant bigint; "INVOICE#" in ASCII).
INVOICE_NUMBER_LOCK = 0x494E564F49434523


MAX_LINES = 200


MAX_LINE_DESCRIPTION = 500  # the column's length


MAX_NOTES = 2000


MAX_REFERENCE = 200  # the column's length


MAX_QUANTITY = Decimal("99999999.99")  # Numeric(10, 2)


CLAIM_CHUNK = 500  # rows per claiming UPDATE: keeps bound parameters far below every driver's limit


@dataclass(frozen=True)
class InvoiceFilter:
    statuses: tuple[InvoiceStatus, ...] = ()
    client_id: int | None = None
    overdue: bool | None = None


def overdue_condition(on: dt.date) -> ColumnElement[bool]:
    """The SQL twin of Invoice.isOverdue: sent, not fully paid, past its due date."""
    return sa.and_(col(Invoice.status) == InvoiceStatus.SENT, col(Invoice.due_date) < on)


async def list_invoices(
    db: RequestDb, principal: Principal, *, filters: InvoiceFilter, first: int | None, after: str | None
) -> Page[Invoice]:
    """The caller's invoices, newest number first, keyset-paged in SQL."""
    statement = sa.select(Invoice).where(invoice_scope(principal))
    if filters.statuses:
        statement = statement.where(col(Invoice.status).in_(filters.statuses))
    if filters.client_id is not None:
        statement = statement.where(col(Invoice.client_id) == filters.client_id)
    if filters.overdue is not None:
        overdue = overdue_condition(today())
        statement = statement.where(overdue if filters.overdue else sa.not_(overdue))
    return await keyset_page(
        db,
        statement,
        key=SortKey(col(Invoice.number), "int"),
        id_column=col(Invoice.id),
        direction=SortDirection.DESC,
        first=first,
        after=after,
    )


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """A line's amount and tax, each rounded to the cent once, when the line is written."""
    amount = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
    return amount, (amount * tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)


async def _invoice_total(session: AsyncSession, invoice_id: int) -> Decimal:
    total = await session.scalar(
        sa.select(sa.func.sum(col(InvoiceLine.amount) + col(InvoiceLine.tax_amount))).where(
            col(InvoiceLine.invoice_id) == invoice_id
        )
    )
    return money(total)


async def _invoice_paid(session: AsyncSession, invoice_id: int) -> Decimal:
    return money(
        await session.scalar(sa.select(sa.func.sum(col(Payment.amount))).where(col(Payment.invoice_id) == invoice_id))
    )


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = Decimal("0")


@dataclass
class _Line:
    kind: InvoiceLineKind
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    billed_ids: list[int]  # time entry or expense ids this line bills


def _tax_rate(field: str, value: Decimal) -> Decimal:
    return decimal_input(field, value, places=4, minimum_inclusive=True, maximum=Decimal("1"), what="tax rate")


def _fixed_lines(lines: Sequence[LineInput]) -> list[_Line]:
    if len(lines) > MAX_LINES:
        raise InputError("lines", "TOO_MANY_LINES", f"An invoice has at most {MAX_LINES} lines.")
    checked = []
    for i, line in enumerate(lines):
        at = f"lines.{i}"
        description = text_input(
            f"{at}.description",
            line.description,
            max_length=MAX_LINE_DESCRIPTION,
            required=True,
            what="line description",
        )
        quantity = decimal_input(f"{at}.quantity", line.quantity, maximum=MAX_QUANTITY, what="quantity")
        unit_price = decimal_input(f"{at}.unitPrice", line.unit_price, minimum_inclusive=True, what="unit price")
        tax_rate = _tax_rate(f"{at}.taxRate", line.tax_rate)
        amount, tax = line_amounts(quantity, unit_price, tax_rate)
        if amount + tax > MAX_MONEY:
            raise InputError(f"{at}.quantity", "TOO_LARGE", "The line's amount is larger than an invoice can hold.")
        checked.append(_Line(InvoiceLineKind.FIXED, description, quantity, unit_price, tax_rate, []))
    return checked


async def _lock_numbering(session: AsyncSession) -> None:
    """Serialise invoice creation on PostgreSQL until this transaction ends (SQLite already is)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(INVOICE_NUMBER_LOCK)))


async def _next_number(session: AsyncSession) -> int:
    # Deliberately unscoped: numbering is agency-wide, and only the new number reaches the caller.
    highest = await session.scalar(sa.select(sa.func.max(col(Invoice.number))))
    return FIRST_INVOICE_NUMBER if highest is None else int(highest) + 1


async def _unbilled_lines(
    session: AsyncSession, principal: Principal, client_id: int, through: dt.date | None, tax_rate: Decimal
) -> list[_Line]:
    """One TIME line per (project, bill rate) and one EXPENSE line per expense, from the client's
    billable rows no invoice line has claimed yet. Two statements, however many rows."""
    time_query = (
        sa.select(
            col(TimeEntry.id),
            col(TimeEntry.project_id),
            col(TimeEntry.bill_rate),
            col(TimeEntry.hours),
            col(Project.name),
        )
        .join(Project, col(Project.id) == col(TimeEntry.project_id))
        .where(
            col(Project.client_id) == client_id,
            col(TimeEntry.billable).is_(True),
            col(TimeEntry.invoice_line_id).is_(None),
            time_entry_scope(principal),
            project_scope(principal),
        )
        .order_by(
            col(Project.name), col(Project.id), col(TimeEntry.bill_rate), col(TimeEntry.work_date), col(TimeEntry.id)
        )
    )
    expense_query = (
        sa.select(col(Expense.id), col(Expense.description), col(Expense.amount), col(Project.name))
        .join(Project, col(Project.id) == col(Expense.project_id))
        .where(
            col(Project.client_id) == client_id,
            col(Expense.billable).is_(True),
            col(Expense.invoice_line_id).is_(None),
            expense_scope(principal),
            project_scope(principal),
        )
        .order_by(col(Expense.incurred_on), col(Expense.id))
    )
    if through is not None:
        time_query = time_query.where(col(TimeEntry.work_date) <= through)
        expense_query = expense_query.where(col(Expense.incurred_on) <= through)

    groups: dict[tuple[int, Decimal], _Line] = {}
    for entry_id, project_id, rate, hours, project_name in (await session.execute(time_query)).all():
        rate = money(rate)
        line = groups.get((project_id, rate))
        if line is None:
            line = groups[(project_id, rate)] = _Line(
                InvoiceLineKind.TIME, f"{project_name}: time at {rate} per hour", Decimal("0.00"), rate, tax_rate, []
            )
        line.quantity += Decimal(str(hours))
        assert entry_id is not None  # a primary key
        line.billed_ids.append(entry_id)
    lines = list(groups.values())
    for expense_id, description, amount, project_name in (await session.execute(expense_query)).all():
        assert expense_id is not None  # a primary key
        lines.append(
            _Line(
                InvoiceLineKind.EXPENSE,
                f"{project_name}: {description}"[:MAX_LINE_DESCRIPTION],
                Decimal("1"),
                money(amount),
                tax_rate,
                [expense_id],
            )
        )
    for line in lines:
        if line.quantity > MAX_QUANTITY or sum(line_amounts(line.quantity, line.unit_price, tax_rate)) > MAX_MONEY:
            raise InputError(
                "includeUnbilled", "TOO_LARGE", "The unbilled work is more than one invoice line can hold."
            )
    return lines


async def claim(session: AsyncSession, entity: type[TimeEntry] | type[Expense], line_by_id: dict[int, int]) -> int:
    """Point each row at its invoice line, only where no line has claimed it yet; returns how many
    rows were claimed. Conditional UPDATEs, one per CLAIM_CHUNK rows, never one per row."""
    claimed = 0
    ids = sorted(line_by_id)  # one lock order for every claimer
    for start in range(0, len(ids), CLAIM_CHUNK):
        chunk = ids[start : start + CLAIM_CHUNK]
        statement = (
            sa.update(entity)
            .where(col(entity.id).in_(chunk), col(entity.invoice_line_id).is_(None))
            .values(invoice_line_id=sa.case({i: line_by_id[i] for i in chunk}, value=col(entity.id)))
            .execution_options(synchronize_session=False)
        )
        # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult (rowcount).
        claimed += cast(CursorResult[Any], await session.execute(statement)).rowcount
    return claimed


async def create_invoice(
    session: AsyncSession,
    principal: Principal,
    *,
    client_id: int,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
    lines: Sequence[LineInput] = (),
    include_unbilled: bool = False,
    unbilled_through: dt.date | None = None,
    tax_rate: Decimal = Decimal("0"),
    notes: str | None = None,
) -> Invoice:
    """A DRAFT invoice for a client, its number the next in sequence."""
    fixed = _fixed_lines(lines)
    pulled_tax = _tax_rate("taxRate", tax_rate)
    text = text_input("notes", notes, max_length=MAX_NOTES, what="notes")
    client = await visible_row(session, principal, Client, client_id, what="client", field="clientId")
    assert client.id is not None
    issue = issue_date or today()
    due = due_date or issue + dt.timedelta(days=client.payment_terms_days)
    if due < issue:
        raise InputError("dueDate", "DUE_BEFORE_ISSUE", "The due date may not be before the issue date.")

    await _lock_numbering(session)
    pulled = (
        await _unbilled_lines(session, principal, client.id, unbilled_through, pulled_tax) if include_unbilled else []
    )
    all_lines = fixed + pulled
    if not all_lines:
        raise InputError(
            "includeUnbilled" if include_unbilled else "lines",
            "NOTHING_TO_BILL",
            "Nothing to bill: add a line, or there is no unbilled billable time or expense for this client.",
        )
    if len(all_lines) > MAX_LINES:
        raise InputError(
            "includeUnbilled", "TOO_MANY_LINES", f"An invoice has at most {MAX_LINES} lines; use unbilledThrough."
        )
    total = sum(
        (sum(line_amounts(line.quantity, line.unit_price, line.tax_rate)) for line in all_lines), Decimal("0.00")
    )
    if total <= 0:
        raise InputError("lines", "ZERO_TOTAL", "An invoice's total must be more than zero.")
    if total > MAX_MONEY:
        raise InputError("lines", "TOO_LARGE", "The invoice's total is larger than an invoice can hold.")

    invoice = Invoice(
        client_id=client.id,
        number=await _next_number(session),
        status=InvoiceStatus.DRAFT,
        issue_date=issue,
        due_date=due,
        notes=text,
        created_by_id=principal.user_id,
    )
    session.add(invoice)
    await session.flush()
    assert invoice.id is not None
    rows = []
    for position, line in enumerate(all_lines):
        amount, tax = line_amounts(line.quantity, line.unit_price, line.tax_rate)
        rows.append(
            InvoiceLine(
                invoice_id=invoice.id,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                amount=amount,
                tax_amount=tax,
                position=position,
            )
        )
    session.add_all(rows)
    await session.flush()
    line_ids = [row.id for row in rows if row.id is not None]  # all of them: flushed, every row has its id

    for entity, kind in ((TimeEntry, InvoiceLineKind.TIME), (Expense, InvoiceLineKind.EXPENSE)):
        line_by_id = {
            i: line_id
            for line, line_id in zip(all_lines, line_ids, strict=True)
            if line.kind is kind
            for i in line.billed_ids
        }
        if line_by_id and await claim(session, entity, line_by_id) != len(line_by_id):
            raise InputError(
                "includeUnbilled",
                "ALREADY_BILLED",
                "Some of this client's time or expenses were billed by another invoice meanwhile; "
                "nothing was written. Try again.",
            )
    record_activity(
        session,
        principal,
        ActivityKind.INVOICE_CREATED,
        f"Invoice #{invoice.number} created for {client.name}",
        client_id=client.id,
        subject_type="Invoice",
        subject_id=invoice.id,
    )
    return invoice


async def _invoice_for_update(session: AsyncSession, principal: Principal, invoice_id: int, field: str) -> Invoice:
    """The invoice, locked until the transaction ends (PostgreSQL; SQLite's write lock is already held),
    so a payment, a send and a void of one invoice never interleave."""
    invoice = await visible_row(session, principal, Invoice, invoice_id, what="invoice", field=field, lock=True)
    return invoice


def _wrong_transition(field: str, invoice: Invoice, action: str, why: str) -> InputError:
    return InputError(
        field, "INVALID_TRANSITION", f"Invoice #{invoice.number} is {invoice.status.value}: {action} {why}"
    )


async def _portal_recipients(
    session: AsyncSession, principal: Principal, client_id: int
) -> tuple[list[int], list[str]]:
    """Active portal users to notify, and the addresses to e-mail (the primary contact when no portal user)."""
    users = (
        await session.execute(
            sa.select(col(User.id), col(User.email))
            .where(
                col(User.client_id) == client_id,
                col(User.role) == Role.CLIENT,
                col(User.is_active).is_(True),
                user_scope(principal),
            )
            .order_by(col(User.id))
        )
    ).all()
    emails = [email for _, email in users]
    if not emails:
        primary = await session.scalar(
            sa.select(col(Contact.email)).where(
                col(Contact.client_id) == client_id, col(Contact.is_primary).is_(True), contact_scope(principal)
            )
        )
        emails = [primary] if primary else []
    return [user_id for user_id, _ in users if user_id is not None], list(dict.fromkeys(e.lower() for e in emails))


async def send_invoice(session: AsyncSession, principal: Principal, *, invoice_id: int) -> Invoice:
    """DRAFT -> SENT: the client sees it in the portal from now on, and is told so."""
    invoice = await _invoice_for_update(session, principal, invoice_id, "id")
    assert invoice.id is not None
    if invoice.status is not InvoiceStatus.DRAFT:
        raise _wrong_transition("id", invoice, "only a draft can be sent", "(it was sent already, or voided).")
    invoice.status = InvoiceStatus.SENT
    invoice.sent_at = utcnow()
    total = await _invoice_total(session, invoice.id)
    client_name = await session.scalar(sa.select(col(Client.name)).where(col(Client.id) == invoice.client_id))
    user_ids, emails = await _portal_recipients(session, principal, invoice.client_id)
    notify(
        session,
        user_ids,
        "INVOICE_SENT",
        f"Invoice #{invoice.number} is ready in your portal",
        subject_type="Invoice",
        subject_id=invoice.id,
    )
    for email in emails:
        queue_email(
            session,
            email,
            f"Invoice #{invoice.number} for {client_name}",
            f"Hello,\n\nInvoice #{invoice.number} for {total} is ready in your client portal. "
            f"It is due on {invoice.due_date.isoformat()}.\n",
        )
    record_activity(
        session,
        principal,
        ActivityKind.INVOICE_SENT,
        f"Invoice #{invoice.number} sent",
        client_id=invoice.client_id,
        subject_type="Invoice",
        subject_id=invoice.id,
        client_visible=True,
    )
    await session.flush()
    return invoice


async def record_payment(
    session: AsyncSession,
    principal: Principal,
    *,
    invoice_id: int,
    amount: Decimal,
    received_on: dt.date | None = None,
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """A partial or full payment on a SENT invoice; the one that clears the amount due marks it PAID.

    With `idempotency_key` (resolvers.idempotency), the same key and input again answer the first
    payment, re-read, and write nothing; the key with another input is IDEMPOTENCY_KEY_REUSED."""
    claimed = None
    if idempotency_key is not None:
        request = dict(
            invoice_id=invoice_id, amount=amount, received_on=received_on, method=method, reference=reference
        )
        claimed = await claim_idempotency_key(
            session, principal, operation="recordPayment", key=idempotency_key, arguments=request
        )
        if claimed.replay is not None:
            return await visible_row(
                session, principal, Payment, claimed.replay, what="payment", field="idempotencyKey"
            )
    amount = decimal_input("amount", amount)
    received = not_in_future("receivedOn", received_on or today(), "payment date")
    text = text_input("reference", reference, max_length=MAX_REFERENCE, what="reference")
    invoice = await _invoice_for_update(session, principal, invoice_id, "invoiceId")
    assert invoice.id is not None
    if invoice.status is InvoiceStatus.DRAFT:
        raise _wrong_transition("invoiceId", invoice, "send it", "before recording a payment on it.")
    if invoice.status is not InvoiceStatus.SENT:
        raise _wrong_transition("invoiceId", invoice, "a payment can be recorded", "only on a sent invoice.")
    due = await _invoice_total(session, invoice.id) - await _invoice_paid(session, invoice.id)
    if amount > due:
        raise InputError(
            "amount", "OVERPAYMENT", f"Invoice #{invoice.number} has {due} due; the payment may not exceed it."
        )
    payment = Payment(
        invoice_id=invoice.id,
        received_on=received,
        amount=amount,
        method=method,
        reference=text,
        recorded_by_id=principal.user_id,
    )
    session.add(payment)
    await session.flush()
    if amount == due:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_on = await session.scalar(
            sa.select(sa.func.max(col(Payment.received_on))).where(col(Payment.invoice_id) == invoice.id)
        )
    record_activity(
        session,
        principal,
        ActivityKind.PAYMENT_RECEIVED,
        f"Payment received for invoice #{invoice.number}" + (" (paid in full)" if amount == due else ""),
        client_id=invoice.client_id,
        subject_type="Payment",
        subject_id=payment.id,
        client_visible=True,
    )
    await session.flush()
    if claimed is not None:
        assert payment.id is not None
        await claimed.done(session, payment.id)
    return payment


async def release_billed(session: AsyncSession, invoice_ids: Iterable[int]) -> None:
    """Unlink every time entry and expense from the lines of these invoices: billable again."""
    lines = sa.select(col(InvoiceLine.id)).where(col(InvoiceLine.invoice_id).in_(list(invoice_ids)))
    for entity in (TimeEntry, Expense):
        await session.execute(
            sa.update(entity)
            .where(col(entity.invoice_line_id).in_(lines))
            .values(invoice_line_id=None)
            .execution_options(synchronize_session=False)
        )


async def void_invoice(
    session: AsyncSession, principal: Principal, *, invoice_id: int, reason: str | None = None
) -> Invoice:
    """DRAFT, or SENT with no payment -> VOID; its time and expenses can be billed again."""
    text = text_input("reason", reason, max_length=MAX_NOTES, what="reason")
    invoice = await _invoice_for_update(session, principal, invoice_id, "id")
    assert invoice.id is not None
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.SENT):
        raise _wrong_transition("id", invoice, "only a draft or sent invoice", "can be voided.")
    if await _invoice_paid(session, invoice.id) > 0:
        raise InputError("id", "HAS_PAYMENTS", f"Invoice #{invoice.number} has payments recorded; it cannot be voided.")
    was_sent = invoice.status is InvoiceStatus.SENT
    await release_billed(session, [invoice.id])
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = utcnow()
    if text:
        invoice.notes = f"{invoice.notes}\nVoided: {text}" if invoice.notes else f"Voided: {text}"
    record_activity(
        session,
        principal,
        ActivityKind.INVOICE_VOIDED,
        f"Invoice #{invoice.number} voided",
        client_id=invoice.client_id,
        subject_type="Invoice",
        subject_id=invoice.id,
        client_visible=was_sent,
    )
    await session.flush()
    return invoice
