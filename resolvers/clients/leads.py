"""Client records: leads and their conversion, creating and editing clients, statuses.

Decisions the guide leaves open (also in the README):
- A lead converts only once it is Won (`updateLeadStage` first, as in the guide: "Change
  Status to Won, then Convert"). Conversion is one transaction: the client (status Active,
  became client today, company details and owner as account manager from the lead), its
  primary contact from the lead's contact fields, the lead marked converted, and two
  activity entries (LEAD_CONVERTED, CLIENT_CREATED). A second conversion is refused with
  ALREADY_CONVERTED; the lead row is locked and marked with a conditional UPDATE
  (`WHERE converted_client_id IS NULL`), so two concurrent conversions create one client.
- A converted lead's stage is frozen (ALREADY_CONVERTED).
- Clients are never deleted: `deleteClient` is always refused with USE_CHURNED.
- A status change to an Active-category status from an On Hold or Churned one is a
  reactivation and is logged CLIENT_REACTIVATED; any other change STATUS_CHANGED.
  Setting the status a client already has is refused (UNCHANGED).
- A caller may not write a field it may not read: payment terms (FINANCE) and the portal
  cost switch (INTERNAL, but it decides who sees COST) are for ADMIN and MANAGER only.
- Leads have no activity kind of their own: a stage change is logged STATUS_CHANGED with
  subject Lead, and a new custom status STATUS_CHANGED with subject ClientStatus.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import lead_scope
from models import ActivityKind, Client, Contact, Lead, LeadStage, Role, User
from models.base import utcnow
from models.clients import STATUS_ACTIVE
from resolvers.activity import record_activity
from resolvers.clients.clients import refuse_duplicate_name
from resolvers.clients.contacts import clean_contact
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound
from resolvers.lookup import staff_user_id
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.validation import (
    amount,
    optional_email,
    optional_text,
    optional_url,
    required_text,
)


async def list_leads(
    db: RequestDb,
    principal: Principal,
    *,
    stages: tuple[LeadStage, ...],
    converted: bool | None,
    first: int | None,
    after: str | None,
) -> Page[Lead]:
    """Newest first. `converted`: only converted (True) or not yet converted (False) leads."""
    statement = sa.select(Lead).where(lead_scope(principal))
    if stages:
        statement = statement.where(col(Lead.stage).in_(stages))
    if converted is not None:
        statement = statement.where(
            col(Lead.converted_client_id).is_not(None) if converted else col(Lead.converted_client_id).is_(None)
        )
    return await keyset_page(
        db,
        statement,
        key=SortKey(col(Lead.created_at), "datetime"),
        id_column=col(Lead.id),
        direction=SortDirection.DESC,
        first=first,
        after=after,
    )


async def _lead(session: AsyncSession, principal: Principal, lead_id: int) -> Lead:
    lead = await session.scalar(sa.select(Lead).where(col(Lead.id) == lead_id, lead_scope(principal)).with_for_update())
    if lead is None:
        raise NotFound("lead", field="leadId")
    return lead


async def create_lead(session: AsyncSession, principal: Principal, *, data: dict[str, Any]) -> Lead:
    lead = Lead(
        company_name=required_text("input.companyName", data.get("company_name"), 200),
        contact_name=optional_text("input.contactName", data.get("contact_name"), 200),
        contact_email=optional_email("input.contactEmail", data.get("contact_email")),
        contact_phone=optional_text("input.contactPhone", data.get("contact_phone"), 50),
        contact_title=optional_text("input.contactTitle", data.get("contact_title"), 120),
        website=optional_url("input.website", data.get("website")),
        industry=optional_text("input.industry", data.get("industry"), 120),
        stage=data.get("stage") or LeadStage.NEW,
        estimated_value=amount("input.estimatedValue", data.get("estimated_value")),
        source=optional_text("input.source", data.get("source"), 120),
        owner_id=await staff_user_id(session, data.get("owner_id") or principal.user_id, "input.ownerId"),
    )
    session.add(lead)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.STATUS_CHANGED,
        f"Lead {lead.company_name} added ({lead.stage.value.lower()})",
        client_id=None,
        subject_type="Lead",
        subject_id=lead.id,
    )
    return lead


async def update_lead_stage(session: AsyncSession, principal: Principal, *, lead_id: int, stage: LeadStage) -> Lead:
    lead = await _lead(session, principal, lead_id)
    if lead.converted_client_id is not None:
        raise InputError("leadId", "ALREADY_CONVERTED", "This lead is already a client; its stage is final.")
    if lead.stage is stage:
        raise InputError("stage", "UNCHANGED", f"The lead is already {stage.value}.")
    before = lead.stage
    lead.stage = stage
    record_activity(
        session,
        principal,
        ActivityKind.STATUS_CHANGED,
        f"Lead {lead.company_name}: {before.value.lower()} to {stage.value.lower()}",
        client_id=None,
        subject_type="Lead",
        subject_id=lead.id,
    )
    await session.flush()
    return lead


async def convert_lead(
    session: AsyncSession, principal: Principal, *, lead_id: int, confirm_duplicate_name: bool = False
) -> tuple[Client, Contact, Lead]:
    """A Won lead becomes a client with its primary contact, in this one transaction. A company
    name another client carries answers DUPLICATE_NAME unless confirmed (resolvers.clients.clients)."""
    lead = await _lead(session, principal, lead_id)
    if lead.converted_client_id is not None:
        raise InputError("leadId", "ALREADY_CONVERTED", "This lead was already converted into a client.")
    if lead.stage is not LeadStage.WON:
        raise InputError(
            "leadId",
            "LEAD_NOT_WON",
            f"Only a Won lead converts; this one is {lead.stage.value}. Set its stage to WON first.",
        )
    if not (lead.contact_name or "").strip():
        raise InputError(
            "leadId", "LEAD_HAS_NO_CONTACT", "The lead has no contact name to make the primary contact; add one first."
        )
    contact_values = clean_contact(
        "leadId",
        {
            "full_name": lead.contact_name,
            "email": lead.contact_email,
            "phone": lead.contact_phone,
            "title": lead.contact_title,
            # The person who signed the deal: the guide's primary contact "is the main decision maker".
            "is_decision_maker": True,
        },
    )
    now = utcnow()
    owner = await session.get(User, lead.owner_id) if lead.owner_id else None
    name = required_text("leadId", lead.company_name, 200)
    await refuse_duplicate_name(session, principal, name, "leadId", confirmed=confirm_duplicate_name)
    client = Client(
        name=name,
        website=lead.website,
        industry=lead.industry,
        status_id=STATUS_ACTIVE,
        became_client_on=now.date(),
        account_manager_id=owner.id
        if owner is not None and owner.is_active and owner.role is not Role.CLIENT
        else None,
    )
    session.add(client)
    await session.flush()
    contact = Contact(client_id=client.id, is_primary=True, **contact_values)
    session.add(contact)
    # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult (rowcount).
    result = cast(
        CursorResult[Any],
        await session.execute(
            sa.update(Lead)
            .where(col(Lead.id) == lead.id, col(Lead.converted_client_id).is_(None))
            .values(converted_client_id=client.id, converted_at=now)
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount != 1:
        raise InputError("leadId", "ALREADY_CONVERTED", "This lead was already converted into a client.")
    record_activity(
        session,
        principal,
        ActivityKind.LEAD_CONVERTED,
        f"Won lead {lead.company_name} converted into a client",
        client_id=client.id,
        subject_type="Lead",
        subject_id=lead.id,
    )
    record_activity(
        session,
        principal,
        ActivityKind.CLIENT_CREATED,
        f"Client {client.name} created from a won lead",
        client_id=client.id,
        subject_type="Client",
        subject_id=client.id,
    )
    await session.flush()
    await session.refresh(lead)
    return client, contact, lead
