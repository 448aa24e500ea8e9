"""Client portal access: invitations for contacts, accepting them, revoking access, and View as."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.passwords import hash_password_async
from auth.principal import Principal
from auth.scopes import contact_scope, user_scope
from auth.tokens import TokenService, hash_secret, new_secret
from models import ActivityKind, Client, Contact, Role, User, utcnow
from models.people import PortalInvitation, RefreshToken
from resolvers.activity import queue_email, record_activity
from resolvers.errors import InputError, NotFound
from resolvers.people.users import MIN_PASSWORD

INVITATION_TTL = dt.timedelta(days=7)


async def grant_portal_access(
    session: AsyncSession, principal: Principal, *, contact_id: int, accept_url: str
) -> tuple[User, dt.datetime]:
    """Create (or re-enable) the CLIENT user for a contact, linked to the contact's own client,
    and queue a one-time invitation e-mail. The secret is only ever in that e-mail."""
    contact = await session.scalar(sa.select(Contact).where(col(Contact.id) == contact_id, contact_scope(principal)))
    if contact is None or contact.client_id is None:
        raise NotFound("contact", field="contactId")
    if not contact.email:
        raise InputError("contactId", "CONTACT_HAS_NO_EMAIL", "Add an e-mail address to the contact first.")
    email = contact.email.strip().lower()
    user = await session.scalar(sa.select(User).where(col(User.contact_id) == contact.id).with_for_update())
    if user is None:
        if await session.scalar(sa.select(col(User.id)).where(sa.func.lower(col(User.email)) == email)) is not None:
            raise InputError("contactId", "EMAIL_IN_USE", "Another user already signs in with this contact's e-mail.")
        # The client comes from the contact itself: a contact of client A can never be linked to client B.
        user = User(
            email=email,
            full_name=contact.full_name,
            role=Role.CLIENT,
            client_id=contact.client_id,
            contact_id=contact.id,
        )
        session.add(user)
        await session.flush()
    elif user.is_active and user.password_hash:
        raise InputError("contactId", "ALREADY_HAS_ACCESS", "This contact already has portal access.")
    else:
        user.is_active = True
        user.client_id = contact.client_id
    assert user.id is not None
    # Only the newest invitation works.
    await session.execute(
        sa.update(PortalInvitation)
        .where(col(PortalInvitation.user_id) == user.id, col(PortalInvitation.accepted_at).is_(None))
        .values(expires_at=utcnow())
    )
    secret = new_secret()
    expires = utcnow() + INVITATION_TTL
    session.add(
        PortalInvitation(
            user_id=user.id, token_hash=hash_secret(secret), expires_at=expires, created_by_id=principal.user_id
        )
    )
    client_name = await session.scalar(sa.select(col(Client.name)).where(col(Client.id) == contact.client_id))
    queue_email(
        session,
        email,
        f"Your {client_name} client portal",
        f"Hello {contact.full_name},\n\nYou have been invited to the client portal, where you can follow your "
        f"projects and billing.\n\nSet your password here (the link works once, for 7 days):\n"
        f"{accept_url}?token={secret}\n",
    )
    record_activity(
        session,
        principal,
        ActivityKind.PORTAL_ACCESS_GRANTED,
        f"Portal access granted to {contact.full_name}",
        client_id=contact.client_id,
        subject_type="User",
        subject_id=user.id,
    )
    await session.flush()
    return user, expires


async def accept_invitation(session: AsyncSession, *, token: str, password: str) -> User:
    if len(password) < MIN_PASSWORD:
        raise InputError("password", "PASSWORD_TOO_SHORT", f"Passwords have at least {MIN_PASSWORD} characters.")
    invitation = await session.scalar(
        sa.select(PortalInvitation).where(col(PortalInvitation.token_hash) == hash_secret(token)).with_for_update()
    )
    now = utcnow()
    user = await session.get(User, invitation.user_id) if invitation else None
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= now
        or user is None
        or not user.is_active
    ):
        raise InputError("token", "INVALID_INVITATION", "This invitation is not valid any more; ask for a new one.")
    invitation.accepted_at = now
    user.password_hash = await hash_password_async(password)
    await session.flush()
    return user


async def revoke_portal_access(session: AsyncSession, principal: Principal, *, user_id: int) -> User:
    user = await session.scalar(
        sa.select(User)
        .where(col(User.id) == user_id, col(User.role) == Role.CLIENT, user_scope(principal))
        .with_for_update()
    )
    if user is None:
        raise NotFound("portal user", field="userId")
    user.is_active = False
    now = utcnow()
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.user_id) == user.id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    await session.execute(
        sa.update(PortalInvitation)
        .where(col(PortalInvitation.user_id) == user.id, col(PortalInvitation.accepted_at).is_(None))
        .values(expires_at=now)
    )
    record_activity(
        session,
        principal,
        ActivityKind.PORTAL_ACCESS_REVOKED,
        f"Portal access revoked for {user.full_name}",
        client_id=user.client_id,
        subject_type="User",
        subject_id=user.id,
    )
    await session.flush()
    return user


async def issue_view_as(
    session: AsyncSession, principal: Principal, tokens: TokenService, *, user_id: int, ttl: dt.timedelta
) -> tuple[str, dt.datetime, User]:
    """A short-lived, read-only token for one portal user, naming the real actor (RFC 8693 `act`)."""
    user = await session.scalar(
        sa.select(User).where(
            col(User.id) == user_id, col(User.role) == Role.CLIENT, col(User.is_active).is_(True), user_scope(principal)
        )
    )
    if user is None:
        raise NotFound("portal user", field="userId")
    assert user.id is not None
    token, expires = tokens.issue_access(
        user_id=user.id, role=Role.CLIENT, client_id=user.client_id, actor_id=principal.user_id, read_only=True, ttl=ttl
    )
    record_activity(
        session,
        principal,
        ActivityKind.VIEW_AS_ISSUED,
        f"View as {user.full_name} started",
        client_id=user.client_id,
        subject_type="User",
        subject_id=user.id,
    )
    return token, expires, user


def record_view_as_use(session: AsyncSession, principal: Principal, operation: str | None) -> None:
    """Every request made with a view-as token is written to the log with the real actor."""
    record_activity(
        session,
        principal,
        ActivityKind.VIEW_AS_USED,
        f"View as: {operation or 'request'}",
        client_id=principal.client_id,
        subject_type="User",
        subject_id=principal.user_id,
    )
