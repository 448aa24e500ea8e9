"""Contacts across clients: find a contact by name or e-mail, of one client or of none.

An unlinked contact (one that belongs to no client) is found here with `unlinked: true` and
joined to a client with linkContact (resolvers.clients.contacts.link_contact). The row scope is
auth.scopes.contact_scope, composed into the page and its count alike: staff see every contact,
linked or not; a portal user only its own client's (never an unlinked one); a partner app with
contacts:read those of the clients it is limited to.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import contact_scope
from models import Contact
from resolvers.db import RequestDb
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.search import contains, search_text

# Case-insensitive, and the same on SQLite and PostgreSQL whatever their collation.
BY_NAME = SortKey(sa.func.lower(col(Contact.full_name)), "str")


@dataclass(frozen=True)
class ContactFilter:
    search: str | None = None
    client_id: int | None = None
    unlinked: bool | None = None


def contacts_statement(principal: Principal, filters: ContactFilter) -> sa.Select:
    statement = sa.select(Contact).where(contact_scope(principal))
    text = search_text("filter.search", filters.search)
    if text is not None:
        statement = statement.where(contains(text, col(Contact.full_name), col(Contact.email)))
    if filters.client_id is not None:
        statement = statement.where(col(Contact.client_id) == filters.client_id)
    if filters.unlinked is not None:
        linked = col(Contact.client_id)
        statement = statement.where(linked.is_(None) if filters.unlinked else linked.is_not(None))
    return statement


async def search_contacts(
    db: RequestDb,
    principal: Principal,
    *,
    filters: ContactFilter,
    direction: SortDirection = SortDirection.ASC,
    first: int | None,
    after: str | None,
) -> Page[Contact]:
    """The caller's contacts, by name (any case), keyset-paged in SQL."""
    return await keyset_page(
        db,
        contacts_statement(principal, filters),
        key=BY_NAME,
        id_column=col(Contact.id),
        direction=direction,
        first=first,
        after=after,
    )
