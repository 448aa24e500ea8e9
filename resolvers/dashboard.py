"""The Clients Dashboard: agency-wide figures, each one SQL aggregate over the caller's rows.

Every function here issues exactly one statement (GROUP BY, window counts), whatever the
number of clients, and composes the row scope of every table it reads. The lists of
clients (top clients, health indicators) select the Client rows in the same statement,
so showing a client's name costs nothing more.

Definitions where the guide is silent (also in the README):

- "Became a client" is `became_client_on`, or the day the record was created when unset.
- Growth: per month of the window, clients who became clients that month, and the running
  total of clients who had become clients by the month's end (churned ones included: the
  status history is not dated, so churn cannot be placed in a month).
- Projects per client: over every visible client, zero-project clients included; health
  is counted over ACTIVE projects.
- Outstanding: lines (with tax) of SENT invoices less the payments on them. Revenue: payments
  received on invoices that are not VOID. Average client value: revenue to date / clients
  that have paid anything.
- Overdue: a SENT invoice past its due date with something still to pay.
- No recent activity: a client not churned whose latest activity-feed entry, logged
  interaction and last-interaction date are all older than N days (or absent).
- No portal login: a client not churned that has at least one active portal user and no
  portal sign-in in the last N days.
- At-risk projects: ACTIVE or ON_HOLD projects whose health is AT_RISK or OFF_TRACK.
- Ready for upsell: a client in the ACTIVE category with no overdue invoice and no at-risk
  or off-track open project, that either has an open opportunity (IDENTIFIED, QUALIFIED,
  PROPOSED) or has completed work (a COMPLETED project) and no ACTIVE project.
- Response time: for each client REPLY in the window, the time until the next staff REPLY
  in the same thread (the same task, or the project itself for a project comment); replies
  with no staff answer yet are counted as unanswered.
- NPS: over survey answers in the window, % promoters (9-10) minus % detractors (0-6).
- Retention rate over the window: of the clients who had become clients before the
  window started, the share not churned today.
- Client lifetime value = annual revenue per paying client x expected lifetime in years,
  where annual revenue per client = payments received in the window / clients who paid in
  it, annualised; expected lifetime = 1 / annual churn, annual churn = 1 - retention^(12 /
  window months), capped at 10 years (and 10 years when nobody churned).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from auth import scopes
from auth.principal import Principal
from models import (
    Activity,
    Client,
    ClientCategory,
    ClientStatus,
    Comment,
    CommentKind,
    Interaction,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Opportunity,
    OpportunityStage,
    Payment,
    Project,
    ProjectHealth,
    ProjectStatus,
    Role,
    SatisfactionSurvey,
    User,
)
from models.base import money
from models.people import LoginEvent
from resolvers.db import RequestDb
from resolvers.errors import InputError
from resolvers.sql_functions import (
    epoch_seconds,
    midnight,
    month_bucket,
    month_starts,
    next_month,
    quarter_start,
)

T = TypeVar("T")

MAX_MONTHS = 36
MAX_TOP = 100
MAX_DAYS = 3650
LIFETIME_CAP_YEARS = 10.0
OPEN_STAGES = (OpportunityStage.IDENTIFIED, OpportunityStage.QUALIFIED, OpportunityStage.PROPOSED)
OPEN_PROJECT = (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)
RISKY_HEALTH = (ProjectHealth.AT_RISK, ProjectHealth.OFF_TRACK)
STAFF_ROLES = (Role.ADMIN, Role.MANAGER, Role.MEMBER)
# Float sums of cents on SQLite can leave a residue of 1e-12; anything under half a cent is paid.
_HALF_CENT = 0.005


class UpsellReason(str, Enum):
    OPEN_OPPORTUNITY = "OPEN_OPPORTUNITY"  # an upsell or cross-sell is identified, qualified or proposed
    WORK_COMPLETED = "WORK_COMPLETED"  # delivered work (a completed project) and nothing active now


@dataclass(frozen=True)
class DashboardParams:
    """What the dashboard was asked for; hashable, so each section is computed once per request."""

    now: dt.datetime
    no_activity_days: int = 30
    months: int = 12
    top: int = 10

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def cutoff(self) -> dt.datetime:
        return self.now - dt.timedelta(days=self.no_activity_days)

    @property
    def months_list(self) -> list[dt.date]:
        return month_starts(self.today, self.months)

    @property
    def window_start(self) -> dt.date:
        return self.months_list[0]


def dashboard_params(*, now: dt.datetime, no_activity_days: int, months: int, top: int) -> DashboardParams:
    if not 1 <= no_activity_days <= MAX_DAYS:
        raise InputError("noActivityDays", "OUT_OF_RANGE", f"noActivityDays is between 1 and {MAX_DAYS}.")
    if not 1 <= months <= MAX_MONTHS:
        raise InputError("months", "OUT_OF_RANGE", f"months is between 1 and {MAX_MONTHS}.")
    if not 1 <= top <= MAX_TOP:
        raise InputError("top", "OUT_OF_RANGE", f"top is between 1 and {MAX_TOP}.")
    return DashboardParams(now=now, no_activity_days=no_activity_days, months=months, top=top)


# --------------------------------------------------------------------------- shapes


@dataclass
class ClientList(Generic[T]):
    """The first `top` clients of an indicator, and how many clients it flags in all."""

    count: int
    clients: list[T]


@dataclass
class StatusCount:
    status: ClientStatus
    count: int


@dataclass
class CategoryCount:
    category: ClientCategory
    count: int


@dataclass
class NewClients:
    this_month: int
    this_quarter: int


@dataclass
class GrowthPoint:
    month: dt.date
    new_clients: int
    total_clients: int


@dataclass
class ProjectCounts:
    by_status: dict[ProjectStatus, int]
    by_health: dict[ProjectHealth, int]  # ACTIVE projects only

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def active(self) -> int:
        return self.by_status[ProjectStatus.ACTIVE]


@dataclass
class ProjectBucket:
    projects: int
    clients: int


@dataclass
class RevenueTotals:
    revenue: Decimal
    paying_clients: int

    @property
    def average_client_value(self) -> Decimal | None:
        return money(self.revenue / self.paying_clients) if self.paying_clients else None


@dataclass
class ClientRevenue:
    client: Client
    revenue: Decimal


@dataclass
class RevenuePoint:
    month: dt.date
    invoiced: Decimal
    received: Decimal


@dataclass
class OverdueClient:
    client: Client
    amount_overdue: Decimal
    overdue_invoices: int
    oldest_due_date: dt.date
    days_overdue: int


@dataclass
class QuietClient:
    client: Client
    last_activity_at: dt.datetime | None
    days_since_activity: int | None


@dataclass
class PortalLoginGap:
    client: Client
    portal_users: int
    last_portal_login_at: dt.datetime | None
    days_since_login: int | None


@dataclass
class AtRiskClient:
    client: Client
    at_risk_projects: int
    off_track_projects: int


@dataclass
class UpsellClient:
    client: Client
    reasons: list[UpsellReason]
    open_opportunities: int
    open_opportunity_value: Decimal
    completed_projects: int


@dataclass
class ClientPortalLogins:
    client: Client
    portal_users: int
    logins: int
    last_login_at: dt.datetime | None


@dataclass
class PortalLogins:
    window_days: int
    total_logins: int
    clients_with_portal_users: int
    clients_with_logins: int
    clients: list[ClientPortalLogins]

    @property
    def average_per_client(self) -> float | None:
        if not self.clients_with_portal_users:
            return None
        return round(self.total_logins / self.clients_with_portal_users, 2)


@dataclass
class ClientLastInteraction:
    client: Client
    last_interaction_at: dt.datetime | None
    days_since: int | None


@dataclass
class LastInteractions:
    clients_contacted: int  # in the last N days
    clients_not_contacted: int
    clients: list[ClientLastInteraction]


@dataclass
class ClientResponseTime:
    client: Client
    answered_replies: int
    unanswered_replies: int
    average_hours: float | None


@dataclass
class ResponseTimes:
    answered_replies: int
    unanswered_replies: int
    average_hours: float | None
    clients: list[ClientResponseTime]


@dataclass
class ClientSatisfaction:
    client: Client
    responses: int
    average_score: float
    nps: float
    last_responded_at: dt.datetime | None


@dataclass
class Satisfaction:
    since: dt.date
    responses: int
    promoters: int
    passives: int
    detractors: int
    average_score: float | None
    nps: float | None
    clients: list[ClientSatisfaction] = field(default_factory=list)


@dataclass
class Retention:
    period_start: dt.date
    months: int
    clients_at_start: int
    retained_clients: int
    revenue_in_period: Decimal
    paying_clients_in_period: int

    @property
    def retention_rate(self) -> float | None:
        return round(self.retained_clients / self.clients_at_start, 4) if self.clients_at_start else None

    @property
    def annual_churn_rate(self) -> float | None:
        rate = self.retention_rate
        if rate is None:
            return None
        return round(1 - rate ** (12 / self.months), 4)

    @property
    def annual_revenue_per_client(self) -> Decimal | None:
        if not self.paying_clients_in_period:
            return None
        return money(self.revenue_in_period / self.paying_clients_in_period * Decimal(12) / Decimal(self.months))

    @property
    def expected_lifetime_years(self) -> float | None:
        churn = self.annual_churn_rate
        if churn is None:
            return None
        return LIFETIME_CAP_YEARS if churn <= 1 / LIFETIME_CAP_YEARS else round(1 / churn, 2)

    @property
    def client_lifetime_value(self) -> Decimal | None:
        annual, years = self.annual_revenue_per_client, self.expected_lifetime_years
        if annual is None or years is None:
            return None
        return money(annual * Decimal(str(years)))


# --------------------------------------------------------------------------- helpers


def _became(boundary: dt.date) -> sa.ColumnElement[bool]:
    """The client had become a client before `boundary` (became_client_on, else created_at)."""
    return sa.or_(
        Client.became_client_on < boundary,
        sa.and_(Client.became_client_on.is_(None), Client.created_at < midnight(boundary)),
    )


def _became_bucket(boundaries: Sequence[dt.date]) -> sa.ColumnElement[int]:
    return sa.case(
        (Client.became_client_on.is_not(None), month_bucket(Client.became_client_on, boundaries)),
        else_=month_bucket(Client.created_at, [midnight(b) for b in boundaries]),
    )


def _not_churned() -> sa.ColumnElement[bool]:
    return Client.status_id.in_(sa.select(ClientStatus.id).where(ClientStatus.category != ClientCategory.CHURNED))


def _in_category(category: ClientCategory) -> sa.ColumnElement[bool]:
    return Client.status_id.in_(sa.select(ClientStatus.id).where(ClientStatus.category == category))


def _count_all() -> sa.ColumnElement[int]:
    """How many rows the statement yields before LIMIT: the indicator's full count."""
    return sa.func.count().over()


def _days_since(now: dt.datetime, moment: dt.datetime | None) -> int | None:
    return None if moment is None else max(0, (now - moment).days)


def _int(value: Any) -> int:
    return int(value or 0)


def _overdue_by_client(principal: Principal, today: dt.date) -> sa.Subquery:
    """(client_id, amount overdue, invoices overdue, oldest due date) over SENT invoices past due."""
    past_due = sa.and_(Invoice.status == InvoiceStatus.SENT, Invoice.due_date < today, scopes.invoice_scope(principal))
    billed = (
        sa.select(
            Invoice.id.label("invoice_id"),
            Invoice.client_id.label("client_id"),
            Invoice.due_date.label("due_date"),
            (InvoiceLine.amount + InvoiceLine.tax_amount).label("amount"),
        )
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(past_due)
    )
    received = (
        sa.select(Invoice.id, Invoice.client_id, Invoice.due_date, -Payment.amount)
        .join(Payment, Payment.invoice_id == Invoice.id)
        .where(past_due, scopes.payment_scope(principal))
    )
    moves = sa.union_all(billed, received).subquery()
    per_invoice = (
        sa.select(moves.c.invoice_id, moves.c.client_id, moves.c.due_date, sa.func.sum(moves.c.amount).label("due"))
        .group_by(moves.c.invoice_id, moves.c.client_id, moves.c.due_date)
        .having(sa.func.sum(moves.c.amount) > _HALF_CENT)
        .subquery()
    )
    return (
        sa.select(
            per_invoice.c.client_id,
            sa.func.sum(per_invoice.c.due).label("amount"),
            sa.func.count().label("invoices"),
            sa.func.min(per_invoice.c.due_date).label("oldest"),
        )
        .group_by(per_invoice.c.client_id)
        .subquery()
    )


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> dt.datetime | None:
    """A UTC datetime from whatever an aggregate over a union handed back (SQLite: text)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --------------------------------------------------------------------------- client breakdown


async def client_status_counts(db: RequestDb, principal: Principal, params: DashboardParams) -> list[StatusCount]:
    """Every status, custom ones included, with how many visible clients have it (zeros too)."""
    statement = (
        sa.select(ClientStatus, sa.func.count(Client.id))
        .outerjoin(Client, sa.and_(Client.status_id == ClientStatus.id, scopes.client_scope(principal)))
        .group_by(ClientStatus.id)
        .order_by(ClientStatus.position, ClientStatus.id)
    )
    return [StatusCount(status, int(count)) for status, count in await db.rows(statement)]


def category_counts(statuses: list[StatusCount]) -> list[CategoryCount]:
    totals = dict.fromkeys(ClientCategory, 0)
    for entry in statuses:
        totals[entry.status.category] += entry.count
    return [CategoryCount(category, count) for category, count in totals.items()]


async def new_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> NewClients:
    month, quarter = params.today.replace(day=1), quarter_start(params.today)
    statement = sa.select(
        sa.func.sum(sa.case((sa.not_(_became(month)), 1), else_=0)),
        sa.func.sum(sa.case((sa.not_(_became(quarter)), 1), else_=0)),
    ).where(scopes.client_scope(principal), _became(next_month(params.today)))
    this_month, this_quarter = (await db.rows(statement))[0]
    return NewClients(_int(this_month), _int(this_quarter))


async def client_growth(db: RequestDb, principal: Principal, params: DashboardParams) -> list[GrowthPoint]:
    starts = params.months_list
    bucket = _became_bucket([*starts, next_month(starts[-1])]).label("bucket")
    statement = sa.select(bucket, sa.func.count()).where(scopes.client_scope(principal)).group_by(bucket)
    counts = {int(b): int(n) for b, n in await db.rows(statement)}
    running = counts.get(-1, 0)
    points = []
    for i, month in enumerate(starts):
        new = counts.get(i, 0)
        running += new
        points.append(GrowthPoint(month, new, running))
    return points


# --------------------------------------------------------------------------- projects


async def project_counts(db: RequestDb, principal: Principal, params: DashboardParams) -> ProjectCounts:
    statement = (
        sa.select(Project.status, Project.health, sa.func.count())
        .where(scopes.project_scope(principal))
        .group_by(Project.status, Project.health)
    )
    by_status = dict.fromkeys(ProjectStatus, 0)
    by_health = dict.fromkeys(ProjectHealth, 0)
    for status, health, count in await db.rows(statement):
        by_status[status] += int(count)
        if status is ProjectStatus.ACTIVE:
            by_health[health] += int(count)
    return ProjectCounts(by_status, by_health)


async def projects_per_client(db: RequestDb, principal: Principal, params: DashboardParams) -> list[ProjectBucket]:
    """How many clients have 0, 1, 2, ... projects."""
    per_client = (
        sa.select(Client.id, sa.func.count(Project.id).label("projects"))
        .outerjoin(Project, sa.and_(Project.client_id == Client.id, scopes.project_scope(principal)))
        .where(scopes.client_scope(principal))
        .group_by(Client.id)
        .subquery()
    )
    statement = (
        sa.select(per_client.c.projects, sa.func.count())
        .group_by(per_client.c.projects)
        .order_by(per_client.c.projects)
    )
    return [ProjectBucket(int(projects), int(clients)) for projects, clients in await db.rows(statement)]


# --------------------------------------------------------------------------- money


def _revenue_rows(principal: Principal) -> sa.Select:
    return (
        sa.select(
            Invoice.client_id.label("client_id"),
            Payment.amount.label("amount"),
            Payment.received_on.label("received_on"),
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Invoice.status != InvoiceStatus.VOID,
            scopes.payment_scope(principal),
            scopes.invoice_scope(principal),
        )
    )


async def total_outstanding(db: RequestDb, principal: Principal, params: DashboardParams) -> Decimal:
    sent = sa.and_(Invoice.status == InvoiceStatus.SENT, scopes.invoice_scope(principal))
    billed = (
        sa.select((InvoiceLine.amount + InvoiceLine.tax_amount).label("amount"))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(sent)
    )
    received = (
        sa.select(-Payment.amount)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(sent, scopes.payment_scope(principal))
    )
    both = sa.union_all(billed, received).subquery()
    return money(await db.scalar(sa.select(sa.func.sum(both.c.amount))))


async def revenue_totals(db: RequestDb, principal: Principal, params: DashboardParams) -> RevenueTotals:
    rows = _revenue_rows(principal).subquery()
    statement = sa.select(sa.func.sum(rows.c.amount), sa.func.count(sa.distinct(rows.c.client_id)))
    revenue, paying = (await db.rows(statement))[0]
    return RevenueTotals(money(revenue), _int(paying))


async def top_clients_by_revenue(db: RequestDb, principal: Principal, params: DashboardParams) -> list[ClientRevenue]:
    rows = _revenue_rows(principal).subquery()
    per_client = (
        sa.select(rows.c.client_id, sa.func.sum(rows.c.amount).label("revenue")).group_by(rows.c.client_id).subquery()
    )
    statement = (
        sa.select(Client, per_client.c.revenue)
        .join(per_client, per_client.c.client_id == Client.id)
        .where(scopes.client_scope(principal))
        .order_by(per_client.c.revenue.desc(), Client.id)
        .limit(params.top)
    )
    return [ClientRevenue(client, money(revenue)) for client, revenue in await db.rows(statement)]


async def revenue_trend(db: RequestDb, principal: Principal, params: DashboardParams) -> list[RevenuePoint]:
    """Per month of the window: invoiced (lines with tax of SENT and PAID invoices, by issue date)
    and received (payments on invoices that are not VOID, by the day received)."""
    starts = params.months_list
    bounds = [*starts, next_month(starts[-1])]
    received = _revenue_rows(principal).subquery()
    received_rows = sa.select(
        sa.literal("received").label("kind"),
        month_bucket(received.c.received_on, bounds).label("bucket"),
        received.c.amount,
    ).where(received.c.received_on >= bounds[0], received.c.received_on < bounds[-1])
    invoiced_rows = (
        sa.select(
            sa.literal("invoiced"),
            month_bucket(Invoice.issue_date, bounds),
            InvoiceLine.amount + InvoiceLine.tax_amount,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.status.in_((InvoiceStatus.SENT, InvoiceStatus.PAID)),
            Invoice.issue_date >= bounds[0],
            Invoice.issue_date < bounds[-1],
            scopes.invoice_scope(principal),
        )
    )
    both = sa.union_all(received_rows, invoiced_rows).subquery()
    statement = sa.select(both.c.kind, both.c.bucket, sa.func.sum(both.c.amount)).group_by(both.c.kind, both.c.bucket)
    sums = {(kind, int(bucket)): money(total) for kind, bucket, total in await db.rows(statement)}
    return [
        RevenuePoint(month, sums.get(("invoiced", i), money(0)), sums.get(("received", i), money(0)))
        for i, month in enumerate(starts)
    ]


# --------------------------------------------------------------------------- health indicators


async def overdue_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[OverdueClient]:
    overdue = _overdue_by_client(principal, params.today)
    statement = (
        sa.select(Client, overdue.c.amount, overdue.c.invoices, overdue.c.oldest, _count_all())
        .join(overdue, overdue.c.client_id == Client.id)
        .where(scopes.client_scope(principal))
        .order_by(overdue.c.amount.desc(), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, amount, invoices, oldest, _ in rows:
        oldest = _as_date(oldest)
        clients.append(OverdueClient(client, money(amount), int(invoices), oldest, (params.today - oldest).days))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def quiet_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[QuietClient]:
    touches = sa.union_all(
        sa.select(Activity.client_id.label("client_id"), Activity.occurred_at.label("at")).where(
            Activity.client_id.is_not(None), scopes.activity_scope(principal)
        ),
        sa.select(Interaction.client_id, Interaction.occurred_at).where(scopes.interaction_scope(principal)),
        sa.select(Client.id, Client.last_interaction_at).where(
            Client.last_interaction_at.is_not(None), scopes.client_scope(principal)
        ),
    ).subquery()
    latest = (
        sa.select(touches.c.client_id, sa.func.max(touches.c.at).label("last_at"))
        .group_by(touches.c.client_id)
        .subquery()
    )
    statement = (
        sa.select(Client, latest.c.last_at, _count_all())
        .outerjoin(latest, latest.c.client_id == Client.id)
        .where(
            scopes.client_scope(principal),
            _not_churned(),
            sa.or_(latest.c.last_at.is_(None), latest.c.last_at < params.cutoff),
        )
        .order_by(sa.nulls_first(latest.c.last_at.asc()), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, last_at, _ in rows:
        last_at = _as_datetime(last_at)
        clients.append(QuietClient(client, last_at, _days_since(params.now, last_at)))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


def _portal_users(principal: Principal) -> sa.Subquery:
    return (
        sa.select(User.client_id.label("client_id"), sa.func.count().label("users"))
        .where(User.role == Role.CLIENT, User.is_active.is_(True), scopes.user_scope(principal))
        .group_by(User.client_id)
        .subquery()
    )


def _portal_logins(principal: Principal, since: dt.datetime) -> sa.Subquery:
    return (
        sa.select(
            LoginEvent.client_id.label("client_id"),
            sa.func.sum(sa.case((LoginEvent.occurred_at >= since, 1), else_=0)).label("recent"),
            sa.func.max(LoginEvent.occurred_at).label("last_at"),
        )
        .where(LoginEvent.client_id.is_not(None), scopes.login_event_scope(principal))
        .group_by(LoginEvent.client_id)
        .subquery()
    )


async def portal_login_gaps(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[PortalLoginGap]:
    users = _portal_users(principal)
    logins = _portal_logins(principal, params.cutoff)
    statement = (
        sa.select(Client, users.c.users, logins.c.last_at, _count_all())
        .join(users, users.c.client_id == Client.id)
        .outerjoin(logins, logins.c.client_id == Client.id)
        .where(
            scopes.client_scope(principal),
            _not_churned(),
            sa.or_(logins.c.last_at.is_(None), logins.c.last_at < params.cutoff),
        )
        .order_by(sa.nulls_first(logins.c.last_at.asc()), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, count, last_at, _ in rows:
        last_at = _as_datetime(last_at)
        clients.append(PortalLoginGap(client, int(count), last_at, _days_since(params.now, last_at)))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def at_risk_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[AtRiskClient]:
    at_risk = sa.func.sum(sa.case((Project.health == ProjectHealth.AT_RISK, 1), else_=0))
    off_track = sa.func.sum(sa.case((Project.health == ProjectHealth.OFF_TRACK, 1), else_=0))
    statement = (
        sa.select(Client, at_risk, off_track, _count_all())
        .join(Project, Project.client_id == Client.id)
        .where(
            scopes.client_scope(principal),
            scopes.project_scope(principal),
            Project.status.in_(OPEN_PROJECT),
            Project.health.in_(RISKY_HEALTH),
        )
        .group_by(Client.id)
        .order_by(off_track.desc(), at_risk.desc(), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [AtRiskClient(client, int(a), int(o)) for client, a, o, _ in rows]
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def upsell_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[UpsellClient]:
    opportunities = (
        sa.select(
            Opportunity.client_id.label("client_id"),
            sa.func.count().label("open"),
            sa.func.sum(Opportunity.value).label("value"),
        )
        .where(Opportunity.stage.in_(OPEN_STAGES), scopes.opportunity_scope(principal))
        .group_by(Opportunity.client_id)
        .subquery()
    )
    work = (
        sa.select(
            Project.client_id.label("client_id"),
            sa.func.sum(sa.case((Project.status == ProjectStatus.COMPLETED, 1), else_=0)).label("completed"),
            sa.func.sum(sa.case((Project.status == ProjectStatus.ACTIVE, 1), else_=0)).label("active"),
            sa.func.sum(
                sa.case((sa.and_(Project.status.in_(OPEN_PROJECT), Project.health.in_(RISKY_HEALTH)), 1), else_=0)
            ).label("risky"),
        )
        .where(scopes.project_scope(principal))
        .group_by(Project.client_id)
        .subquery()
    )
    overdue = _overdue_by_client(principal, params.today)
    open_count = sa.func.coalesce(opportunities.c.open, 0)
    completed = sa.func.coalesce(work.c.completed, 0)
    active = sa.func.coalesce(work.c.active, 0)
    statement = (
        sa.select(Client, open_count, opportunities.c.value, completed, active, _count_all())
        .outerjoin(opportunities, opportunities.c.client_id == Client.id)
        .outerjoin(work, work.c.client_id == Client.id)
        .where(
            scopes.client_scope(principal),
            _in_category(ClientCategory.ACTIVE),
            Client.id.not_in(sa.select(overdue.c.client_id)),
            sa.func.coalesce(work.c.risky, 0) == 0,
            sa.or_(open_count > 0, sa.and_(completed > 0, active == 0)),
        )
        .order_by(sa.func.coalesce(opportunities.c.value, 0).desc(), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, n_open, value, n_completed, n_active, _ in rows:
        reasons = []
        if int(n_open) > 0:
            reasons.append(UpsellReason.OPEN_OPPORTUNITY)
        if int(n_completed) > 0 and int(n_active) == 0:
            reasons.append(UpsellReason.WORK_COMPLETED)
        clients.append(UpsellClient(client, reasons, int(n_open), money(value), int(n_completed)))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


# --------------------------------------------------------------------------- engagement


async def portal_logins(db: RequestDb, principal: Principal, params: DashboardParams) -> PortalLogins:
    """Portal sign-ins in the last N days, per client that has portal users (busiest first)."""
    users = _portal_users(principal)
    logins = _portal_logins(principal, params.cutoff)
    recent = sa.func.coalesce(logins.c.recent, 0)
    statement = (
        sa.select(
            Client,
            users.c.users,
            recent,
            logins.c.last_at,
            _count_all(),
            sa.func.sum(recent).over(),
            sa.func.sum(sa.case((recent > 0, 1), else_=0)).over(),
        )
        .join(users, users.c.client_id == Client.id)
        .outerjoin(logins, logins.c.client_id == Client.id)
        .where(scopes.client_scope(principal))
        .order_by(recent.desc(), sa.nulls_last(logins.c.last_at.desc()), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [ClientPortalLogins(c, int(u), int(n), _as_datetime(last)) for c, u, n, last, *_ in rows]
    if not rows:
        return PortalLogins(params.no_activity_days, 0, 0, 0, [])
    _, _, _, _, with_users, total, with_logins = rows[0]
    return PortalLogins(params.no_activity_days, _int(total), _int(with_users), _int(with_logins), clients)


async def last_interactions(db: RequestDb, principal: Principal, params: DashboardParams) -> LastInteractions:
    """Clients not churned, the longest without a logged interaction first."""
    contacted = sa.case((Client.last_interaction_at >= params.cutoff, 1), else_=0)
    statement = (
        sa.select(Client, _count_all(), sa.func.sum(contacted).over())
        .where(scopes.client_scope(principal), _not_churned())
        .order_by(sa.nulls_first(Client.last_interaction_at.asc()), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [
        ClientLastInteraction(c, c.last_interaction_at, _days_since(params.now, c.last_interaction_at))
        for c, *_ in rows
    ]
    if not rows:
        return LastInteractions(0, 0, [])
    total, reached = _int(rows[0][1]), _int(rows[0][2])
    return LastInteractions(reached, total - reached, clients)


async def response_times(db: RequestDb, principal: Principal, params: DashboardParams) -> ResponseTimes:
    """How long the team takes to answer a client's REPLY (slowest clients first)."""
    # One pass over the REPLYs, newest first per thread (a task, or a project's own comments):
    # the earliest staff REPLY among the later ones is the answer to each client REPLY.
    is_staff = User.role.in_(STAFF_ROLES)
    answered_at = sa.func.min(sa.case((is_staff, Comment.created_at))).over(
        partition_by=(Comment.project_id, Comment.task_id),
        order_by=(Comment.created_at.desc(), Comment.id.desc()),
        rows=(None, -1),
    )
    thread = (
        sa.select(
            Project.client_id.label("client_id"),
            User.role.label("role"),
            Comment.created_at.label("asked_at"),
            answered_at.label("answered_at"),
        )
        .join(User, User.id == Comment.author_id)
        .join(Project, Project.id == Comment.project_id)
        .where(
            Comment.kind == CommentKind.REPLY,
            # An answer never precedes its question: the window's replies hold every answer to them.
            Comment.created_at >= midnight(params.window_start),
            scopes.comment_scope(principal),
            scopes.project_scope(principal),
        )
        .subquery()
    )
    pairs = (
        sa.select(
            thread.c.client_id,
            (epoch_seconds(thread.c.answered_at) - epoch_seconds(thread.c.asked_at)).label("seconds"),
        )
        .where(thread.c.role == Role.CLIENT)
        .subquery()
    )
    per_client = (
        sa.select(
            pairs.c.client_id,
            sa.func.count(pairs.c.seconds).label("answered"),
            (sa.func.count() - sa.func.count(pairs.c.seconds)).label("unanswered"),
            sa.func.sum(pairs.c.seconds).label("seconds"),
        )
        .group_by(pairs.c.client_id)
        .subquery()
    )
    average = per_client.c.seconds / sa.func.nullif(per_client.c.answered, 0)
    statement = (
        sa.select(
            Client,
            per_client.c.answered,
            per_client.c.unanswered,
            average,
            sa.func.sum(per_client.c.answered).over(),
            sa.func.sum(per_client.c.unanswered).over(),
            sa.func.sum(per_client.c.seconds).over(),
        )
        .join(per_client, per_client.c.client_id == Client.id)
        .where(scopes.client_scope(principal))
        .order_by(sa.nulls_last(average.desc()), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [
        ClientResponseTime(c, int(a), int(u), None if avg is None else round(float(avg) / 3600, 2))
        for c, a, u, avg, *_ in rows
    ]
    if not rows:
        return ResponseTimes(0, 0, None, [])
    answered, unanswered, seconds = _int(rows[0][4]), _int(rows[0][5]), rows[0][6]
    overall = round(float(seconds) / answered / 3600, 2) if answered and seconds is not None else None
    return ResponseTimes(answered, unanswered, overall, clients)


async def satisfaction(db: RequestDb, principal: Principal, params: DashboardParams) -> Satisfaction:
    """NPS over the window's survey answers; clients listed least satisfied first."""
    since = params.window_start
    promoters = sa.func.sum(sa.case((SatisfactionSurvey.score >= 9, 1), else_=0))
    detractors = sa.func.sum(sa.case((SatisfactionSurvey.score <= 6, 1), else_=0))
    per_client = (
        sa.select(
            SatisfactionSurvey.client_id.label("client_id"),
            sa.func.count().label("responses"),
            sa.func.sum(SatisfactionSurvey.score).label("score_sum"),
            promoters.label("promoters"),
            detractors.label("detractors"),
            sa.func.max(SatisfactionSurvey.responded_at).label("last_at"),
        )
        .where(SatisfactionSurvey.responded_at >= midnight(since), scopes.satisfaction_survey_scope(principal))
        .group_by(SatisfactionSurvey.client_id)
        .subquery()
    )
    nps = (per_client.c.promoters - per_client.c.detractors) * 100.0 / per_client.c.responses
    statement = (
        sa.select(
            Client,
            per_client.c.responses,
            per_client.c.score_sum,
            per_client.c.promoters,
            per_client.c.detractors,
            per_client.c.last_at,
            sa.func.sum(per_client.c.responses).over(),
            sa.func.sum(per_client.c.score_sum).over(),
            sa.func.sum(per_client.c.promoters).over(),
            sa.func.sum(per_client.c.detractors).over(),
        )
        .join(per_client, per_client.c.client_id == Client.id)
        .where(scopes.client_scope(principal))
        .order_by(nps.asc(), Client.id)
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [
        ClientSatisfaction(
            c, int(n), round(int(s) / int(n), 2), round((int(pr) - int(de)) * 100 / int(n), 1), _as_datetime(last)
        )
        for c, n, s, pr, de, last, *_ in rows
    ]
    if not rows:
        return Satisfaction(since, 0, 0, 0, 0, None, None, [])
    n, s, pr, de = (_int(v) for v in rows[0][6:10])
    return Satisfaction(since, n, pr, n - pr - de, de, round(s / n, 2), round((pr - de) * 100 / n, 1), clients)


# --------------------------------------------------------------------------- retention and lifetime value


async def retention(db: RequestDb, principal: Principal, params: DashboardParams) -> Retention:
    start = params.window_start
    existed = _became(start)
    revenue = _revenue_rows(principal).where(Payment.received_on >= start).subquery()
    statement = sa.select(
        sa.select(sa.func.count()).where(scopes.client_scope(principal), existed).scalar_subquery(),
        sa.select(sa.func.count()).where(scopes.client_scope(principal), existed, _not_churned()).scalar_subquery(),
        sa.select(sa.func.sum(revenue.c.amount)).scalar_subquery(),
        sa.select(sa.func.count(sa.distinct(revenue.c.client_id))).scalar_subquery(),
    )
    at_start, retained, received, paying = (await db.rows(statement))[0]
    return Retention(start, params.months, _int(at_start), _int(retained), money(received), _int(paying))
