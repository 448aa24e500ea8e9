"""Who signs in: staff and portal users, their sign-ins, refresh tokens and invitations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Money, UTCDateTime, enum_column, utcnow
from models.enums import Role


class User(SQLModel, table=True):
    """A staff member (ADMIN, MANAGER, MEMBER) or a portal user (CLIENT)."""

    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'CLIENT' OR (client_id IS NOT NULL AND contact_id IS NOT NULL)",
            name="client_user_linked",
        ),
        # A portal user's contact belongs to the user's own client: the database refuses a contact
        # of client A linked to a user of client B, and refuses moving such a contact to client B.
        sa.ForeignKeyConstraint(
            ["contact_id", "client_id"],
            ["contact.id", "contact.client_id"],
            name="fk_user_account_contact_of_own_client",
            use_alter=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=sa.String(254), unique=True)
    full_name: str = Field(sa_type=sa.String(200))
    phone: str | None = Field(default=None, sa_type=sa.String(50))
    job_title: str | None = Field(default=None, sa_type=sa.String(120))
    role: Role = Field(sa_type=enum_column(Role))
    password_hash: str | None = Field(default=None, sa_type=sa.String(255))
    is_active: bool = Field(default=True)
    # A CLIENT user belongs to exactly one client, through one of its contacts.
    client_id: int | None = Field(
        default=None,
        sa_column_args=[sa.ForeignKey("client.id", use_alter=True, name="fk_user_account_client_id_client")],
        index=True,
    )
    contact_id: int | None = Field(
        default=None,
        sa_column_args=[sa.ForeignKey("contact.id", use_alter=True, name="fk_user_account_contact_id_contact")],
        unique=True,
    )
    hourly_cost_rate: Decimal | None = Field(default=None, sa_type=Money)
    hourly_bill_rate: Decimal | None = Field(default=None, sa_type=Money)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginEvent(SQLModel, table=True):
    """One successful sign-in; portal logins feed the engagement metrics."""

    __tablename__ = "login_event"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ip_address: str | None = Field(default=None, sa_type=sa.String(64))
    user_agent: str | None = Field(default=None, sa_type=sa.String(400))


class RefreshToken(SQLModel, table=True):
    """A rotating refresh token, stored as its SHA-256; one family per sign-in."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    family: str = Field(sa_type=sa.String(64), index=True)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PortalInvitation(SQLModel, table=True):
    """A one-time, expiring invitation for a portal user, stored hashed."""

    __tablename__ = "portal_invitation"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    accepted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ThrottleCounter(SQLModel, table=True):
    """One counter of the sign-in throttle (auth/throttle.py), a storage for the `limits` library:
    the attempts counted under one key (a hashed account or address, a window) until `expires_at`.

    A row past `expires_at` counts as zero: the next increment restarts it, and expired rows are
    purged now and then. Written in short transactions of their own, never the request's."""

    __tablename__ = "throttle_counter"

    key: str = Field(sa_type=sa.String(255), primary_key=True)
    count: int = Field(default=0)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
