"""Client-level reports: portfolio, financial summary, time investment, profitability and
utilization, each batched over many clients in one statement and composed with the row scopes.

Definitions where the guide is silent (also in the README):

- Success rate = COMPLETED / (COMPLETED + CANCELLED) projects; null while neither exists.
- Revenue = payments received on invoices that are not VOID (the client's account value);
  invoiced = lines with tax of SENT and PAID invoices.
- Average project value = revenue / the client's projects that were not CANCELLED.
- Cost of time = hours x the cost rate captured on each time entry (billable or not);
  expenses = every expense on the client's projects, billable or not.
  Profit = revenue - cost of time - expenses; margin = profit / revenue.
- The optional date range (inclusive) narrows time investment and utilization (by work
  date), and profitability (payments by the day received, time by work date, expenses by
  the day incurred). The portfolio and the financial summary are lifetime figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Expense, Invoice, InvoiceLine, InvoiceStatus, Payment, Project, ProjectStatus, TimeEntry
from models.base import money
from resolvers.db import RequestDb
from resolvers.errors import InputError

HOURS = Decimal("0.01")


@dataclass(frozen=True)
class ReportPeriod:
    """An inclusive range of days; either end may be open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def clause(self, column: Any) -> sa.ColumnElement[bool]:
        parts = []
        if self.start is not None:
            parts.append(column >= self.start)
        if self.end is not None:
            parts.append(column <= self.end)
        return sa.and_(sa.true(), *parts)


def report_period(start: dt.date | None, end: dt.date | None) -> ReportPeriod:
    if start is not None and end is not None and start > end:
        raise InputError("from", "INVALID_RANGE", "from must be on or before to.")
    return ReportPeriod(start, end)


def hours(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(HOURS)


@dataclass
class Portfolio:
    by_status: dict[ProjectStatus, int]

    @classmethod
    def empty(cls) -> Portfolio:
        return cls(dict.fromkeys(ProjectStatus, 0))

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def completed(self) -> int:
        return self.by_status[ProjectStatus.COMPLETED]

    @property
    def cancelled(self) -> int:
        return self.by_status[ProjectStatus.CANCELLED]

    @property
    def success_rate(self) -> float | None:
        closed = self.completed + self.cancelled
        return round(self.completed / closed, 4) if closed else None


@dataclass
class Invoiced:
    amount: Decimal = Decimal("0.00")
    invoices: int = 0


@dataclass
class ProjectTime:
    project_id: int
    hours: Decimal = Decimal("0.00")
    billable_hours: Decimal = Decimal("0.00")
    labor_cost: Decimal = Decimal("0.00")

    @property
    def non_billable_hours(self) -> Decimal:
        return self.hours - self.billable_hours


@dataclass
class TimeInvestment:
    by_project: list[ProjectTime] = field(default_factory=list)

    @property
    def total_hours(self) -> Decimal:
        return sum((p.hours for p in self.by_project), Decimal("0.00"))

    @property
    def billable_hours(self) -> Decimal:
        return sum((p.billable_hours for p in self.by_project), Decimal("0.00"))

    @property
    def non_billable_hours(self) -> Decimal:
        return self.total_hours - self.billable_hours

    @property
    def billable_share(self) -> float | None:
        total = self.total_hours
        return round(float(self.billable_hours / total), 4) if total else None

    @property
    def labor_cost(self) -> Decimal:
        return money(sum((p.labor_cost for p in self.by_project), Decimal("0.00")))


@dataclass
class MemberTime:
    user_id: int
    hours: Decimal
    billable_hours: Decimal
    labor_cost: Decimal
    share: float  # of the client's hours in the period


@dataclass
class Profitability:
    revenue: Decimal
    labor_cost: Decimal
    expenses: Decimal

    @property
    def total_cost(self) -> Decimal:
        return money(self.labor_cost + self.expenses)

    @property
    def profit(self) -> Decimal:
        return money(self.revenue - self.total_cost)

    @property
    def margin(self) -> float | None:
        return round(float(self.profit / self.revenue), 4) if self.revenue else None


async def portfolios(db: RequestDb, principal: Principal, client_ids: Sequence[int]) -> dict[int, Portfolio]:
    statement = (
        sa.select(col(Project.client_id), col(Project.status), sa.func.count())
        .where(col(Project.client_id).in_(client_ids), scopes.project_scope(principal))
        .group_by(col(Project.client_id), col(Project.status))
    )
    found = {client_id: Portfolio.empty() for client_id in client_ids}
    for client_id, status, count in await db.rows(statement):
        found[client_id].by_status[status] = int(count)
    return found


async def invoiced(db: RequestDb, principal: Principal, client_ids: Sequence[int]) -> dict[int, Invoiced]:
    statement = (
        sa.select(
            col(Invoice.client_id),
            sa.func.sum(col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)),
            sa.func.count(sa.distinct(col(Invoice.id))),
        )
        .join(InvoiceLine, col(InvoiceLine.invoice_id) == col(Invoice.id))
        .where(
            col(Invoice.client_id).in_(client_ids),
            col(Invoice.status).in_((InvoiceStatus.SENT, InvoiceStatus.PAID)),
            scopes.invoice_scope(principal),
        )
        .group_by(col(Invoice.client_id))
    )
    return {client_id: Invoiced(money(amount), int(count)) for client_id, amount, count in await db.rows(statement)}


def _time_per(principal: Principal, client_ids: Sequence[int], period: ReportPeriod, group: Any) -> sa.Select:
    """(client id, group, hours, billable hours, cost) of the visible time in the period, per group."""
    billable_hours = sa.func.sum(sa.case((col(TimeEntry.billable).is_(True), col(TimeEntry.hours)), else_=0))
    return (
        sa.select(
            col(Project.client_id),
            group,
            sa.func.sum(col(TimeEntry.hours)),
            billable_hours,
            sa.func.sum(col(TimeEntry.hours) * col(TimeEntry.cost_rate)),
        )
        .join(Project, col(Project.id) == col(TimeEntry.project_id))
        .where(
            col(Project.client_id).in_(client_ids),
            scopes.project_scope(principal),
            scopes.time_entry_scope(principal),
            period.clause(col(TimeEntry.work_date)),
        )
        .group_by(col(Project.client_id), group)
        .order_by(col(Project.client_id), sa.func.sum(col(TimeEntry.hours)).desc(), group)
    )


async def time_by_project(
    db: RequestDb, principal: Principal, client_ids: Sequence[int], period: ReportPeriod
) -> dict[int, TimeInvestment]:
    found: dict[int, TimeInvestment] = defaultdict(TimeInvestment)
    for client_id, project_id, total, billable, cost in await db.rows(
        _time_per(principal, client_ids, period, col(TimeEntry.project_id))
    ):
        found[client_id].by_project.append(ProjectTime(project_id, hours(total), hours(billable), money(cost)))
    return found


async def time_by_member(
    db: RequestDb, principal: Principal, client_ids: Sequence[int], period: ReportPeriod
) -> dict[int, list[MemberTime]]:
    rows = await db.rows(_time_per(principal, client_ids, period, col(TimeEntry.user_id)))
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for client_id, _, total, _, _ in rows:
        totals[client_id] += hours(total)
    found: dict[int, list[MemberTime]] = defaultdict(list)
    for client_id, user_id, total, billable, cost in rows:
        share = round(float(hours(total) / totals[client_id]), 4) if totals[client_id] else 0.0
        found[client_id].append(MemberTime(user_id, hours(total), hours(billable), money(cost), share))
    return found


async def expenses(
    db: RequestDb, principal: Principal, client_ids: Sequence[int], period: ReportPeriod
) -> dict[int, Decimal]:
    statement = (
        sa.select(col(Project.client_id), sa.func.sum(col(Expense.amount)))
        .join(Project, col(Project.id) == col(Expense.project_id))
        .where(
            col(Project.client_id).in_(client_ids),
            scopes.project_scope(principal),
            scopes.expense_scope(principal),
            period.clause(col(Expense.incurred_on)),
        )
        .group_by(col(Project.client_id))
    )
    return {client_id: money(total) for client_id, total in await db.rows(statement)}


async def revenue(
    db: RequestDb, principal: Principal, client_ids: Sequence[int], period: ReportPeriod
) -> dict[int, Decimal]:
    statement = (
        sa.select(col(Invoice.client_id), sa.func.sum(col(Payment.amount)))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(
            col(Invoice.client_id).in_(client_ids),
            col(Invoice.status) != InvoiceStatus.VOID,
            scopes.invoice_scope(principal),
            scopes.payment_scope(principal),
            period.clause(col(Payment.received_on)),
        )
        .group_by(col(Invoice.client_id))
    )
    return {client_id: money(total) for client_id, total in await db.rows(statement)}


def average_project_value(revenue_to_date: Decimal, portfolio: Portfolio) -> Decimal | None:
    counted = portfolio.total - portfolio.cancelled
    return money(revenue_to_date / counted) if counted else None
