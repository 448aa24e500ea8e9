"""Clients, their statuses and contacts, and the leads that become clients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry import relay

import models
from models import ProjectStatus as ProjectStatusModel
from models.enums import (
    ClientCategory,
    ClientTier,
    ContactRole,
    LeadStage,
    ProjectStatus,
)
from schema.base import ModelNode
from schema.context import Info
from schema.partners.sync_types import external_id_field
from schema.people.types import User, load_user

if TYPE_CHECKING:
    from schema.billing.types import Invoice, Payment
    from schema.dashboard.health import ClientHealthScore
    from schema.engagement.types import ActivityConnection, Interaction, Meeting, Opportunity
    from schema.surveys.types import SatisfactionScore
    from schema.work.types import Project


@strawberry.type(description="A client status, built in or the agency's own, in one lifecycle category.")
class ClientStatus:
    id: strawberry.ID
    name: str
    category: ClientCategory
    is_builtin: bool


@strawberry.type(description="A person at a client.")
class Contact(ModelNode):
    __model__ = models.Contact
    __loader__ = "clients.contact"

    id: relay.NodeID[int]
    full_name: str
    email: str | None
    phone: str | None
    title: str | None
    is_primary: bool
    is_decision_maker: bool | None
    internal_notes: str | None = strawberry.field(description="For the team only; never shown to a portal user.")
    external_id: str | None = external_id_field(models.ChangeEntity.CONTACT)
    marketing_consent: bool | None = strawberry.field(
        description="Whether the contact agreed to receive marketing e-mail (setContactMarketingConsent); "
        "only contacts who did are in the marketing export."
    )
    marketing_consent_at: dt.datetime | None = strawberry.field(
        description="When the consent was recorded (the server's clock); null while there is none."
    )
    marketing_consent_source: str | None = strawberry.field(
        description="Where the consent was given (a sign-up form, a call, an event); null while there is none."
    )

    @strawberry.field(
        description="What they do for their client, in a fixed order (BILLING: whom overdue-invoice reminders "
        "are meant for)."
    )
    async def roles(self, info: Info) -> list[ContactRole]:
        return await info.context.loaders.clients.roles_by_contact.load(self.id)

    @strawberry.field(description="The contact of the same client they report to; null when none is recorded.")
    async def reports_to(self, info: Info) -> Contact | None:
        reports_to_id = self.reports_to_id  # type: ignore[attr-defined]
        return None if reports_to_id is None else await info.context.loaders.clients.contact.load(reports_to_id)

    @strawberry.field(description="The contacts who report to this one, by name.")
    async def direct_reports(self, info: Info) -> list[Contact]:
        return await info.context.loaders.clients.direct_reports_by_contact.load(self.id)

    @strawberry.field(description="Whether an active portal user signs in as this contact.")
    async def has_portal_access(self, info: Info) -> bool | None:
        return await info.context.loaders.people.portal_access_by_contact.load(self.id)

    @strawberry.field
    async def client(self, info: Info) -> Annotated[Client, strawberry.lazy("schema.clients.types")] | None:
        if self.client_id is None:  # type: ignore[attr-defined]
            return None
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]


@strawberry.type(description="A client company. Clients are never deleted: a finished relationship is Churned.")
class Client(ModelNode):
    __model__ = models.Client
    __loader__ = "clients.client"

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
    external_id: str | None = external_id_field(models.ChangeEntity.CLIENT)

    @strawberry.field
    async def status(self, info: Info) -> ClientStatus | None:
        return await info.context.loaders.clients.status.load(self.status_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def account_manager(self, info: Info) -> User | None:
        manager_id = self.account_manager_id  # type: ignore[attr-defined]
        return None if manager_id is None else await info.context.loaders.people.user.load(manager_id)

    @strawberry.field
    async def primary_contact(self, info: Info) -> Contact | None:
        return await info.context.loaders.clients.primary_contact_by_client.load(self.id)

    @strawberry.field
    async def contacts(self, info: Info) -> list[Contact]:
        return await info.context.loaders.clients.contacts_by_client.load(self.id)

    @strawberry.field(
        description="Who signs in to this client's portal: its portal users, revoked ones too (isActive), by name. "
        "Staff only."
    )
    async def portal_users(self, info: Info) -> list[User] | None:
        return await info.context.loaders.people.portal_users_by_client.load(self.id)

    @strawberry.field(description="The client's projects, past and present; optionally only some statuses.")
    async def projects(
        self, info: Info, status: list[ProjectStatus] | None = None
    ) -> list[Annotated[Project, strawberry.lazy("schema.work.types")]]:
        wanted = tuple(sorted({ProjectStatusModel(s) for s in status or ()}))
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[Project]", await info.context.loaders.work.projects_by_client.load((self.id, wanted)))

    @strawberry.field
    async def active_project_count(self, info: Info) -> int:
        return await info.context.loaders.work.active_project_count.load(self.id)

    @strawberry.field(description="Start date of the most recent project.")
    async def last_project_on(self, info: Info) -> dt.date | None:
        return await info.context.loaders.work.last_project_on.load(self.id)

    @strawberry.field(description="Billed on sent invoices and not yet received.")
    async def outstanding_amount(self, info: Info) -> Decimal | None:
        return await info.context.loaders.billing.outstanding_by_client.load(self.id)

    @strawberry.field(description="Revenue to date: every payment received from this client.")
    async def account_value(self, info: Info) -> Decimal | None:
        return await info.context.loaders.billing.revenue_by_client.load(self.id)

    @strawberry.field(
        description="Billable time and expenses not on an invoice yet: what the next invoice can pull in, before tax."
    )
    async def unbilled_amount(self, info: Info) -> Decimal | None:
        return await info.context.loaders.billing.unbilled_by_client.load(self.id)

    @strawberry.field
    async def invoices(self, info: Info) -> list[Annotated[Invoice, strawberry.lazy("schema.billing.types")]] | None:
        return await info.context.loaders.billing.invoices_by_client.load(self.id)

    @strawberry.field
    async def payments(self, info: Info) -> list[Annotated[Payment, strawberry.lazy("schema.billing.types")]] | None:
        # Model rows stand in for the GraphQL type (Strawberry reads fields by attribute).
        return cast("list[Payment]", await info.context.loaders.billing.payments_by_client.load(self.id))

    # Client workflows
    @strawberry.field(description="Upsell and cross-sell opportunities, newest first. Staff only.")
    async def opportunities(
        self, info: Info
    ) -> list[Annotated[Opportunity, strawberry.lazy("schema.engagement.types")]] | None:
        return await info.context.loaders.engagement.opportunities_by_client.load(self.id)

    @strawberry.field(description="Logged calls, e-mails, meetings and check-ins, newest first. Staff only.")
    async def interactions(
        self, info: Info
    ) -> list[Annotated[Interaction, strawberry.lazy("schema.engagement.types")]] | None:
        return await info.context.loaders.engagement.interactions_by_client.load(self.id)

    # Dashboard and reports
    @strawberry.field(description="Satisfaction scores (0-10, for NPS), latest answer first. Staff only.")
    async def satisfaction_scores(
        self, info: Info
    ) -> list[Annotated[SatisfactionScore, strawberry.lazy("schema.surveys.types")]] | None:
        return await info.context.loaders.surveys.scores_by_client.load(self.id)

    @strawberry.field(
        description="The custom health score (0-100), its band and the reasons behind it, over the rows the caller "
        "may see. Staff only."
    )
    async def health_score(
        self, info: Info
    ) -> Annotated[ClientHealthScore, strawberry.lazy("schema.dashboard.health")] | None:
        return await info.context.loaders.dashboard.health_score_by_client.load(self.id)  # type: ignore[no-any-return]

    @strawberry.field(description="Meetings, latest start first.")
    async def meetings(self, info: Info) -> list[Annotated[Meeting, strawberry.lazy("schema.engagement.types")]]:
        return await info.context.loaders.engagement.meetings_by_client.load(self.id)

    @strawberry.field(
        description="The activity feed, newest first (at most 100 a page); "
        "a client sees its client-visible entries only."
    )
    async def activity(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Annotated[ActivityConnection, strawberry.lazy("schema.engagement.types")]:
        from resolvers.pagination import page_size
        from schema.engagement.types import ActivityConnection

        page = await info.context.loaders.engagement.activity_page.load((self.id, page_size(first), after))
        return ActivityConnection.from_page(page)


@strawberry.type(
    description="A prospect in the sales pipeline, until it is Won and converted into a client. Staff only."
)
class Lead(ModelNode):
    __model__ = models.Lead
    __loader__ = "clients.lead"

    id: relay.NodeID[int]
    company_name: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    contact_title: str | None
    website: str | None
    industry: str | None
    stage: LeadStage | None
    estimated_value: Decimal | None
    source: str | None
    converted_at: dt.datetime | None = strawberry.field(description="When it became a client; null until converted.")
    created_at: dt.datetime | None

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        return await load_user(info, self.owner_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The client it was converted into.")
    async def converted_client(self, info: Info) -> Client | None:
        client_id = self.converted_client_id  # type: ignore[attr-defined]
        return None if client_id is None else await info.context.loaders.clients.client.load(client_id)
