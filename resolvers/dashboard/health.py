"""Client health indicators: the clients that need attention, each list the first `top` of them
with the number of clients flagged in all.

- Overdue: a SENT invoice past its due date with something still to pay.
- No recent activity: a client not churned whose latest client-facing touchpoint (a meeting
  held, a logged interaction, a REPLY either way, a portal sign-in, a payment: see
  resolvers/dashboard/signals.py) is older than N days, or who never had one. Internal edits
  (the client's notes, status, an activity-feed entry) are not touchpoints.
- No portal login: a client not churned that has at least one active portal user and no
  portal sign-in in the last N days.
- At-risk projects: ACTIVE or ON_HOLD projects whose health is AT_RISK or OFF_TRACK.
- Ready for upsell: a client in the ACTIVE category with no overdue invoice and no at-risk
  or off-track open project, that either has an open opportunity (IDENTIFIED, QUALIFIED,
  PROPOSED) or has completed work (a COMPLETED project) and no ACTIVE project.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import (
    Client,
    ClientCategory,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Opportunity,
    OpportunityStage,
    Payment,
    Project,
    ProjectHealth,
    ProjectStatus,
)
from models.base import money
from resolvers.dashboard import signals
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import (
    as_datetime,
    count_all,
    days_since,
    in_category,
    not_churned,
    portal_logins_by_client,
    portal_users_by_client,
)
from resolvers.db import RequestDb

T = TypeVar("T")

OPEN_STAGES = (OpportunityStage.IDENTIFIED, OpportunityStage.QUALIFIED, OpportunityStage.PROPOSED)
OPEN_PROJECT = (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)
RISKY_HEALTH = (ProjectHealth.AT_RISK, ProjectHealth.OFF_TRACK)
# Float sums of cents on SQLite can leave a residue of 1e-12; anything under half a cent is paid.
_HALF_CENT = 0.005


class UpsellReason(str, Enum):
    OPEN_OPPORTUNITY = "OPEN_OPPORTUNITY"  # an upsell or cross-sell is identified, qualified or proposed
    WORK_COMPLETED = "WORK_COMPLETED"  # delivered work (a completed project) and nothing active now


@dataclass
class ClientList(Generic[T]):
    """The first `top` clients of an indicator, and how many clients it flags in all."""

    count: int
    clients: list[T]


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


def _overdue_by_client(principal: Principal, today: dt.date, *where: sa.ColumnElement[bool]) -> sa.Subquery:
    """(client_id, amount overdue, invoices overdue, oldest due date) over SENT invoices past due
    (`where`: more conditions on `invoice`, e.g. narrowing to some clients before grouping)."""
    past_due = sa.and_(
        col(Invoice.status) == InvoiceStatus.SENT,
        col(Invoice.due_date) < today,
        scopes.invoice_scope(principal),
        *where,
    )
    # Annotated: mypy reads `.label()` of a `col()` column as Label[Never] and cannot infer the Select.
    billed: sa.Select[int, int, dt.date, Decimal] = (
        sa.select(
            col(Invoice.id).label("invoice_id"),
            col(Invoice.client_id).label("client_id"),
            col(Invoice.due_date).label("due_date"),
            (col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)).label("amount"),
        )
        .join(InvoiceLine, col(InvoiceLine.invoice_id) == col(Invoice.id))
        .where(past_due)
    )
    received = (
        sa.select(col(Invoice.id), col(Invoice.client_id), col(Invoice.due_date), -col(Payment.amount))
        .join(Payment, col(Payment.invoice_id) == col(Invoice.id))
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


def _as_date(value: Any) -> dt.date:
    """The oldest due date (never NULL: due_date is NOT NULL and the group has a row) as a date;
    SQLite hands text back from an aggregate over a union."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def overdue_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[OverdueClient]:
    overdue = _overdue_by_client(principal, params.today)
    statement = (
        sa.select(Client, overdue.c.amount, overdue.c.invoices, overdue.c.oldest, count_all())
        .join(overdue, overdue.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .order_by(overdue.c.amount.desc(), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, amount, invoices, oldest, _ in rows:
        oldest = _as_date(oldest)
        clients.append(OverdueClient(client, money(amount), int(invoices), oldest, (params.today - oldest).days))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def quiet_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[QuietClient]:
    quiet = signals.quiet_days_by_client(principal, params.now)
    statement = (
        sa.select(Client, quiet.c.last_at, count_all())
        .join(quiet, quiet.c.client_id == col(Client.id))
        .where(
            scopes.client_scope(principal),
            *params.client_filter_where(),
            not_churned(),
            sa.or_(quiet.c.last_at.is_(None), quiet.c.last_at < params.cutoff),
        )
        .order_by(sa.nulls_first(quiet.c.last_at.asc()), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, last_at, _ in rows:
        last_at = as_datetime(last_at)
        clients.append(QuietClient(client, last_at, days_since(params.now, last_at)))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def portal_login_gaps(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[PortalLoginGap]:
    users = portal_users_by_client(principal)
    logins = portal_logins_by_client(principal, params.cutoff)
    statement = (
        sa.select(Client, users.c.users, logins.c.last_at, count_all())
        .join(users, users.c.client_id == col(Client.id))
        .outerjoin(logins, logins.c.client_id == col(Client.id))
        .where(
            scopes.client_scope(principal),
            *params.client_filter_where(),
            not_churned(),
            sa.or_(logins.c.last_at.is_(None), logins.c.last_at < params.cutoff),
        )
        .order_by(sa.nulls_first(logins.c.last_at.asc()), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = []
    for client, count, last_at, _ in rows:
        last_at = as_datetime(last_at)
        clients.append(PortalLoginGap(client, int(count), last_at, days_since(params.now, last_at)))
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def at_risk_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[AtRiskClient]:
    at_risk = sa.func.sum(sa.case((col(Project.health) == ProjectHealth.AT_RISK, 1), else_=0))
    off_track = sa.func.sum(sa.case((col(Project.health) == ProjectHealth.OFF_TRACK, 1), else_=0))
    statement = (
        sa.select(Client, at_risk, off_track, count_all())
        .join(Project, col(Project.client_id) == col(Client.id))
        .where(
            scopes.client_scope(principal),
            *params.client_filter_where(),
            scopes.project_scope(principal),
            col(Project.status).in_(OPEN_PROJECT),
            col(Project.health).in_(RISKY_HEALTH),
        )
        .group_by(col(Client.id))
        .order_by(off_track.desc(), at_risk.desc(), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [AtRiskClient(client, int(a), int(o)) for client, a, o, _ in rows]
    return ClientList(int(rows[0][-1]) if rows else 0, clients)


async def upsell_clients(db: RequestDb, principal: Principal, params: DashboardParams) -> ClientList[UpsellClient]:
    opportunities = (
        sa.select(
            col(Opportunity.client_id).label("client_id"),
            sa.func.count().label("open"),
            sa.func.sum(col(Opportunity.value)).label("value"),
        )
        .where(col(Opportunity.stage).in_(OPEN_STAGES), scopes.opportunity_scope(principal))
        .group_by(col(Opportunity.client_id))
        .subquery()
    )
    work = (
        sa.select(
            col(Project.client_id).label("client_id"),
            sa.func.sum(sa.case((col(Project.status) == ProjectStatus.COMPLETED, 1), else_=0)).label("completed"),
            sa.func.sum(sa.case((col(Project.status) == ProjectStatus.ACTIVE, 1), else_=0)).label("active"),
            sa.func.sum(
                sa.case(
                    (sa.and_(col(Project.status).in_(OPEN_PROJECT), col(Project.health).in_(RISKY_HEALTH)), 1), else_=0
                )
            ).label("risky"),
        )
        .where(scopes.project_scope(principal))
        .group_by(col(Project.client_id))
        .subquery()
    )
    overdue = _overdue_by_client(principal, params.today)
    open_count = sa.func.coalesce(opportunities.c.open, 0)
    completed = sa.func.coalesce(work.c.completed, 0)
    active = sa.func.coalesce(work.c.active, 0)
    statement = (
        sa.select(Client, open_count, opportunities.c.value, completed, active, count_all())
        .outerjoin(opportunities, opportunities.c.client_id == col(Client.id))
        .outerjoin(work, work.c.client_id == col(Client.id))
        .where(
            scopes.client_scope(principal),
            *params.client_filter_where(),
            in_category(ClientCategory.ACTIVE),
            col(Client.id).not_in(sa.select(overdue.c.client_id)),
            sa.func.coalesce(work.c.risky, 0) == 0,
            sa.or_(open_count > 0, sa.and_(completed > 0, active == 0)),
        )
        .order_by(sa.func.coalesce(opportunities.c.value, 0).desc(), col(Client.id))
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
