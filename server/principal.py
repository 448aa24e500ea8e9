"""The Principal behind a request's bearer token (one query per authenticated request) and the
CLI's look-up by e-mail.

A user's token and the CLI go through `_user_row` and `_principal`, the one place a Principal is
built from a user; a partner app's token (RFC 9068, `typ: at+jwt`, from POST /oauth/token)
through `_partner_principal`, the one place a PARTNER Principal is built. The two kinds of token
are told apart by their header and claims (auth.tokens), never taken for one another."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth.principal import ANONYMOUS, Principal
from auth.tokens import InvalidToken, PartnerClaims, TokenService
from models import Client, Role, User
from resolvers.db import RequestDb
from resolvers.partners.apps import app_record, record_use


def _user_columns() -> sa.Select:
    """The user's columns a Principal is built from, with its client's cost setting."""
    return sa.select(
        col(User.id),
        col(User.is_active),
        col(User.role),
        col(User.client_id),
        col(Client.show_costs_in_portal),
    ).outerjoin(Client, col(Client.id) == col(User.client_id))


#: The look-up every authenticated request makes, built once (its SQL and cache key with it).
_BY_ID = _user_columns().where(col(User.id) == sa.bindparam("user_id", type_=sa.Integer()))


async def _user_row(db: RequestDb, *where: ColumnElement[bool], user_id: int | None = None) -> Any | None:
    """The user's row (`_user_columns`) by id, or by the conditions in `where`; None: no such user."""
    if user_id is not None:
        return await db.core_first(_BY_ID, {"user_id": user_id})
    return await db.core_first(_user_columns().where(*where))


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
        claims = tokens.verify_bearer(token.strip())
    except InvalidToken as error:
        raise TokenRefused(error.reason, bearer=True) from None
    if isinstance(claims, PartnerClaims):
        return await _partner_principal(db, claims)
    # The user must still exist and be active, and a portal user still linked to the same client.
    row = await _user_row(db, user_id=claims.user_id)
    if row is None:
        raise TokenRefused(f"user {claims.user_id} no longer exists", bearer=True)
    if not row.is_active or row.role is not claims.role or row.client_id != claims.client_id:
        raise TokenRefused(f"user {claims.user_id} was deactivated or changed", bearer=True)
    return _principal(row, scopes=claims.scopes, actor_id=claims.actor_id, read_only=claims.read_only)


async def _partner_principal(db: RequestDb, claims: PartnerClaims) -> Principal:
    """A PARTNER for a partner app's token, while the app is as the token says: it exists, is
    not revoked, and its token generation is the token's (a change of scopes, a new secret or
    revocation bumps it, so the token is refused on its next request, like any invalid token).
    Its scopes are those the token carries that the app still holds; its grants, the clients the
    app is limited to. The use is noted on the app (`last_used_at`, at most once a minute)."""
    app = await app_record(db, claims.client_id)
    if app is None:
        raise TokenRefused("the partner app no longer exists", bearer=True)
    if app.revoked:
        raise TokenRefused(f"partner app {app.id} is revoked", bearer=True)
    if app.generation != claims.generation:
        raise TokenRefused(f"partner app {app.id} changed since the token was issued", bearer=True)
    await record_use(db, app)
    return Principal(
        user_id=None,
        role=Role.PARTNER,
        scopes=claims.scopes & app.scopes,
        grants=app.client_ids,
        partner_app_id=app.id,
    )


async def principal_for_email(email: str, db: RequestDb) -> Principal | None:
    """The active user with this e-mail (any case) as the server would see it signed in with no
    token extras (no granted scopes, not a view-as); None when there is no such user."""
    row = await _user_row(db, sa.func.lower(col(User.email)) == email.strip().lower(), col(User.is_active).is_(True))
    return _principal(row) if row is not None else None
