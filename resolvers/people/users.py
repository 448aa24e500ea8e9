"""Users: reading one, and creating users from the command line."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Client, Contact, Role, User
from resolvers.db import RequestDb
from resolvers.errors import InputError
from resolvers.people.sign_in import create_user


async def get_user_unscoped(db: RequestDb, user_id: int) -> User | None:
    """The caller's own row, for `me` only: a user may always read itself."""
    return await db.scalar(sa.select(User).where(col(User.id) == user_id, col(User.is_active).is_(True)))


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


MIN_PASSWORD = 10


async def create_user_checked(
    session: AsyncSession,
    *,
    email: str,
    role: Role,
    password: str,
    full_name: str | None = None,
    client_id: int | None = None,
) -> User:
    """A CLIENT user is linked to its client and that client's primary contact (a portal user
    is always a contact of exactly one client); staff have no client."""
    if not EMAIL.match(email.strip()):
        raise InputError("email", "INVALID_EMAIL", "That is not an e-mail address.")
    if len(password) < MIN_PASSWORD:
        raise InputError("password", "PASSWORD_TOO_SHORT", f"Passwords have at least {MIN_PASSWORD} characters.")
    taken = sa.select(col(User.id)).where(sa.func.lower(col(User.email)) == email.strip().lower())
    if await session.scalar(taken) is not None:
        raise InputError("email", "EMAIL_TAKEN", "A user with that e-mail already exists.")
    contact_id = None
    if role is Role.CLIENT:
        if client_id is None:
            raise InputError("client", "REQUIRED", "A CLIENT user needs --client.")
        if await session.get(Client, client_id) is None:
            raise InputError("client", "NOT_FOUND", f"No client has id {client_id}.")
        contact = await session.scalar(
            sa.select(Contact).where(
                col(Contact.client_id) == client_id, sa.func.lower(col(Contact.email)) == email.strip().lower()
            )
        ) or await session.scalar(
            sa.select(Contact).where(col(Contact.client_id) == client_id, col(Contact.is_primary).is_(True))
        )
        if contact is None:
            raise InputError("client", "NO_CONTACT", "That client has no contact to link the user to.")
        holder = await session.scalar(sa.select(col(User.email)).where(col(User.contact_id) == contact.id))
        if holder is not None:
            # A portal user is one contact's; without a contact of this e-mail, the new user would
            # take the primary contact, and that one is already someone's sign-in.
            raise InputError(
                "client",
                "CONTACT_HAS_USER",
                f"The contact the user would be linked to ({contact.full_name}) already has a portal user"
                f" ({holder}). Add a contact with the e-mail {email.strip()} to the client first.",
            )
        contact_id = contact.id
    elif client_id is not None:
        raise InputError("client", "NOT_ALLOWED", "Only CLIENT users belong to a client.")
    return await create_user(
        session,
        email=email,
        full_name=full_name or email.split("@")[0],
        role=role,
        password=password,
        client_id=client_id,
        contact_id=contact_id,
    )
