"""The Clients list's tier filter, the client record's overview, editing a client and its status."""

from __future__ import annotations

import datetime as dt

from models import (
    Activity,
    ActivityKind,
    Client,
    ClientCategory,
    ClientStatus,
    ClientTier,
    ProjectHealth,
    ProjectStatus,
    Role,
)
from models.clients import STATUS_ACTIVE, STATUS_CHURNED, STATUS_ON_HOLD
from tests.utils import (
    SIDE_TABLES,
    codes,
    count,
    counts,
    get,
    gid,
    mutate,
    portal,
    refused_by_policy,
    rows,
    staff,
)

LIST = """query($filter: ClientFilterInput) { clients(filter: $filter) { totalCount edges { node { name tier } } } }"""
SET_STATUS = """mutation($client: ID!, $status: ID!) { setClientStatus(clientId: $client, statusId: $status) {
  client { name status { name category } } errors { field code message } } }"""
NEW_STATUS = """mutation($name: String!, $category: ClientCategory!) {
  createClientStatus(name: $name, category: $category) {
  status { id name category isBuiltin } errors { field code message } } }"""
REACTIVATE = """mutation($client: ID!) { reactivateClient(clientId: $client) {
  client { status { name category } } errors { field code message } } }"""
DELETE = (
    """mutation($client: ID!) { deleteClient(clientId: $client) { client { name } errors { field code message } } }"""
)
UPDATE = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { name website industry billingAddress tier internalNotes portalBookingEnabled showCostsInPortal
           accountManager { fullName } }
  errors { field code message } } }"""

WRITES = (Client, ClientStatus, *SIDE_TABLES)


async def test_clients_list_filters_by_tier_for_staff_only(api, factory):
    await factory.client("Gold Co", tier=ClientTier.GOLD)
    await factory.client("Plat Co", tier=ClientTier.PLATINUM)
    await factory.client("Plain Co")
    await factory.client("Gold Paused", tier=ClientTier.GOLD, status_id=STATUS_ON_HOLD)
    _, token = await staff(api, factory, Role.MEMBER)
    gold = (await api.data(LIST, {"filter": {"tiers": ["GOLD"]}}, token))["clients"]
    assert [e["node"]["name"] for e in gold["edges"]] == ["Gold Co", "Gold Paused"] and gold["totalCount"] == 2
    top = (await api.data(LIST, {"filter": {"tiers": ["GOLD", "PLATINUM"], "categories": ["ACTIVE"]}}, token))[
        "clients"
    ]
    assert [e["node"]["name"] for e in top["edges"]] == ["Gold Co", "Plat Co"]

    mine = await factory.client("Mine", tier=ClientTier.GOLD)
    _, portal_token = await portal(api, factory, mine)
    body = await api.post(LIST, {"filter": {"tiers": ["GOLD"]}}, portal_token)
    assert body["data"] == {"clients": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and "Client.tier" in body["errors"][0]["message"]


async def test_client_record_overview_with_projects_and_their_health(api, factory):
    manager = await factory.user(Role.MANAGER, full_name="Maria")
    client = await factory.client(
        "Northwind",
        website="https://northwind.example",
        billing_address="1 Bean St",
        industry="Coffee",
        tier=ClientTier.GOLD,
        account_manager_id=manager.id,
        became_client_on=dt.date(2025, 3, 1),
    )
    await factory.contact(client, primary=True, full_name="Olivia", email="olivia@northwind.example")
    await factory.project(client, name="Loyalty app", health=ProjectHealth.AT_RISK, start_date=dt.date(2026, 2, 1))
    await factory.project(client, name="Old site", status=ProjectStatus.COMPLETED, start_date=dt.date(2025, 4, 1))
    _, token = await staff(api, factory, Role.MEMBER)
    query = """query($id: ID!) { client(id: $id) {
      name website billingAddress industry tier becameClientOn lastProjectOn status { name }
      accountManager { fullName } primaryContact { fullName email }
      active: projects(status: [ACTIVE]) { name health }
      all: projects { name status }
    } }"""
    data = (await api.data(query, {"id": gid("Client", client)}, token))["client"]
    assert data == {
        "name": "Northwind",
        "website": "https://northwind.example",
        "billingAddress": "1 Bean St",
        "industry": "Coffee",
        "tier": "GOLD",
        "becameClientOn": "2025-03-01",
        "lastProjectOn": "2026-02-01",
        "status": {"name": "Active"},
        "accountManager": {"fullName": "Maria"},
        "primaryContact": {"fullName": "Olivia", "email": "olivia@northwind.example"},
        "active": [{"name": "Loyalty app", "health": "AT_RISK"}],
        "all": [{"name": "Loyalty app", "status": "ACTIVE"}, {"name": "Old site", "status": "COMPLETED"}],
    }


async def test_status_changes_between_built_in_and_custom_statuses(api, factory, db):
    client = await factory.client("Acme")
    _, token = await staff(api, factory, Role.MANAGER)
    vip = await mutate(api, NEW_STATUS, {"name": "VIP", "category": "ACTIVE"}, token, "createClientStatus")
    assert vip["errors"] == [] and vip["status"]["name"] == "VIP" and vip["status"]["isBuiltin"] is False
    paused = await mutate(
        api, SET_STATUS, {"client": gid("Client", client), "status": str(STATUS_ON_HOLD)}, token, "setClientStatus"
    )
    assert paused == {"client": {"name": "Acme", "status": {"name": "On Hold", "category": "ON_HOLD"}}, "errors": []}
    back = await mutate(
        api, SET_STATUS, {"client": gid("Client", client), "status": vip["status"]["id"]}, token, "setClientStatus"
    )
    assert back["client"]["status"] == {"name": "VIP", "category": "ACTIVE"}
    kinds = [a.kind for a in await rows(db, Activity, Activity.client_id == client.id)]
    assert kinds == [ActivityKind.STATUS_CHANGED, ActivityKind.CLIENT_REACTIVATED]

    before = await counts(db, *WRITES)
    same = await mutate(
        api, SET_STATUS, {"client": gid("Client", client), "status": vip["status"]["id"]}, token, "setClientStatus"
    )
    unknown_status = await mutate(
        api, SET_STATUS, {"client": gid("Client", client), "status": "999"}, token, "setClientStatus"
    )
    bad_status = await mutate(
        api, SET_STATUS, {"client": gid("Client", client), "status": "abc"}, token, "setClientStatus"
    )
    unknown_client = await mutate(
        api, SET_STATUS, {"client": gid("Client", 999), "status": str(STATUS_CHURNED)}, token, "setClientStatus"
    )
    assert (
        codes(same) == ["UNCHANGED"] and codes(unknown_status) == ["NOT_FOUND"] and codes(bad_status) == ["INVALID_ID"]
    )
    assert unknown_client["errors"][0] == {"field": "clientId", "code": "NOT_FOUND", "message": "No such client."}
    assert await counts(db, *WRITES) == before


async def test_custom_statuses_are_created_by_leaders_and_listed_for_staff(api, factory, db):
    _, manager = await staff(api, factory, Role.MANAGER)
    _, member = await staff(api, factory, Role.MEMBER)
    ok = await mutate(api, NEW_STATUS, {"name": "At Risk", "category": "ACTIVE"}, manager, "createClientStatus")
    assert ok["errors"] == []
    before = await counts(db, *WRITES)
    for name, code in [
        ("at risk", "DUPLICATE_NAME"),
        ("ACTIVE", "DUPLICATE_NAME"),
        ("  ", "REQUIRED"),
        ("x" * 61, "TOO_LONG"),
    ]:
        payload = await mutate(api, NEW_STATUS, {"name": name, "category": "ON_HOLD"}, manager, "createClientStatus")
        assert codes(payload) == [code] and payload["status"] is None
    refused = await api.post(NEW_STATUS, {"name": "Trial", "category": "ACTIVE"}, member)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(db, *WRITES) == before

    listed = await api.data("{ clientStatuses { name category isBuiltin } }", token=member)
    assert listed["clientStatuses"] == [
        {"name": "Active", "category": "ACTIVE", "isBuiltin": True},
        {"name": "On Hold", "category": "ON_HOLD", "isBuiltin": True},
        {"name": "Churned", "category": "CHURNED", "isBuiltin": True},
        {"name": "At Risk", "category": "ACTIVE", "isBuiltin": False},
    ]
    client = await factory.client("Mine")
    _, portal_token = await portal(api, factory, client)
    hidden = await api.post("{ clientStatuses { name } }", token=portal_token)
    assert hidden["data"] == {"clientStatuses": None} and hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_deleting_a_client_is_refused_with_a_hint_to_churn(api, factory, db):
    client = await factory.client("Keep Me")
    await factory.contact(client, primary=True)
    _, token = await staff(api, factory, Role.ADMIN)
    before = await counts(db, *WRITES)
    payload = await mutate(api, DELETE, {"client": gid("Client", client)}, token, "deleteClient")
    assert payload["client"] is None
    [error] = payload["errors"]
    assert error["code"] == "USE_CHURNED" and "Churned" in error["message"]
    assert await counts(db, *WRITES) == before
    assert (await get(db, Client, client.id)).name == "Keep Me"


async def test_reactivating_a_churned_client_sets_active_and_logs_it(api, factory, db):
    churned = await factory.client("Came Back", status_id=STATUS_CHURNED)
    _, token = await staff(api, factory, Role.MEMBER)
    payload = await mutate(api, REACTIVATE, {"client": gid("Client", churned)}, token, "reactivateClient")
    assert payload == {"client": {"status": {"name": "Active", "category": "ACTIVE"}}, "errors": []}
    assert (await get(db, Client, churned.id)).status_id == STATUS_ACTIVE
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.CLIENT_REACTIVATED and "Churned" in entry.summary

    vip = await factory.add(ClientStatus(name="VIP", category=ClientCategory.ACTIVE))
    active = await factory.client("Busy", status_id=vip.id)
    before = await counts(db, *WRITES)
    for target in (churned, active):
        refused = await mutate(api, REACTIVATE, {"client": gid("Client", target)}, token, "reactivateClient")
        assert codes(refused) == ["NOT_INACTIVE"]
    assert await counts(db, *WRITES) == before


async def test_update_client_details_and_its_bad_input(api, factory, db):
    manager = await factory.user(Role.MANAGER, full_name="New AM")
    client = await factory.client("Acme", internal_notes="old")
    _, token = await staff(api, factory, Role.MANAGER)
    ok = await mutate(
        api,
        UPDATE,
        {
            "input": {
                "clientId": gid("Client", client),
                "name": "Acme Corp",
                "website": "https://acme.example",
                "industry": None,
                "billingAddress": "2 Road",
                "tier": "PLATINUM",
                "internalNotes": "Renewal in May",
                "portalBookingEnabled": True,
                "showCostsInPortal": True,
                "accountManagerId": gid("User", manager),
            }
        },
        token,
        "updateClient",
    )
    assert ok["errors"] == []
    assert ok["client"] == {
        "name": "Acme Corp",
        "website": "https://acme.example",
        "industry": None,
        "billingAddress": "2 Road",
        "tier": "PLATINUM",
        "internalNotes": "Renewal in May",
        "portalBookingEnabled": True,
        "showCostsInPortal": True,
        "accountManager": {"fullName": "New AM"},
    }
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.CLIENT_UPDATED and "tier" in entry.summary and not entry.client_visible

    _, member = await staff(api, factory, Role.MEMBER)
    before = await counts(db, *WRITES)
    for changes, field, code, caller in [
        ({"name": ""}, "input.name", "REQUIRED", token),
        ({"name": None}, "input.name", "REQUIRED", token),
        ({"tier": None}, "input.tier", "REQUIRED", token),
        ({"website": "ftp://x"}, "input.website", "INVALID_URL", token),
        ({"internalNotes": "n" * 10001}, "input.internalNotes", "TOO_LONG", token),
        ({"paymentTermsDays": 366}, "input.paymentTermsDays", "OUT_OF_RANGE", token),
        ({}, "input", "NOTHING_TO_UPDATE", token),
    ]:
        payload = await mutate(
            api, UPDATE, {"input": {"clientId": gid("Client", client), **changes}}, caller, "updateClient"
        )
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], changes
    # Fields a MEMBER may not set are refused by the policy table before anything runs.
    member_update = (
        "mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { name } errors { field code } } }"
    )
    for changes in ({"paymentTermsDays": 10}, {"showCostsInPortal": False}, {"paymentTermsDays": None}):
        await refused_by_policy(
            api, member_update, {"input": {"clientId": gid("Client", client), **changes}}, member, "updateClient"
        )
    unknown = await mutate(api, UPDATE, {"input": {"clientId": gid("Client", 999), "name": "X"}}, token, "updateClient")
    assert unknown["errors"][0]["field"] == "input.clientId" and codes(unknown) == ["NOT_FOUND"]
    assert await counts(db, *WRITES) == before
    assert (await get(db, Client, client.id)).name == "Acme Corp"


async def test_portal_users_may_not_change_clients_or_statuses(api, factory, db):
    client = await factory.client("Mine")
    _, token = await portal(api, factory, client)
    before = await counts(db, *WRITES)
    for query, variables in [
        (SET_STATUS, {"client": gid("Client", client), "status": str(STATUS_CHURNED)}),
        (REACTIVATE, {"client": gid("Client", client)}),
        (DELETE, {"client": gid("Client", client)}),
        (UPDATE, {"input": {"clientId": gid("Client", client), "name": "Hacked"}}),
    ]:
        body = await api.post(query, variables, token)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(db, *WRITES) == before
    assert await count(db, Client, Client.name == "Hacked") == 0


async def test_the_portal_cost_switch_is_set_by_whom_the_policy_table_says(api, factory, db):
    """WRITE_CLASSES: a MEMBER may read showCostsInPortal but not turn it; a MANAGER may."""
    from strawberry.relay import GlobalID

    from auth.policy import decide_write
    from auth.principal import Principal
    from models import Client, Role
    from tests.factories import PASSWORD

    client = await factory.client("Acme")
    member = await factory.user(Role.MEMBER)
    manager = await factory.user(Role.MANAGER)
    assert (
        decide_write("Client", "showCostsInPortal", Principal(user_id=member.id, role=Role.MEMBER).policy_key).allowed
        is False
    )
    query = """mutation($id: ID!) { updateClient(input: {clientId: $id, showCostsInPortal: true}) {
      client { showCostsInPortal } errors { code } } }"""
    gid = str(GlobalID("Client", str(client.id)))
    error = await refused_by_policy(api, query, {"id": gid}, await api.login(member.email, PASSWORD), "updateClient")
    assert "showCostsInPortal" in error["message"]
    async with db() as session:
        assert (await session.get(Client, client.id)).show_costs_in_portal is False
    allowed = (await api.data(query, {"id": gid}, await api.login(manager.email, PASSWORD)))["updateClient"]
    assert allowed == {"client": {"showCostsInPortal": True}, "errors": []}
    async with db() as session:
        assert (await session.get(Client, client.id)).show_costs_in_portal is True
