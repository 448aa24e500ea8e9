"""DataLoaders of billing: invoices, their lines and payments, time and expenses, and the per-client money figures.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built once per request by resolvers.loaders.Loaders (as `loaders.billing`)."""

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
from resolvers.batching import aggregate, by_id, grouped
from resolvers.billing.invoices import line_amounts
from resolvers.db import RequestDb


class BillingLoaders:
    def __init__(self, db: RequestDb, principal: Principal) -> None:
        p = principal
        visible_invoices = sa.select(col(Invoice.id)).where(scopes.invoice_scope(p))
        time_scope, expense_scope = scopes.time_entry_scope(p), scopes.expense_scope(p)
        self.invoice = by_id(db, Invoice, scopes.invoice_scope(p))
        self.payment = by_id(db, Payment, scopes.payment_scope(p))
        self.invoices_by_client = grouped(
            db,
            Invoice,
            col(Invoice.client_id),
            scopes.invoice_scope(p),
            (col(Invoice.issue_date).desc(), col(Invoice.number).desc()),
        )
        self.payments_by_invoice = grouped(
            db, Payment, col(Payment.invoice_id), scopes.payment_scope(p), (col(Payment.received_on), col(Payment.id))
        )
        self.lines_by_invoice = grouped(
            db,
            InvoiceLine,
            col(InvoiceLine.invoice_id),
            col(InvoiceLine.invoice_id).in_(sa.select(col(Invoice.id)).where(scopes.invoice_scope(p))),
            (col(InvoiceLine.position), col(InvoiceLine.id)),
        )

        async def payments_by_client(keys: Sequence[int]) -> list[list[Payment]]:
            statement = (
                sa.select(col(Invoice.client_id), Payment)
                .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
                .where(col(Invoice.client_id).in_(keys), scopes.payment_scope(p))
                .order_by(col(Payment.received_on).desc(), col(Payment.id).desc())
            )
            groups: dict[int, list[Payment]] = defaultdict(list)
            for client_id, payment in await db.rows(statement):
                groups[client_id].append(payment)
            return [groups.get(key, []) for key in keys]

        self.payments_by_client = DataLoader(load_fn=payments_by_client)
        self.invoice_subtotal = aggregate(
            db,
            lambda keys: (
                sa.select(col(InvoiceLine.invoice_id), sa.func.sum(col(InvoiceLine.amount)))
                .where(col(InvoiceLine.invoice_id).in_(keys), col(InvoiceLine.invoice_id).in_(visible_invoices))
                .group_by(col(InvoiceLine.invoice_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.invoice_tax = aggregate(
            db,
            lambda keys: (
                sa.select(col(InvoiceLine.invoice_id), sa.func.sum(col(InvoiceLine.tax_amount)))
                .where(col(InvoiceLine.invoice_id).in_(keys), col(InvoiceLine.invoice_id).in_(visible_invoices))
                .group_by(col(InvoiceLine.invoice_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.invoice_paid = aggregate(
            db,
            lambda keys: (
                sa.select(col(Payment.invoice_id), sa.func.sum(col(Payment.amount)))
                .where(col(Payment.invoice_id).in_(keys), scopes.payment_scope(p))
                .group_by(col(Payment.invoice_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.outstanding_by_client = aggregate(db, lambda keys: _outstanding(keys, p), Decimal("0.00"), money)
        self.revenue_by_client = aggregate(
            db,
            lambda keys: (
                sa.select(col(Invoice.client_id), sa.func.sum(col(Payment.amount)))
                .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
                .where(
                    col(Invoice.client_id).in_(keys), scopes.payment_scope(p), col(Invoice.status) != InvoiceStatus.VOID
                )
                .group_by(col(Invoice.client_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.time_entry = by_id(db, TimeEntry, time_scope)
        self.expense = by_id(db, Expense, expense_scope)
        self.time_entries_by_project = grouped(
            db,
            TimeEntry,
            col(TimeEntry.project_id),
            time_scope,
            (col(TimeEntry.work_date).desc(), col(TimeEntry.id).desc()),
        )
        self.expenses_by_project = grouped(
            db,
            Expense,
            col(Expense.project_id),
            expense_scope,
            (col(Expense.incurred_on).desc(), col(Expense.id).desc()),
        )
        self.time_entries_by_line = grouped(
            db, TimeEntry, col(TimeEntry.invoice_line_id), time_scope, (col(TimeEntry.work_date), col(TimeEntry.id))
        )
        self.expenses_by_line = grouped(
            db, Expense, col(Expense.invoice_line_id), expense_scope, (col(Expense.incurred_on), col(Expense.id))
        )
        self.invoice_by_line = aggregate(
            db,
            lambda keys: (
                sa.select(col(InvoiceLine.id), Invoice)
                .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
                .where(col(InvoiceLine.id).in_(keys), scopes.invoice_scope(p))
            ),
            None,
        )

        async def unbilled_by_client(keys: Sequence[int]) -> list[Decimal]:
            """What `createInvoice(includeUnbilled: true)` would bill before tax, over the caller's
            visible rows: time priced per (project, bill rate) exactly as its invoice line would be."""
            time_groups = (
                sa.select(col(Project.client_id), col(TimeEntry.bill_rate), sa.func.sum(col(TimeEntry.hours)))
                .join(Project, col(Project.id) == col(TimeEntry.project_id))
                .where(
                    col(Project.client_id).in_(keys),
                    col(TimeEntry.billable).is_(True),
                    col(TimeEntry.invoice_line_id).is_(None),
                    time_scope,
                    scopes.project_scope(p),
                )
                .group_by(col(Project.client_id), col(TimeEntry.project_id), col(TimeEntry.bill_rate))
            )
            expenses = (
                sa.select(col(Project.client_id), sa.func.sum(col(Expense.amount)))
                .join(Project, col(Project.id) == col(Expense.project_id))
                .where(
                    col(Project.client_id).in_(keys),
                    col(Expense.billable).is_(True),
                    col(Expense.invoice_line_id).is_(None),
                    expense_scope,
                    scopes.project_scope(p),
                )
                .group_by(col(Project.client_id))
            )
            totals: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
            for client_id, rate, hours in await db.rows(time_groups):
                totals[client_id] += line_amounts(money(hours), money(rate), Decimal("0"))[0]
            for client_id, amount in await db.rows(expenses):
                totals[client_id] += money(amount)
            return [money(totals.get(key)) for key in keys]

        self.unbilled_by_client = DataLoader(load_fn=unbilled_by_client)


def _outstanding(keys: Sequence[int], principal: Principal) -> sa.Select:
    """Billed and not yet paid: totals of sent invoices less what was received on them."""
    # Annotated: mypy reads `.label()` of a `col()` column as Label[Never] and cannot infer the Select.
    billed: sa.Select[int, Decimal] = (
        sa.select(
            col(Invoice.client_id).label("client_id"),
            (col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)).label("amount"),
        )
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(
            col(Invoice.client_id).in_(keys), col(Invoice.status) == InvoiceStatus.SENT, scopes.invoice_scope(principal)
        )
    )
    received: sa.Select[int, Decimal] = (
        sa.select(col(Invoice.client_id).label("client_id"), (-col(Payment.amount)).label("amount"))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(
            col(Invoice.client_id).in_(keys), col(Invoice.status) == InvoiceStatus.SENT, scopes.invoice_scope(principal)
        )
    )
    both = sa.union_all(billed, received).subquery()
    return sa.select(both.c.client_id, sa.func.sum(both.c.amount)).group_by(both.c.client_id)
