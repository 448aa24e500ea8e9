"""Clients: the scoped, filtered, keyset-paginated Clients list; creating and editing clients;
statuses.

Decisions on the client record:
- Duplicate names: a name another client already carries (compared trimmed and case-insensitively,
  churned clients included) is refused with DUPLICATE_NAME on input.name, nothing written, unless
  the input says confirmDuplicateName: true (createClient, updateClient when the name changes, and
  convertLead for the lead's company name). It is an error entry, not a warning beside a created
  client: the caller has to decide before anything is written. Two concurrent creations may both
  pass the check; the names are the team's to tidy, not a constraint the database keeps.
- Churn with active projects: setting a CHURNED-category status while the client has ACTIVE
  projects succeeds, and the payload's `warnings` carries CLIENT_HAS_ACTIVE_PROJECTS with those
  projects (under the caller's project scope); the projects are left as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import client_scope, project_scope
from models import ActivityKind, Client, ClientCategory, ClientStatus, ClientTier, Contact, Project, ProjectStatus
from models.base import utcnow
from models.clients import STATUS_ACTIVE
from resolvers.activity import record_activity
from resolvers.clients.contacts import checked_reports_to, clean_contact, clean_roles, locked_client, set_roles
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound, Refused
from resolvers.lookup import staff_user_id
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.validation import (
    optional_text,
    optional_url,
    required_text,
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ClientOrderField(str, Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    LAST_INTERACTION = "LAST_INTERACTION"


ORDER_KEYS = {
    # Case-insensitive, and the same on SQLite and PostgreSQL whatever their collation.
    ClientOrderField.NAME: SortKey(sa.func.lower(col(Client.name)), "str"),
    ClientOrderField.CREATED_AT: SortKey(col(Client.created_at), "datetime"),
    # Clients never contacted sort as the oldest interaction.
    ClientOrderField.LAST_INTERACTION: SortKey(sa.func.coalesce(col(Client.last_interaction_at), _EPOCH), "datetime"),
}


@dataclass(frozen=True)
class ClientFilter:
    status_ids: tuple[int, ...] = ()
    categories: tuple[ClientCategory, ...] = ()
    search: str | None = None
    tiers: tuple[ClientTier, ...] = ()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scoped_clients(principal: Principal, filters: ClientFilter) -> sa.Select:
    statement = sa.select(Client).where(client_scope(principal))
    if filters.status_ids:
        statement = statement.where(col(Client.status_id).in_(filters.status_ids))
    if filters.categories:
        statement = statement.where(
            col(Client.status_id).in_(
                sa.select(col(ClientStatus.id)).where(col(ClientStatus.category).in_(filters.categories))
            )
        )
    if filters.tiers:
        statement = statement.where(col(Client.tier).in_(filters.tiers))
    if filters.search and filters.search.strip():
        pattern = f"%{_escape_like(filters.search.strip().lower())}%"
        statement = statement.where(sa.func.lower(col(Client.name)).like(pattern, escape="\\"))
    return statement


async def list_clients(
    db: RequestDb,
    principal: Principal,
    *,
    filters: ClientFilter,
    order_by: ClientOrderField,
    direction: SortDirection,
    first: int | None,
    after: str | None,
) -> Page[Client]:
    return await keyset_page(
        db,
        scoped_clients(principal, filters),
        key=ORDER_KEYS[order_by],
        id_column=col(Client.id),
        direction=direction,
        first=first,
        after=after,
    )


_CLIENT_TEXT = {
    "name": ("input.name", 200, True),
    "industry": ("input.industry", 120, False),
    "billing_address": ("input.billingAddress", 2000, False),
    "internal_notes": ("input.internalNotes", 10000, False),
}


_CLIENT_URLS = {"website": "input.website", "logo_url": "input.logoUrl"}


_LABELS = {
    "name": "name",
    "industry": "industry",
    "billing_address": "billingAddress",
    "internal_notes": "internalNotes",
    "website": "website",
    "logo_url": "logoUrl",
    "tier": "tier",
    "account_manager_id": "accountManager",
    "payment_terms_days": "paymentTermsDays",
    "show_costs_in_portal": "showCostsInPortal",
    "portal_booking_enabled": "portalBookingEnabled",
}


@dataclass(frozen=True)
class Notice:
    """Something the caller should know about a mutation that succeeded (GraphQL `Warning`)."""

    code: str
    message: str
    projects: tuple[Project, ...] = ()


async def refuse_duplicate_name(
    session: AsyncSession, principal: Principal, name: str, field: str, *, confirmed: bool, except_id: int | None = None
) -> None:
    """DUPLICATE_NAME unless confirmed, when other clients already carry this name (trimmed, any case)."""
    if confirmed:
        return
    statement = sa.select(sa.func.count()).where(
        sa.func.lower(sa.func.trim(col(Client.name))) == name.strip().lower(), client_scope(principal)
    )
    if except_id is not None:
        statement = statement.where(col(Client.id) != except_id)
    carried = await session.scalar(statement) or 0
    if carried:
        which = "another client carries" if carried == 1 else f"{carried} clients carry"
        raise InputError(
            field,
            "DUPLICATE_NAME",
            f"{which.capitalize()} this name; send confirmDuplicateName: true to use it anyway.",
        )


async def _clean_client(
    session: AsyncSession, principal: Principal, data: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (field, limit, required) in _CLIENT_TEXT.items():
        if partial and key not in data:
            continue
        out[key] = (required_text if required else optional_text)(field, data.get(key), limit)
    for key, field in _CLIENT_URLS.items():
        if partial and key not in data:
            continue
        out[key] = optional_url(field, data.get(key))
    for key in ("tier", "payment_terms_days", "show_costs_in_portal", "portal_booking_enabled"):
        if partial and key in data and data[key] is None:
            raise InputError(f"input.{_LABELS[key]}", "REQUIRED", f"{_LABELS[key]} cannot be empty.")
    if "tier" in data or not partial:
        out["tier"] = data.get("tier") or ClientTier.STANDARD
    if "account_manager_id" in data:
        out["account_manager_id"] = await staff_user_id(session, data["account_manager_id"], "input.accountManagerId")
    if data.get("payment_terms_days") is not None:
        days = data["payment_terms_days"]
        if not 0 <= days <= 365:
            raise InputError("input.paymentTermsDays", "OUT_OF_RANGE", "Payment terms are 0 to 365 days.")
        out["payment_terms_days"] = days
    if data.get("show_costs_in_portal") is not None:
        out["show_costs_in_portal"] = bool(data["show_costs_in_portal"])
    if data.get("portal_booking_enabled") is not None:
        out["portal_booking_enabled"] = bool(data["portal_booking_enabled"])
    return out


async def create_client(
    session: AsyncSession, principal: Principal, *, data: dict[str, Any], contact: dict[str, Any]
) -> tuple[Client, Contact]:
    """Direct creation, as in the guide: company details, a primary contact, status Active."""
    values = await _clean_client(session, principal, data, partial=False)
    contact_values = clean_contact("input.primaryContact", contact)
    roles = clean_roles("input.primaryContact.roles", contact.get("roles"))
    await refuse_duplicate_name(
        session, principal, values["name"], "input.name", confirmed=bool(data.get("confirm_duplicate_name"))
    )
    client = Client(status_id=STATUS_ACTIVE, became_client_on=utcnow().date(), **values)
    session.add(client)
    await session.flush()
    # A new client has no other contact to report to: any reportsToId names another client's.
    await checked_reports_to(
        session,
        principal,
        contact_id=None,
        client_id=client.id,
        reports_to_id=contact.get("reports_to_id"),
        field="input.primaryContact.reportsToId",
    )
    primary = Contact(client_id=client.id, is_primary=True, **contact_values)
    session.add(primary)
    await session.flush()
    assert primary.id is not None
    await set_roles(session, primary.id, roles, replace=False)
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_CREATED,
        f"Client {client.name} created with {primary.full_name} as primary contact",
        client_id=client.id,
        subject_type="Client",
        subject_id=client.id,
    )
    return client, primary


async def update_client(
    session: AsyncSession, principal: Principal, *, client_id: int, changes: dict[str, Any]
) -> Client:
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    confirmed = bool(changes.pop("confirm_duplicate_name", False))
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    values = await _clean_client(session, principal, changes, partial=True)
    client = await locked_client(session, principal, client_id, field="input.clientId")
    if "name" in values and values["name"].strip().lower() != client.name.strip().lower():
        await refuse_duplicate_name(
            session, principal, values["name"], "input.name", confirmed=confirmed, except_id=client.id
        )
    changed = [_LABELS[k] for k, v in values.items() if getattr(client, k) != v]
    for key, value in values.items():
        setattr(client, key, value)
    client.updated_at = utcnow()
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_UPDATED,
        f"Client {client.name} updated: {', '.join(changed) or 'no change'}",
        client_id=client.id,
        subject_type="Client",
        subject_id=client.id,
    )
    await session.flush()
    return client


async def _status(session: AsyncSession, status_id: int, field: str) -> ClientStatus:
    status = await session.get(ClientStatus, status_id)
    if status is None:
        raise NotFound("status", field=field)
    return status


async def set_client_status(
    session: AsyncSession, principal: Principal, *, client_id: int, status_id: int
) -> tuple[Client, list[Notice]]:
    client = await locked_client(session, principal, client_id)
    new = await _status(session, status_id, "statusId")
    assert new.id is not None
    old = await _status(session, client.status_id, "clientId")
    if old.id == new.id:
        raise InputError("statusId", "UNCHANGED", f"The client is already {new.name}.")
    client.status_id = new.id
    client.updated_at = utcnow()
    reactivated = old.category is not ClientCategory.ACTIVE and new.category is ClientCategory.ACTIVE
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_REACTIVATED if reactivated else ActivityKind.STATUS_CHANGED,
        f"Client {client.name} {'reactivated' if reactivated else 'status changed'}: {old.name} to {new.name}",
        client_id=client.id,
        subject_type="Client",
        subject_id=client.id,
    )
    await session.flush()
    notices: list[Notice] = []
    if new.category is ClientCategory.CHURNED:
        active = tuple(
            await session.scalars(
                sa.select(Project)
                .where(
                    col(Project.client_id) == client.id,
                    col(Project.status) == ProjectStatus.ACTIVE,
                    project_scope(principal),
                )
                .order_by(col(Project.name), col(Project.id))
            )
        )
        if active:
            notices.append(
                Notice(
                    "CLIENT_HAS_ACTIVE_PROJECTS",
                    f"{client.name} is now {new.name} but still has {len(active)} active "
                    f"project{'s' if len(active) != 1 else ''}; complete, pause or cancel them.",
                    active,
                )
            )
    return client, notices


async def reactivate_client(session: AsyncSession, principal: Principal, *, client_id: int) -> Client:
    """An On Hold or Churned client returns: its status becomes the built-in Active."""
    client = await locked_client(session, principal, client_id)
    old = await _status(session, client.status_id, "clientId")
    if old.category is ClientCategory.ACTIVE:
        raise InputError(
            "clientId", "NOT_INACTIVE", f"Only an On Hold or Churned client is reactivated; this one is {old.name}."
        )
    client.status_id = STATUS_ACTIVE
    client.updated_at = utcnow()
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_REACTIVATED,
        f"Client {client.name} reactivated (was {old.name})",
        client_id=client.id,
        subject_type="Client",
        subject_id=client.id,
    )
    await session.flush()
    return client


async def delete_client(session: AsyncSession, principal: Principal, *, client_id: int) -> None:
    """Never deletes: the guide keeps every client's history, a finished relationship is Churned."""
    raise Refused("Clients are never deleted: set the client's status to Churned instead.", code="USE_CHURNED")


async def create_client_status(
    session: AsyncSession, principal: Principal, *, name: str, category: ClientCategory
) -> ClientStatus:
    clean = required_text("name", name, 60)
    taken = await session.scalar(
        sa.select(col(ClientStatus.id)).where(sa.func.lower(col(ClientStatus.name)) == clean.lower())
    )
    if taken is not None:
        raise InputError("name", "DUPLICATE_NAME", f"There is already a status named {clean!r}.")
    position = await session.scalar(sa.select(sa.func.coalesce(sa.func.max(col(ClientStatus.position)), 0)))
    status = ClientStatus(name=clean, category=category, is_builtin=False, position=int(position or 0) + 1)
    session.add(status)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.STATUS_CHANGED,
        f"Client status {status.name} ({category.value.lower()}) created",
        client_id=None,
        subject_type="ClientStatus",
        subject_id=status.id,
    )
    return status


async def list_client_statuses(db: RequestDb) -> list[ClientStatus]:
    """Statuses are the agency's configuration, not client data: no row scope (the field is INTERNAL)."""
    return await db.scalars(sa.select(ClientStatus).order_by(col(ClientStatus.position), col(ClientStatus.id)))
