"""Roots of clients: the Clients list, one client, leads and their conversion, statuses, contacts (and the
contacts list across clients).

Each mutation is a business function in resolvers/clients/ and a declaration (schema.mutation_shape).
"""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry import relay

from models import LeadStage as LeadStageModel
from models.enums import ClientCategory, LeadStage
from resolvers.clients import clients, consent, contact_search, contacts, leads
from resolvers.clients.clients import ClientFilter, ClientOrderField, list_clients
from resolvers.pagination import SortDirection
from schema.clients.inputs import (
    ClientFilterInput,
    ClientOrder,
    ClientPayload,
    ClientStatusPayload,
    ContactFilterInput,
    ContactInput,
    ContactPayload,
    ConvertLeadPayload,
    CreateClientInput,
    CreateLeadInput,
    LeadPayload,
    SetClientStatusPayload,
    SetContactMarketingConsentInput,
    UpdateClientInput,
    UpdateContactInput,
    Warning,
)
from schema.clients.types import Client, ClientStatus, Contact, Lead
from schema.context import Info
from schema.ids import decode_id, lookup_id, plain_row_id
from schema.mutation_shape import CallArguments, given, mutation
from schema.pagination import Connection


def _client_filter(filter: ClientFilterInput | None) -> ClientFilter:
    if filter is None:
        return ClientFilter()
    status_ids = tuple(plain_row_id(s, "filter.statusIds", "Status") for s in filter.status_ids or ())
    return ClientFilter(
        status_ids=status_ids,
        categories=tuple(filter.categories or ()),
        search=filter.search,
        tiers=tuple(filter.tiers or ()),
    )


@strawberry.type
class ClientsQuery:
    @strawberry.field(
        description="The Clients list: filtered, searched, ordered, cursor-paginated (at most 100 a page)."
    )
    async def clients(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ClientFilterInput | None = None,
        order_by: ClientOrder | None = None,
    ) -> Connection[Client] | None:
        order = order_by or ClientOrder()
        page = await list_clients(
            info.context.db,
            info.context.principal,
            filters=_client_filter(filter),
            order_by=ClientOrderField(order.field),
            direction=SortDirection(order.direction),
            first=first,
            after=after,
        )
        return Connection[Client].from_page(page)

    @strawberry.field(
        description="Contacts across clients, by name: search by name or e-mail, one client's, or the unlinked "
        "ones (to link with linkContact); cursor-paginated (at most 100 a page). A portal user lists its own "
        "client's contacts."
    )
    async def contacts(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ContactFilterInput | None = None,
    ) -> Connection[Contact] | None:
        filters = contact_search.ContactFilter()
        if filter is not None:
            filters = contact_search.ContactFilter(
                search=filter.search,
                client_id=decode_id(filter.client_id, "Client", "filter.clientId"),
                unlinked=filter.unlinked,
            )
        page = await contact_search.search_contacts(
            info.context.db, info.context.principal, filters=filters, first=first, after=after
        )
        return Connection[Contact].from_page(page)

    @strawberry.field(description="One client by its global id; null when there is none the caller may see.")
    async def client(self, info: Info, id: relay.GlobalID) -> Client | None:
        client_id = lookup_id(id, "Client")
        return None if client_id is None else await info.context.loaders.clients.client.load(client_id)

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
        page = await leads.list_leads(
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
        return cast("list[ClientStatus]", await clients.list_client_statuses(info.context.db))


@strawberry.type
class ClientsMutation:
    # ---- leads and clients
    @mutation(
        leads.create_lead,
        LeadPayload,
        ids={"owner_id": "User"},
        description="Add a lead to the sales pipeline.",
    )
    def create_lead(self, info: Info, input: CreateLeadInput) -> CallArguments:
        return dict(data=given(input))

    @mutation(
        leads.update_lead_stage,
        LeadPayload,
        ids={"lead_id": "Lead"},
        description="Move a lead through the pipeline; a converted lead's stage is final.",
    )
    def update_lead_stage(self, info: Info, lead_id: relay.GlobalID, stage: LeadStage) -> CallArguments:
        return dict(lead_id=lead_id, stage=stage)

    @mutation(
        leads.convert_lead,
        ConvertLeadPayload,
        ids={"lead_id": "Lead"},
        description="Convert a Won lead into an Active client with its primary contact, in one transaction. "
        "A second conversion is refused (ALREADY_CONVERTED).",
    )
    def convert_lead(self, info: Info, lead_id: relay.GlobalID, confirm_duplicate_name: bool = False) -> CallArguments:
        return dict(lead_id=lead_id, confirm_duplicate_name=confirm_duplicate_name)

    @mutation(
        clients.create_client,
        ClientPayload,
        ids={"account_manager_id": "User", "reports_to_id": "Contact"},
        result=lambda _info, created: ClientPayload(client=created[0]),
        description="Create a client directly, with its primary contact; its status is Active.",
    )
    def create_client(self, info: Info, input: CreateClientInput) -> CallArguments:
        return dict(data=given(input, skip=("primary_contact",)), contact=given(input.primary_contact))

    @mutation(
        clients.update_client,
        ClientPayload,
        ids={"client_id": "Client", "account_manager_id": "User"},
        description="Change company details, tier, account manager, payment terms, notes and portal switches.",
    )
    def update_client(self, info: Info, input: UpdateClientInput) -> CallArguments:
        return dict(client_id=input.client_id, changes=given(input, skip=("client_id",)))

    @mutation(
        clients.set_client_status,
        SetClientStatusPayload,
        ids={"client_id": "Client"},
        result=lambda _info, done: SetClientStatusPayload(
            client=done[0],
            warnings=[Warning(code=n.code, message=n.message, projects=list(n.projects)) for n in done[1]],  # type: ignore[misc]
        ),
        description="Set a built-in or custom status. Back to an Active-category status is a reactivation. "
        "A Churned-category status while the client has active projects succeeds with the warning "
        "CLIENT_HAS_ACTIVE_PROJECTS listing them.",
    )
    def set_client_status(self, info: Info, client_id: relay.GlobalID, status_id: strawberry.ID) -> CallArguments:
        return dict(client_id=client_id, status_id=plain_row_id(status_id, "statusId", "Status"))

    @mutation(
        clients.reactivate_client,
        ClientPayload,
        ids={"client_id": "Client"},
        description="An On Hold or Churned client returns: its status becomes Active, and the feed says so.",
    )
    def reactivate_client(self, info: Info, client_id: relay.GlobalID) -> CallArguments:
        return dict(client_id=client_id)

    @mutation(
        clients.delete_client,
        ClientPayload,
        ids={"client_id": "Client"},
        description="Always refused (USE_CHURNED): clients are never deleted, set the status to Churned instead.",
    )
    def delete_client(self, info: Info, client_id: relay.GlobalID) -> CallArguments:
        return dict(client_id=client_id)

    @mutation(
        clients.create_client_status,
        ClientStatusPayload,
        description="A custom status (e.g. VIP, At Risk) in one lifecycle category.",
    )
    def create_client_status(self, info: Info, name: str, category: ClientCategory) -> CallArguments:
        return dict(name=name, category=category)

    # ---- contacts
    @mutation(
        contacts.add_contact,
        ContactPayload,
        ids={"client_id": "Client", "reports_to_id": "Contact"},
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

    @mutation(contacts.update_contact, ContactPayload, ids={"contact_id": "Contact", "reports_to_id": "Contact"})
    def update_contact(self, info: Info, input: UpdateContactInput) -> CallArguments:
        return dict(contact_id=input.contact_id, changes=given(input, skip=("contact_id",)))

    @mutation(
        consent.set_marketing_consent,
        ContactPayload,
        ids={"contact_id": "Contact"},
        description="Record a contact's consent to marketing e-mail with its source (the time is the server's), "
        "or withdraw it (clears the date and source). Only contacts who consented are in the marketing export.",
    )
    def set_contact_marketing_consent(self, info: Info, input: SetContactMarketingConsentInput) -> CallArguments:
        return dict(contact_id=input.contact_id, consent=input.consent, source=input.source)
