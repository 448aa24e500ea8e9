"""DataLoaders for time, expenses and what invoices bill: one statement per batch, each composing its row scope.

Built once per request by resolvers.loaders.Loaders (as `loaders.billing`), with the same Principal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import Expense, Invoice, InvoiceLine, Project, TimeEntry
from models.base import money
from resolvers.batching import aggregate, by_id, grouped
from resolvers.billing import line_amounts
from resolvers.db import RequestDb


class BillingLoaders:
    """Time entries and expenses by project and by invoice line, the invoice that billed them,
    and each client's unbilled amount."""

    def __init__(self, db: RequestDb, principal: Principal) -> None:
        p = principal
        time_scope, expense_scope = scopes.time_entry_scope(p), scopes.expense_scope(p)
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
