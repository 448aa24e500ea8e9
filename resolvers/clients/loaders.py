"""DataLoaders of clients, their statuses and contacts, and leads.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.clients`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import (
    Client,
    ClientStatus,
    Contact,
    Lead,
)
from resolvers.batching import DomainLoaders, aggregate, by_id, grouped, in_keys, loader
from resolvers.db import RequestDb


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
