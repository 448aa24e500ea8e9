"""convertOpportunity: an opportunity becomes a project of its client in one transaction.

On SQLite and PostgreSQL: the values that come back and are stored, the defaults (the title, the
value), the refusals that write nothing (LOST, already converted, bad input, a MEMBER's budget),
and who may call it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from models import Activity, ActivityKind, Opportunity, OpportunityStage, Project, Role
from tests.factories import PASSWORD
from tests.partners.support import access_token, register
from tests.utils import SIDE_TABLES, codes, count, counts, get, gid, mutate, raw_id, refused_by_policy, staff

CONVERT = """mutation($input: ConvertOpportunityInput!) { convertOpportunity(input: $input) {
  opportunity { id stage project { id name } }
  project { id name description startDate endDate budget status client { name } }
  errors { field code message } } }"""
CONVERT_PLAIN = """mutation($input: ConvertOpportunityInput!) { convertOpportunity(input: $input) {
  opportunity { stage } project { id name status } errors { field code message } } }"""
OPPORTUNITY = """query($id: ID!) { node(id: $id) { ... on Opportunity { stage project { name } } } }"""


async def _opportunity(factory, client, **kw) -> Opportunity:
    kw.setdefault("title", "Website redesign")
    kw.setdefault("value", Decimal("12000.00"))
    return await factory.add(Opportunity(client_id=client.id, **kw))


async def _written(db) -> dict[str, int]:
    return {
        **await counts(db, Project, *SIDE_TABLES),
        "won": await count(db, Opportunity, Opportunity.stage == OpportunityStage.WON),
        "linked": await count(db, Opportunity, col(Opportunity.project_id).is_not(None)),
    }


async def test_a_manager_converts_an_opportunity_into_a_project_with_the_defaults(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client("Northwind")
    opportunity = await _opportunity(factory, client, stage=OpportunityStage.PROPOSED)
    payload = await mutate(
        api, CONVERT, {"input": {"opportunityId": gid("Opportunity", opportunity)}}, token, "convertOpportunity"
    )
    assert payload["errors"] == []
    project = payload["project"]
    assert project["name"] == "Website redesign"
    assert project["budget"] == "12000.00"
    assert project["status"] == "ACTIVE"
    assert project["client"] == {"name": "Northwind"}
    assert payload["opportunity"]["stage"] == "WON"
    assert payload["opportunity"]["project"] == {"id": project["id"], "name": "Website redesign"}
    stored = await get(db, Opportunity, opportunity.id)
    assert stored.stage is OpportunityStage.WON
    assert stored.project_id == raw_id(project["id"])
    row = await get(db, Project, raw_id(project["id"]))
    assert (row.client_id, row.budget) == (client.id, Decimal("12000.00"))
    # The same feed entry as createProject, and the opportunity's own.
    kinds = {a.kind for a in (await _activities(db, client.id))}
    assert {ActivityKind.PROJECT_CREATED, ActivityKind.OPPORTUNITY_CHANGED} <= kinds
    body = await api.data(OPPORTUNITY, {"id": gid("Opportunity", opportunity)}, token)
    assert body["node"] == {"stage": "WON", "project": {"name": "Website redesign"}}


async def _activities(db, client_id: int) -> list[Activity]:
    async with db() as session:
        return list(await session.scalars(sa.select(Activity).where(col(Activity.client_id) == client_id)))


async def test_given_values_win_over_the_defaults(api, factory, db):
    _, token = await staff(api, factory, Role.ADMIN)
    client = await factory.client()
    opportunity = await _opportunity(factory, client)
    variables = {
        "input": {
            "opportunityId": gid("Opportunity", opportunity),
            "name": "Redesign, phase 1",
            "description": "Home and product pages",
            "startDate": "2027-01-04",
            "endDate": "2027-03-31",
            "budget": "9000.50",
        }
    }
    payload = await mutate(api, CONVERT, variables, token, "convertOpportunity")
    assert payload["errors"] == []
    assert {k: payload["project"][k] for k in ("name", "description", "startDate", "endDate", "budget")} == {
        "name": "Redesign, phase 1",
        "description": "Home and product pages",
        "startDate": "2027-01-04",
        "endDate": "2027-03-31",
        "budget": "9000.50",
    }
    row = await get(db, Project, raw_id(payload["project"]["id"]))
    assert (row.start_date, row.budget) == (dt.date(2027, 1, 4), Decimal("9000.50"))


async def test_a_won_opportunity_not_yet_converted_converts(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    opportunity = await _opportunity(factory, await factory.client(), stage=OpportunityStage.WON)
    payload = await mutate(
        api, CONVERT_PLAIN, {"input": {"opportunityId": gid("Opportunity", opportunity)}}, token, "convertOpportunity"
    )
    assert payload["errors"] == [] and payload["project"]["name"] == "Website redesign"


async def test_a_lost_opportunity_is_refused_and_nothing_is_written(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    opportunity = await _opportunity(factory, await factory.client(), stage=OpportunityStage.LOST)
    before = await _written(db)
    payload = await mutate(
        api, CONVERT_PLAIN, {"input": {"opportunityId": gid("Opportunity", opportunity)}}, token, "convertOpportunity"
    )
    assert codes(payload) == ["OPPORTUNITY_CLOSED"]
    assert payload["errors"][0]["field"] == "input.opportunityId"
    assert payload["project"] is None and payload["opportunity"] is None
    assert await _written(db) == before
    assert (await get(db, Opportunity, opportunity.id)).stage is OpportunityStage.LOST


async def test_a_second_conversion_is_refused_and_nothing_is_written(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    opportunity = await _opportunity(factory, await factory.client())
    variables = {"input": {"opportunityId": gid("Opportunity", opportunity)}}
    first = await mutate(api, CONVERT_PLAIN, variables, token, "convertOpportunity")
    assert first["errors"] == []
    before = await _written(db)
    again = await mutate(api, CONVERT_PLAIN, variables, token, "convertOpportunity")
    assert codes(again) == ["ALREADY_CONVERTED"]
    assert await _written(db) == before
    assert (await get(db, Opportunity, opportunity.id)).project_id == raw_id(first["project"]["id"])


async def test_bad_project_input_rolls_the_opportunity_back(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    opportunity = await _opportunity(factory, await factory.client())
    before = await _written(db)
    variables = {
        "input": {"opportunityId": gid("Opportunity", opportunity), "startDate": "2027-02-01", "endDate": "2027-01-01"}
    }
    payload = await mutate(api, CONVERT_PLAIN, variables, token, "convertOpportunity")
    assert payload["errors"] and payload["project"] is None
    blank = await mutate(
        api,
        CONVERT_PLAIN,
        {"input": {"opportunityId": gid("Opportunity", opportunity), "name": "  "}},
        token,
        "convertOpportunity",
    )
    assert [(e["field"], e["code"]) for e in blank["errors"]] == [("input.name", "REQUIRED")]
    missing = await mutate(
        api, CONVERT_PLAIN, {"input": {"opportunityId": gid("Opportunity", 9999)}}, token, "convertOpportunity"
    )
    assert codes(missing) == ["NOT_FOUND"]
    assert await _written(db) == before
    assert (await get(db, Opportunity, opportunity.id)).stage is OpportunityStage.IDENTIFIED


async def test_a_member_converts_without_a_budget_and_may_not_give_one(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    opportunity = await _opportunity(factory, await factory.client())
    before = await _written(db)
    await refused_by_policy(
        api,
        CONVERT_PLAIN,
        {"input": {"opportunityId": gid("Opportunity", opportunity), "budget": "10.00"}},
        token,
        "convertOpportunity",
    )
    assert await _written(db) == before
    payload = await mutate(
        api, CONVERT_PLAIN, {"input": {"opportunityId": gid("Opportunity", opportunity)}}, token, "convertOpportunity"
    )
    assert payload["errors"] == []
    # The opportunity's value is not carried into a budget the MEMBER could not have set.
    assert (await get(db, Project, raw_id(payload["project"]["id"]))).budget is None


async def test_portal_users_and_partners_may_not_convert(api, factory, db):
    client = await factory.client()
    opportunity = await _opportunity(factory, client)
    variables = {"input": {"opportunityId": gid("Opportunity", opportunity)}}
    portal_user = await factory.portal_user(client)
    portal_token = await api.login(portal_user.email, PASSWORD)
    app = await register(db, clients=[client])
    partner_token = await access_token(api.client, app)
    before = await _written(db)
    for token in (portal_token, partner_token):
        await refused_by_policy(api, CONVERT_PLAIN, variables, token, "convertOpportunity")
    assert await _written(db) == before


async def test_opportunity_project_is_staff_only(api, factory, db):
    client = await factory.client()
    opportunity = await _opportunity(factory, client)
    _, token = await staff(api, factory, Role.MANAGER)
    await mutate(
        api, CONVERT_PLAIN, {"input": {"opportunityId": gid("Opportunity", opportunity)}}, token, "convertOpportunity"
    )
    _, member = await staff(api, factory, Role.MEMBER)
    body = await api.data(OPPORTUNITY, {"id": gid("Opportunity", opportunity)}, member)
    assert body["node"] == {"stage": "WON", "project": {"name": "Website redesign"}}
    portal_user = await factory.portal_user(client)
    portal_token = await api.login(portal_user.email, PASSWORD)
    answer = await api.post(OPPORTUNITY, {"id": gid("Opportunity", opportunity)}, portal_token)
    assert (answer.get("data") or {}).get("node") is None
