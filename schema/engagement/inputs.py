"""Inputs and payloads of meetings, interactions and opportunities.

Update inputs leave every field UNSET unless the caller sends it: an omitted field is left alone,
an explicit null clears it (where it may be empty at all).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import UNSET, relay

from models.enums import (
    MeetingStatus,
    OpportunityKind,
    OpportunityStage,
)
from schema.engagement.types import Interaction, Meeting, Opportunity
from schema.mutation_shape import payload

if TYPE_CHECKING:
    from schema.work.types import Project

_Project = Annotated["Project", strawberry.lazy("schema.work.types")]


@strawberry.input(description="A meeting. A portal user books for its own client and leaves clientId and staffId out.")
class BookMeetingInput:
    title: str
    starts_at: dt.datetime = strawberry.field(description="With a time zone offset; in the future.")
    ends_at: dt.datetime
    client_id: relay.GlobalID | None = strawberry.field(default=None, description="Required for the team.")
    location: str | None = None
    agenda: str | None = None
    staff_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who attends; the caller unless given."
    )


@strawberry.input(description="Confirm, cancel, complete or reschedule a meeting.")
class UpdateMeetingInput:
    meeting_id: relay.GlobalID
    status: MeetingStatus | None = UNSET
    title: str | None = UNSET
    starts_at: dt.datetime | None = UNSET
    ends_at: dt.datetime | None = UNSET
    location: str | None = UNSET
    agenda: str | None = UNSET
    staff_id: relay.GlobalID | None = UNSET


@strawberry.input
class CreateOpportunityInput:
    title: str
    kind: OpportunityKind | None = strawberry.field(default=None, description="UPSELL unless given.")
    stage: OpportunityStage | None = strawberry.field(default=None, description="IDENTIFIED unless given.")
    value: Decimal | None = strawberry.field(default=None, description="Zero or more.")
    expected_close_on: dt.date | None = None
    owner_id: relay.GlobalID | None = None


@strawberry.input(description="Move an opportunity through its stages; WON and LOST are final.")
class UpdateOpportunityInput:
    opportunity_id: relay.GlobalID
    title: str | None = UNSET
    kind: OpportunityKind | None = UNSET
    stage: OpportunityStage | None = UNSET
    value: Decimal | None = UNSET
    expected_close_on: dt.date | None = UNSET
    owner_id: relay.GlobalID | None = UNSET


@strawberry.input(
    description="Turn an opportunity into a project of its client: the opportunity becomes WON and records it."
)
class ConvertOpportunityInput:
    opportunity_id: relay.GlobalID
    name: str | None = strawberry.field(default=None, description="The opportunity's title unless given.")
    description: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = strawberry.field(default=None, description="On or after the start date.")
    budget: Decimal | None = strawberry.field(
        default=None,
        description="ADMIN and MANAGER only; the opportunity's value unless given (a MEMBER's project has none).",
    )


@payload
class MeetingPayload:
    meeting: Meeting | None = None


@payload
class InteractionPayload:
    interaction: Interaction | None = None


@payload
class OpportunityPayload:
    opportunity: Opportunity | None = None


@payload
class ConvertOpportunityPayload:
    opportunity: Opportunity | None = None
    project: _Project | None = None
