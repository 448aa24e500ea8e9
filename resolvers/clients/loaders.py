"""DataLoaders of clients, their statuses and contacts, and leads.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built once per request by resolvers.loaders.Loaders (as `loaders.clients`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import (
    Client,
    ClientStatus,
    Contact,
    Lead,
)
from resolvers.batching import aggregate, by_id, grouped
from resolvers.db import RequestDb


class ClientLoaders:
    def __init__(self, db: RequestDb, principal: Principal) -> None:
        p = principal
        self.client = by_id(db, Client, scopes.client_scope(p))
        self.contact = by_id(db, Contact, scopes.contact_scope(p))
        # Statuses are the agency's configuration, not client data: no row scope.
        self.status = by_id(db, ClientStatus, sa.true())
        self.contacts_by_client = grouped(
            db,
            Contact,
            col(Contact.client_id),
            scopes.contact_scope(p),
            (col(Contact.is_primary).desc(), col(Contact.full_name), col(Contact.id)),
        )
        self.primary_contact_by_client = aggregate(
            db,
            lambda keys: sa.select(col(Contact.client_id), Contact).where(
                col(Contact.client_id).in_(keys), col(Contact.is_primary).is_(True), scopes.contact_scope(p)
            ),
            None,
        )
        self.lead = by_id(db, Lead, scopes.lead_scope(p))
