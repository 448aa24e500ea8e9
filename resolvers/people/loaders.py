"""DataLoaders of people: users (TEAM fields per the policy table), the caller's notifications, and who has
portal access for a contact.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built once per request by resolvers.loaders.Loaders (as `loaders.people`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import (
    Notification,
    Role,
    User,
)
from resolvers.batching import aggregate, by_id
from resolvers.db import RequestDb


class PeopleLoaders:
    def __init__(self, db: RequestDb, principal: Principal) -> None:
        p = principal
        self.user = by_id(db, User, scopes.user_scope(p))
        self.notification = by_id(db, Notification, scopes.notification_scope(p))
        # "Who has portal access": an active CLIENT user signs in as this contact.
        self.portal_access_by_contact = aggregate(
            db,
            lambda keys: (
                sa.select(col(User.contact_id), sa.func.count(col(User.id)))
                .where(
                    col(User.contact_id).in_(keys),
                    col(User.role) == Role.CLIENT,
                    col(User.is_active).is_(True),
                    scopes.user_scope(p),
                )
                .group_by(col(User.contact_id))
            ),
            False,
            lambda count: bool(count),
        )
