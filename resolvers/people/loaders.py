"""DataLoaders of people: users (TEAM fields per the policy table), the caller's notifications, who has
portal access for a contact, and each client's portal users.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.people`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import (
    Notification,
    Role,
    User,
)
from resolvers.batching import DomainLoaders, aggregate, by_id, grouped, in_keys, loader
from resolvers.db import RequestDb


def portal_access(p: Principal) -> sa.Select:
    """(contact id, how many users) for the batch's contacts (`in_keys`): "who has portal access", an
    active CLIENT user, under the user scope, signs in as the contact (portal_access_by_contact; the
    compiled read path's Contact.hasPortalAccess)."""
    return (
        sa.select(col(User.contact_id), sa.func.count(col(User.id)))
        .where(
            in_keys(col(User.contact_id)),
            col(User.role) == Role.CLIENT,
            col(User.is_active).is_(True),
            scopes.user_scope(p),
        )
        .group_by(col(User.contact_id))
    )


class PeopleLoaders(DomainLoaders):
    @loader
    def user(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, User, scopes.user_scope(p))

    @loader
    def notification(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Notification, scopes.notification_scope(p))

    @loader
    def portal_access_by_contact(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, portal_access(p), False, lambda count: bool(count))

    @loader
    def portal_users_by_client(db: RequestDb, p: Principal) -> DataLoader:
        """Each client's portal users (CLIENT users, revoked ones too: `isActive` says which), by name."""
        return grouped(
            db,
            User,
            col(User.client_id),
            scopes.user_scope(p),
            (sa.func.lower(col(User.full_name)), col(User.id)),
            col(User.role) == Role.CLIENT,
        )
