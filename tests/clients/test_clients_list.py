"""The Clients list, client lookups and the CLIENT row scope."""

from __future__ import annotations

import datetime as dt

from models import ClientCategory, Role
from models.clients import STATUS_CHURNED, STATUS_ON_HOLD
from tests.factories import PASSWORD

LIST = """
query($first: Int, $after: String, $filter: ClientFilterInput, $order: ClientOrder) {
  clients(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id name } }
  }
}
"""


async def _names(api, token, **variables) -> list[str]:
    data = await api.data(LIST, variables, token)
    return [e["node"]["name"] for e in data["clients"]["edges"]]


async def _staff(api, factory, role=Role.MANAGER) -> str:
    user = await factory.user(role)
    return await api.login(user.email, PASSWORD)


async def test_clients_are_listed_by_name_and_paged_by_cursor(api, factory):
    for name in ["Delta", "alpha", "Charlie", "Bravo", "Echo"]:
        await factory.client(name)
    token = await _staff(api, factory)
    first = await api.data(LIST, {"first": 2}, token)
    page = first["clients"]
    assert page["totalCount"] == 5
    names = [e["node"]["name"] for e in page["edges"]]
    collected = list(names)
    after = page["pageInfo"]["endCursor"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False
    while after:
        nxt = (await api.data(LIST, {"first": 2, "after": after}, token))["clients"]
        collected += [e["node"]["name"] for e in nxt["edges"]]
        after = nxt["pageInfo"]["endCursor"] if nxt["pageInfo"]["hasNextPage"] else None
    assert collected == ["alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert len(collected) == len(set(collected)) == 5


async def test_order_by_name_created_and_last_interaction(api, factory):
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    await factory.client("B", created_at=now - dt.timedelta(days=1), last_interaction_at=now - dt.timedelta(days=10))
    await factory.client("A", created_at=now - dt.timedelta(days=3))
    await factory.client("C", created_at=now - dt.timedelta(days=2), last_interaction_at=now - dt.timedelta(days=1))
    token = await _staff(api, factory)
    assert await _names(api, token, order={"field": "NAME"}) == ["A", "B", "C"]
    assert await _names(api, token, order={"field": "NAME", "direction": "DESC"}) == ["C", "B", "A"]
    assert await _names(api, token, order={"field": "CREATED_AT"}) == ["A", "C", "B"]
    assert await _names(api, token, order={"field": "LAST_INTERACTION", "direction": "DESC"}) == ["C", "B", "A"]
    # Keyset paging on a datetime key returns every row once.
    first = (await api.data(LIST, {"first": 1, "order": {"field": "LAST_INTERACTION", "direction": "DESC"}}, token))[
        "clients"
    ]
    rest = await _names(
        api,
        token,
        first=5,
        after=first["pageInfo"]["endCursor"],
        order={"field": "LAST_INTERACTION", "direction": "DESC"},
    )
    assert rest == ["B", "A"]


async def test_filter_by_status_category_and_search(api, factory, db):
    from models import ClientStatus

    vip = await factory.add(ClientStatus(name="VIP", category=ClientCategory.ACTIVE))
    await factory.client("Northwind Coffee")
    await factory.client("Northern Lights", status_id=STATUS_ON_HOLD)
    await factory.client("Old Friends", status_id=STATUS_CHURNED)
    await factory.client("Very Important", status_id=vip.id)
    token = await _staff(api, factory)
    assert await _names(api, token, filter={"search": "NORTH"}) == ["Northern Lights", "Northwind Coffee"]
    assert await _names(api, token, filter={"search": "%"}) == []
    assert await _names(api, token, filter={"categories": ["ACTIVE"]}) == ["Northwind Coffee", "Very Important"]
    assert await _names(api, token, filter={"statusIds": [str(STATUS_CHURNED)]}) == ["Old Friends"]
    data = await api.data(LIST, {"filter": {"categories": ["ACTIVE"], "search": "very"}}, token)
    assert data["clients"]["totalCount"] == 1


async def test_page_size_is_capped_at_100(api, factory):
    token = await _staff(api, factory)
    body = await api.post(LIST, {"first": 101}, token)
    assert body["data"]["clients"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "first"
    bad_cursor = await api.post(LIST, {"after": "garbage"}, token)
    assert bad_cursor["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"


async def test_client_user_lists_exactly_its_own_client(api, factory):
    mine = await factory.client("Mine Ltd")
    await factory.client("Theirs Inc")
    portal = await factory.portal_user(mine)
    token = await api.login(portal.email, PASSWORD)
    data = await api.data(LIST, {"first": 50}, token)
    assert data["clients"]["totalCount"] == 1
    assert [e["node"]["name"] for e in data["clients"]["edges"]] == ["Mine Ltd"]
    assert await _names(api, token, filter={"search": "Theirs"}) == []


async def test_client_and_node_of_another_client_answer_null(api, factory):
    mine = await factory.client("Mine Ltd")
    theirs = await factory.client("Theirs Inc")
    their_project = await factory.project(theirs, name="Their Secret Project")
    portal = await factory.portal_user(mine)
    staff = await _staff(api, factory)
    ids = await api.data("""query { clients { edges { node { id name projects { id } } } } }""", token=staff)
    by_name = {e["node"]["name"]: e["node"] for e in ids["clients"]["edges"]}
    their_id = by_name["Theirs Inc"]["id"]
    their_project_id = by_name["Theirs Inc"]["projects"][0]["id"]
    token = await api.login(portal.email, PASSWORD)
    body = await api.post(
        """query($c: ID!, $p: ID!) {
             client(id: $c) { name }
             node(id: $c) { id ... on Client { name } }
             project: node(id: $p) { id ... on Project { name } }
           }""",
        {"c": their_id, "p": their_project_id},
        token,
    )
    assert body["data"] == {"client": None, "node": None, "project": None}
    assert "Theirs" not in str(body) and "Their Secret" not in str(body)
    own = await api.data("query($c: ID!) { client(id: $c) { name } }", {"c": by_name["Mine Ltd"]["id"]}, token)
    assert own["client"]["name"] == "Mine Ltd"
    assert their_project.id


async def test_client_user_never_receives_sensitive_fields(api, factory):
    from models import CommentKind

    mine = await factory.client("Mine Ltd", internal_notes="CANARY-INTERNAL-NOTE")
    manager = await factory.user(Role.MANAGER, email="am@agency.example", phone="+1-555-CANARY")
    project = await factory.project(mine, budget="1000.00")
    task = await factory.task(project, assignee_id=manager.id)
    await factory.comment(task, CommentKind.NOTE, "CANARY-NOTE-BODY")
    await factory.comment(task, CommentKind.REPLY, "Visible reply")
    await factory.task(project, title="CANARY-INTERNAL-TASK", visible_to_client=False)
    portal = await factory.portal_user(mine)
    token = await api.login(portal.email, PASSWORD)
    body = await api.post(
        """{ clients { edges { node {
              name internalNotes
              projects { name tasks { title assignee { fullName email phone } comments { kind body } } }
        } } } }""",
        token=token,
    )
    node = body["data"]["clients"]["edges"][0]["node"]
    assert node["internalNotes"] is None
    tasks = node["projects"][0]["tasks"]
    assert [t["title"] for t in tasks] == [task.title]
    assert tasks[0]["comments"] == [{"kind": "REPLY", "body": "Visible reply"}]
    assert tasks[0]["assignee"] == {"fullName": manager.full_name, "email": None, "phone": None}
    assert "CANARY" not in str(body)
    denied = sorted(e["extensions"]["field"] for e in body["errors"])
    assert denied == ["Client.internalNotes", "User.email", "User.phone"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_staff_see_the_clients_list_columns(api, factory):
    client = await factory.client("Acme")
    await factory.contact(client, primary=True, full_name="Pat Primary")
    await factory.project(client)
    await factory.project(client, status="COMPLETED")
    sent = await factory.invoice(client, lines=[("2", "100.00"), ("1", "50.50")])
    await factory.payment(sent, "100.00")
    paid = await factory.invoice(client, status="PAID")
    await factory.payment(paid, "1000.00")
    token = await _staff(api, factory)
    data = await api.data(
        """{ clients { edges { node { name primaryContact { fullName } status { name category }
             activeProjectCount outstandingAmount accountValue lastInteractionAt } } } }""",
        token=token,
    )
    node = data["clients"]["edges"][0]["node"]
    assert node == {
        "name": "Acme",
        "primaryContact": {"fullName": "Pat Primary"},
        "status": {"name": "Active", "category": "ACTIVE"},
        "activeProjectCount": 1,
        "outstandingAmount": "150.50",
        "accountValue": "1100.00",
        "lastInteractionAt": None,
    }
