"""The relationship around the work: opportunities, interactions, meetings,
the activity feed, notifications and the e-mail outbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Money, UTCDateTime, enum_column, utcnow
from models.enums import (
    ActivityKind,
    InteractionKind,
    MeetingStatus,
    OpportunityKind,
    OpportunityStage,
)


class Opportunity(SQLModel, table=True):
    """An upsell or cross-sell on an existing client. Staff only.

    `project_id`: the project a won opportunity became (convertOpportunity); one project per
    opportunity and one opportunity per project (a unique index)."""

    __tablename__ = "opportunity"
    __table_args__ = (sa.Index("uq_opportunity_project_id", "project_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    title: str = Field(sa_type=sa.String(300))
    kind: OpportunityKind = Field(default=OpportunityKind.UPSELL, sa_type=enum_column(OpportunityKind))
    stage: OpportunityStage = Field(default=OpportunityStage.IDENTIFIED, sa_type=enum_column(OpportunityStage))
    value: Decimal = Field(default=Decimal("0"), sa_type=Money)
    expected_close_on: dt.date | None = Field(default=None)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id")
    project_id: int | None = Field(default=None, foreign_key="project.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Interaction(SQLModel, table=True):
    """A touchpoint staff logged with a client: a call, an e-mail, a meeting, a check-in."""

    __tablename__ = "interaction"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    kind: InteractionKind = Field(sa_type=enum_column(InteractionKind))
    summary: str = Field(sa_type=sa.Text)
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    staff_id: int | None = Field(default=None, foreign_key="user_account.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    title: str = Field(sa_type=sa.String(300))
    starts_at: dt.datetime = Field(sa_type=UTCDateTime)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    status: MeetingStatus = Field(default=MeetingStatus.REQUESTED, sa_type=enum_column(MeetingStatus))
    location: str | None = Field(default=None, sa_type=sa.String(300))
    agenda: str | None = Field(default=None, sa_type=sa.Text)
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    staff_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Activity(SQLModel, table=True):
    """The activity feed and audit trail. client_visible entries reach the portal."""

    __tablename__ = "activity"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    # View as: actor_id is the manager who really acted, on_behalf_of_id the portal user viewed as.
    on_behalf_of_id: int | None = Field(default=None, foreign_key="user_account.id")
    kind: ActivityKind = Field(sa_type=enum_column(ActivityKind))
    subject_type: str | None = Field(default=None, sa_type=sa.String(40))
    subject_id: int | None = Field(default=None)
    summary: str = Field(sa_type=sa.String(500))
    client_visible: bool = Field(default=False)
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(sa_type=sa.String(40))
    subject_type: str | None = Field(default=None, sa_type=sa.String(40))
    subject_id: int | None = Field(default=None)
    message: str = Field(sa_type=sa.String(500))
    read_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxEmail(SQLModel, table=True):
    """E-mail waiting for the sender to drain it (a log sender by default)."""

    __tablename__ = "outbox_email"

    id: int | None = Field(default=None, primary_key=True)
    to_email: str = Field(sa_type=sa.String(254))
    subject: str = Field(sa_type=sa.String(300))
    body: str = Field(sa_type=sa.Text)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
