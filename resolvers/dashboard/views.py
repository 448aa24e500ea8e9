"""Saved dashboard views: each staff user's own ways of looking at the Clients Dashboard.

A view names the sections it shows, the quiet-days threshold (noActivityDays), the monthly window
(months), how many clients each list shows (top), the window of retention and lifetime value
(retentionMonths; the monthly window when not set) and the clients it covers (categories, status
ids, tiers, account managers: each a list, any of its values; the lists combine with AND).
`clientsDashboard(viewId:)` answers with it; arguments given beside the view override its values.

Decisions the brief left open:
- A view is its user's alone (auth.scopes.dashboard_view_scope): no one else lists, reads, changes
  or deletes it, an ADMIN included; another user's view answers exactly like a missing one
  (NOT_FOUND, `node` null). Portal users and partners have none.
- Names are trimmed, 1 to 100 characters, unique per user in any case (DUPLICATE_NAME); at most
  50 views per user (TOO_MANY_VIEWS). Sections: at least one, each once (given twice, kept once).
- An update changes the fields it gives; null resets a window to its default, clears
  retentionMonths or the clients filter, and is REQUIRED for the name and the sections.
- A status id must name a status (NOT_FOUND), an account manager an active member of the team
  (NOT_STAFF). Every write is one transaction; bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import ClientCategory, ClientStatus, ClientTier, DashboardSection, DashboardView, User
from models.base import utcnow
from resolvers.dashboard.params import MAX_MONTHS, DashboardClients, check_windows
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound
from resolvers.lookup import visible_row
from resolvers.validation import required_text, staff_member

MAX_NAME = 100
MAX_VIEWS = 50
DEFAULTS = {"no_activity_days": 30, "months": 12, "top": 10}


def clients_of(view: DashboardView) -> DashboardClients:
    """The clients filter a view stored (its JSON), as the dashboard reads it."""
    stored: dict[str, Any] = view.client_filter or {}
    return DashboardClients(
        categories=tuple(ClientCategory(c) for c in stored.get("categories", ())),
        status_ids=tuple(int(i) for i in stored.get("statusIds", ())),
        tiers=tuple(ClientTier(t) for t in stored.get("tiers", ())),
        account_manager_ids=tuple(int(i) for i in stored.get("accountManagerIds", ())),
    )


def sections_of(view: DashboardView) -> list[DashboardSection]:
    return [DashboardSection(s) for s in view.sections]


async def list_dashboard_views(db: RequestDb, principal: Principal) -> Sequence[DashboardView]:
    """The caller's own views, by name."""
    statement = (
        sa.select(DashboardView)
        .where(scopes.dashboard_view_scope(principal))
        .order_by(sa.func.lower(col(DashboardView.name)), col(DashboardView.id))
    )
    return await db.scalars(statement)


def _sections(sections: Sequence[DashboardSection] | None) -> list[str]:
    if not sections:
        raise InputError("input.sections", "REQUIRED", "A view shows at least one section.")
    return list(dict.fromkeys(DashboardSection(s).value for s in sections))


async def _clients(session: AsyncSession, clients: Any) -> dict[str, Any]:
    """The clients filter to store: its lists (values checked), empty ones left out."""
    if clients is None:
        return {}
    stored: dict[str, Any] = {}
    if clients.categories:
        stored["categories"] = list(dict.fromkeys(ClientCategory(c).value for c in clients.categories))
    if clients.tiers:
        stored["tiers"] = list(dict.fromkeys(ClientTier(t).value for t in clients.tiers))
    if clients.status_ids:
        wanted = list(dict.fromkeys(clients.status_ids))
        found = set(await session.scalars(sa.select(col(ClientStatus.id)).where(col(ClientStatus.id).in_(wanted))))
        for i, status_id in enumerate(wanted):
            if status_id not in found:
                raise NotFound("client status", field=f"input.clients.statusIds.{i}")
        stored["statusIds"] = wanted
    if clients.account_manager_ids:
        wanted = list(dict.fromkeys(clients.account_manager_ids))
        for i, user_id in enumerate(wanted):
            staff_member(f"input.clients.accountManagerIds.{i}", await session.get(User, user_id))
        stored["accountManagerIds"] = wanted
    return stored


def _retention_months(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_MONTHS:
        raise InputError("input.retentionMonths", "OUT_OF_RANGE", f"retentionMonths is between 1 and {MAX_MONTHS}.")
    return value


async def _name(session: AsyncSession, principal: Principal, name: str | None, except_id: int | None = None) -> str:
    clean = required_text("input.name", name, MAX_NAME)
    taken = (
        sa.select(col(DashboardView.id))
        .where(
            scopes.dashboard_view_scope(principal),
            sa.func.lower(col(DashboardView.name)) == clean.lower(),
            col(DashboardView.id) != (except_id or 0),
        )
        .limit(1)
    )
    if await session.scalar(taken) is not None:
        raise InputError("input.name", "DUPLICATE_NAME", "You already have a view with that name.")
    return clean


def _own_user_id(principal: Principal) -> int:
    """The new view's owner: the caller, a staff user (the mutation table lets no one else in)."""
    if principal.user_id is None:
        raise InputError("input", "NOT_ALLOWED", "Saved views belong to a user.")
    return principal.user_id


async def create_dashboard_view(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    sections: Sequence[DashboardSection],
    no_activity_days: int | None = None,
    months: int | None = None,
    top: int | None = None,
    retention_months: int | None = None,
    clients: Any = None,
) -> DashboardView:
    user_id = _own_user_id(principal)
    clean = await _name(session, principal, name)
    days = DEFAULTS["no_activity_days"] if no_activity_days is None else no_activity_days
    months = DEFAULTS["months"] if months is None else months
    top = DEFAULTS["top"] if top is None else top
    check_windows(no_activity_days=days, months=months, top=top, prefix="input.")
    view = DashboardView(
        user_id=user_id,
        name=clean,
        sections=_sections(sections),
        no_activity_days=days,
        months=months,
        top=top,
        retention_months=_retention_months(retention_months),
        client_filter=await _clients(session, clients),
    )
    count = await session.scalar(
        sa.select(sa.func.count()).select_from(DashboardView).where(scopes.dashboard_view_scope(principal))
    )
    if int(count or 0) >= MAX_VIEWS:
        raise InputError("input", "TOO_MANY_VIEWS", f"You may keep at most {MAX_VIEWS} views; delete one first.")
    session.add(view)
    await session.flush()
    return view


async def update_dashboard_view(session: AsyncSession, principal: Principal, *, id: int, **given: Any) -> DashboardView:
    view = await visible_row(session, principal, DashboardView, id, what="dashboard view", field="id", lock=True)
    if "name" in given:
        view.name = await _name(session, principal, given["name"], except_id=view.id)
    if "sections" in given:
        view.sections = _sections(given["sections"])
    windows = {key: getattr(view, key) for key in DEFAULTS}
    for key, default in DEFAULTS.items():
        if key in given:
            windows[key] = default if given[key] is None else given[key]
    check_windows(
        no_activity_days=windows["no_activity_days"], months=windows["months"], top=windows["top"], prefix="input."
    )
    for key, value in windows.items():
        setattr(view, key, value)
    if "retention_months" in given:
        view.retention_months = _retention_months(given["retention_months"])
    if "clients" in given:
        view.client_filter = await _clients(session, given["clients"])
    view.updated_at = utcnow()
    session.add(view)
    await session.flush()
    return view


async def delete_dashboard_view(session: AsyncSession, principal: Principal, *, id: int) -> int:
    view = await visible_row(session, principal, DashboardView, id, what="dashboard view", field="id", lock=True)
    assert view.id is not None
    await session.delete(view)
    await session.flush()
    return view.id
