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
- The portal's profitability is the staff figure: its cost of time counts every hour on the
  client's projects (auth.scopes.time_total_scope), time booked to tasks hidden from the portal
  included, and says how many hours that is (`hiddenTaskHours`), since the revenue it is set
  against paid for that work too. Time investment, utilization and the time entries themselves
  still show a portal user only the time on tasks it sees.
- Timeline adherence = projects completed on or before their end date / (those + projects
  completed after it + open projects past it); see resolvers/dashboard/signals.py.
- Scope change frequency: the scope change log's entries per client (in the date range, by when
  they were made), and per project of the client.
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
from models import Expense, Invoice, InvoiceLine, InvoiceStatus, Payment, Project, ProjectStatus, Task, TimeEntry
from models.base import money, utcnow
from resolvers.dashboard import signals
from resolvers.db import RequestDb
from resolvers.errors import InputError
from resolvers.sql_functions import midnight

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


def as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


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


@dataclass
class Labor:
    """Every hour on the client's projects and its cost (time_total_scope), and of those hours the
    ones booked to tasks hidden from the portal."""

    hours: Decimal = Decimal("0.00")
    hidden_task_hours: Decimal = Decimal("0.00")
    cost: Decimal = Decimal("0.00")


async def labor_totals(
    db: RequestDb, principal: Principal, client_ids: Sequence[int], period: ReportPeriod
) -> dict[int, Labor]:
    hidden = col(TimeEntry.task_id).in_(sa.select(col(Task.id)).where(col(Task.visible_to_client).is_(False)))
    statement = (
        sa.select(
            col(Project.client_id),
            sa.func.sum(col(TimeEntry.hours)),
            sa.func.sum(sa.case((hidden, col(TimeEntry.hours)), else_=0)),
            sa.func.sum(col(TimeEntry.hours) * col(TimeEntry.cost_rate)),
        )
        .join(Project, col(Project.id) == col(TimeEntry.project_id))
        .where(
            col(Project.client_id).in_(client_ids),
            scopes.project_scope(principal),
            scopes.time_total_scope(principal),
            period.clause(col(TimeEntry.work_date)),
        )
        .group_by(col(Project.client_id))
    )
    return {
        client_id: Labor(hours(total), hours(on_hidden), money(cost))
        for client_id, total, on_hidden, cost in await db.rows(statement)
    }


@dataclass
class TimelineAdherence:
    on_time: int = 0
    late: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float | None:
        judged = self.on_time + self.late + self.overdue
        return round(self.on_time / judged, 4) if judged else None


async def timeline_adherence(
    db: RequestDb, principal: Principal, client_ids: Sequence[int]
) -> dict[int, TimelineAdherence]:
    adherence = signals.timeline_adherence_by_client(principal, utcnow().date())
    statement = sa.select(adherence.c.client_id, adherence.c.on_time, adherence.c.late, adherence.c.overdue).where(
        adherence.c.client_id.in_(client_ids)
    )
    return {
        client_id: TimelineAdherence(int(on or 0), int(late or 0), int(overdue or 0))
        for client_id, on, late, overdue in await db.rows(statement)
    }


@dataclass
class ScopeChangeCounts:
    changes: int = 0
    reductions: int = 0
    budget_changes: int = 0
    end_date_moves: int = 0
    tasks_added: int = 0
    cancellations: int = 0
    projects_changed: int = 0


async def scope_change_counts(
    db: RequestDb, principal: Principal, client_ids: Sequence[int], period: ReportPeriod
) -> dict[int, ScopeChangeCounts]:
    since = None if period.start is None else midnight(period.start)
    until = None if period.end is None else midnight(period.end + dt.timedelta(days=1))
    changes = signals.scope_changes_by_client(principal, since, until)
    statement = sa.select(
        changes.c.client_id,
        changes.c.changes,
        changes.c.reductions,
        changes.c.budget_changes,
        changes.c.end_date_moves,
        changes.c.tasks_added,
        changes.c.cancellations,
        changes.c.projects_changed,
    ).where(changes.c.client_id.in_(client_ids))
    return {
        client_id: ScopeChangeCounts(*(int(v or 0) for v in values)) for client_id, *values in await db.rows(statement)
    }
