"""Loading the invoices. Which lines an invoice has comes from the data (fixed lines, windows of
billable time and expenses); what they come to does not: each line's amount and tax are worked
out by the product's own `line_amounts`, exactly as createInvoice writes them, and money is
rounded by the product's `money`. The loader then bills the time and expenses it pulled, sends,
pays and voids as the data says, and logs each step to the activity feed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from models import (
    ActivityKind,
    Expense,
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    Payment,
    TimeEntry,
)
from models.base import money
from resolvers.billing.invoices import FIRST_INVOICE_NUMBER, line_amounts
from server.demo.data.billing import INVOICES
from server.demo.data.records import InvoiceSpec
from server.demo.loader.state import DemoLoad, known


class _Draft(NamedTuple):
    """A line before its amounts are worked out, with the rows it bills."""

    kind: InvoiceLineKind
    description: str
    quantity: Decimal
    unit_price: Decimal
    billed: Sequence[TimeEntry | Expense]


def _invoice_line(draft: _Draft, invoice_id: int, tax_rate: Decimal, position: int) -> InvoiceLine:
    amount, tax = line_amounts(draft.quantity, draft.unit_price, tax_rate)
    return InvoiceLine(
        invoice_id=invoice_id,
        kind=draft.kind,
        description=draft.description,
        quantity=draft.quantity,
        unit_price=draft.unit_price,
        tax_rate=tax_rate,
        amount=amount,
        tax_amount=tax,
        position=position,
    )


def _total(lines: Sequence[InvoiceLine]) -> Decimal:
    """What the API answers for Invoice.total: the lines' amounts and taxes, each already rounded."""
    return money(sum((line.amount + line.tax_amount for line in lines), Decimal("0.00")))


def _drafts(load: DemoLoad, spec: InvoiceSpec, claimed: set[int]) -> list[_Draft]:
    """The invoice's fixed lines, then one TIME line per (project, person, bill rate) and one EXPENSE
    line per expense in its windows that no earlier invoice claimed (`claimed` holds their id()s,
    before line ids exist)."""
    project_names = {p.id: p.name for _, p, _ in load.projects}
    project_client = {p.id: project_spec.client for project_spec, p, _ in load.projects}
    drafts = [
        _Draft(InvoiceLineKind.FIXED, description, money(quantity), money(price), [])
        for description, quantity, price in spec.fixed
    ]
    if spec.time_window:
        start, stop = load.day(-spec.time_window[0]), load.day(-spec.time_window[1])
        groups: dict[tuple[int, int, Decimal], list[TimeEntry]] = defaultdict(list)
        for entry in load.time_entries:
            if (
                entry.billable
                and entry.invoice_line_id is None
                and start <= entry.work_date <= stop
                and project_client[entry.project_id] == spec.client
                and id(entry) not in claimed
            ):
                groups[(entry.project_id, entry.user_id, entry.bill_rate)].append(entry)
        for (project_id, user_id, rate), entries in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1])):
            claimed.update(id(e) for e in entries)
            worker = load.staff_member(user_id)
            drafts.append(
                _Draft(
                    InvoiceLineKind.TIME,
                    f"{project_names[project_id]}: {worker.job_title} ({worker.full_name})",
                    money(sum(e.hours for e in entries)),
                    rate,
                    entries,
                )
            )
    if spec.expense_window:
        start, stop = load.day(-spec.expense_window[0]), load.day(-spec.expense_window[1])
        for expense, key in load.expenses:
            if (
                key == spec.client
                and expense.billable
                and start <= expense.incurred_on <= stop
                and id(expense) not in claimed
            ):
                claimed.add(id(expense))
                drafts.append(
                    _Draft(
                        InvoiceLineKind.EXPENSE,
                        f"{project_names[expense.project_id]}: {expense.description}",
                        money(1),
                        expense.amount,
                        [expense],
                    )
                )
    return drafts


async def add_invoices(load: DemoLoad) -> None:
    ordered = sorted(INVOICES, key=lambda s: -s.issue_ago)  # numbers follow issue dates
    drafted: list[tuple[InvoiceSpec, Invoice, list[_Draft]]] = []
    claimed: set[int] = set()
    for number, spec in enumerate(ordered, start=FIRST_INVOICE_NUMBER):
        client = load.clients[spec.client]
        issue = load.day(-spec.issue_ago)
        sent = spec.status in (InvoiceStatus.SENT, InvoiceStatus.PAID) or spec.was_sent
        invoice = Invoice(
            client_id=known(client.id),
            number=number,
            status=spec.status,
            issue_date=issue,
            due_date=issue + dt.timedelta(days=client.payment_terms_days),
            sent_at=load.at(spec.issue_ago, 9, 15) if sent else None,
            voided_at=load.at(spec.voided_ago, 10) if spec.voided_ago is not None else None,
            notes=spec.notes,
            created_by_id=load.staff[spec.by].id,
            created_at=load.at(spec.issue_ago, 8, 45),
        )
        drafted.append((spec, invoice, _drafts(load, spec, claimed)))

    load.session.add_all(invoice for _, invoice, _ in drafted)
    await load.session.flush()
    built: list[tuple[InvoiceSpec, Invoice, list[tuple[InvoiceLine, Sequence[TimeEntry | Expense]]]]] = []
    for spec, invoice, drafts in drafted:
        tax_rate = load.client_specs[spec.client].tax_rate
        lines = [
            (_invoice_line(draft, known(invoice.id), tax_rate, position), draft.billed)
            for position, draft in enumerate(drafts)
        ]
        load.session.add_all(invoice_line for invoice_line, _ in lines)
        built.append((spec, invoice, lines))
    await load.session.flush()
    for _, _, lines in built:
        for invoice_line, billed in lines:
            for row in billed:
                row.invoice_line_id = invoice_line.id

    payments: list[tuple[Payment, Invoice]] = []
    for spec, invoice, lines in built:
        client = load.clients[spec.client]
        author = load.staff[spec.by]
        total = _total([invoice_line for invoice_line, _ in lines])
        load.log(
            ActivityKind.INVOICE_CREATED,
            client,
            invoice.created_at,
            f"Invoice #{invoice.number} created",
            actor=author,
            subject=invoice,
        )
        if invoice.sent_at:
            load.log(
                ActivityKind.INVOICE_SENT,
                client,
                invoice.sent_at,
                f"Invoice #{invoice.number} sent",
                actor=author,
                subject=invoice,
                visible=True,
            )
        if invoice.voided_at:
            load.log(
                ActivityKind.INVOICE_VOIDED,
                client,
                invoice.voided_at,
                f"Invoice #{invoice.number} voided",
                actor=author,
                subject=invoice,
            )
        paid = Decimal("0.00")
        for days_ago, how, method in spec.payments:
            amount = total - paid if how == "full" else money(total / 2) if how == "half" else money(how)
            paid += amount
            payment = Payment(
                invoice_id=known(invoice.id),
                received_on=load.day(-days_ago),
                amount=amount,
                method=method,
                reference=f"{method.value[:4]}-{invoice.number}-{len(payments) + 1:03d}",
                recorded_by_id=author.id,
                created_at=load.at(days_ago, 11),
            )
            payments.append((payment, invoice))
            if how == "full":
                invoice.paid_on = payment.received_on
    load.session.add_all(payment for payment, _ in payments)
    await load.session.flush()
    for payment, invoice in payments:
        load.log(
            ActivityKind.PAYMENT_RECEIVED,
            load.client_by_id(invoice.client_id),
            payment.created_at,
            f"Payment received for invoice #{invoice.number}",
            actor=load.staff_by_id(payment.recorded_by_id),
            subject=payment,
            visible=True,
        )
    load.invoices = [(spec, invoice) for spec, invoice, _ in built]
