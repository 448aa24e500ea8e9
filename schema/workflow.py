"""Roots of the client workflows: leads and conversion, clients and statuses, contacts,
projects and tasks, comments, meetings, interactions and opportunities.

Each mutation is a business function in resolvers/ and a declaration (schema.mutation_shape):
one transaction, typed errors and nothing written on bad input. Who may call each is
MUTATION_ROLES in auth/policy.py; row-level conditions (a CLIENT's own tasks, REPLY only,
booking enabled) are checked in resolvers against the row scope.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import strawberry
from strawberry import relay

from models import LeadStage as LeadStageModel
from resolvers import client_records, comments, contacts, engagement, projects
from schema.context import Info
from schema.ids import plain_row_id
from schema.mutation_shape import CallArguments, given, mutation
from schema.types.clients import ClientStatus
from schema.types.engagement import Lead
from schema.types.enums import ClientCategory, CommentKind, InteractionKind, LeadStage
from schema.types.pagination import Connection
from schema.types.workflow_inputs import (
    BookMeetingInput,
    ClientPayload,
    ClientStatusPayload,
    CommentPayload,
    ContactInput,
    ContactPayload,
    ConvertLeadPayload,
    CreateClientInput,
    CreateLeadInput,
    CreateOpportunityInput,
    CreateProjectInput,
    CreateTaskInput,
    InteractionPayload,
    LeadPayload,
    MeetingPayload,
    OpportunityPayload,
    ProjectPayload,
    TaskPayload,
    UpdateClientInput,
    UpdateContactInput,
    UpdateMeetingInput,
    UpdateOpportunityInput,
    UpdateProjectInput,
    UpdateTaskInput,
)


@strawberry.type
class WorkflowQuery:
    @strawberry.field(
        description="The sales pipeline, newest first (staff only). Filter by stage, or by whether converted."
    )
    async def leads(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        stages: list[LeadStage] | None = None,
        converted: bool | None = None,
    ) -> Connection[Lead] | None:
        page = await client_records.list_leads(
            info.context.db,
            info.context.principal,
            stages=tuple(LeadStageModel(s) for s in stages or ()),
            converted=converted,
            first=first,
            after=after,
        )
        return Connection[Lead].from_page(page)

    @strawberry.field(description="Every client status, built in and custom, in display order (staff only).")
    async def client_statuses(self, info: Info) -> list[ClientStatus] | None:
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[ClientStatus]", await client_records.list_client_statuses(info.context.db))


@strawberry.type
class WorkflowMutation:
    # ---- leads and clients
    @mutation(
        client_records.create_lead,
        LeadPayload,
        ids={"owner_id": "User"},
        description="Add a lead to the sales pipeline.",
    )
    def create_lead(self, info: Info, input: CreateLeadInput) -> CallArguments:
        return dict(data=given(input))

    @mutation(
        client_records.update_lead_stage,
        LeadPayload,
        ids={"lead_id": "Lead"},
        description="Move a lead through the pipeline; a converted lead's stage is final.",
    )
    def update_lead_stage(self, info: Info, lead_id: relay.GlobalID, stage: LeadStage) -> CallArguments:
        return dict(lead_id=lead_id, stage=stage)

    @mutation(
        client_records.convert_lead,
        ConvertLeadPayload,
        ids={"lead_id": "Lead"},
        description="Convert a Won lead into an Active client with its primary contact, in one transaction. "
        "A second conversion is refused (ALREADY_CONVERTED).",
    )
    def convert_lead(self, info: Info, lead_id: relay.GlobalID) -> CallArguments:
        return dict(lead_id=lead_id)

    @mutation(
        client_records.create_client,
        ClientPayload,
        ids={"account_manager_id": "User"},
        result=lambda _info, created: ClientPayload(client=created[0]),
        description="Create a client directly, with its primary contact; its status is Active.",
    )
    def create_client(self, info: Info, input: CreateClientInput) -> CallArguments:
        return dict(data=given(input, skip=("primary_contact",)), contact=given(input.primary_contact))

    @mutation(
        client_records.update_client,
        ClientPayload,
        ids={"client_id": "Client", "account_manager_id": "User"},
        description="Change company details, tier, account manager, payment terms, notes and portal switches.",
    )
    def update_client(self, info: Info, input: UpdateClientInput) -> CallArguments:
        return dict(client_id=input.client_id, changes=given(input, skip=("client_id",)))

    @mutation(
        client_records.set_client_status,
        ClientPayload,
        ids={"client_id": "Client"},
        description="Set a built-in or custom status. Back to an Active-category status is a reactivation.",
    )
    def set_client_status(self, info: Info, client_id: relay.GlobalID, status_id: strawberry.ID) -> CallArguments:
        return dict(client_id=client_id, status_id=plain_row_id(status_id, "statusId", "Status"))

    @mutation(
        client_records.reactivate_client,
        ClientPayload,
        ids={"client_id": "Client"},
        description="An On Hold or Churned client returns: its status becomes Active, and the feed says so.",
    )
    def reactivate_client(self, info: Info, client_id: relay.GlobalID) -> CallArguments:
        return dict(client_id=client_id)

    @mutation(
        client_records.delete_client,
        ClientPayload,
        ids={"client_id": "Client"},
        description="Always refused (USE_CHURNED): clients are never deleted, set the status to Churned instead.",
    )
    def delete_client(self, info: Info, client_id: relay.GlobalID) -> CallArguments:
        return dict(client_id=client_id)

    @mutation(
        client_records.create_client_status,
        ClientStatusPayload,
        description="A custom status (e.g. VIP, At Risk) in one lifecycle category.",
    )
    def create_client_status(self, info: Info, name: str, category: ClientCategory) -> CallArguments:
        return dict(name=name, category=category)

    # ---- contacts
    @mutation(
        contacts.add_contact,
        ContactPayload,
        ids={"client_id": "Client"},
        description="A new contact on a client; the first one of a client without a primary becomes primary.",
    )
    def add_contact(
        self, info: Info, client_id: relay.GlobalID, input: ContactInput, make_primary: bool = False
    ) -> CallArguments:
        return dict(client_id=client_id, data=given(input), make_primary=make_primary)

    @mutation(
        contacts.link_contact,
        ContactPayload,
        ids={"contact_id": "Contact", "client_id": "Client"},
        description="Link an existing contact that belongs to no client; a contact of another client is never moved.",
    )
    def link_contact(self, info: Info, contact_id: relay.GlobalID, client_id: relay.GlobalID) -> CallArguments:
        return dict(contact_id=contact_id, client_id=client_id)

    @mutation(
        contacts.set_primary_contact,
        ContactPayload,
        ids={"contact_id": "Contact"},
        description="Make this contact its client's primary contact; the old one stops being primary, atomically.",
    )
    def set_primary_contact(self, info: Info, contact_id: relay.GlobalID) -> CallArguments:
        return dict(contact_id=contact_id)

    @mutation(contacts.update_contact, ContactPayload, ids={"contact_id": "Contact"})
    def update_contact(self, info: Info, input: UpdateContactInput) -> CallArguments:
        return dict(contact_id=input.contact_id, changes=given(input, skip=("contact_id",)))

    # ---- projects and tasks
    @mutation(
        projects.create_project,
        ProjectPayload,
        ids={"client_id": "Client", "assignee_id": "User"},
        result=lambda _info, created: ProjectPayload(project=created[0]),
        description="A project for this client, with optional initial tasks, in one transaction.",
    )
    def create_project(self, info: Info, client_id: relay.GlobalID, input: CreateProjectInput) -> CallArguments:
        tasks = [given(task) for task in input.tasks or ()]
        return dict(client_id=client_id, data=given(input, skip=("tasks",)), tasks=tasks)

    @mutation(
        projects.update_project,
        ProjectPayload,
        ids={"project_id": "Project"},
        description="Change a project's status, health or details.",
    )
    def update_project(self, info: Info, input: UpdateProjectInput) -> CallArguments:
        return dict(project_id=input.project_id, changes=given(input, skip=("project_id",)))

    @mutation(projects.create_task, TaskPayload, ids={"project_id": "Project", "assignee_id": "User"})
    def create_task(self, info: Info, input: CreateTaskInput) -> CallArguments:
        return dict(project_id=input.project_id, data=given(input, skip=("project_id",)))

    @mutation(
        projects.update_task,
        TaskPayload,
        ids={"task_id": "Task", "assignee_id": "User"},
        description="Change a task's status, assignee or details. Staff only: a client never changes them.",
    )
    def update_task(self, info: Info, input: UpdateTaskInput) -> CallArguments:
        return dict(task_id=input.task_id, changes=given(input, skip=("task_id",)))

    # ---- comments
    @mutation(
        comments.add_comment,
        CommentPayload,
        ids={"task_id": "Task", "project_id": "Project"},
        description="Comment on a task or a project. `kind` has no default: REPLY (the client sees it) or NOTE "
        "(internal). A portal user may add REPLYs only, on its own visible tasks and projects.",
    )
    def add_comment(
        self,
        info: Info,
        kind: CommentKind,
        body: str,
        task_id: relay.GlobalID | None = None,
        project_id: relay.GlobalID | None = None,
    ) -> CallArguments:
        return dict(task_id=task_id, project_id=project_id, kind=kind, body=body)

    # ---- meetings, interactions, opportunities
    @mutation(
        engagement.book_meeting,
        MeetingPayload,
        ids={"client_id": "Client", "staff_id": "User"},
        description="Book a meeting. A portal user books for its own client where booking is enabled "
        "(else BOOKING_DISABLED) and the meeting is REQUESTED; the team's bookings are CONFIRMED.",
    )
    def book_meeting(self, info: Info, input: BookMeetingInput) -> CallArguments:
        return dict(client_id=input.client_id, data=given(input, skip=("client_id",)))

    @mutation(
        engagement.update_meeting,
        MeetingPayload,
        ids={"meeting_id": "Meeting", "staff_id": "User"},
        description="Confirm, cancel, complete or reschedule a meeting; COMPLETED and CANCELLED are final.",
    )
    def update_meeting(self, info: Info, input: UpdateMeetingInput) -> CallArguments:
        return dict(meeting_id=input.meeting_id, changes=given(input, skip=("meeting_id",)))

    @mutation(
        engagement.log_interaction,
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
        engagement.create_opportunity,
        OpportunityPayload,
        ids={"client_id": "Client", "owner_id": "User"},
        description="An upsell or cross-sell opportunity on a client (staff only).",
    )
    def create_opportunity(self, info: Info, client_id: relay.GlobalID, input: CreateOpportunityInput) -> CallArguments:
        return dict(client_id=client_id, data=given(input))

    @mutation(
        engagement.update_opportunity,
        OpportunityPayload,
        ids={"opportunity_id": "Opportunity", "owner_id": "User"},
        description="Move an opportunity through its stages or change its value; WON and LOST are final.",
    )
    def update_opportunity(self, info: Info, input: UpdateOpportunityInput) -> CallArguments:
        return dict(opportunity_id=input.opportunity_id, changes=given(input, skip=("opportunity_id",)))
