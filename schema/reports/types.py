"""Client-level reports: portfolio, financial summary, time investment, profitability, utilization.

Every figure reads a loader keyed by client id (and period), so the report costs one
statement per aggregate, and composes the caller's row scopes: a portal user's report
of its own client counts only what it may see. The definitions are in resolvers/reports/client_reports.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import strawberry

from models import ProjectStatus as ProjectStatusModel
from models.base import utcnow
from models.enums import ProjectStatus
from resolvers.reports import client_reports
from schema.billing.types import Payment
from schema.clients.types import Client
from schema.context import Info
from schema.dashboard.types import ProjectStatusCount
from schema.people.types import User
from schema.work.types import Project

_LIVE = (ProjectStatusModel.ACTIVE, ProjectStatusModel.ON_HOLD)


@strawberry.type(description="A project on the client's timeline.")
class TimelineEntry:
    project: Project
    start_date: dt.date | None
    end_date: dt.date | None
    status: ProjectStatus
    duration_days: int | None = strawberry.field(description="From start to end date, when both are set.")
    is_late: bool = strawberry.field(
        description="Still ACTIVE or ON_HOLD after its end date, or COMPLETED after its end date."
    )
    completed_at: dt.datetime | None = strawberry.field(description="When it was completed (COMPLETED only).")
    on_time: bool | None = strawberry.field(
        description="COMPLETED on or before its end date; null unless completed with an end date."
    )


def _completed_on_time(p: Any) -> bool | None:
    if p.status is not ProjectStatusModel.COMPLETED or p.completed_at is None or p.end_date is None:
        return None
    completed_at = client_reports.as_utc(p.completed_at)
    return completed_at.date() <= p.end_date


def _timeline(projects: list[Any], today: dt.date) -> list[TimelineEntry]:
    ordered = sorted(projects, key=lambda p: (p.start_date or dt.date.max, p.id))
    entries = []
    for p in ordered:
        on_time = _completed_on_time(p)
        entries.append(
            TimelineEntry(
                project=p,
                start_date=p.start_date,
                end_date=p.end_date,
                status=p.status,
                duration_days=(p.end_date - p.start_date).days if p.start_date and p.end_date else None,
                is_late=(p.status in _LIVE and p.end_date is not None and p.end_date < today) or on_time is False,
                completed_at=p.completed_at,
                on_time=on_time,
            )
        )
    return entries


@strawberry.type(
    description="Projects completed on or before their end date, against those completed after it and those still "
    "open past it (projects without an end date, and cancelled ones, are not judged)."
)
class TimelineAdherence:
    on_time: int = strawberry.field(description="Completed on or before the end date.")
    late: int = strawberry.field(description="Completed after the end date.")
    overdue: int = strawberry.field(description="ACTIVE or ON_HOLD past the end date.")
    rate: float | None = strawberry.field(description="onTime / (onTime + late + overdue), from 0 to 1.")


@strawberry.type(
    description="How often the client's projects changed scope once started (the scope change log, in the report's "
    "date range): budget changes, end-date moves, tasks added, cancellations."
)
class ScopeChangeFrequency:
    changes: int | None
    reductions: int | None = strawberry.field(description="Budget cuts and cancellations.")
    budget_changes: int | None
    end_date_moves: int | None
    tasks_added: int | None
    cancellations: int | None
    projects_changed: int | None = strawberry.field(description="Projects with at least one change.")
    per_project: float | None = strawberry.field(description="changes / the client's projects; null without one.")


@strawberry.type(description="Every project of the client, past and present.")
class ProjectPortfolio:
    client_id: strawberry.Private[int]

    async def _portfolio(self, info: Info) -> client_reports.Portfolio:
        return await info.context.loaders.reports.portfolio.load(self.client_id)

    @strawberry.field
    async def total(self, info: Info) -> int:
        return (await self._portfolio(info)).total

    @strawberry.field
    async def completed(self, info: Info) -> int:
        return (await self._portfolio(info)).completed

    @strawberry.field
    async def cancelled(self, info: Info) -> int:
        return (await self._portfolio(info)).cancelled

    @strawberry.field(description="Completed / (completed + cancelled), from 0 to 1; null while neither exists.")
    async def success_rate(self, info: Info) -> float | None:
        return (await self._portfolio(info)).success_rate

    @strawberry.field
    async def by_status(self, info: Info) -> list[ProjectStatusCount]:
        portfolio = await self._portfolio(info)
        return [ProjectStatusCount(status=s, count=n) for s, n in portfolio.by_status.items()]

    @strawberry.field(description="Most recent first.")
    async def projects(self, info: Info) -> list[Project]:
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[Project]", await info.context.loaders.work.projects_by_client.load((self.client_id, ())))

    @strawberry.field(description="By start date, oldest first.")
    async def timeline(self, info: Info) -> list[TimelineEntry]:
        projects = await info.context.loaders.work.projects_by_client.load((self.client_id, ()))
        return _timeline(projects, utcnow().date())

    @strawberry.field(description="Completed on or before the end date, over every project judged.")
    async def timeline_adherence(self, info: Info) -> TimelineAdherence:
        found = await info.context.loaders.reports.timeline_adherence.load(self.client_id)
        return TimelineAdherence(on_time=found.on_time, late=found.late, overdue=found.overdue, rate=found.rate)


@strawberry.type(description="Lifetime money figures of the client.")
class ClientFinancialSummary:
    client_id: strawberry.Private[int]

    @strawberry.field(description="Lines with tax of SENT and PAID invoices.")
    async def total_invoiced(self, info: Info) -> Decimal | None:
        return (await info.context.loaders.reports.invoiced.load(self.client_id)).amount

    @strawberry.field
    async def invoice_count(self, info: Info) -> int | None:
        return (await info.context.loaders.reports.invoiced.load(self.client_id)).invoices

    @strawberry.field(description="Every payment received (the account value).")
    async def total_revenue(self, info: Info) -> Decimal | None:
        return await info.context.loaders.billing.revenue_by_client.load(self.client_id)

    @strawberry.field(description="Billed on sent invoices and not yet received.")
    async def outstanding(self, info: Info) -> Decimal | None:
        return await info.context.loaders.billing.outstanding_by_client.load(self.client_id)

    @strawberry.field(description="Total revenue / the projects that were not cancelled.")
    async def average_project_value(self, info: Info) -> Decimal | None:
        loaders = info.context.loaders
        revenue = await loaders.billing.revenue_by_client.load(self.client_id)
        return client_reports.average_project_value(revenue, await loaders.reports.portfolio.load(self.client_id))

    @strawberry.field(description="Payments received, most recent first.")
    async def payment_history(self, info: Info) -> list[Payment] | None:
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[Payment]", await info.context.loaders.billing.payments_by_client.load(self.client_id))


@strawberry.type
class ProjectTime:
    project_id: strawberry.Private[int]
    hours: Decimal
    billable_hours: Decimal
    non_billable_hours: Decimal

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        return await info.context.loaders.work.project.load(self.project_id)


@strawberry.type(description="Hours spent on the client's projects (in the report's date range).")
class TimeInvestment:
    _time: strawberry.Private[client_reports.TimeInvestment]

    @strawberry.field
    def total_hours(self) -> Decimal:
        return self._time.total_hours

    @strawberry.field
    def billable_hours(self) -> Decimal:
        return self._time.billable_hours

    @strawberry.field
    def non_billable_hours(self) -> Decimal:
        return self._time.non_billable_hours

    @strawberry.field(description="Billable / total hours, from 0 to 1; null without hours.")
    def billable_share(self) -> float | None:
        return self._time.billable_share

    @strawberry.field(description="Most hours first.")
    def by_project(self) -> list[ProjectTime]:
        return [
            ProjectTime(
                project_id=p.project_id,
                hours=p.hours,
                billable_hours=p.billable_hours,
                non_billable_hours=p.non_billable_hours,
            )
            for p in self._time.by_project
        ]


@strawberry.type(
    description="Revenue less the cost of time (hours x captured cost rate) and expenses. The same figures for a "
    "portal user as for the team: every hour on the client's projects counts, hidden tasks' included."
)
class Profitability:
    revenue: Decimal | None = strawberry.field(description="Payments received (in the date range).")
    hours: Decimal | None = strawberry.field(description="Every hour whose cost laborCost is.")
    hidden_task_hours: Decimal | None = strawberry.field(
        description="Of those, hours on tasks not shown in the portal (not in the time investment a portal user sees)."
    )
    labor_cost: Decimal | None
    expenses: Decimal | None
    total_cost: Decimal | None
    profit: Decimal | None
    margin: float | None = strawberry.field(description="Profit / revenue; null without revenue.")


@strawberry.type(description="One team member's hours on the client (in the report's date range).")
class MemberUtilization:
    user_id: strawberry.Private[int]
    hours: Decimal | None
    billable_hours: Decimal | None
    share: float | None = strawberry.field(description="Of all hours on this client, from 0 to 1.")
    labor_cost: Decimal | None

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        return await info.context.loaders.people.user.load(self.user_id)


@strawberry.type(description="Reports on one client. A portal user sees its own client's, costs only where shown.")
class ClientReport:
    client_id: strawberry.Private[int]
    period: strawberry.Private[client_reports.ReportPeriod]

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)

    @strawberry.field(name="from", description="The start of the date range (inclusive), if any.")
    def from_(self) -> dt.date | None:
        return self.period.start

    @strawberry.field(description="The end of the date range (inclusive), if any.")
    def to(self) -> dt.date | None:
        return self.period.end

    @strawberry.field
    def portfolio(self) -> ProjectPortfolio:
        return ProjectPortfolio(client_id=self.client_id)

    @strawberry.field
    def financial(self) -> ClientFinancialSummary | None:
        return ClientFinancialSummary(client_id=self.client_id)

    @strawberry.field
    async def time(self, info: Info) -> TimeInvestment:
        return TimeInvestment(_time=await info.context.loaders.reports.time.load((self.client_id, self.period)))

    @strawberry.field
    async def profitability(self, info: Info) -> Profitability | None:
        loaders = info.context.loaders
        key = (self.client_id, self.period)
        # Without a range, revenue is the account value the record already loads.
        revenue = (
            await info.context.loaders.billing.revenue_by_client.load(self.client_id)
            if self.period == client_reports.ReportPeriod()
            else await loaders.reports.revenue.load(key)
        )
        labor = await loaders.reports.labor.load(key)
        figures = client_reports.Profitability(
            revenue=revenue,
            labor_cost=labor.cost,
            expenses=await loaders.reports.expenses.load(key),
        )
        return Profitability(
            revenue=figures.revenue,
            hours=labor.hours,
            hidden_task_hours=labor.hidden_task_hours,
            labor_cost=figures.labor_cost,
            expenses=figures.expenses,
            total_cost=figures.total_cost,
            profit=figures.profit,
            margin=figures.margin,
        )

    @strawberry.field(description="Scope changes of the client's projects in the date range (staff only).")
    async def scope_changes(self, info: Info) -> ScopeChangeFrequency | None:
        loaders = info.context.loaders
        found = await loaders.reports.scope_changes.load((self.client_id, self.period))
        projects = (await loaders.reports.portfolio.load(self.client_id)).total
        return ScopeChangeFrequency(
            changes=found.changes,
            reductions=found.reductions,
            budget_changes=found.budget_changes,
            end_date_moves=found.end_date_moves,
            tasks_added=found.tasks_added,
            cancellations=found.cancellations,
            projects_changed=found.projects_changed,
            per_project=round(found.changes / projects, 4) if projects else None,
        )

    @strawberry.field(description="Hours per team member, most first.")
    async def utilization(self, info: Info) -> list[MemberUtilization] | None:
        members = await info.context.loaders.reports.utilization.load((self.client_id, self.period))
        return [
            MemberUtilization(
                user_id=m.user_id,
                hours=m.hours,
                billable_hours=m.billable_hours,
                share=m.share,
                labor_cost=m.labor_cost,
            )
            for m in members
        ]
