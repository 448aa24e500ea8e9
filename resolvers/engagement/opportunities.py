"""Opportunities: upsell and new work with an existing client.

convertOpportunity turns an opportunity into a project of its client in one transaction, through
the same business function as createProject (resolvers.work.projects.create_project: the same
checks, activity and notifications), and marks it WON with the project it became. Decisions:
- any opportunity not LOST and not yet converted converts, a WON one included (won by hand
  before the project was set up); LOST answers OPPORTUNITY_CLOSED, a converted one
  ALREADY_CONVERTED (the unique index on opportunity.project_id backs the check);
- the project's name defaults to the opportunity's title and its budget to the opportunity's
  value, but only for a caller who may set a budget (auth.policy decide_write Project.budget):
  a MEMBER's conversion leaves the budget empty for a leader to set, as createProject would.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import decide_write
from auth.principal import Principal
from models import (
    ActivityKind,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    Project,
)
from models.base import utcnow
from resolvers.activity import record_activity
from resolvers.clients.contacts import locked_client
from resolvers.errors import InputError
from resolvers.lookup import staff_user_id, visible_row
from resolvers.validation import amount, required_text
from resolvers.work.projects import create_project

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


async def convert_opportunity(
    session: AsyncSession, principal: Principal, *, opportunity_id: int, data: dict[str, Any]
) -> tuple[Opportunity, Project]:
    """An open opportunity becomes a project of its client; the opportunity is WON and records it."""
    opportunity = await visible_row(
        session, principal, Opportunity, opportunity_id, what="opportunity", field="input.opportunityId", lock=True
    )
    if opportunity.project_id is not None:
        raise InputError(
            "input.opportunityId", "ALREADY_CONVERTED", "This opportunity was already converted into a project."
        )
    if opportunity.stage is OpportunityStage.LOST:
        raise InputError(
            "input.opportunityId",
            "OPPORTUNITY_CLOSED",
            "The opportunity is LOST; a lost opportunity does not become a project.",
        )
    project_data = dict(data)
    if project_data.get("name") is None:
        project_data["name"] = opportunity.title
    if project_data.get("budget") is None and decide_write("Project", "budget", principal.policy_key).allowed:
        project_data["budget"] = opportunity.value
    project, _tasks = await create_project(
        session, principal, client_id=opportunity.client_id, data=project_data, tasks=[]
    )
    opportunity.project_id = project.id
    opportunity.stage = OpportunityStage.WON
    opportunity.updated_at = utcnow()
    record_activity(
        session,
        principal,
        ActivityKind.OPPORTUNITY_CHANGED,
        f"Opportunity {opportunity.title}: won, became project {project.name}",
        client_id=opportunity.client_id,
        subject_type="Opportunity",
        subject_id=opportunity.id,
    )
    await session.flush()
    return opportunity, project
