"""Partner apps: registering integrations, changing what they may do, and the look-ups the token
endpoint (POST /oauth/token) and the bearer-token check make.

Decisions the brief left open (also in the README's "Partners"):
- Only the agency's ADMIN manages apps: the mutations are ADMIN only (auth.policy_table), the
  business functions refuse anyone else too (the console, `agency partner`, acts as ADMIN), and
  `partnerApps` lists no row to anyone else (`partner_app_scope`).
- An app is named by its OAuth client id (`agp_` and 24 hex digits), public, shown in lists. Its
  secret (`agps_` and 43 URL-safe characters, 256 random bits) is shown once, when the app is
  registered or its secret rotated; only its Argon2 hash is kept (auth.passwords).
- Scopes are the names of auth.policy_table.SCOPES (GRANTABLE_SCOPES); an app is granted at least one. An app may be
  limited to some clients (none named: not limited); the limit is set when it is registered.
- Every change to what an app's tokens may do bumps its `generation`: a change of scopes (not a
  repeat of the same ones), a new secret, revocation. A token carries the generation it was issued
  under, and the next request with an older one is refused (server.principal).
- Revocation is final and repeatable (revoking a revoked app changes nothing); a revoked app's
  scopes and secret can no longer be changed (APP_REVOKED): register a new app instead.
- `last_used_at` is the last successful token request or API call, kept to the minute: at most
  one write a minute per app, whatever the traffic (`record_use`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.passwords import hash_password_async
from auth.policy_table import SCOPES
from auth.principal import Principal
from auth.scopes import client_scope, partner_app_scope
from models import Client, Role, utcnow
from models.partners import PartnerApp, PartnerAppClient
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound, Refused
from resolvers.partners.admin import MAX_CLIENT_ID, app_named, checked_names
from resolvers.validation import required_text

#: Every scope an app may be granted (auth.policy_table.SCOPES says what each opens), the one list
#: every caller (GraphQL, CLI, token endpoint) checks names against.
GRANTABLE_SCOPES: tuple[str, ...] = tuple(SCOPES)

CLIENT_ID_PREFIX = "agp_"
SECRET_PREFIX = "agps_"
MAX_NAME = 200
USE_RESOLUTION = dt.timedelta(minutes=1)
"""How fresh `last_used_at` is kept: an app's use writes it at most once in this long."""


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    """An app as its administrators read it (schema.partners.types.PartnerApp maps these)."""

    client_id: str
    name: str
    scopes: tuple[str, ...]
    client_ids: tuple[int, ...]
    created_at: dt.datetime
    created_by_id: int | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AppRecord:
    """What authenticating an app, and a request made with its token, read of it."""

    id: int
    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    client_ids: frozenset[int]
    generation: int
    revoked: bool
    last_used_at: dt.datetime | None


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_client_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _admin_only(principal: Principal) -> None:
    if principal.role is not Role.ADMIN:
        raise Refused("Only the agency's administrators manage partner apps.")


def granted_scopes(field: str, scopes: list[str] | None) -> str:
    """The scopes to grant, checked, as stored: distinct, sorted, space-separated."""
    return checked_names(
        field,
        scopes,
        GRANTABLE_SCOPES,
        unknown_code="UNKNOWN_SCOPE",
        unknown_message=lambda name: (
            f"{name[:60]!r} is not a scope an app may be granted; the scopes are {', '.join(GRANTABLE_SCOPES)}."
        ),
        required="Grant the app at least one scope.",
    )


async def _limited_to(session: AsyncSession, principal: Principal, client_ids: list[int] | None) -> tuple[int, ...]:
    wanted = list(dict.fromkeys(client_ids or ()))
    if not wanted:
        return ()
    found = set(
        await session.scalars(sa.select(col(Client.id)).where(col(Client.id).in_(wanted), client_scope(principal)))
    )
    for index, client_id in enumerate(client_ids or ()):
        if client_id not in found:
            raise NotFound("client", field=f"clientIds.{index}")
    return tuple(sorted(wanted))


def _registered(app: PartnerApp, client_ids: tuple[int, ...]) -> RegisteredApp:
    return RegisteredApp(
        client_id=app.oauth_client_id,
        name=app.name,
        scopes=tuple(sorted(app.scope_set)),
        client_ids=client_ids,
        created_at=app.created_at,
        created_by_id=app.created_by_id,
        revoked_at=app.revoked_at,
        last_used_at=app.last_used_at,
    )


async def _client_ids_of(session: AsyncSession, app_id: int | None) -> tuple[int, ...]:
    found = await session.scalars(
        sa.select(col(PartnerAppClient.client_id))
        .where(col(PartnerAppClient.partner_app_id) == app_id)
        .order_by(col(PartnerAppClient.client_id))
    )
    return tuple(found)


def _not_revoked(app: PartnerApp) -> None:
    if app.revoked_at is not None:
        raise InputError("clientId", "APP_REVOKED", "This app is revoked; register a new one instead.")


async def create_partner_app(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    scopes: list[str],
    client_ids: list[int] | None = None,
) -> tuple[RegisteredApp, str]:
    """Register an app; returns it and its secret, which is never shown again.

    The secret is hashed inside the mutation's transaction (Argon2, about 0.2 s): an ADMIN's rare
    action, so the writes queued behind it on SQLite wait that long once."""
    _admin_only(principal)
    checked_name = required_text("name", name, MAX_NAME)
    scope_text = granted_scopes("scopes", scopes)
    limited = await _limited_to(session, principal, client_ids)
    secret = new_client_secret()
    app = PartnerApp(
        oauth_client_id=new_client_id(),
        name=checked_name,
        scopes=scope_text,
        secret_hash=await hash_password_async(secret),
        created_by_id=principal.user_id,
    )
    session.add(app)
    await session.flush()
    assert app.id is not None
    session.add_all(PartnerAppClient(partner_app_id=app.id, client_id=client) for client in limited)
    await session.flush()
    return _registered(app, limited), secret


async def list_partner_apps(db: RequestDb, principal: Principal) -> list[RegisteredApp]:
    """Every app the caller may see (an ADMIN: all, revoked ones too), oldest first."""
    apps = await db.scalars(sa.select(PartnerApp).where(partner_app_scope(principal)).order_by(col(PartnerApp.id)))
    if not apps:
        return []
    links = await db.rows(
        sa.select(col(PartnerAppClient.partner_app_id), col(PartnerAppClient.client_id))
        .where(col(PartnerAppClient.partner_app_id).in_([app.id for app in apps]))
        .order_by(col(PartnerAppClient.client_id))
    )
    limits: dict[int, list[int]] = {}
    for app_id, client_id in links:
        limits.setdefault(app_id, []).append(client_id)
    return [_registered(app, tuple(limits.get(app.id or 0, ()))) for app in apps]


async def update_partner_app_scopes(
    session: AsyncSession, principal: Principal, *, client_id: str, scopes: list[str]
) -> RegisteredApp:
    """Grant exactly these scopes. A change refuses every token the app holds on its next use."""
    _admin_only(principal)
    scope_text = granted_scopes("scopes", scopes)
    app = await app_named(session, principal, client_id, lock=True)
    _not_revoked(app)
    if scope_text != app.scopes:
        app.scopes = scope_text
        app.generation += 1
    await session.flush()
    return _registered(app, await _client_ids_of(session, app.id))


async def rotate_partner_app_secret(
    session: AsyncSession, principal: Principal, *, client_id: str
) -> tuple[RegisteredApp, str]:
    """A new secret, shown once; the old one stops working, and so do the tokens issued with it."""
    _admin_only(principal)
    app = await app_named(session, principal, client_id, lock=True)
    _not_revoked(app)
    secret = new_client_secret()
    app.secret_hash = await hash_password_async(secret)
    app.generation += 1
    await session.flush()
    return _registered(app, await _client_ids_of(session, app.id)), secret


async def revoke_partner_app(session: AsyncSession, principal: Principal, *, client_id: str) -> RegisteredApp:
    """Revoke for good: no new token, and the tokens it holds are refused on their next use."""
    _admin_only(principal)
    app = await app_named(session, principal, client_id, lock=True)
    if app.revoked_at is None:
        app.revoked_at = utcnow()
        app.generation += 1
    await session.flush()
    return _registered(app, await _client_ids_of(session, app.id))


# -- authentication ------------------------------------------------------------------------------


async def app_record(db: RequestDb, client_id: str) -> AppRecord | None:
    """The app an OAuth client id names, for authenticating it or a request made with its token
    (no row scope: this is how the caller becomes known); None when there is no such app. One
    statement, the app with the clients it is limited to."""
    if not client_id or len(client_id) > MAX_CLIENT_ID or "\x00" in client_id:
        return None
    rows = await db.rows(
        sa.select(
            col(PartnerApp.id),
            col(PartnerApp.oauth_client_id),
            col(PartnerApp.secret_hash),
            col(PartnerApp.scopes),
            col(PartnerApp.generation),
            col(PartnerApp.revoked_at),
            col(PartnerApp.last_used_at),
            col(PartnerAppClient.client_id),
        )
        .outerjoin(PartnerAppClient, col(PartnerAppClient.partner_app_id) == col(PartnerApp.id))
        .where(col(PartnerApp.oauth_client_id) == client_id)
    )
    if not rows:
        return None
    first = rows[0]
    return AppRecord(
        id=first[0],
        client_id=first[1],
        secret_hash=first[2],
        scopes=frozenset(first[3].split()),
        client_ids=frozenset(row[7] for row in rows if row[7] is not None),
        generation=first[4],
        revoked=first[5] is not None,
        last_used_at=first[6],
    )


async def record_use(
    db: RequestDb, app: AppRecord, *, now: dt.datetime | None = None, new_secret_hash: str | None = None
) -> None:
    """Note that the app was used (a token issued, an API request): `last_used_at` is written
    when it is a minute old or more, so a busy app costs one write a minute, not one a request;
    the condition is in the UPDATE too, so workers racing on one app write it once. With
    `new_secret_hash` (Argon2's parameters were raised) the stored hash is upgraded, unless the
    secret was rotated meanwhile."""
    now = now or utcnow()
    stale = app.last_used_at is None or now - app.last_used_at >= USE_RESOLUTION
    if not stale and new_secret_hash is None:
        return
    async with db.transaction() as session:
        if stale:
            await session.execute(
                sa.update(PartnerApp)
                .where(
                    col(PartnerApp.id) == app.id,
                    sa.or_(
                        col(PartnerApp.last_used_at).is_(None), col(PartnerApp.last_used_at) <= now - USE_RESOLUTION
                    ),
                )
                .values(last_used_at=now)
            )
        if new_secret_hash is not None:
            await session.execute(
                sa.update(PartnerApp)
                .where(col(PartnerApp.id) == app.id, col(PartnerApp.secret_hash) == app.secret_hash)
                .values(secret_hash=new_secret_hash)
            )
