"""Opportunities: upsell and new work with an existing client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from models import (
    ActivityKind,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
)
from models.base import utcnow
from resolvers.activity import record_activity
from resolvers.clients.contacts import locked_client
from resolvers.errors import InputError
from resolvers.lookup import staff_user_id, visible_row
from resolvers.validation import amount, required_text

CLOSED_STAGES = frozenset({OpportunityStage.WON, OpportunityStage.LOST})


async def create_opportunity(
    session: AsyncSession, principal: Principal, *, client_id: int, data: dict[str, Any]
) -> Opportunity:
    title = required_text("input.title", data.get("title"), 300)
    value = amount("input.value", data.get("value"))
    owner_id = await staff_user_id(session, data.get("owner_id") or principal.user_id, "input.ownerId")
    client = await locked_client(session, principal, client_id)
    assert client.id is not None
    opportunity = Opportunity(
        client_id=client.id,
        title=title,
        kind=data.get("kind") or OpportunityKind.UPSELL,
        stage=data.get("stage") or OpportunityStage.IDENTIFIED,
        value=value if value is not None else Decimal(0),
        expected_close_on=data.get("expected_close_on"),
        owner_id=owner_id,
    )
    session.add(opportunity)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.OPPORTUNITY_CHANGED,
        f"Opportunity {opportunity.title}: {opportunity.stage.value.lower()}",
        client_id=client.id,
        subject_type="Opportunity",
        subject_id=opportunity.id,
    )
    return opportunity


async def update_opportunity(
    session: AsyncSession, principal: Principal, *, opportunity_id: int, changes: dict[str, Any]
) -> Opportunity:
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    values: dict[str, Any] = {}
    if "title" in changes:
        values["title"] = required_text("input.title", changes["title"], 300)
    for key, label in (("kind", "kind"), ("stage", "stage"), ("value", "value")):
        if key in changes and changes[key] is None:
            raise InputError(f"input.{label}", "REQUIRED", f"{label} cannot be empty.")
    if "value" in changes:
        values["value"] = amount("input.value", changes["value"])
    for key in ("kind", "stage", "expected_close_on"):
        if key in changes:
            values[key] = changes[key]
    if "owner_id" in changes:
        values["owner_id"] = await staff_user_id(session, changes["owner_id"], "input.ownerId")
    opportunity = await visible_row(
        session, principal, Opportunity, opportunity_id, what="opportunity", field="input.opportunityId", lock=True
    )
    if opportunity.stage in CLOSED_STAGES:
        raise InputError(
            "input.opportunityId",
            "OPPORTUNITY_CLOSED",
            f"The opportunity is {opportunity.stage.value}; a closed opportunity is final.",
        )
    for key, value in values.items():
        setattr(opportunity, key, value)
    opportunity.updated_at = utcnow()
    record_activity(
        session,
        principal,
        ActivityKind.OPPORTUNITY_CHANGED,
        f"Opportunity {opportunity.title}: {opportunity.stage.value.lower()}",
        client_id=opportunity.client_id,
        subject_type="Opportunity",
        subject_id=opportunity.id,
    )
    await session.flush()
    return opportunity
