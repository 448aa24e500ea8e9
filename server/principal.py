"""The Principal built from a user row: for a request's bearer token (one query per
authenticated request) and for the CLI's look-up by e-mail. Both go through `_user_row`
and `_principal`, the one place a Principal is built from a user."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth.principal import ANONYMOUS, Principal
from auth.tokens import InvalidToken, TokenService
from models import Client, Role, User
from resolvers.db import RequestDb


async def _user_row(db: RequestDb, *where: ColumnElement[bool]) -> Any | None:
    """The user's columns a Principal is built from, with its client's cost setting; None: no such user."""
    rows = await db.rows(
        sa.select(
            col(User.id),
            col(User.is_active),
            col(User.role),
            col(User.client_id),
            col(Client.show_costs_in_portal),
        )
        .outerjoin(Client, col(Client.id) == col(User.client_id))
        .where(*where)
    )
    return rows[0] if rows else None


def _principal(
    row: Any,
    *,
    scopes: frozenset[str] = frozenset(),
    actor_id: int | None = None,
    read_only: bool = False,
) -> Principal:
    """A Principal for the user in `row` (from `_user_row`). Only a CLIENT carries its client
    and the client's cost setting; `scopes`, `actor_id` and `read_only` come from a token."""
    is_client = row.role is Role.CLIENT
    return Principal(
        user_id=row.id,
        role=row.role,
        client_id=row.client_id if is_client else None,
        scopes=scopes,
        actor_id=actor_id,
        read_only=read_only,
        costs_enabled=bool(row.show_costs_in_portal) if is_client else False,
    )


#: The one answer to every refused Authorization header (no such token, expired, forged, edited,
#: its user gone or changed, another scheme): telling them apart would tell an attacker which
#: guess came closer. The reason goes to the log only.
INVALID_TOKEN_MESSAGE = "The access token is invalid or expired."


class TokenRefused(Exception):
    """The request's Authorization header names no caller. `bearer`: it was a Bearer token (not
    another scheme); `reason`: why, for the log, never for the caller."""

    def __init__(self, reason: str, *, bearer: bool) -> None:
        super().__init__(INVALID_TOKEN_MESSAGE)
        self.reason = reason
        self.bearer = bearer


async def principal_for(authorization: str | None, tokens: TokenService, db: RequestDb) -> Principal:
    """The caller behind a request's Authorization header. No header: anonymous. Raises
    TokenRefused for anything else that does not name an active user exactly as the token says."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise TokenRefused(f"the {scheme[:20]!r} scheme is not Bearer", bearer=False)
    if not token.strip():
        raise TokenRefused("no token after Bearer", bearer=True)
    try:
        claims = tokens.verify_access(token.strip())
    except InvalidToken as error:
        raise TokenRefused(error.reason, bearer=True) from None
    # The user must still exist and be active, and a portal user still linked to the same client.
    row = await _user_row(db, col(User.id) == claims.user_id)
    if row is None:
        raise TokenRefused(f"user {claims.user_id} no longer exists", bearer=True)
    if not row.is_active or row.role is not claims.role or row.client_id != claims.client_id:
        raise TokenRefused(f"user {claims.user_id} was deactivated or changed", bearer=True)
    return _principal(row, scopes=claims.scopes, actor_id=claims.actor_id, read_only=claims.read_only)


async def principal_for_email(email: str, db: RequestDb) -> Principal | None:
    """The active user with this e-mail (any case) as the server would see it signed in with no
    token extras (no granted scopes, not a view-as); None when there is no such user."""
    row = await _user_row(db, sa.func.lower(col(User.email)) == email.strip().lower(), col(User.is_active).is_(True))
    return _principal(row) if row is not None else None
