"""The Principal behind a request's bearer token (one query per authenticated request) and the
CLI's look-up by e-mail.

A user's token and the CLI go through `_user_row` and `_principal`, the one place a Principal is
built from a user; a partner app's token (RFC 9068, `typ: at+jwt`, from POST /oauth/token)
through `_partner_principal`, the one place a PARTNER Principal is built. The two kinds of token
are told apart by their header and claims (auth.tokens), never taken for one another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth.principal import ANONYMOUS, Principal
from auth.tokens import AccessClaims, InvalidToken, PartnerClaims, TokenService
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
_BY_ID = _user_columns().where(col(User.id) == sa.bindparam("caller_user_id", type_=sa.Integer()))


async def _user_row(db: RequestDb, *where: ColumnElement[bool], user_id: int | None = None) -> Any | None:
    """The user's row (`_user_columns`) by id, or by the conditions in `where`; None: no such user."""
    if user_id is not None:
        return await db.core_first(_BY_ID, {"caller_user_id": user_id})
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
    row = await _user_row(db, user_id=claims.user_id)
    _check_user(claims, row)
    principal = _principal(row, scopes=claims.scopes, actor_id=claims.actor_id, read_only=claims.read_only)
    _seen(principal)
    return principal


def _check_user(claims: AccessClaims, row: Any | None) -> None:
    """The user must still exist and be active, and a portal user still linked to the same client."""
    if row is None:
        raise TokenRefused(f"user {claims.user_id} no longer exists", bearer=True)
    if not row.is_active or row.role is not claims.role or row.client_id != claims.client_id:
        raise TokenRefused(f"user {claims.user_id} was deactivated or changed", bearer=True)


class PrincipalStale(Exception):
    """A deferred check found the user as the token says, but its client's cost setting not as
    guessed: what was answered under the guess is thrown away and the request answered again."""


#: The cost setting of each client last seen by a check of one of its portal users, in this
#: process: a deferred check guesses with it (`deferred_principal`); a portal user of a client
#: not in it is checked first. Bounded; cleared when full.
_COSTS_SHOWN: dict[int, bool] = {}
_COSTS_SHOWN_LIMIT = 100_000


def _seen(principal: Principal) -> None:
    """Remember a portal user's client's cost setting, as its row just said."""
    if principal.role is Role.CLIENT and principal.client_id is not None:
        if len(_COSTS_SHOWN) >= _COSTS_SHOWN_LIMIT:
            _COSTS_SHOWN.clear()
        _COSTS_SHOWN[principal.client_id] = principal.costs_enabled


@dataclass(frozen=True, slots=True)
class DeferredUserCheck:
    """The check of a user token against the user's row, put off until the request first reads
    the database (resolvers.db.CallerCheck): on PostgreSQL it rides in the same statement as a
    compiled read, which saves the request a round trip; a request that reads nothing is checked
    before its answer is sent (server.app.AgencyGraphQL.run). `principal` is what the request
    runs as meanwhile: the token's claims, and for a portal user its client's cost setting as
    last seen."""

    claims: AccessClaims
    principal: Principal
    statement: sa.Select = _BY_ID

    @property
    def parameters(self) -> dict[str, Any]:
        return {"caller_user_id": self.claims.user_id}

    def verify(self, row: Any | None) -> None:
        """Raises TokenRefused as `principal_for` would, or PrincipalStale when the request ran
        under a cost setting its client no longer has (the setting is remembered for next time)."""
        _check_user(self.claims, row)
        actual = _principal(row, scopes=self.claims.scopes, actor_id=self.claims.actor_id)
        _seen(actual)
        if actual != self.principal:
            raise PrincipalStale()


def deferred_principal(authorization: str | None, tokens: TokenService) -> DeferredUserCheck | None:
    """For a valid user's token that is not a view-as token: the check of its user put off
    (DeferredUserCheck), its signature and claims checked here. None for anything else (no
    token, an invalid one, a partner's, a view-as token): those go through `principal_for`."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = tokens.verify_bearer(token.strip())
    except InvalidToken:
        return None  # `principal_for` refuses it, the one place a token is refused
    if not isinstance(claims, AccessClaims) or claims.read_only:
        return None
    costs_shown = False
    if claims.role is Role.CLIENT:
        if claims.client_id is None or claims.client_id not in _COSTS_SHOWN:
            return None  # its client's setting not yet seen here: checked first, and seen
        costs_shown = _COSTS_SHOWN[claims.client_id]
    principal = Principal(
        user_id=claims.user_id,
        role=claims.role,
        client_id=claims.client_id if claims.role is Role.CLIENT else None,
        scopes=claims.scopes,
        actor_id=claims.actor_id,
        costs_enabled=costs_shown,
    )
    return DeferredUserCheck(claims, principal)


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
