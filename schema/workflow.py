"""Roots of the client workflows: leads and conversion, clients and statuses, contacts,
projects and tasks, comments, meetings, interactions and opportunities.

Every mutation is one transaction (schema.errors.run_mutation): on bad input it returns
typed errors and writes nothing. Who may call each is MUTATION_ROLES in auth/policy.py;
row-level conditions (a CLIENT's own tasks, REPLY only, booking enabled) are checked in
resolvers against the row scope.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from models import ClientCategory as ClientCategoryModel
from models import CommentKind as CommentKindModel
from models import InteractionKind as InteractionKindModel
from models import LeadStage as LeadStageModel
from resolvers import client_records, comments, contacts, engagement, projects
from schema.context import Info
from schema.errors import run_mutation
from schema.ids import plain_row_id
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
    decode_id,
    given,
)


def _status_id(value: strawberry.ID, field: str = "statusId") -> int:
    return plain_row_id(value, field, "Status")


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
        return await client_records.list_client_statuses(info.context.db)


@strawberry.type
class WorkflowMutation:
    # ---- leads and clients
    @strawberry.mutation(description="Add a lead to the sales pipeline.")
    async def create_lead(self, info: Info, input: CreateLeadInput) -> LeadPayload:
        async def work(session):
            data = given(input, ids={"owner_id": ("User", "input.ownerId")})
            return await client_records.create_lead(session, info.context.principal, data=data)

        lead, errors = await run_mutation(info, work)
        return LeadPayload(lead=lead, errors=errors)

    @strawberry.mutation(description="Move a lead through the pipeline; a converted lead's stage is final.")
    async def update_lead_stage(self, info: Info, lead_id: relay.GlobalID, stage: LeadStage) -> LeadPayload:
        async def work(session):
            return await client_records.update_lead_stage(
                session,
                info.context.principal,
                lead_id=decode_id(lead_id, "Lead", "leadId"),
                stage=LeadStageModel(stage),
            )

        lead, errors = await run_mutation(info, work)
        return LeadPayload(lead=lead, errors=errors)

    @strawberry.mutation(
        description="Convert a Won lead into an Active client with its primary contact, in one transaction. "
        "A second conversion is refused (ALREADY_CONVERTED)."
    )
    async def convert_lead(self, info: Info, lead_id: relay.GlobalID) -> ConvertLeadPayload:
        async def work(session):
            return await client_records.convert_lead(
                session, info.context.principal, lead_id=decode_id(lead_id, "Lead", "leadId")
            )

        result, errors = await run_mutation(info, work)
        if result is None:
            return ConvertLeadPayload(errors=errors)
        client, contact, lead = result
        return ConvertLeadPayload(client=client, primary_contact=contact, lead=lead)

    @strawberry.mutation(description="Create a client directly, with its primary contact; its status is Active.")
    async def create_client(self, info: Info, input: CreateClientInput) -> ClientPayload:
        async def work(session):
            data = given(
                input, skip=("primary_contact",), ids={"account_manager_id": ("User", "input.accountManagerId")}
            )
            client, _ = await client_records.create_client(
                session, info.context.principal, data=data, contact=given(input.primary_contact)
            )
            return client

        client, errors = await run_mutation(info, work)
        return ClientPayload(client=client, errors=errors)

    @strawberry.mutation(
        description="Change company details, tier, account manager, payment terms, notes and portal switches."
    )
    async def update_client(self, info: Info, input: UpdateClientInput) -> ClientPayload:
        async def work(session):
            client_id = decode_id(input.client_id, "Client", "input.clientId")
            changes = given(input, skip=("client_id",), ids={"account_manager_id": ("User", "input.accountManagerId")})
            return await client_records.update_client(
                session, info.context.principal, client_id=client_id, changes=changes
            )

        client, errors = await run_mutation(info, work)
        return ClientPayload(client=client, errors=errors)

    @strawberry.mutation(
        description="Set a built-in or custom status. Back to an Active-category status is a reactivation."
    )
    async def set_client_status(self, info: Info, client_id: relay.GlobalID, status_id: strawberry.ID) -> ClientPayload:
        async def work(session):
            return await client_records.set_client_status(
                session,
                info.context.principal,
                client_id=decode_id(client_id, "Client", "clientId"),
                status_id=_status_id(status_id),
            )

        client, errors = await run_mutation(info, work)
        return ClientPayload(client=client, errors=errors)

    @strawberry.mutation(
        description="An On Hold or Churned client returns: its status becomes Active, and the feed says so."
    )
    async def reactivate_client(self, info: Info, client_id: relay.GlobalID) -> ClientPayload:
        async def work(session):
            return await client_records.reactivate_client(
                session, info.context.principal, client_id=decode_id(client_id, "Client", "clientId")
            )

        client, errors = await run_mutation(info, work)
        return ClientPayload(client=client, errors=errors)

    @strawberry.mutation(
        description="Always refused (USE_CHURNED): clients are never deleted, set the status to Churned instead."
    )
    async def delete_client(self, info: Info, client_id: relay.GlobalID) -> ClientPayload:
        async def work(session):
            return await client_records.delete_client(session, info.context.principal, client_id=0)

        _, errors = await run_mutation(info, work)
        return ClientPayload(client=None, errors=errors)

    @strawberry.mutation(description="A custom status (e.g. VIP, At Risk) in one lifecycle category.")
    async def create_client_status(self, info: Info, name: str, category: ClientCategory) -> ClientStatusPayload:
        async def work(session):
            return await client_records.create_client_status(
                session, info.context.principal, name=name, category=ClientCategoryModel(category)
            )

        status, errors = await run_mutation(info, work)
        return ClientStatusPayload(status=status, errors=errors)

    # ---- contacts
    @strawberry.mutation(
        description="A new contact on a client; the first one of a client without a primary becomes primary."
    )
    async def add_contact(
        self, info: Info, client_id: relay.GlobalID, input: ContactInput, make_primary: bool = False
    ) -> ContactPayload:
        async def work(session):
            return await contacts.add_contact(
                session,
                info.context.principal,
                client_id=decode_id(client_id, "Client", "clientId"),
                data=given(input),
                make_primary=make_primary,
            )

        contact, errors = await run_mutation(info, work)
        return ContactPayload(contact=contact, errors=errors)

    @strawberry.mutation(
        description="Link an existing contact that belongs to no client; a contact of another client is never moved."
    )
    async def link_contact(self, info: Info, contact_id: relay.GlobalID, client_id: relay.GlobalID) -> ContactPayload:
        async def work(session):
            return await contacts.link_contact(
                session,
                info.context.principal,
                contact_id=decode_id(contact_id, "Contact", "contactId"),
                client_id=decode_id(client_id, "Client", "clientId"),
            )

        contact, errors = await run_mutation(info, work)
        return ContactPayload(contact=contact, errors=errors)

    @strawberry.mutation(
        description="Make this contact its client's primary contact; the old one stops being primary, atomically."
    )
    async def set_primary_contact(self, info: Info, contact_id: relay.GlobalID) -> ContactPayload:
        async def work(session):
            return await contacts.set_primary_contact(
                session, info.context.principal, contact_id=decode_id(contact_id, "Contact", "contactId")
            )

        contact, errors = await run_mutation(info, work)
        return ContactPayload(contact=contact, errors=errors)

    @strawberry.mutation
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        async def work(session):
            contact_id = decode_id(input.contact_id, "Contact", "input.contactId")
            return await contacts.update_contact(
                session, info.context.principal, contact_id=contact_id, changes=given(input, skip=("contact_id",))
            )

        contact, errors = await run_mutation(info, work)
        return ContactPayload(contact=contact, errors=errors)

    # ---- projects and tasks
    @strawberry.mutation(description="A project for this client, with optional initial tasks, in one transaction.")
    async def create_project(self, info: Info, client_id: relay.GlobalID, input: CreateProjectInput) -> ProjectPayload:
        async def work(session):
            tasks = [
                given(t, ids={"assignee_id": ("User", f"input.tasks[{i}].assigneeId")})
                for i, t in enumerate(input.tasks or ())
            ]
            project, _ = await projects.create_project(
                session,
                info.context.principal,
                client_id=decode_id(client_id, "Client", "clientId"),
                data=given(input, skip=("tasks",)),
                tasks=tasks,
            )
            return project

        project, errors = await run_mutation(info, work)
        return ProjectPayload(project=project, errors=errors)

    @strawberry.mutation(description="Change a project's status, health or details.")
    async def update_project(self, info: Info, input: UpdateProjectInput) -> ProjectPayload:
        async def work(session):
            project_id = decode_id(input.project_id, "Project", "input.projectId")
            return await projects.update_project(
                session, info.context.principal, project_id=project_id, changes=given(input, skip=("project_id",))
            )

        project, errors = await run_mutation(info, work)
        return ProjectPayload(project=project, errors=errors)

    @strawberry.mutation
    async def create_task(self, info: Info, input: CreateTaskInput) -> TaskPayload:
        async def work(session):
            project_id = decode_id(input.project_id, "Project", "input.projectId")
            data = given(input, skip=("project_id",), ids={"assignee_id": ("User", "input.assigneeId")})
            return await projects.create_task(session, info.context.principal, project_id=project_id, data=data)

        task, errors = await run_mutation(info, work)
        return TaskPayload(task=task, errors=errors)

    @strawberry.mutation(
        description="Change a task's status, assignee or details. Staff only: a client never changes them."
    )
    async def update_task(self, info: Info, input: UpdateTaskInput) -> TaskPayload:
        async def work(session):
            task_id = decode_id(input.task_id, "Task", "input.taskId")
            changes = given(input, skip=("task_id",), ids={"assignee_id": ("User", "input.assigneeId")})
            return await projects.update_task(session, info.context.principal, task_id=task_id, changes=changes)

        task, errors = await run_mutation(info, work)
        return TaskPayload(task=task, errors=errors)

    # ---- comments
    @strawberry.mutation(
        description="Comment on a task or a project. `kind` has no default: REPLY (the client sees it) or NOTE "
        "(internal). A portal user may add REPLYs only, on its own visible tasks and projects."
    )
    async def add_comment(
        self,
        info: Info,
        kind: CommentKind,
        body: str,
        task_id: relay.GlobalID | None = None,
        project_id: relay.GlobalID | None = None,
    ) -> CommentPayload:
        async def work(session):
            return await comments.add_comment(
                session,
                info.context.principal,
                task_id=decode_id(task_id, "Task", "taskId"),
                project_id=decode_id(project_id, "Project", "projectId"),
                kind=CommentKindModel(kind),
                body=body,
            )

        comment, errors = await run_mutation(info, work)
        return CommentPayload(comment=comment, errors=errors)

    # ---- meetings, interactions, opportunities
    @strawberry.mutation(
        description="Book a meeting. A portal user books for its own client where booking is enabled "
        "(else BOOKING_DISABLED) and the meeting is REQUESTED; the team's bookings are CONFIRMED."
    )
    async def book_meeting(self, info: Info, input: BookMeetingInput) -> MeetingPayload:
        async def work(session):
            client_id = decode_id(input.client_id, "Client", "input.clientId")
            data = given(input, skip=("client_id",), ids={"staff_id": ("User", "input.staffId")})
            return await engagement.book_meeting(session, info.context.principal, client_id=client_id, data=data)

        meeting, errors = await run_mutation(info, work)
        return MeetingPayload(meeting=meeting, errors=errors)

    @strawberry.mutation(
        description="Confirm, cancel, complete or reschedule a meeting; COMPLETED and CANCELLED are final."
    )
    async def update_meeting(self, info: Info, input: UpdateMeetingInput) -> MeetingPayload:
        async def work(session):
            meeting_id = decode_id(input.meeting_id, "Meeting", "input.meetingId")
            changes = given(input, skip=("meeting_id",), ids={"staff_id": ("User", "input.staffId")})
            return await engagement.update_meeting(
                session, info.context.principal, meeting_id=meeting_id, changes=changes
            )

        meeting, errors = await run_mutation(info, work)
        return MeetingPayload(meeting=meeting, errors=errors)

    @strawberry.mutation(
        description="Log a call, e-mail, meeting or check-in; moves the client's last interaction date forward."
    )
    async def log_interaction(
        self,
        info: Info,
        client_id: relay.GlobalID,
        kind: InteractionKind,
        summary: str,
        occurred_at: dt.datetime,
        contact_id: relay.GlobalID | None = None,
    ) -> InteractionPayload:
        async def work(session):
            return await engagement.log_interaction(
                session,
                info.context.principal,
                client_id=decode_id(client_id, "Client", "clientId"),
                kind=InteractionKindModel(kind),
                summary=summary,
                occurred_at=occurred_at,
                contact_id=decode_id(contact_id, "Contact", "contactId"),
            )

        interaction, errors = await run_mutation(info, work)
        return InteractionPayload(interaction=interaction, errors=errors)

    @strawberry.mutation(description="An upsell or cross-sell opportunity on a client (staff only).")
    async def create_opportunity(
        self, info: Info, client_id: relay.GlobalID, input: CreateOpportunityInput
    ) -> OpportunityPayload:
        async def work(session):
            data = given(input, ids={"owner_id": ("User", "input.ownerId")})
            return await engagement.create_opportunity(
                session, info.context.principal, client_id=decode_id(client_id, "Client", "clientId"), data=data
            )

        opportunity, errors = await run_mutation(info, work)
        return OpportunityPayload(opportunity=opportunity, errors=errors)

    @strawberry.mutation(
        description="Move an opportunity through its stages or change its value; WON and LOST are final."
    )
    async def update_opportunity(self, info: Info, input: UpdateOpportunityInput) -> OpportunityPayload:
        async def work(session):
            opportunity_id = decode_id(input.opportunity_id, "Opportunity", "input.opportunityId")
            changes = given(input, skip=("opportunity_id",), ids={"owner_id": ("User", "input.ownerId")})
            return await engagement.update_opportunity(
                session, info.context.principal, opportunity_id=opportunity_id, changes=changes
            )

        opportunity, errors = await run_mutation(info, work)
        return OpportunityPayload(opportunity=opportunity, errors=errors)
