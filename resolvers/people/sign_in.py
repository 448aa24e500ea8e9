"""Signing in and out: passwords, access tokens, rotating refresh tokens, login events."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.passwords import hash_password_async, verify_password_async
from auth.tokens import TokenService, hash_secret, new_secret
from models import ActivityKind, Role, User, utcnow
from models.engagement import Activity
from models.people import LoginEvent, RefreshToken
from resolvers.db import RequestDb
from resolvers.errors import InputError


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime
    user: User


class AuthFailed(Exception):
    """Wrong e-mail or password, or a refresh token that is unknown, used, revoked or expired.

    One message for every cause, so the answer never tells which e-mails exist.
    """


def normalise_email(email: str) -> str:
    """The e-mail as stored and looked up (and as the sign-in throttle counts an account)."""
    return email.strip().lower()


async def _issue(
    session: AsyncSession, tokens: TokenService, user: User, refresh_ttl: dt.timedelta, family: str | None = None
) -> TokenPair:
    assert user.id is not None  # a stored user: flushed or loaded
    now = utcnow()
    access, access_expires = tokens.issue_access(user_id=user.id, role=user.role, client_id=user.client_id, now=now)
    refresh = new_secret()
    row = RefreshToken(
        user_id=user.id,
        token_hash=hash_secret(refresh),
        family=family or secrets.token_hex(16),
        expires_at=now + refresh_ttl,
    )
    session.add(row)
    await session.flush()
    return TokenPair(access, access_expires, refresh, row.expires_at, user)


async def login(
    db: RequestDb,
    tokens: TokenService,
    *,
    email: str,
    password: str,
    refresh_ttl: dt.timedelta,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Check the password, then record the sign-in and issue tokens in one transaction.

    The password is checked before that transaction, in the hashing pool (Argon2 takes about
    0.2 s): it holds neither the event loop nor a write lock meanwhile. An unknown e-mail costs
    the same check against a dummy hash. Throttling is the caller's (auth.throttle)."""
    if not email.strip() or not password:
        raise InputError("email" if not email.strip() else "password", "REQUIRED", "E-mail and password are required.")
    wanted = normalise_email(email)
    # PostgreSQL refuses a NUL in text, so no stored e-mail holds one: such an e-mail is unknown.
    found = (
        []
        if "\x00" in wanted
        else await db.rows(
            sa.select(col(User.id), col(User.password_hash)).where(sa.func.lower(col(User.email)) == wanted)
        )
    )
    user_id, checked_hash = found[0] if found else (None, None)
    valid, new_hash = await verify_password_async(password, checked_hash)
    if user_id is None or not valid:
        raise AuthFailed()
    async with db.transaction() as session:
        user = await session.scalar(sa.select(User).where(col(User.id) == user_id).with_for_update())
        # Deactivated, or its password changed while this one was being checked.
        if user is None or not user.is_active or user.password_hash != checked_hash:
            raise AuthFailed()
        return await _signed_in(session, tokens, user, new_hash, refresh_ttl, ip_address, user_agent)


async def _signed_in(
    session: AsyncSession,
    tokens: TokenService,
    user: User,
    new_hash: str | None,
    refresh_ttl: dt.timedelta,
    ip_address: str | None,
    user_agent: str | None,
) -> TokenPair:
    assert user.id is not None
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    session.add(
        LoginEvent(
            user_id=user.id,
            client_id=user.client_id,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:400] or None,
        )
    )
    if user.role is Role.CLIENT:
        session.add(
            Activity(
                client_id=user.client_id,
                actor_id=user.id,
                kind=ActivityKind.PORTAL_LOGIN,
                subject_type="User",
                subject_id=user.id,
                summary=f"{user.full_name} signed in to the portal",
                client_visible=False,
            )
        )
    return await _issue(session, tokens, user, refresh_ttl)


async def sign_in_user(
    session: AsyncSession, tokens: TokenService, user: User, *, refresh_ttl: dt.timedelta
) -> TokenPair:
    """Tokens for a user who just proved who they are another way (an accepted invitation)."""
    assert user.id is not None
    user.last_login_at = utcnow()
    session.add(LoginEvent(user_id=user.id, client_id=user.client_id))
    return await _issue(session, tokens, user, refresh_ttl)


async def refresh(
    session: AsyncSession, tokens: TokenService, *, refresh_token: str, refresh_ttl: dt.timedelta
) -> TokenPair:
    """Rotate: the presented token is spent and a new one issued in the same family.

    Presenting a spent token again means it leaked: the whole family is revoked.
    """
    now = utcnow()
    row = await session.scalar(
        sa.select(RefreshToken).where(col(RefreshToken.token_hash) == hash_secret(refresh_token)).with_for_update()
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise AuthFailed()
    if row.used_at is not None:
        # The caller revokes the family in a transaction of its own: this one rolls back.
        raise AuthFailed("reused")
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise AuthFailed()
    row.used_at = now
    return await _issue(session, tokens, user, refresh_ttl, family=row.family)


async def logout(session: AsyncSession, *, refresh_token: str) -> bool:
    """Revoke the refresh token's whole family (this sign-in on this device)."""
    row = await session.scalar(
        sa.select(RefreshToken).where(col(RefreshToken.token_hash) == hash_secret(refresh_token))
    )
    if row is None:
        return False
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family) == row.family, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return True


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    client_id: int | None = None,
    contact_id: int | None = None,
) -> User:
    user = User(
        email=normalise_email(email),
        full_name=full_name,
        role=role,
        password_hash=await hash_password_async(password),
        client_id=client_id,
        contact_id=contact_id,
    )
    session.add(user)
    await session.flush()
    return user
