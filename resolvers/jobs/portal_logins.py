"""Portal login alerts: the client's account manager hears when a portal user has not signed in
for `portal_quiet_days` (30) days.

- Quiet: an active portal user (CLIENT) of a client that is not churned, whose last sign-in (or,
  never signed in, the creation of the user) is that many days old or older.
- Once per quiet spell: the key is `user:ID:since:LAST` (the last sign-in or creation time), so
  the user signing in again ends the spell, and 30 quiet days later a new one alerts again.
- To the client's account manager, when it has one that is active; else it counts as having no
  recipient (and goes out once a manager is assigned, while the spell lasts).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from models import Client, Role, User
from models.base import utcnow
from resolvers.dashboard.rows import as_datetime, not_churned
from resolvers.jobs.runner import JobConfig, Outgoing, Selection

NAME = "portal_login_alerts"


async def select_portal_login_alerts(session: AsyncSession, config: JobConfig, now: dt.datetime) -> Selection:
    manager = aliased(User)
    since = sa.func.coalesce(col(User.last_login_at), col(User.created_at))
    rows = await session.execute(
        sa.select(
            col(User.id),
            col(User.full_name),
            col(User.email),
            col(User.last_login_at),
            since,
            col(Client.name),
            col(manager.email),
            col(manager.is_active),
        )
        .join(Client, col(Client.id) == col(User.client_id))
        .outerjoin(manager, col(manager.id) == col(Client.account_manager_id))
        .where(
            col(User.role) == Role.CLIENT,
            col(User.is_active).is_(True),
            since <= now - dt.timedelta(days=config.portal_quiet_days),
            not_churned(),
        )
        .order_by(col(User.id))
    )
    selection = Selection()
    for user_id, full_name, email, last_login_at, quiet_since, client_name, manager_email, manager_active in rows:
        if manager_email is None or not manager_active:
            selection.no_recipient += 1
            continue
        start = as_datetime(quiet_since) or utcnow()
        day = start.date().isoformat()
        last = f"has never signed in (a user since {day})" if last_login_at is None else f"last signed in on {day}"
        selection.outgoing.append(
            Outgoing(
                key=f"user:{user_id}:since:{start.strftime('%Y-%m-%dT%H:%M:%S')}",
                to=(manager_email,),
                subject=f"{full_name} ({client_name}) has not used the portal for {(now - start).days} days",
                body=(
                    f"{full_name} <{email}>, a portal user of {client_name}, {last}: {(now - start).days} days"
                    f" without using the portal. A check-in may be due.\n\n{config.agency_name}"
                ),
            )
        )
    return selection
