"""Adding clients: converting a Won lead, creating a client directly, the leads pipeline."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from models import Activity, ActivityKind, Client, Contact, Lead, LeadStage, Role
from models.base import utcnow
from tests.utils import (
    SIDE_TABLES,
    codes,
    count,
    counts,
    get,
    gid,
    mutate,
    portal,
    raw_id,
    refused_by_policy,
    rows,
    staff,
)

CONVERT = """
mutation($id: ID!) { convertLead(leadId: $id) {
  client { id name website industry becameClientOn status { name category } accountManager { fullName }
           primaryContact { fullName email phone title isPrimary isDecisionMaker } }
  primaryContact { id fullName }
  lead { id stage convertedAt convertedClient { id } }
  errors { field code message }
} }"""

STAGE = """
mutation($id: ID!, $stage: LeadStage!) { updateLeadStage(leadId: $id, stage: $stage) {
  lead { stage } errors { field code message } } }"""

CREATE_CLIENT = """
mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id name tier paymentTermsDays becameClientOn status { name category }
           primaryContact { fullName email isPrimary }
           contacts { fullName } accountManager { fullName } }
  errors { field code message }
} }"""

LEADS = """
query($stages: [LeadStage!], $converted: Boolean, $first: Int, $after: String) {
  leads(stages: $stages, converted: $converted, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id companyName stage convertedClient { name } } }
  } }"""

WRITES = (Client, Contact, Lead, *SIDE_TABLES)


async def _lead(factory, **kw) -> Lead:
    kw.setdefault("company_name", "Acme Rockets")
    kw.setdefault("contact_name", "Wile E. Coyote")
    kw.setdefault("contact_email", "wile@acme.example")
    kw.setdefault("contact_phone", "+1-555-0100")
    kw.setdefault("contact_title", "Head of Procurement")
    kw.setdefault("website", "https://acme.example")
    kw.setdefault("industry", "Aerospace")
    kw.setdefault("stage", LeadStage.WON)
    return await factory.add(Lead(**kw))


async def test_converting_a_won_lead_creates_client_and_primary_contact(api, factory, db):
    owner, token = await staff(api, factory, Role.MANAGER, full_name="Maria Manager")
    lead = await _lead(factory, owner_id=owner.id, estimated_value=Decimal("12000.00"))
    payload = await mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead")
    assert payload["errors"] == []
    client = payload["client"]
    assert client["name"] == "Acme Rockets"
    assert client["website"] == "https://acme.example" and client["industry"] == "Aerospace"
    assert client["status"] == {"name": "Active", "category": "ACTIVE"}
    assert client["becameClientOn"] == utcnow().date().isoformat()
    assert client["accountManager"] == {"fullName": "Maria Manager"}
    assert client["primaryContact"] == {
        "fullName": "Wile E. Coyote",
        "email": "wile@acme.example",
        "phone": "+1-555-0100",
        "title": "Head of Procurement",
        "isPrimary": True,
        "isDecisionMaker": True,
    }
    assert payload["lead"]["stage"] == "WON"
    assert payload["lead"]["convertedClient"]["id"] == client["id"]
    assert payload["lead"]["convertedAt"] is not None

    client_id = raw_id(client["id"])
    stored = await get(db, Lead, lead.id)
    assert stored.converted_client_id == client_id and stored.converted_at is not None
    assert [c.full_name for c in await rows(db, Contact, Contact.client_id == client_id)] == ["Wile E. Coyote"]
    kinds = sorted(a.kind.value for a in await rows(db, Activity, Activity.client_id == client_id))
    assert kinds == ["CLIENT_CREATED", "LEAD_CONVERTED"]
    assert all(a.actor_id == owner.id for a in await rows(db, Activity))


async def test_a_lead_converts_only_once_it_is_won(api, factory, db):
    _, token = await staff(api, factory)
    lead = await _lead(factory, stage=LeadStage.NEGOTIATION)
    before = await counts(db, *WRITES)
    refused = await mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead")
    assert codes(refused) == ["LEAD_NOT_WON"] and refused["client"] is None
    assert await counts(db, *WRITES) == before

    # As the guide says: change the status to Won, then convert.
    won = await mutate(api, STAGE, {"id": gid("Lead", lead), "stage": "WON"}, token, "updateLeadStage")
    assert won == {"lead": {"stage": "WON"}, "errors": []}
    converted = await mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead")
    assert converted["errors"] == [] and converted["client"]["name"] == "Acme Rockets"


async def test_converting_twice_is_refused_and_writes_nothing(api, factory, db):
    _, token = await staff(api, factory)
    lead = await _lead(factory)
    first = await mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead")
    assert first["errors"] == []
    before = await counts(db, *WRITES)
    again = await mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead")
    assert again["client"] is None and again["lead"] is None
    assert again["errors"] == [
        {
            "field": "leadId",
            "code": "ALREADY_CONVERTED",
            "message": "This lead was already converted into a client.",
        }
    ]
    assert await counts(db, *WRITES) == before
    assert await count(db, Client) == 1
    # Its stage is frozen too.
    frozen = await mutate(api, STAGE, {"id": gid("Lead", lead), "stage": "LOST"}, token, "updateLeadStage")
    assert codes(frozen) == ["ALREADY_CONVERTED"]
    assert (await get(db, Lead, lead.id)).stage is LeadStage.WON


async def test_concurrent_conversions_of_one_lead_create_one_client(api, factory, db):
    _, token = await staff(api, factory)
    lead = await _lead(factory)
    results = await asyncio.gather(
        *[mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead") for _ in range(4)]
    )
    succeeded = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    assert len(succeeded) == 1
    assert {c for r in refused for c in codes(r)} == {"ALREADY_CONVERTED"}
    assert await count(db, Client) == 1
    assert await count(db, Contact) == 1
    assert await count(db, Activity, Activity.kind == ActivityKind.LEAD_CONVERTED) == 1
    assert (await get(db, Lead, lead.id)).converted_client_id == raw_id(succeeded[0]["client"]["id"])


async def test_a_lead_with_no_usable_contact_does_not_convert(api, factory, db):
    _, token = await staff(api, factory)
    nameless = await _lead(factory, contact_name=None)
    bad_email = await _lead(factory, company_name="Bad Mail", contact_email="not-an-email")
    before = await counts(db, *WRITES)
    first = await mutate(api, CONVERT, {"id": gid("Lead", nameless)}, token, "convertLead")
    second = await mutate(api, CONVERT, {"id": gid("Lead", bad_email)}, token, "convertLead")
    unknown = await mutate(api, CONVERT, {"id": gid("Lead", 999999)}, token, "convertLead")
    wrong_type = await mutate(api, CONVERT, {"id": gid("Client", nameless.id)}, token, "convertLead")
    assert [(e["field"], e["code"]) for e in first["errors"]] == [("leadId", "LEAD_HAS_NO_CONTACT")]
    # The bad e-mail is the lead's, not the request's: the error names the argument that chose the lead.
    assert [(e["field"], e["code"]) for e in second["errors"]] == [("leadId", "INVALID_EMAIL")]
    assert unknown["errors"] == [{"field": "leadId", "code": "NOT_FOUND", "message": "No such lead."}]
    assert wrong_type == unknown  # an id of another type answers exactly as a missing lead does
    assert await counts(db, *WRITES) == before


async def test_creating_a_client_directly_sets_active_with_a_primary_contact(api, factory, db):
    manager, token = await staff(api, factory, full_name="Ann Manager")
    payload = await mutate(
        api,
        CREATE_CLIENT,
        {
            "input": {
                "name": "  Globex  ",
                "tier": "GOLD",
                "paymentTermsDays": 14,
                "accountManagerId": gid("User", manager),
                "website": "https://globex.example",
                "primaryContact": {"fullName": "Hank Scorpio", "email": "Hank@Globex.example", "isDecisionMaker": True},
            }
        },
        token,
        "createClient",
    )
    assert payload["errors"] == []
    client = payload["client"]
    assert client["name"] == "Globex" and client["tier"] == "GOLD" and client["paymentTermsDays"] == 14
    assert client["status"] == {"name": "Active", "category": "ACTIVE"}
    assert client["becameClientOn"] == utcnow().date().isoformat()
    assert client["primaryContact"] == {"fullName": "Hank Scorpio", "email": "hank@globex.example", "isPrimary": True}
    assert client["contacts"] == [{"fullName": "Hank Scorpio"}]
    assert client["accountManager"] == {"fullName": "Ann Manager"}
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.CLIENT_CREATED and entry.client_id == raw_id(client["id"])


async def test_create_client_bad_input_writes_nothing(api, factory, db):
    _, token = await staff(api, factory)
    other = await factory.client("Other")
    outsider = await factory.portal_user(other)
    before = await counts(db, *WRITES)
    contact = {"fullName": "Pat"}
    cases = [
        ({"name": "   ", "primaryContact": contact}, "input.name", "REQUIRED"),
        ({"name": "x" * 201, "primaryContact": contact}, "input.name", "TOO_LONG"),
        ({"name": "Ok", "primaryContact": {"fullName": " "}}, "input.primaryContact.fullName", "REQUIRED"),
        (
            {"name": "Ok", "primaryContact": {"fullName": "Pat", "email": "pat@"}},
            "input.primaryContact.email",
            "INVALID_EMAIL",
        ),
        ({"name": "Ok", "website": "globex", "primaryContact": contact}, "input.website", "INVALID_URL"),
        ({"name": "Ok", "paymentTermsDays": -1, "primaryContact": contact}, "input.paymentTermsDays", "OUT_OF_RANGE"),
        (
            {"name": "Ok", "accountManagerId": gid("User", outsider), "primaryContact": contact},
            "input.accountManagerId",
            "NOT_STAFF",
        ),
        (
            {"name": "Ok", "accountManagerId": gid("User", 99999), "primaryContact": contact},
            "input.accountManagerId",
            "NOT_STAFF",
        ),
        (
            {"name": "Ok", "accountManagerId": gid("Client", other), "primaryContact": contact},
            "input.accountManagerId",
            "NOT_STAFF",
        ),
    ]
    for variables, field, code in cases:
        payload = await mutate(api, CREATE_CLIENT, {"input": variables}, token, "createClient")
        assert payload["client"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], variables
    # A user id of another type answers exactly as a missing user does.
    assert await api.post(CREATE_CLIENT, {"input": cases[-1][0]}, token) == await api.post(
        CREATE_CLIENT, {"input": cases[-2][0]}, token
    )
    # A required input left out entirely is a GraphQL validation error, and writes nothing either.
    missing = await api.post(CREATE_CLIENT, {"input": {"name": "No Contact"}}, token)
    assert missing["errors"] and missing.get("data") is None
    assert await counts(db, *WRITES) == before


async def test_member_may_not_set_payment_terms_or_cost_visibility(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    contact = {"fullName": "Pat"}
    query = (
        "mutation($input: CreateClientInput!) { createClient(input: $input) { client { name } errors { field code } } }"
    )
    for extra in ({"paymentTermsDays": 10}, {"showCostsInPortal": True}):
        await refused_by_policy(
            api, query, {"input": {"name": "Ok", "primaryContact": contact, **extra}}, token, "createClient"
        )
    assert await count(db, Client) == 0
    plain = await mutate(api, query, {"input": {"name": "Ok", "primaryContact": contact}}, token, "createClient")
    assert plain["errors"] == [] and await count(db, Client) == 1


async def test_portal_users_may_not_create_or_convert(api, factory, db):
    mine = await factory.client("Mine")
    _, token = await portal(api, factory, mine)
    lead = await _lead(factory)
    before = await counts(db, *WRITES)
    body = await api.post(CONVERT, {"id": gid("Lead", lead)}, token)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.post(CREATE_CLIENT, {"input": {"name": "X", "primaryContact": {"fullName": "Y"}}}, token)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(db, *WRITES) == before


async def test_leads_are_listed_for_staff_by_stage_and_never_for_a_client(api, factory, db):
    now = utcnow()
    await _lead(factory, company_name="Won One", created_at=now - dt.timedelta(days=1))
    await _lead(factory, company_name="New One", stage=LeadStage.NEW, created_at=now - dt.timedelta(days=2))
    lost = await _lead(factory, company_name="Lost One", stage=LeadStage.LOST, created_at=now - dt.timedelta(days=3))
    _, token = await staff(api, factory, Role.MEMBER)
    data = (await api.data(LEADS, {}, token))["leads"]
    assert data["totalCount"] == 3
    assert [e["node"]["companyName"] for e in data["edges"]] == ["Won One", "New One", "Lost One"]
    only = (await api.data(LEADS, {"stages": ["WON", "LOST"]}, token))["leads"]
    assert [e["node"]["companyName"] for e in only["edges"]] == ["Won One", "Lost One"]
    page = (await api.data(LEADS, {"first": 1}, token))["leads"]
    rest = (await api.data(LEADS, {"first": 5, "after": page["pageInfo"]["endCursor"]}, token))["leads"]
    assert [e["node"]["companyName"] for e in rest["edges"]] == ["New One", "Lost One"]

    won = (await api.data(LEADS, {"stages": ["WON"]}, token))["leads"]["edges"][0]["node"]
    await mutate(api, CONVERT, {"id": won["id"]}, token, "convertLead")
    converted = (await api.data(LEADS, {"converted": True}, token))["leads"]
    assert [e["node"]["convertedClient"]["name"] for e in converted["edges"]] == ["Won One"]
    assert (await api.data(LEADS, {"converted": False}, token))["leads"]["totalCount"] == 2

    client = await factory.client("Mine")
    _, portal_token = await portal(api, factory, client)
    body = await api.post(LEADS + "", {}, portal_token)
    assert body["data"] == {"leads": None}
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Query.leads"}
    by_node = await api.post("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Lead", lost)}, portal_token)
    assert by_node["data"] == {"node": None}


async def test_create_lead_and_its_bad_input(api, factory, db):
    _, token = await staff(api, factory)
    query = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
      lead { companyName stage estimatedValue owner { fullName } } errors { field code } } }"""
    ok = await mutate(
        api, query, {"input": {"companyName": "Initech", "estimatedValue": "5000.00"}}, token, "createLead"
    )
    assert ok["errors"] == [] and ok["lead"]["stage"] == "NEW" and ok["lead"]["estimatedValue"] == "5000.00"
    before = await counts(db, Lead, *SIDE_TABLES)
    for variables, code in [
        ({"companyName": ""}, "REQUIRED"),
        ({"companyName": "X", "estimatedValue": "-1"}, "NEGATIVE_AMOUNT"),
        ({"companyName": "X", "estimatedValue": "1.234"}, "INVALID_AMOUNT"),
        ({"companyName": "X", "contactEmail": "nope"}, "INVALID_EMAIL"),
        ({"companyName": "X", "contactTitle": "t" * 121}, "TOO_LONG"),
    ]:
        payload = await mutate(api, query, {"input": variables}, token, "createLead")
        assert codes(payload) == [code] and payload["lead"] is None
    assert await counts(db, Lead, *SIDE_TABLES) == before


async def test_lead_stage_changes_and_their_bad_input(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    lead = await _lead(factory, stage=LeadStage.NEW)
    moved = await mutate(api, STAGE, {"id": gid("Lead", lead), "stage": "QUALIFIED"}, token, "updateLeadStage")
    assert moved == {"lead": {"stage": "QUALIFIED"}, "errors": []}
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.STATUS_CHANGED and entry.subject_type == "Lead" and entry.client_id is None
    before = await counts(db, *WRITES)
    same = await mutate(api, STAGE, {"id": gid("Lead", lead), "stage": "QUALIFIED"}, token, "updateLeadStage")
    unknown = await mutate(api, STAGE, {"id": gid("Lead", 9999), "stage": "WON"}, token, "updateLeadStage")
    assert [(e["field"], e["code"]) for e in same["errors"]] == [("stage", "UNCHANGED")]
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("leadId", "NOT_FOUND")]
    not_a_stage = await api.post(STAGE, {"id": gid("Lead", lead), "stage": "MAYBE"}, token)
    assert not_a_stage.get("data") is None and not_a_stage["errors"]
    assert await counts(db, *WRITES) == before
    client = await factory.client("Mine")
    _, portal_token = await portal(api, factory, client)
    refused = await api.post(STAGE, {"id": gid("Lead", lead), "stage": "WON"}, portal_token)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await get(db, Lead, lead.id)).stage is LeadStage.QUALIFIED
