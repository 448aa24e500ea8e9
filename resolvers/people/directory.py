"""The staff directory: the team, filtered by role, searched by name or e-mail, keyset-paged.

Who the team is: users with a staff role (ADMIN, MANAGER, MEMBER). Portal users are not in the
directory; each client's are on its record (`Client.portalUsers`, the loader
`people.portal_users_by_client`). The row scope is auth.scopes.user_scope, composed into the page
and its count alike; which of a listed user's fields a caller reads is the field policy's (e-mail,
phone, role, activity TEAM; rates PAYROLL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import user_scope
from models import Role, User
from models.enums import STAFF_ROLES
from resolvers.db import RequestDb
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.search import contains, search_text

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class UserOrderField(str, Enum):
    NAME = "NAME"
    EMAIL = "EMAIL"
    LAST_LOGIN = "LAST_LOGIN"


ORDER_KEYS = {
    UserOrderField.NAME: SortKey(sa.func.lower(col(User.full_name)), "str"),
    UserOrderField.EMAIL: SortKey(sa.func.lower(col(User.email)), "str"),
    # Never signed in sorts as the oldest sign-in.
    UserOrderField.LAST_LOGIN: SortKey(sa.func.coalesce(col(User.last_login_at), _EPOCH), "datetime"),
}


@dataclass(frozen=True)
class UserFilter:
    roles: tuple[Role, ...] = ()
    search: str | None = None
    active: bool | None = None


def directory_statement(principal: Principal, filters: UserFilter) -> sa.Select:
    statement = sa.select(User).where(user_scope(principal), col(User.role).in_(sorted(STAFF_ROLES)))
    if filters.roles:
        statement = statement.where(col(User.role).in_(filters.roles))
    text = search_text("filter.search", filters.search)
    if text is not None:
        statement = statement.where(contains(text, col(User.full_name), col(User.email)))
    if filters.active is not None:
        statement = statement.where(col(User.is_active).is_(filters.active))
    return statement


async def list_users(
    db: RequestDb,
    principal: Principal,
    *,
    filters: UserFilter,
    order_by: UserOrderField,
    direction: SortDirection,
    first: int | None,
    after: str | None,
) -> Page[User]:
    """The team, in the caller's row scope: a role filter naming CLIENT or PARTNER matches no one."""
    return await keyset_page(
        db,
        directory_statement(principal, filters),
        key=ORDER_KEYS[order_by],
        id_column=col(User.id),
        direction=direction,
        first=first,
        after=after,
    )
