"""Account health on the dashboard and the project record, built on resolvers/dashboard/signals.py:

- Client response times: how fast the client answers the team (each staff REPLY in the window, in
  a thread the client sees, to the next REPLY of the client's portal users); the slowest first.
- Scope reductions: clients with a budget lowered or a project cancelled in the window (the
  guide's "scope reduction or project cancellations"), the most cuts first.
- Capacity: the hours each team member logged in the last N days, across how many clients and
  projects, the busiest first; and the same hours split by client. A view's clients filter keeps the
  time on those clients' projects only.
- Per project: budget burn (FINANCE) and the scope change log (staff only), batched by project id.

Each section is one statement over the caller's rows, whatever the number of clients.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Client, Project, ScopeChange, User
from models.base import money
from resolvers.batching import with_keys
from resolvers.dashboard import signals
from resolvers.dashboard.engagement import ResponseTimes, reply_delays
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import count_all
from resolvers.db import RequestDb
from resolvers.reports.client_reports import hours
from resolvers.sql_functions import midnight


@dataclass
class ScopeCutClient:
    client: Client
    reductions: int
    changes: int
    cancellations: int
    budget_cuts: int


@dataclass
class ScopeCuts:
    count: int
    clients: list[ScopeCutClient]


@dataclass
class MemberClientHours:
    client: Client
    hours: Decimal


@dataclass
class MemberCapacity:
    user: User
    hours: Decimal
    billable_hours: Decimal
    clients: int
    projects: int
    by_client: list[MemberClientHours] = field(default_factory=list)

    @property
    def billable_share(self) -> float | None:
        return round(float(self.billable_hours / self.hours), 4) if self.hours else None


@dataclass
class Capacity:
    start: dt.date
    end: dt.date
    members: list[MemberCapacity]

    @property
    def weeks(self) -> float:
        return ((self.end - self.start).days + 1) / 7

    @property
    def total_hours(self) -> Decimal:
        return sum((m.hours for m in self.members), Decimal("0.00"))


@dataclass
class BudgetBurn:
    budget: Decimal | None
    billable_hours: Decimal
    labor_value: Decimal
    billable_expenses: Decimal

    @property
    def burned(self) -> Decimal:
        return money(self.labor_value + self.billable_expenses)

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else money(self.budget - self.burned)

    @property
    def burn_rate(self) -> float | None:
        return round(float(self.burned / self.budget), 4) if self.budget else None


async def client_response_times(db: RequestDb, principal: Principal, params: DashboardParams) -> ResponseTimes:
    """How long clients take to answer the team's REPLYs since the window started (slowest first)."""
    return await reply_delays(db, principal, params, signals.client_response_by_client)


async def scope_reductions(db: RequestDb, principal: Principal, params: DashboardParams) -> ScopeCuts:
    """Clients with a scope reduction (a lower budget, a cancelled project) since the window started."""
    changes = signals.scope_changes_by_client(principal, midnight(params.window_start))
    statement = (
        sa.select(
            Client,
            changes.c.reductions,
            changes.c.changes,
            changes.c.cancellations,
            changes.c.budget_changes,
            count_all(),
        )
        .join(changes, changes.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where(), changes.c.reductions > 0)
        .order_by(changes.c.reductions.desc(), changes.c.changes.desc(), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    # budget_cuts: the reductions that are not cancellations.
    clients = [ScopeCutClient(c, int(r), int(n), int(x), int(r) - int(x)) for c, r, n, x, _, _ in rows]
    return ScopeCuts(int(rows[0][-1]) if rows else 0, clients)


def capacity_window(params: DashboardParams) -> tuple[dt.date, dt.date]:
    """The last N days, today included (by work date)."""
    return params.today - dt.timedelta(days=params.no_activity_days - 1), params.today


async def capacity(db: RequestDb, principal: Principal, params: DashboardParams) -> Capacity:
    """Hours per team member over the last N days, the busiest first (at most `top`)."""
    start, end = capacity_window(params)
    # Within a view's clients: only the time on their projects (in_view, as the other sections).
    per_member = signals.capacity_by_member(principal, start, end, within=params.in_view)
    statement = (
        sa.select(
            User,
            per_member.c.hours,
            per_member.c.billable_hours,
            per_member.c.clients,
            per_member.c.projects,
        )
        .join(per_member, per_member.c.user_id == col(User.id))
        .where(scopes.user_scope(principal))
        .order_by(per_member.c.hours.desc(), col(User.id))
        .limit(params.top)
    )
    members = [
        MemberCapacity(user, hours(h), hours(b), int(c), int(p)) for user, h, b, c, p in await db.rows(statement)
    ]
    return Capacity(start, end, members)


async def capacity_by_client(
    db: RequestDb, principal: Principal, params: DashboardParams
) -> dict[int, list[MemberClientHours]]:
    """Each member's hours over the last N days by client (user id -> clients, the most hours first)."""
    start, end = capacity_window(params)
    split = signals.hours_by_member_and_client(principal, start, end, within=params.in_view)
    statement = (
        sa.select(split.c.user_id, Client, split.c.hours)
        .join(split, split.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .order_by(split.c.user_id, split.c.hours.desc(), col(Client.id))
    )
    found: dict[int, list[MemberClientHours]] = defaultdict(list)
    for user_id, client, spent in await db.rows(statement):
        found[int(user_id)].append(MemberClientHours(client, hours(spent)))
    return found


# --------------------------------------------------------------------------- per project, batched


def budget_burn_statement(principal: Principal) -> sa.Select:
    burn = signals.budget_burn_by_project(principal, batch_keys=True)
    return sa.select(
        burn.c.project_id, burn.c.budget, burn.c.billable_hours, burn.c.labor_value, burn.c.billable_expenses
    )


async def budget_burns(db: RequestDb, statement: sa.Select, project_ids: Sequence[int]) -> dict[int, BudgetBurn]:
    found: dict[int, BudgetBurn] = {}
    for project_id, budget, spent_hours, labor, expenses in await db.rows(with_keys(statement, project_ids)):
        found[project_id] = BudgetBurn(
            None if budget is None else money(budget), hours(spent_hours), money(labor), money(expenses)
        )
    return found


def scope_change_scope(principal: Principal) -> sa.ColumnElement[bool]:
    """A scope change's rows: its own scope, under its project's."""
    return sa.and_(
        scopes.scope_change_scope(principal),
        col(ScopeChange.project_id).in_(sa.select(col(Project.id)).where(scopes.project_scope(principal))),
    )
