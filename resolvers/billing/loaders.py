"""DataLoaders of billing: invoices, their lines and payments, time and expenses, and the per-client money figures.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.billing`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import (
    Expense,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Project,
    TimeEntry,
)
from models.base import money
from resolvers.batching import DomainLoaders, aggregate, by_id, grouped, in_keys, loader, with_keys
from resolvers.billing.invoices import line_amounts
from resolvers.db import RequestDb


class BillingLoaders(DomainLoaders):
    @loader
    def invoice(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Invoice, scopes.invoice_scope(p))

    @loader
    def payment(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Payment, scopes.payment_scope(p))

    @loader
    def invoices_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Invoice,
            col(Invoice.client_id),
            scopes.invoice_scope(p),
            (col(Invoice.issue_date).desc(), col(Invoice.number).desc()),
        )

    @loader
    def payments_by_invoice(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db, Payment, col(Payment.invoice_id), scopes.payment_scope(p), (col(Payment.received_on), col(Payment.id))
        )

    @loader
    def lines_by_invoice(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            InvoiceLine,
            col(InvoiceLine.invoice_id),
            col(InvoiceLine.invoice_id).in_(_visible_invoices(p)),
            (col(InvoiceLine.position), col(InvoiceLine.id)),
        )

    @loader
    def payments_by_client(db: RequestDb, p: Principal) -> DataLoader:
        statement = client_payments(p).order_by(col(Payment.received_on).desc(), col(Payment.id).desc())

        async def payments_by_client(keys: Sequence[int]) -> list[list[Payment]]:
            groups: dict[int, list[Payment]] = defaultdict(list)
            for client_id, payment in await db.rows(with_keys(statement, keys)):
                groups[client_id].append(payment)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=payments_by_client)

    @loader
    def invoice_subtotal(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, invoice_subtotals(p), Decimal("0.00"), money)

    @loader
    def invoice_tax(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, invoice_taxes(p), Decimal("0.00"), money)

    @loader
    def invoice_paid(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, invoice_payments(p), Decimal("0.00"), money)

    @loader
    def outstanding_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, _outstanding(p), Decimal("0.00"), money)

    @loader
    def revenue_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, revenue(p), Decimal("0.00"), money)

    @loader
    def time_entry(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, TimeEntry, scopes.time_entry_scope(p))

    @loader
    def expense(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Expense, scopes.expense_scope(p))

    @loader
    def time_entries_by_project(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            TimeEntry,
            col(TimeEntry.project_id),
            scopes.time_entry_scope(p),
            (col(TimeEntry.work_date).desc(), col(TimeEntry.id).desc()),
        )

    @loader
    def expenses_by_project(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Expense,
            col(Expense.project_id),
            scopes.expense_scope(p),
            (col(Expense.incurred_on).desc(), col(Expense.id).desc()),
        )

    @loader
    def time_entries_by_line(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            TimeEntry,
            col(TimeEntry.invoice_line_id),
            scopes.time_entry_scope(p),
            (col(TimeEntry.work_date), col(TimeEntry.id)),
        )

    @loader
    def expenses_by_line(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Expense,
            col(Expense.invoice_line_id),
            scopes.expense_scope(p),
            (col(Expense.incurred_on), col(Expense.id)),
        )

    @loader
    def invoice_by_line(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, line_invoices(p), None)

    @loader
    def unbilled_by_client(db: RequestDb, p: Principal) -> DataLoader:
        time_groups = (
            sa.select(col(Project.client_id), col(TimeEntry.bill_rate), sa.func.sum(col(TimeEntry.hours)))
            .join(Project, col(Project.id) == col(TimeEntry.project_id))
            .where(
                in_keys(col(Project.client_id)),
                col(TimeEntry.billable).is_(True),
                col(TimeEntry.invoice_line_id).is_(None),
                scopes.time_entry_scope(p),
                scopes.project_scope(p),
            )
            .group_by(col(Project.client_id), col(TimeEntry.project_id), col(TimeEntry.bill_rate))
        )
        expenses = (
            sa.select(col(Project.client_id), sa.func.sum(col(Expense.amount)))
            .join(Project, col(Project.id) == col(Expense.project_id))
            .where(
                in_keys(col(Project.client_id)),
                col(Expense.billable).is_(True),
                col(Expense.invoice_line_id).is_(None),
                scopes.expense_scope(p),
                scopes.project_scope(p),
            )
            .group_by(col(Project.client_id))
        )

        async def unbilled_by_client(keys: Sequence[int]) -> list[Decimal]:
            """What `createInvoice(includeUnbilled: true)` would bill before tax, over the caller's
            visible rows: time priced per (project, bill rate) exactly as its invoice line would be."""
            totals: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
            for client_id, rate, hours in await db.rows(with_keys(time_groups, keys)):
                totals[client_id] += line_amounts(money(hours), money(rate), Decimal("0"))[0]
            for client_id, amount in await db.rows(with_keys(expenses, keys)):
                totals[client_id] += money(amount)
            return [money(totals.get(key)) for key in keys]

        return DataLoader(load_fn=unbilled_by_client)


def _visible_invoices(principal: Principal) -> sa.Select:
    return sa.select(col(Invoice.id)).where(scopes.invoice_scope(principal))


def client_payments(p: Principal) -> sa.Select:
    """(client id, payment) for the batch's clients (`in_keys`): the payments on their invoices, under
    the payment scope (payments_by_client; the compiled read path's Client.payments)."""
    return (
        sa.select(col(Invoice.client_id), Payment)
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(in_keys(col(Invoice.client_id)), scopes.payment_scope(p))
    )


def line_invoices(p: Principal) -> sa.Select:
    """(line id, invoice) for the batch's invoice lines (`in_keys`): the invoice each line is on, under
    the invoice scope (invoice_by_line; the compiled read path's TimeEntry.invoice and Expense.invoice)."""
    return (
        sa.select(col(InvoiceLine.id), Invoice)
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(in_keys(col(InvoiceLine.id)), scopes.invoice_scope(p))
    )


def _line_sums(p: Principal, column: sa.SQLColumnExpression[Decimal]) -> sa.Select:
    return (
        sa.select(col(InvoiceLine.invoice_id), sa.func.sum(column))
        .where(in_keys(col(InvoiceLine.invoice_id)), col(InvoiceLine.invoice_id).in_(_visible_invoices(p)))
        .group_by(col(InvoiceLine.invoice_id))
    )


def invoice_subtotals(p: Principal) -> sa.Select:
    """(invoice id, its lines' amounts) for the batch's invoices (`in_keys`), the invoice among the
    visible ones (invoice_subtotal; the compiled read path's Invoice.subtotal, total, amountDue)."""
    return _line_sums(p, col(InvoiceLine.amount))


def invoice_taxes(p: Principal) -> sa.Select:
    """(invoice id, its lines' tax) for the batch's invoices, as invoice_subtotals."""
    return _line_sums(p, col(InvoiceLine.tax_amount))


def invoice_payments(p: Principal) -> sa.Select:
    """(invoice id, payments received) for the batch's invoices (`in_keys`), under the payment scope
    (invoice_paid; the compiled read path's Invoice.amountPaid, amountDue)."""
    return (
        sa.select(col(Payment.invoice_id), sa.func.sum(col(Payment.amount)))
        .where(in_keys(col(Payment.invoice_id)), scopes.payment_scope(p))
        .group_by(col(Payment.invoice_id))
    )


def revenue(p: Principal) -> sa.Select:
    """(client id, payments received) for the batch's clients (`in_keys`), void invoices aside."""
    return (
        sa.select(col(Invoice.client_id), sa.func.sum(col(Payment.amount)))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(in_keys(col(Invoice.client_id)), scopes.payment_scope(p), col(Invoice.status) != InvoiceStatus.VOID)
        .group_by(col(Invoice.client_id))
    )


def _outstanding(principal: Principal) -> sa.Select:
    """Billed and not yet paid: totals of sent invoices less what was received on them, for the
    batch's clients (`in_keys`)."""
    # Annotated: mypy reads `.label()` of a `col()` column as Label[Never] and cannot infer the Select.
    billed: sa.Select[int, Decimal] = (
        sa.select(
            col(Invoice.client_id).label("client_id"),
            (col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)).label("amount"),
        )
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(
            in_keys(col(Invoice.client_id)), col(Invoice.status) == InvoiceStatus.SENT, scopes.invoice_scope(principal)
        )
    )
    received: sa.Select[int, Decimal] = (
        sa.select(col(Invoice.client_id).label("client_id"), (-col(Payment.amount)).label("amount"))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(
            in_keys(col(Invoice.client_id)), col(Invoice.status) == InvoiceStatus.SENT, scopes.invoice_scope(principal)
        )
    )
    both = sa.union_all(billed, received).subquery()
    return sa.select(both.c.client_id, sa.func.sum(both.c.amount)).group_by(both.c.client_id)
