"""Clients, their statuses and contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry import relay

import models
from models import ProjectStatus as ProjectStatusModel
from schema.context import Info
from schema.types.base import ModelNode
from schema.types.enums import ClientCategory, ClientTier, ProjectStatus
from schema.types.people import User

if TYPE_CHECKING:
    from schema.types.billing import Invoice, Payment
    from schema.types.engagement import ActivityConnection, Interaction, Meeting, Opportunity
    from schema.types.surveys import SatisfactionScore
    from schema.types.work import Project


@strawberry.type(description="A client status, built in or the agency's own, in one lifecycle category.")
class ClientStatus:
    id: strawberry.ID
    name: str
    category: ClientCategory
    is_builtin: bool


@strawberry.type(description="A person at a client.")
class Contact(ModelNode):
    __model__ = models.Contact
    __loader__ = "contact"

    id: relay.NodeID[int]
    full_name: str
    email: str | None
    phone: str | None
    title: str | None
    is_primary: bool
    is_decision_maker: bool | None
    internal_notes: str | None = strawberry.field(description="For the team only; never shown to a portal user.")

    @strawberry.field(description="Whether an active portal user signs in as this contact.")
    async def has_portal_access(self, info: Info) -> bool | None:
        return await info.context.loaders.workflow.portal_access_by_contact.load(self.id)

    @strawberry.field
    async def client(self, info: Info) -> Annotated[Client, strawberry.lazy("schema.types.clients")] | None:
        if self.client_id is None:  # type: ignore[attr-defined]
            return None
        return await info.context.loaders.client.load(self.client_id)  # type: ignore[attr-defined]


@strawberry.type(description="A client company. Clients are never deleted: a finished relationship is Churned.")
class Client(ModelNode):
    __model__ = models.Client
    __loader__ = "client"

    id: relay.NodeID[int]
    name: str
    logo_url: str | None
    website: str | None
    billing_address: str | None
    industry: str | None
    tier: ClientTier | None
    payment_terms_days: int | None = strawberry.field(description="Days until an invoice is due.")
    became_client_on: dt.date | None
    internal_notes: str | None = strawberry.field(description="Notes and context for the team.")
    show_costs_in_portal: bool | None
    portal_booking_enabled: bool
    last_interaction_at: dt.datetime | None
    created_at: dt.datetime

    @strawberry.field
    async def status(self, info: Info) -> ClientStatus | None:
        return await info.context.loaders.status.load(self.status_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def account_manager(self, info: Info) -> User | None:
        manager_id = self.account_manager_id  # type: ignore[attr-defined]
        return None if manager_id is None else await info.context.loaders.user.load(manager_id)

    @strawberry.field
    async def primary_contact(self, info: Info) -> Contact | None:
        return await info.context.loaders.primary_contact_by_client.load(self.id)

    @strawberry.field
    async def contacts(self, info: Info) -> list[Contact]:
        return await info.context.loaders.contacts_by_client.load(self.id)

    @strawberry.field(description="The client's projects, past and present; optionally only some statuses.")
    async def projects(
        self, info: Info, status: list[ProjectStatus] | None = None
    ) -> list[Annotated[Project, strawberry.lazy("schema.types.work")]]:
        wanted = tuple(sorted({ProjectStatusModel(s) for s in status or ()}))
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[Project]", await info.context.loaders.projects_by_client.load((self.id, wanted)))

    @strawberry.field
    async def active_project_count(self, info: Info) -> int:
        return await info.context.loaders.active_project_count.load(self.id)

    @strawberry.field(description="Start date of the most recent project.")
    async def last_project_on(self, info: Info) -> dt.date | None:
        return await info.context.loaders.last_project_on.load(self.id)

    @strawberry.field(description="Billed on sent invoices and not yet received.")
    async def outstanding_amount(self, info: Info) -> Decimal | None:
        return await info.context.loaders.outstanding_by_client.load(self.id)

    @strawberry.field(description="Revenue to date: every payment received from this client.")
    async def account_value(self, info: Info) -> Decimal | None:
        return await info.context.loaders.revenue_by_client.load(self.id)

    @strawberry.field(
        description="Billable time and expenses not on an invoice yet: what the next invoice can pull in, before tax."
    )
    async def unbilled_amount(self, info: Info) -> Decimal | None:
        return await info.context.loaders.billing.unbilled_by_client.load(self.id)

    @strawberry.field
    async def invoices(self, info: Info) -> list[Annotated[Invoice, strawberry.lazy("schema.types.billing")]] | None:
        return await info.context.loaders.invoices_by_client.load(self.id)

    @strawberry.field
    async def payments(self, info: Info) -> list[Annotated[Payment, strawberry.lazy("schema.types.billing")]] | None:
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[Payment]", await info.context.loaders.payments_by_client.load(self.id))

    # Client workflows
    @strawberry.field(description="Upsell and cross-sell opportunities, newest first. Staff only.")
    async def opportunities(
        self, info: Info
    ) -> list[Annotated[Opportunity, strawberry.lazy("schema.types.engagement")]] | None:
        return await info.context.loaders.workflow.opportunities_by_client.load(self.id)

    @strawberry.field(description="Logged calls, e-mails, meetings and check-ins, newest first. Staff only.")
    async def interactions(
        self, info: Info
    ) -> list[Annotated[Interaction, strawberry.lazy("schema.types.engagement")]] | None:
        return await info.context.loaders.workflow.interactions_by_client.load(self.id)

    # Dashboard and reports
    @strawberry.field(description="Satisfaction scores (0-10, for NPS), latest answer first. Staff only.")
    async def satisfaction_scores(
        self, info: Info
    ) -> list[Annotated[SatisfactionScore, strawberry.lazy("schema.types.surveys")]] | None:
        return await info.context.loaders.surveys.scores_by_client.load(self.id)

    @strawberry.field(description="Meetings, latest start first.")
    async def meetings(self, info: Info) -> list[Annotated[Meeting, strawberry.lazy("schema.types.engagement")]]:
        return await info.context.loaders.workflow.meetings_by_client.load(self.id)

    @strawberry.field(
        description="The activity feed, newest first (at most 100 a page); "
        "a client sees its client-visible entries only."
    )
    async def activity(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Annotated[ActivityConnection, strawberry.lazy("schema.types.engagement")]:
        from resolvers.pagination import page_size
        from schema.types.engagement import ActivityConnection

        page = await info.context.loaders.workflow.activity_page.load((self.id, page_size(first), after))
        return ActivityConnection.from_page(page)
