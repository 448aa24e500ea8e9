"""Roots of engagement: meetings, logged interactions and opportunities.

Each mutation is a business function in resolvers/engagement/ and a declaration (schema.mutation_shape).
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from models.enums import InteractionKind
from resolvers.engagement import interactions, meetings, opportunities
from schema.context import Info
from schema.engagement.inputs import (
    BookMeetingInput,
    ConvertOpportunityInput,
    ConvertOpportunityPayload,
    CreateOpportunityInput,
    InteractionPayload,
    MeetingPayload,
    OpportunityPayload,
    UpdateMeetingInput,
    UpdateOpportunityInput,
)
from schema.mutation_shape import CallArguments, given, mutation


@strawberry.type
class EngagementMutation:
    # ---- meetings, interactions, opportunities
    @mutation(
        meetings.book_meeting,
        MeetingPayload,
        ids={"client_id": "Client", "staff_id": "User"},
        description="Book a meeting. A portal user books for its own client where booking is enabled "
        "(else BOOKING_DISABLED) and the meeting is REQUESTED; the team's bookings are CONFIRMED.",
    )
    def book_meeting(self, info: Info, input: BookMeetingInput) -> CallArguments:
        return dict(client_id=input.client_id, data=given(input, skip=("client_id",)))

    @mutation(
        meetings.update_meeting,
        MeetingPayload,
        ids={"meeting_id": "Meeting", "staff_id": "User"},
        description="Confirm, cancel, complete or reschedule a meeting; COMPLETED and CANCELLED are final.",
    )
    def update_meeting(self, info: Info, input: UpdateMeetingInput) -> CallArguments:
        return dict(meeting_id=input.meeting_id, changes=given(input, skip=("meeting_id",)))

    @mutation(
        interactions.log_interaction,
        InteractionPayload,
        ids={"client_id": "Client", "contact_id": "Contact"},
        description="Log a call, e-mail, meeting or check-in; moves the client's last interaction date forward.",
    )
    def log_interaction(
        self,
        info: Info,
        client_id: relay.GlobalID,
        kind: InteractionKind,
        summary: str,
        occurred_at: dt.datetime,
        contact_id: relay.GlobalID | None = None,
    ) -> CallArguments:
        return dict(client_id=client_id, kind=kind, summary=summary, occurred_at=occurred_at, contact_id=contact_id)

    @mutation(
        opportunities.create_opportunity,
        OpportunityPayload,
        ids={"client_id": "Client", "owner_id": "User"},
        description="An upsell or cross-sell opportunity on a client (staff only).",
    )
    def create_opportunity(self, info: Info, client_id: relay.GlobalID, input: CreateOpportunityInput) -> CallArguments:
        return dict(client_id=client_id, data=given(input))

    @mutation(
        opportunities.update_opportunity,
        OpportunityPayload,
        ids={"opportunity_id": "Opportunity", "owner_id": "User"},
        description="Move an opportunity through its stages or change its value; WON and LOST are final.",
    )
    def update_opportunity(self, info: Info, input: UpdateOpportunityInput) -> CallArguments:
        return dict(opportunity_id=input.opportunity_id, changes=given(input, skip=("opportunity_id",)))

    @mutation(
        opportunities.convert_opportunity,
        ConvertOpportunityPayload,
        ids={"opportunity_id": "Opportunity"},
        description="Turn an opportunity into a project of its client, in one transaction: the project is created "
        "as by createProject and the opportunity becomes WON and records it. A LOST opportunity answers "
        "OPPORTUNITY_CLOSED, a converted one ALREADY_CONVERTED.",
    )
    def convert_opportunity(self, info: Info, input: ConvertOpportunityInput) -> CallArguments:
        return dict(opportunity_id=input.opportunity_id, data=given(input, skip=("opportunity_id",)))
