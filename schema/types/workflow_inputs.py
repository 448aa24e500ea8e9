"""Inputs and payloads of the client-workflow mutations.

Update inputs leave every field UNSET unless the caller sends it: an omitted field is
left alone, an explicit null clears it (where it may be empty at all).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import UNSET, relay

from schema.mutation_shape import payload
from schema.types.clients import Client, ClientStatus, Contact
from schema.types.engagement import Interaction, Lead, Meeting, Opportunity
from schema.types.enums import (
    ClientTier,
    LeadStage,
    MeetingStatus,
    OpportunityKind,
    OpportunityStage,
    ProjectHealth,
    ProjectStatus,
    TaskStatus,
)
from schema.types.work import Comment, Project, Task

# ---- inputs


@strawberry.input(description="A lead in the sales pipeline.")
class CreateLeadInput:
    company_name: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_title: str | None = None
    website: str | None = None
    industry: str | None = None
    stage: LeadStage | None = strawberry.field(default=None, description="NEW unless given.")
    estimated_value: Decimal | None = None
    source: str | None = None
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A team member; the caller unless given."
    )


@strawberry.input(description="A person at a client.")
class ContactInput:
    full_name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = strawberry.field(default=None, description="Their role at the client.")
    is_decision_maker: bool = False
    internal_notes: str | None = None


@strawberry.input(description="A new client, created directly with its primary contact; its status is Active.")
class CreateClientInput:
    name: str
    primary_contact: ContactInput
    logo_url: str | None = None
    website: str | None = None
    billing_address: str | None = None
    industry: str | None = None
    tier: ClientTier | None = None
    account_manager_id: relay.GlobalID | None = None
    payment_terms_days: int | None = strawberry.field(
        default=None, description="30 unless given; ADMIN and MANAGER only."
    )
    internal_notes: str | None = None
    show_costs_in_portal: bool | None = strawberry.field(default=None, description="ADMIN and MANAGER only.")
    portal_booking_enabled: bool | None = None


@strawberry.input(description="Change a client's details; the status changes through setClientStatus.")
class UpdateClientInput:
    client_id: relay.GlobalID
    name: str | None = UNSET
    logo_url: str | None = UNSET
    website: str | None = UNSET
    billing_address: str | None = UNSET
    industry: str | None = UNSET
    tier: ClientTier | None = UNSET
    account_manager_id: relay.GlobalID | None = UNSET
    payment_terms_days: int | None = strawberry.field(default=UNSET, description="ADMIN and MANAGER only.")
    internal_notes: str | None = UNSET
    show_costs_in_portal: bool | None = strawberry.field(default=UNSET, description="ADMIN and MANAGER only.")
    portal_booking_enabled: bool | None = UNSET


@strawberry.input(description="Change a contact's details; the primary contact changes through setPrimaryContact.")
class UpdateContactInput:
    contact_id: relay.GlobalID
    full_name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    title: str | None = UNSET
    is_decision_maker: bool | None = UNSET
    internal_notes: str | None = UNSET


@strawberry.input(description="A task, created with its project or on its own.")
class TaskInput:
    title: str
    description: str | None = None
    due_date: dt.date | None = None
    assignee_id: relay.GlobalID | None = strawberry.field(default=None, description="An active team member.")
    estimate_hours: Decimal | None = None
    visible_to_client: bool = strawberry.field(default=True, description="False keeps the task internal to the team.")
    status: TaskStatus | None = strawberry.field(default=None, description="TODO unless given.")


@strawberry.input(description="A new project for the client it is created from.")
class CreateProjectInput:
    name: str
    description: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = strawberry.field(default=None, description="On or after the start date.")
    budget: Decimal | None = strawberry.field(default=None, description="Zero or more; ADMIN and MANAGER only.")
    health: ProjectHealth | None = strawberry.field(default=None, description="ON_TRACK unless given.")
    tasks: list[TaskInput] | None = strawberry.field(
        default=None, description="Initial tasks (at most 100), created in the same transaction."
    )


@strawberry.input(description="Change a project: status (CANCELLED is final), health and details.")
class UpdateProjectInput:
    project_id: relay.GlobalID
    name: str | None = UNSET
    description: str | None = UNSET
    start_date: dt.date | None = UNSET
    end_date: dt.date | None = UNSET
    budget: Decimal | None = strawberry.field(default=UNSET, description="ADMIN and MANAGER only.")
    status: ProjectStatus | None = UNSET
    health: ProjectHealth | None = UNSET


@strawberry.input
class CreateTaskInput:
    project_id: relay.GlobalID
    title: str
    description: str | None = None
    due_date: dt.date | None = None
    assignee_id: relay.GlobalID | None = None
    estimate_hours: Decimal | None = None
    visible_to_client: bool = True
    status: TaskStatus | None = None


@strawberry.input(description="Change a task's status, assignment or details (staff only).")
class UpdateTaskInput:
    task_id: relay.GlobalID
    title: str | None = UNSET
    description: str | None = UNSET
    status: TaskStatus | None = UNSET
    assignee_id: relay.GlobalID | None = UNSET
    due_date: dt.date | None = UNSET
    estimate_hours: Decimal | None = UNSET
    visible_to_client: bool | None = UNSET


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


# ---- payloads


@payload
class LeadPayload:
    lead: Lead | None = None


@payload
class ConvertLeadPayload:
    client: Client | None = None
    primary_contact: Contact | None = None
    lead: Lead | None = None


@payload
class ClientPayload:
    client: Client | None = None


@payload
class ClientStatusPayload:
    status: ClientStatus | None = None


@payload
class ContactPayload:
    contact: Contact | None = None


@payload
class ProjectPayload:
    project: Project | None = None


@payload
class TaskPayload:
    task: Task | None = None


@payload
class CommentPayload:
    comment: Comment | None = None


@payload
class MeetingPayload:
    meeting: Meeting | None = None


@payload
class InteractionPayload:
    interaction: Interaction | None = None


@payload
class OpportunityPayload:
    opportunity: Opportunity | None = None
