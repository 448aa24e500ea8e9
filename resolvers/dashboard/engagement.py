"""Engagement: portal sign-ins, last interactions, response times and satisfaction.

- Response time: for each client REPLY in the window, the time until the next staff REPLY
  in the same thread (the same task, or the project itself for a project comment); replies
  with no staff answer yet are counted as unanswered. Threads on tasks hidden from the client
  are not counted (signals.agency_response_by_client, the same rule as the other way round).
- NPS: over survey answers in the window, % promoters (9-10) minus % detractors (0-6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Client, SatisfactionSurvey
from models.enums import STAFF_ROLES as STAFF_ROLES  # re-exported by resolvers.dashboard
from resolvers.dashboard import signals
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import (
    as_datetime,
    as_int,
    count_all,
    days_since,
    not_churned,
    portal_logins_by_client,
    portal_users_by_client,
)
from resolvers.db import RequestDb
from resolvers.sql_functions import midnight


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


async def portal_logins(db: RequestDb, principal: Principal, params: DashboardParams) -> PortalLogins:
    """Portal sign-ins in the last N days, per client that has portal users (busiest first)."""
    users = portal_users_by_client(principal)
    logins = portal_logins_by_client(principal, params.cutoff)
    recent = sa.func.coalesce(logins.c.recent, 0)
    statement = (
        sa.select(
            Client,
            users.c.users,
            recent,
            logins.c.last_at,
            count_all(),
            sa.func.sum(recent).over(),
            sa.func.sum(sa.case((recent > 0, 1), else_=0)).over(),
        )
        .join(users, users.c.client_id == col(Client.id))
        .outerjoin(logins, logins.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .order_by(recent.desc(), sa.nulls_last(logins.c.last_at.desc()), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [ClientPortalLogins(c, int(u), int(n), as_datetime(last)) for c, u, n, last, *_ in rows]
    if not rows:
        return PortalLogins(params.no_activity_days, 0, 0, 0, [])
    _, _, _, _, with_users, total, with_logins = rows[0]
    return PortalLogins(params.no_activity_days, as_int(total), as_int(with_users), as_int(with_logins), clients)


async def last_interactions(db: RequestDb, principal: Principal, params: DashboardParams) -> LastInteractions:
    """Clients not churned, the longest without a logged interaction first."""
    contacted = sa.case((col(Client.last_interaction_at) >= params.cutoff, 1), else_=0)
    statement = (
        sa.select(Client, count_all(), sa.func.sum(contacted).over())
        .where(scopes.client_scope(principal), *params.client_filter_where(), not_churned())
        .order_by(sa.nulls_first(col(Client.last_interaction_at).asc()), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [
        ClientLastInteraction(c, c.last_interaction_at, days_since(params.now, c.last_interaction_at)) for c, *_ in rows
    ]
    if not rows:
        return LastInteractions(0, 0, [])
    total, reached = as_int(rows[0][1]), as_int(rows[0][2])
    return LastInteractions(reached, total - reached, clients)


async def response_times(db: RequestDb, principal: Principal, params: DashboardParams) -> ResponseTimes:
    """How long the team takes to answer a client's REPLY (slowest clients first)."""
    return await reply_delays(db, principal, params, signals.agency_response_by_client)


async def reply_delays(
    db: RequestDb,
    principal: Principal,
    params: DashboardParams,
    builder: Callable[[Principal, dt.datetime], sa.Subquery],
) -> ResponseTimes:
    """A response-time section from one direction's signal (resolvers/dashboard/signals.py): the
    replies since the window started, per client and overall, the slowest clients first."""
    per_client = builder(principal, midnight(params.window_start))
    hours_sum = per_client.c.average_hours * per_client.c.answered
    statement = (
        sa.select(
            Client,
            per_client.c.answered,
            per_client.c.unanswered,
            per_client.c.average_hours,
            sa.func.sum(per_client.c.answered).over(),
            sa.func.sum(per_client.c.unanswered).over(),
            sa.func.sum(hours_sum).over(),
        )
        .join(per_client, per_client.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .order_by(sa.nulls_last(per_client.c.average_hours.desc()), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [
        ClientResponseTime(c, int(a), int(u), None if avg is None else round(float(avg), 2))
        for c, a, u, avg, *_ in rows
    ]
    if not rows:
        return ResponseTimes(0, 0, None, [])
    answered, unanswered, total = as_int(rows[0][4]), as_int(rows[0][5]), rows[0][6]
    overall = round(float(total) / answered, 2) if answered and total is not None else None
    return ResponseTimes(answered, unanswered, overall, clients)


async def satisfaction(db: RequestDb, principal: Principal, params: DashboardParams) -> Satisfaction:
    """NPS over the window's survey answers; clients listed least satisfied first."""
    since = params.window_start
    promoters = sa.func.sum(sa.case((col(SatisfactionSurvey.score) >= 9, 1), else_=0))
    detractors = sa.func.sum(sa.case((col(SatisfactionSurvey.score) <= 6, 1), else_=0))
    per_client = (
        sa.select(
            col(SatisfactionSurvey.client_id).label("client_id"),
            sa.func.count().label("responses"),
            sa.func.sum(col(SatisfactionSurvey.score)).label("score_sum"),
            promoters.label("promoters"),
            detractors.label("detractors"),
            sa.func.max(col(SatisfactionSurvey.responded_at)).label("last_at"),
        )
        .where(col(SatisfactionSurvey.responded_at) >= midnight(since), scopes.satisfaction_survey_scope(principal))
        .group_by(col(SatisfactionSurvey.client_id))
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
        .join(per_client, per_client.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .order_by(nps.asc(), col(Client.id))
        .limit(params.top)
    )
    rows = await db.rows(statement)
    clients = [
        ClientSatisfaction(
            c, int(n), round(int(s) / int(n), 2), round((int(pr) - int(de)) * 100 / int(n), 1), as_datetime(last)
        )
        for c, n, s, pr, de, last, *_ in rows
    ]
    if not rows:
        return Satisfaction(since, 0, 0, 0, 0, None, None, [])
    n, s, pr, de = (as_int(v) for v in rows[0][6:10])
    return Satisfaction(since, n, pr, n - pr - de, de, round(s / n, 2), round((pr - de) * 100 / n, 1), clients)
