"""Reading clients: the scoped, filtered, keyset-paginated Clients list and lookups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import client_scope
from models import Client, ClientCategory, ClientStatus, ClientTier
from resolvers.db import RequestDb
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page

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
