"""Client breakdown: clients by status and category, new clients, and growth over the window.

- "Became a client" is `became_client_on`, or the day the record was created when unset.
- Growth: per month of the window, clients who became clients that month, and the running
  total of clients who had become clients by the month's end (churned ones included: the
  status history is not dated, so churn cannot be placed in a month).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Client, ClientCategory, ClientStatus
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import as_int, became, became_bucket
from resolvers.db import RequestDb
from resolvers.sql_functions import next_month, quarter_start


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


async def client_status_counts(db: RequestDb, principal: Principal, params: DashboardParams) -> list[StatusCount]:
    """Every status, custom ones included, with how many visible clients have it (zeros too)."""
    statement = (
        sa.select(ClientStatus, sa.func.count(col(Client.id)))
        .outerjoin(
            Client,
            sa.and_(
                col(Client.status_id) == col(ClientStatus.id),
                scopes.client_scope(principal),
                *params.client_filter_where(),
            ),
        )
        .group_by(col(ClientStatus.id))
        .order_by(col(ClientStatus.position), col(ClientStatus.id))
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
        sa.func.sum(sa.case((sa.not_(became(month)), 1), else_=0)),
        sa.func.sum(sa.case((sa.not_(became(quarter)), 1), else_=0)),
    ).where(scopes.client_scope(principal), *params.client_filter_where(), became(next_month(params.today)))
    this_month, this_quarter = (await db.rows(statement))[0]
    return NewClients(as_int(this_month), as_int(this_quarter))


async def client_growth(db: RequestDb, principal: Principal, params: DashboardParams) -> list[GrowthPoint]:
    starts = params.months_list
    bucket = became_bucket([*starts, next_month(starts[-1])]).label("bucket")
    statement = (
        sa.select(bucket, sa.func.count())
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .group_by(bucket)
    )
    counts = {int(b): int(n) for b, n in await db.rows(statement)}
    running = counts.get(-1, 0)
    points = []
    for i, month in enumerate(starts):
        new = counts.get(i, 0)
        running += new
        points.append(GrowthPoint(month, new, running))
    return points
