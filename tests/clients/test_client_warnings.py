"""The client record's warnings, on SQLite and PostgreSQL: churning a client with active projects
succeeds and lists them (CLIENT_HAS_ACTIVE_PROJECTS); a name another client carries is refused
(DUPLICATE_NAME, nothing written) unless confirmed, on createClient, updateClient and convertLead."""

from __future__ import annotations

from models import Client, ClientCategory, ClientStatus, Contact, Lead, LeadStage, ProjectStatus, Role
from models.clients import STATUS_CHURNED, STATUS_ON_HOLD
from tests.factories import PASSWORD
from tests.utils import SIDE_TABLES, counts, get, gid, mutate, refused_by_policy, staff

SET_STATUS = """mutation($client: ID!, $status: ID!) { setClientStatus(clientId: $client, statusId: $status) {
  client { name status { name category } }
  warnings { code message projects { name status } }
  errors { field code message } } }"""
CREATE = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id name } errors { field code message } } }"""
UPDATE = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { name } errors { field code message } } }"""
CONVERT = """mutation($id: ID!, $confirm: Boolean! = false) {
  convertLead(leadId: $id, confirmDuplicateName: $confirm) {
  client { name } errors { field code message } } }"""


async def _written(db) -> dict[str, int]:
    return await counts(db, Client, Contact, Lead, *SIDE_TABLES)


# ---- churn with active projects


async def test_churning_a_client_with_active_projects_succeeds_with_a_warning_listing_them(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client("Northwind")
    await factory.project(client, name="Website")
    await factory.project(client, name="App")
    await factory.project(client, name="Old site", status=ProjectStatus.COMPLETED)
    await factory.project(client, name="Paused", status=ProjectStatus.ON_HOLD)
    payload = await mutate(
        api, SET_STATUS, {"client": gid("Client", client), "status": str(STATUS_CHURNED)}, token, "setClientStatus"
    )
    assert payload["errors"] == []
    assert payload["client"]["status"] == {"name": "Churned", "category": "CHURNED"}
    [warning] = payload["warnings"]
    assert warning["code"] == "CLIENT_HAS_ACTIVE_PROJECTS"
    assert warning["projects"] == [{"name": "App", "status": "ACTIVE"}, {"name": "Website", "status": "ACTIVE"}]
    assert "2 active projects" in warning["message"]
    assert (await get(db, Client, client.id)).status_id == STATUS_CHURNED


async def test_a_custom_churned_status_warns_too_and_other_changes_do_not(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    lost = await factory.add(ClientStatus(name="Lost to competitor", category=ClientCategory.CHURNED))
    busy = await factory.client("Busy")
    await factory.project(busy, name="Ongoing")
    quiet = await factory.client("Quiet")
    await factory.project(quiet, name="Done", status=ProjectStatus.COMPLETED)
    held = await mutate(
        api, SET_STATUS, {"client": gid("Client", busy), "status": str(STATUS_ON_HOLD)}, token, "setClientStatus"
    )
    assert held["errors"] == [] and held["warnings"] == []
    churned = await mutate(
        api, SET_STATUS, {"client": gid("Client", busy), "status": str(lost.id)}, token, "setClientStatus"
    )
    assert [(w["code"], [p["name"] for p in w["projects"]]) for w in churned["warnings"]] == [
        ("CLIENT_HAS_ACTIVE_PROJECTS", ["Ongoing"])
    ]
    nothing_active = await mutate(
        api, SET_STATUS, {"client": gid("Client", quiet), "status": str(STATUS_CHURNED)}, token, "setClientStatus"
    )
    assert nothing_active["errors"] == [] and nothing_active["warnings"] == []


async def test_portal_users_may_not_set_a_status(api, factory, db):
    client = await factory.client()
    await factory.project(client)
    portal_user = await factory.portal_user(client)
    token = await api.login(portal_user.email, PASSWORD)
    await refused_by_policy(
        api, SET_STATUS, {"client": gid("Client", client), "status": str(STATUS_CHURNED)}, token, "setClientStatus"
    )
    assert (await get(db, Client, client.id)).status_id != STATUS_CHURNED


# ---- duplicate names


async def test_create_client_with_a_name_another_client_carries_is_refused_unless_confirmed(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    await factory.client("Acme Corp")
    churned = await factory.client("ACME CORP", status_id=STATUS_CHURNED)
    before = await _written(db)
    variables = {"input": {"name": "  acme corp ", "primaryContact": {"fullName": "Wile"}}}
    refused = await mutate(api, CREATE, variables, token, "createClient")
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("input.name", "DUPLICATE_NAME")]
    assert "2 clients carry this name" in refused["errors"][0]["message"]
    assert refused["client"] is None
    assert await _written(db) == before
    variables["input"]["confirmDuplicateName"] = True
    created = await mutate(api, CREATE, variables, token, "createClient")
    assert created["errors"] == [] and created["client"]["name"] == "acme corp"
    assert churned.id is not None


async def test_a_name_nobody_carries_needs_no_confirmation(api, factory, db):
    _, token = await staff(api, factory, Role.ADMIN)
    await factory.client("Acme Corp")
    created = await mutate(
        api,
        CREATE,
        {"input": {"name": "Acme Corporation", "primaryContact": {"fullName": "Wile"}}},
        token,
        "createClient",
    )
    assert created["errors"] == []


async def test_renaming_to_a_carried_name_is_refused_unless_confirmed(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    await factory.client("Globex")
    client = await factory.client("Initech")
    before = await _written(db)
    refused = await mutate(
        api, UPDATE, {"input": {"clientId": gid("Client", client), "name": "globex"}}, token, "updateClient"
    )
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("input.name", "DUPLICATE_NAME")]
    assert "Another client carries this name" in refused["errors"][0]["message"]
    assert await _written(db) == before
    assert (await get(db, Client, client.id)).name == "Initech"
    # Its own name, in another case, is no duplicate; other edits never ask.
    own = await mutate(
        api, UPDATE, {"input": {"clientId": gid("Client", client), "name": "INITECH"}}, token, "updateClient"
    )
    assert own["errors"] == [] and own["client"]["name"] == "INITECH"
    confirmed = await mutate(
        api,
        UPDATE,
        {"input": {"clientId": gid("Client", client), "name": "Globex", "confirmDuplicateName": True}},
        token,
        "updateClient",
    )
    assert confirmed["errors"] == [] and confirmed["client"]["name"] == "Globex"
    only_confirm = await mutate(
        api, UPDATE, {"input": {"clientId": gid("Client", client), "confirmDuplicateName": True}}, token, "updateClient"
    )
    assert [e["code"] for e in only_confirm["errors"]] == ["NOTHING_TO_UPDATE"]


async def test_converting_a_lead_whose_company_a_client_carries_is_refused_unless_confirmed(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    await factory.client("Hooli")
    lead = await factory.add(Lead(company_name="hooli", contact_name="Gavin", stage=LeadStage.WON))
    before = await _written(db)
    refused = await mutate(api, CONVERT, {"id": gid("Lead", lead)}, token, "convertLead")
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("leadId", "DUPLICATE_NAME")]
    assert await _written(db) == before
    assert (await get(db, Lead, lead.id)).converted_client_id is None
    converted = await mutate(api, CONVERT, {"id": gid("Lead", lead), "confirm": True}, token, "convertLead")
    assert converted["errors"] == [] and converted["client"]["name"] == "hooli"


async def test_portal_users_may_not_create_or_rename_clients(api, factory, db):
    client = await factory.client("Acme")
    portal_user = await factory.portal_user(client)
    token = await api.login(portal_user.email, PASSWORD)
    before = await _written(db)
    await refused_by_policy(
        api,
        CREATE,
        {"input": {"name": "Acme", "primaryContact": {"fullName": "X"}, "confirmDuplicateName": True}},
        token,
        "createClient",
    )
    await refused_by_policy(
        api,
        UPDATE,
        {"input": {"clientId": gid("Client", client), "name": "Acme", "confirmDuplicateName": True}},
        token,
        "updateClient",
    )
    assert await _written(db) == before
