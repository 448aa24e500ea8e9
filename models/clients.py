"""Clients, their statuses and contacts, and the leads they convert from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Money, UTCDateTime, enum_column, utcnow
from models.enums import ClientCategory, ClientTier, ContactRole, LeadStage


class ClientStatus(SQLModel, table=True):
    """A status, built in (Active, On Hold, Churned) or defined by the agency (VIP, At Risk, ...).

    Each belongs to one lifecycle category, so dashboards can always count by category.
    """

    __tablename__ = "client_status"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(60), unique=True)
    category: ClientCategory = Field(sa_type=enum_column(ClientCategory))
    is_builtin: bool = Field(default=False)
    position: int = Field(default=0)


class BuiltinStatus(TypedDict):
    id: int
    name: str
    category: ClientCategory
    is_builtin: bool
    position: int


# The built-in statuses the first migration creates; ids are fixed so code can name them.
BUILTIN_STATUSES: tuple[BuiltinStatus, ...] = (
    {"id": 1, "name": "Active", "category": ClientCategory.ACTIVE, "is_builtin": True, "position": 0},
    {"id": 2, "name": "On Hold", "category": ClientCategory.ON_HOLD, "is_builtin": True, "position": 1},
    {"id": 3, "name": "Churned", "category": ClientCategory.CHURNED, "is_builtin": True, "position": 2},
)
STATUS_ACTIVE, STATUS_ON_HOLD, STATUS_CHURNED = 1, 2, 3


class Client(SQLModel, table=True):
    """A client company. Never hard-deleted: a finished relationship is Churned."""

    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(200), index=True)
    logo_url: str | None = Field(default=None, sa_type=sa.String(500))
    website: str | None = Field(default=None, sa_type=sa.String(500))
    billing_address: str | None = Field(default=None, sa_type=sa.Text)
    industry: str | None = Field(default=None, sa_type=sa.String(120))
    status_id: int = Field(foreign_key="client_status.id", index=True)
    tier: ClientTier = Field(default=ClientTier.STANDARD, sa_type=enum_column(ClientTier))
    account_manager_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    payment_terms_days: int = Field(default=30)
    became_client_on: dt.date | None = Field(default=None)
    internal_notes: str | None = Field(default=None, sa_type=sa.Text)
    show_costs_in_portal: bool = Field(default=False)
    portal_booking_enabled: bool = Field(default=False)
    # Set by logged interactions; kept on the row so the list can sort by it.
    last_interaction_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Contact(SQLModel, table=True):
    """A person at a client. At most one primary per client, enforced by a partial unique index."""

    __tablename__ = "contact"
    __table_args__ = (
        sa.Index(
            "uq_contact_primary_per_client",
            "client_id",
            unique=True,
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        ),
        sa.CheckConstraint("NOT is_primary OR client_id IS NOT NULL", name="primary_has_client"),
        # The target of the portal user's (contact, client) foreign key.
        sa.UniqueConstraint("id", "client_id", name="uq_contact_id_client_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    full_name: str = Field(sa_type=sa.String(200))
    email: str | None = Field(default=None, sa_type=sa.String(254), index=True)
    phone: str | None = Field(default=None, sa_type=sa.String(50))
    title: str | None = Field(default=None, sa_type=sa.String(120))
    is_decision_maker: bool = Field(default=False)
    is_primary: bool = Field(default=False)
    # About the person, for the team only: never shown to a portal user, themselves included.
    internal_notes: str | None = Field(default=None, sa_type=sa.Text)
    # Consent to marketing e-mail, set by staff: when it was given and where (a form, a call...).
    # Only contacts who consented are in the marketing export; withdrawing clears the date.
    marketing_consent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    marketing_consent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    marketing_consent_source: str | None = Field(default=None, sa_type=sa.String(200))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Whom this contact reports to: another contact of the same client (checked when set, under
    # the client's lock, with no loops: resolvers.clients.contacts). Null: nobody recorded.
    reports_to_id: int | None = Field(default=None, foreign_key="contact.id", index=True)


class ContactRoleAssignment(SQLModel, table=True):
    """One role a contact holds (several per contact). Indexed by role too, so "the billing
    contacts of these clients" is one indexed join."""

    __tablename__ = "contact_role"

    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    role: ContactRole = Field(sa_type=enum_column(ContactRole), primary_key=True, index=True)


class Lead(SQLModel, table=True):
    """The CRM side: a prospect, until it is Won and converted into a client."""

    __tablename__ = "lead"

    id: int | None = Field(default=None, primary_key=True)
    company_name: str = Field(sa_type=sa.String(200))
    contact_name: str | None = Field(default=None, sa_type=sa.String(200))
    contact_email: str | None = Field(default=None, sa_type=sa.String(254))
    contact_phone: str | None = Field(default=None, sa_type=sa.String(50))
    contact_title: str | None = Field(default=None, sa_type=sa.String(120))
    website: str | None = Field(default=None, sa_type=sa.String(500))
    industry: str | None = Field(default=None, sa_type=sa.String(120))
    stage: LeadStage = Field(default=LeadStage.NEW, sa_type=enum_column(LeadStage))
    estimated_value: Decimal | None = Field(default=None, sa_type=Money)
    source: str | None = Field(default=None, sa_type=sa.String(120))
    owner_id: int | None = Field(default=None, foreign_key="user_account.id")
    converted_client_id: int | None = Field(default=None, foreign_key="client.id", unique=True)
    converted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
