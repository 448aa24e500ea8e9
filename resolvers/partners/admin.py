"""What the ADMIN's functions for partner apps (resolvers.partners.apps) and their webhook
endpoints (resolvers.partners.webhooks) share: finding an app by its OAuth client id, and
checking a list of names (scopes, event types) against the ones there are."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import partner_app_scope
from models.partners import PartnerApp
from resolvers.errors import InputError, NotFound

MAX_CLIENT_ID = 64  # the column's length: a longer one names no app


async def app_named(session: AsyncSession, principal: Principal, client_id: str, *, lock: bool) -> PartnerApp:
    """The app with this OAuth client id that the caller may see (locked until the transaction
    ends with `lock`), or NOT_FOUND on `clientId`."""
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        raise NotFound("partner app", field="clientId")
    statement = sa.select(PartnerApp).where(col(PartnerApp.oauth_client_id) == client_id, partner_app_scope(principal))
    app = await session.scalar(statement.with_for_update() if lock else statement)
    if app is None:
        raise NotFound("partner app", field="clientId")
    return app


def checked_names(
    field: str,
    given: Sequence[str] | None,
    known: Sequence[str],
    *,
    unknown_code: str,
    unknown_message: Callable[[str], str],
    required: str,
) -> str:
    """The names given, each stripped and one of `known`, as stored: distinct, sorted,
    space-separated. An unknown one is `unknown_code` on `field.<index>` (its message made from
    the name); none at all is REQUIRED on `field` with the message `required`."""
    names: set[str] = set()
    for index, raw in enumerate(given or ()):
        name = raw.strip()
        if name not in known:
            raise InputError(f"{field}.{index}", unknown_code, unknown_message(name))
        names.add(name)
    if not names:
        raise InputError(field, "REQUIRED", required)
    return " ".join(sorted(names))
