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


async def principal_for(authorization: str | None, tokens: TokenService, db: RequestDb) -> tuple[Principal, str | None]:
    """(the Principal, why the token was refused if it was). No header: anonymous, no error."""
    if not authorization:
        return ANONYMOUS, None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ANONYMOUS, "The Authorization header must be 'Bearer <access token>'."
    try:
        claims = tokens.verify_access(token.strip())
    except InvalidToken as error:
        return ANONYMOUS, f"The access token was refused: {error.reason}. Sign in again or refresh it."
    # The user must still exist and be active, and a portal user still linked to the same client.
    row = await _user_row(db, col(User.id) == claims.user_id)
    if row is None:
        return ANONYMOUS, "The access token was refused: its user no longer exists."
    if not row.is_active or row.role is not claims.role or row.client_id != claims.client_id:
        return ANONYMOUS, "The access token was refused: the account has changed. Sign in again."
    return _principal(row, scopes=claims.scopes, actor_id=claims.actor_id, read_only=claims.read_only), None


async def principal_for_email(email: str, db: RequestDb) -> Principal | None:
    """The active user with this e-mail (any case) as the server would see it signed in with no
    token extras (no granted scopes, not a view-as); None when there is no such user."""
    row = await _user_row(db, sa.func.lower(col(User.email)) == email.strip().lower(), col(User.is_active).is_(True))
    return _principal(row) if row is not None else None
