"""The weekly digest: each account manager hears, once per ISO week, which of their clients the
guide's warning signs point at, from the dashboard's own indicators (resolvers/dashboard/health.py,
the same SQL, over the rows the recipient's role may read):

- at risk: open (ACTIVE, ON_HOLD) projects whose health is AT_RISK or OFF_TRACK;
- went quiet: no client-facing touchpoint (a meeting held, an interaction, a REPLY either way, a portal
  sign-in, a payment) for `quiet_days` (30) days or more (the dashboard's "no recent activity");
- overdue invoices: SENT invoices past their due date with something still to pay;
- ready for upsell: the dashboard's upsell list (an open opportunity, or completed work and nothing
  active; no overdue invoice, no project at risk).

Each digest is computed as its recipient's role sees the rows (`VIEWS`): a MEMBER touches no
money, so its digest has no overdue invoices. The sections say how each client stands as of the
run, not what changed since the last digest. To every active staff user (ADMIN, MANAGER, MEMBER)
who is the account manager of a client that is not churned, also when nothing is flagged (the
digest says so); clients without an account manager are in no digest.
Once per manager and ISO week (key `manager:ID:week:YYYY-Www`): the first run on or after Monday
00:00 UTC sends it, so the server's schedule makes it a Monday digest.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from models import Client, Role, User
from resolvers.dashboard import health
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import not_churned
from resolvers.db import RequestDb
from resolvers.jobs.runner import JobConfig, Outgoing, Selection

NAME = "weekly_digest"
# Each recipient's digest is computed as its role sees the rows: ADMIN and MANAGER read every row;
# a MEMBER (who may manage accounts) touches no money, so no invoice rows reach its digest (no
# overdue section, and the upsell list as its dashboard computes it). The views are by role, not by
# user: statements per run stay constant.
VIEWS = {
    Role.ADMIN: Principal(user_id=None, role=Role.ADMIN),
    Role.MANAGER: Principal(user_id=None, role=Role.ADMIN),
    Role.MEMBER: Principal(user_id=None, role=Role.MEMBER),
}
_EVERY_CLIENT = 1_000_000_000


class _SessionRows:
    """The one RequestDb method the indicators call, over the job's own transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rows(self, statement: Any) -> list[Any]:
        return list((await self.session.execute(statement)).all())


@dataclass
class Digest:
    """One manager's flagged clients, as lines under each section."""

    at_risk: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    upsell: list[str] = field(default_factory=list)


def iso_week(now: dt.datetime) -> str:
    year, week, _ = now.date().isocalendar()
    return f"{year}-W{week:02d}"


async def digests(
    session: AsyncSession, config: JobConfig, now: dt.datetime, principal: Principal
) -> dict[int, Digest]:
    """Each account manager's digest (by user id) as `principal` sees the rows: four statements,
    whatever the number of managers."""
    db = cast(RequestDb, _SessionRows(session))
    params = DashboardParams(now=now, no_activity_days=config.quiet_days, top=_EVERY_CLIENT)
    by_manager: dict[int, Digest] = defaultdict(Digest)

    def mine(client: Client) -> Digest | None:
        return None if client.account_manager_id is None else by_manager[client.account_manager_id]

    for risky in (await health.at_risk_clients(db, principal, params)).clients:
        if (digest := mine(risky.client)) is not None:
            digest.at_risk.append(
                f"{risky.client.name}: {risky.at_risk_projects} project(s) at risk,"
                f" {risky.off_track_projects} off track"
            )
    for quiet in (await health.quiet_clients(db, principal, params)).clients:
        if (digest := mine(quiet.client)) is not None:
            since = (
                "no activity recorded"
                if quiet.last_activity_at is None
                else f"last activity {quiet.last_activity_at.date().isoformat()} ({quiet.days_since_activity} days ago)"
            )
            digest.quiet.append(f"{quiet.client.name}: {since}")
    for overdue in (await health.overdue_clients(db, principal, params)).clients:
        if (digest := mine(overdue.client)) is not None:
            digest.overdue.append(
                f"{overdue.client.name}: {overdue.amount_overdue} {config.currency} on"
                f" {overdue.overdue_invoices} invoice(s), the oldest due {overdue.oldest_due_date.isoformat()}"
                f" ({overdue.days_overdue} days)"
            )
    for upsell in (await health.upsell_clients(db, principal, params)).clients:
        if (digest := mine(upsell.client)) is not None:
            reasons = []
            if upsell.open_opportunities:
                reasons.append(
                    f"{upsell.open_opportunities} open opportunit{'y' if upsell.open_opportunities == 1 else 'ies'}"
                    f" worth {upsell.open_opportunity_value} {config.currency}"
                )
            if health.UpsellReason.WORK_COMPLETED in upsell.reasons:
                reasons.append(f"{upsell.completed_projects} completed project(s) and nothing active")
            digest.upsell.append(f"{upsell.client.name}: {'; '.join(reasons)}")
    return by_manager


async def select_digests(session: AsyncSession, config: JobConfig, now: dt.datetime) -> Selection:
    managers: Any = (
        await session.execute(
            sa.select(col(User.id), col(User.email), col(User.full_name), col(User.role))
            .where(
                col(User.is_active).is_(True),
                col(User.role).in_(VIEWS),
                col(User.id).in_(
                    sa.select(col(Client.account_manager_id)).where(
                        col(Client.account_manager_id).is_not(None), not_churned()
                    )
                ),
            )
            .order_by(col(User.id))
        )
    ).all()
    selection = Selection()
    if not managers:
        return selection
    by_view: dict[Principal, dict[int, Digest]] = {}
    for view in {VIEWS[role] for *_, role in managers}:
        by_view[view] = await digests(session, config, now, view)
    week = iso_week(now)
    for user_id, email, full_name, role in managers:
        by_manager = by_view[VIEWS[role]]
        selection.outgoing.append(
            Outgoing(
                key=f"manager:{user_id}:week:{week}",
                to=(email,),
                subject=f"Your clients this week ({week})",
                body=render(full_name, week, now, by_manager.get(user_id, Digest()), config),
            )
        )
    return selection


def render(full_name: str, week: str, now: dt.datetime, digest: Digest, config: JobConfig) -> str:
    sections = [
        ("At risk (open projects at risk or off track)", digest.at_risk),
        (f"Went quiet (no activity for {config.quiet_days} days or more)", digest.quiet),
        ("Overdue invoices", digest.overdue),
        ("Ready for upsell", digest.upsell),
    ]
    lines = [f"Hello {full_name},", "", f"Your clients in week {week}, as of {now.date().isoformat()}:"]
    if not any(items for _, items in sections):
        lines += ["", "Nothing needs your attention: no client is at risk, quiet, overdue or ready for upsell."]
    for title, items in sections:
        if items:
            lines += ["", f"{title}:", *(f"- {item}" for item in items)]
    return "\n".join([*lines, "", config.agency_name])
