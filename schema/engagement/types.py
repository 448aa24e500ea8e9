"""The relationship around the work: opportunities, interactions, meetings and the activity feed.

Opportunities and interactions are the agency's own view (INTERNAL fields, staff row scopes);
meetings and client-visible activity entries are shared with the client's portal users.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

import models
from models.enums import ActivityKind, InteractionKind, MeetingStatus, OpportunityKind, OpportunityStage
from schema.base import ModelNode
from schema.context import Info
from schema.pagination import Connection
from schema.people.types import User, load_user

if TYPE_CHECKING:
    from schema.clients.types import Client, Contact
    from schema.work.types import Project


_Client = Annotated["Client", strawberry.lazy("schema.clients.types")]


_Contact = Annotated["Contact", strawberry.lazy("schema.clients.types")]


_Project = Annotated["Project", strawberry.lazy("schema.work.types")]


@strawberry.type(description="An upsell or cross-sell on an existing client. Staff only: a client never sees one.")
class Opportunity(ModelNode):
    __model__ = models.Opportunity
    __loader__ = "engagement.opportunity"

    id: relay.NodeID[int]
    title: str | None
    kind: OpportunityKind | None
    stage: OpportunityStage | None
    value: Decimal | None
    expected_close_on: dt.date | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        return await load_user(info, self.owner_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def client(self, info: Info) -> _Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The project this opportunity became (convertOpportunity); null until then.")
    async def project(self, info: Info) -> _Project | None:
        project_id = self.project_id  # type: ignore[attr-defined]
        return None if project_id is None else await info.context.loaders.work.project.load(project_id)


@strawberry.type(
    description="A touchpoint the team logged with a client: a call, an e-mail, a meeting, a check-in. Staff only."
)
class Interaction(ModelNode):
    __model__ = models.Interaction
    __loader__ = "engagement.interaction"

    id: relay.NodeID[int]
    kind: InteractionKind | None
    summary: str | None
    occurred_at: dt.datetime | None
    created_at: dt.datetime | None

    @strawberry.field(description="Who on the team logged it.")
    async def staff(self, info: Info) -> User | None:
        return await load_user(info, self.staff_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def contact(self, info: Info) -> _Contact | None:
        contact_id = self.contact_id  # type: ignore[attr-defined]
        return None if contact_id is None else await info.context.loaders.clients.contact.load(contact_id)

    @strawberry.field
    async def client(self, info: Info) -> _Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]


@strawberry.type(description="A meeting with a client, booked by the team or requested from the portal.")
class Meeting(ModelNode):
    __model__ = models.Meeting
    __loader__ = "engagement.meeting"

    id: relay.NodeID[int]
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: MeetingStatus
    location: str | None
    agenda: str | None
    created_at: dt.datetime

    @strawberry.field(description="Who asked for it: a team member, or a portal user.")
    async def requested_by(self, info: Info) -> User | None:
        return await load_user(info, self.requested_by_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The team member who attends.")
    async def staff(self, info: Info) -> User | None:
        return await load_user(info, self.staff_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def client(self, info: Info) -> _Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]


@strawberry.type(description="One entry of a client's activity feed: who did what, to what, when.")
class Activity(ModelNode):
    __model__ = models.Activity
    __loader__ = "engagement.activity"

    id: relay.NodeID[int]
    kind: ActivityKind
    summary: str
    occurred_at: dt.datetime
    client_visible: bool | None = strawberry.field(description="Shown in the client's portal; the rest is internal.")
    subject_type: str | None = strawberry.field(description="The type of what it is about: Project, Task, Comment, ...")

    @strawberry.field(description="The global id of what it is about (fetch it with `node`); null when there is none.")
    def subject_id(self) -> strawberry.ID | None:
        # `self` is the model row, so `self.subject_id` is its column, not this resolver.
        subject_type, subject_id = self.subject_type, self.subject_id
        if subject_type is None or subject_id is None:
            return None
        return strawberry.ID(str(relay.GlobalID(subject_type, str(subject_id))))

    @strawberry.field(description="Who did it.")
    async def actor(self, info: Info) -> User | None:
        return await load_user(info, self.actor_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def client(self, info: Info) -> _Client | None:
        client_id = self.client_id  # type: ignore[attr-defined]
        return None if client_id is None else await info.context.loaders.clients.client.load(client_id)


@strawberry.type(description="A page of the activity feed.")
class ActivityConnection(Connection[Activity]):
    pass
