"""Inputs and payloads of leads, clients, statuses and contacts.

Update inputs leave every field UNSET unless the caller sends it: an omitted field is left alone,
an explicit null clears it (where it may be empty at all).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import UNSET, relay

from models.enums import ClientCategory, ClientTier, ContactRole, LeadStage
from resolvers.clients.clients import ClientOrderField
from resolvers.pagination import SortDirection
from schema.clients.types import Client, ClientStatus, Contact, Lead
from schema.mutation_shape import payload

if TYPE_CHECKING:
    from schema.work.types import Project

_Project = Annotated["Project", strawberry.lazy("schema.work.types")]


@strawberry.input(description="Narrow the Clients list. Filters combine with AND.")
class ClientFilterInput:
    status_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Any of these statuses.")
    categories: list[ClientCategory] | None = strawberry.field(default=None, description="Any of these categories.")
    search: str | None = strawberry.field(default=None, description="Part of the company name, any case.")
    tiers: list[ClientTier] | None = strawberry.field(
        default=None, description="Any of these account tiers (staff only)."
    )


@strawberry.input(description="Narrow the contacts list. Filters combine with AND.")
class ContactFilterInput:
    search: str | None = strawberry.field(default=None, description="Part of the name or e-mail, any case.")
    client_id: relay.GlobalID | None = strawberry.field(default=None, description="One client's contacts.")
    unlinked: bool | None = strawberry.field(
        default=None,
        description="Only contacts that belong to no client (true: link one with linkContact) or only those that "
        "do (false).",
    )


@strawberry.input
class ClientOrder:
    field: ClientOrderField = ClientOrderField.NAME
    direction: SortDirection = SortDirection.ASC


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
    marketing_consent: bool = strawberry.field(
        default=False, description="They agreed to receive marketing e-mail: give marketingConsentSource too."
    )
    marketing_consent_source: str | None = strawberry.field(
        default=None, description="Where they agreed (a sign-up form, a call); required with marketingConsent."
    )
    roles: list[ContactRole] | None = strawberry.field(
        default=None, description="What they do for their client (several allowed)."
    )
    reports_to_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Another contact of the same client whom they report to."
    )


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
    confirm_duplicate_name: bool = strawberry.field(
        default=False, description="Create it even though another client carries the name (else DUPLICATE_NAME)."
    )


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
    confirm_duplicate_name: bool = strawberry.field(
        default=False, description="Rename it even though another client carries the name (else DUPLICATE_NAME)."
    )


@strawberry.input(description="Change a contact's details; the primary contact changes through setPrimaryContact.")
class UpdateContactInput:
    contact_id: relay.GlobalID
    full_name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    title: str | None = UNSET
    is_decision_maker: bool | None = UNSET
    internal_notes: str | None = UNSET
    roles: list[ContactRole] | None = strawberry.field(
        default=UNSET, description="The whole new set of roles; null or [] clears them."
    )
    reports_to_id: relay.GlobalID | None = strawberry.field(
        default=UNSET, description="Another contact of the same client; null: reports to nobody."
    )


@strawberry.input(
    description="Record a contact's consent to marketing e-mail (the server's time and the source), or withdraw it."
)
class SetContactMarketingConsentInput:
    contact_id: relay.GlobalID
    consent: bool = strawberry.field(description="True: consent given; false: withdrawn (clears the date and source).")
    source: str | None = strawberry.field(
        default=None, description="Where the consent was given; required with consent, at most 200 characters."
    )


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


@strawberry.type(
    description="Something to know about a mutation that succeeded: a code to branch on, a sentence, and the "
    "records it concerns (CLIENT_HAS_ACTIVE_PROJECTS: the client's active projects)."
)
class Warning:
    code: str
    message: str
    projects: list[_Project]


@payload
class SetClientStatusPayload:
    client: Client | None = None
    warnings: list[Warning] = strawberry.field(
        default_factory=list, description="Empty unless the change succeeded with something to know."
    )


@payload
class ClientStatusPayload:
    status: ClientStatus | None = None


@payload
class ContactPayload:
    contact: Contact | None = None
