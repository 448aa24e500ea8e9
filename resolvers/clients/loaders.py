"""DataLoaders of clients, their statuses and contacts, and leads.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.clients`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import (
    Client,
    ClientStatus,
    Contact,
    ContactRole,
    ContactRoleAssignment,
    Lead,
)
from resolvers.batching import DomainLoaders, aggregate, by_id, grouped, in_keys, loader, with_keys
from resolvers.db import RequestDb


def contact_roles(p: Principal) -> sa.Select:
    """(contact id, role) for the batch's contacts (`in_keys`), the contact under the contact scope
    (roles_by_contact; the compiled read path's Contact.roles)."""
    return (
        sa.select(col(ContactRoleAssignment.contact_id), col(ContactRoleAssignment.role))
        .join(Contact, col(Contact.id) == col(ContactRoleAssignment.contact_id))
        .where(in_keys(col(ContactRoleAssignment.contact_id)), scopes.contact_scope(p))
    )


class ClientLoaders(DomainLoaders):
    @loader
    def client(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Client, scopes.client_scope(p))

    @loader
    def contact(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Contact, scopes.contact_scope(p))

    @loader
    def status(db: RequestDb, p: Principal) -> DataLoader:
        # Statuses are the agency's configuration, not client data: no row scope.
        return by_id(db, ClientStatus, sa.true())

    @loader
    def contacts_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Contact,
            col(Contact.client_id),
            scopes.contact_scope(p),
            (col(Contact.is_primary).desc(), col(Contact.full_name), col(Contact.id)),
        )

    @loader
    def primary_contact_by_client(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(
            db,
            sa.select(col(Contact.client_id), Contact).where(
                in_keys(col(Contact.client_id)), col(Contact.is_primary).is_(True), scopes.contact_scope(p)
            ),
            None,
        )

    @loader
    def lead(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Lead, scopes.lead_scope(p))

    @loader
    def roles_by_contact(db: RequestDb, p: Principal) -> DataLoader:
        """Each contact's roles, in the enum's order; one statement per batch, under the contact scope."""
        statement = contact_roles(p)
        order = {role: i for i, role in enumerate(ContactRole)}

        async def load(keys: Sequence[int]) -> list[list[ContactRole]]:
            found: dict[int, list[ContactRole]] = defaultdict(list)
            for contact_id, role in await db.rows(with_keys(statement, keys)):
                found[contact_id].append(role)
            return [sorted(found.get(key, ()), key=order.__getitem__) for key in keys]

        return DataLoader(load_fn=load)

    @loader
    def direct_reports_by_contact(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db, Contact, col(Contact.reports_to_id), scopes.contact_scope(p), (col(Contact.full_name), col(Contact.id))
        )
