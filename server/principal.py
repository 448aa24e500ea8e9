"""Turning a request's bearer token into a Principal (one query per authenticated request)."""

from __future__ import annotations

import sqlalchemy as sa

from auth.principal import ANONYMOUS, Principal
from auth.tokens import InvalidToken, TokenService
from models import Client, Role, User
from resolvers.db import RequestDb


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
    row = await db.rows(
        sa.select(User.is_active, User.role, User.client_id, Client.show_costs_in_portal)
        .outerjoin(Client, Client.id == User.client_id)
        .where(User.id == claims.user_id)
    )
    if not row:
        return ANONYMOUS, "The access token was refused: its user no longer exists."
    is_active, role, client_id, costs_enabled = row[0]
    if not is_active or role is not claims.role or client_id != claims.client_id:
        return ANONYMOUS, "The access token was refused: the account has changed. Sign in again."
    return (
        Principal(
            user_id=claims.user_id,
            role=claims.role,
            client_id=client_id if role is Role.CLIENT else None,
            scopes=claims.scopes,
            actor_id=claims.actor_id,
            read_only=claims.read_only,
            costs_enabled=bool(costs_enabled) if role is Role.CLIENT else False,
        ),
        None,
    )
