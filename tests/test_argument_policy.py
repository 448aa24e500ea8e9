"""Arguments obey the field policy: no filter, search or sort is an oracle for a hidden value."""

from __future__ import annotations

from models import Role
from models.clients import STATUS_ACTIVE
from tests.factories import PASSWORD

QUERY = """query($filter: ClientFilterInput, $order: ClientOrder) {
  clients(filter: $filter, orderBy: $order) { totalCount edges { node { name } } } }"""


async def _portal_token(api, factory):
    mine = await factory.client("Mine Ltd")
    await factory.client("Other Co")
    portal = await factory.portal_user(mine)
    return await api.login(portal.email, PASSWORD)


async def test_client_may_not_filter_by_status_or_sort_by_last_interaction(api, factory):
    token = await _portal_token(api, factory)
    by_status = await api.post(QUERY, {"filter": {"statusIds": [str(STATUS_ACTIVE)]}}, token)
    assert by_status["data"] == {"clients": None}
    assert by_status["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Query.clients"}
    assert "Client.status" in by_status["errors"][0]["message"]
    by_category = await api.post(QUERY, {"filter": {"categories": ["ACTIVE"]}}, token)
    assert by_category["data"] == {"clients": None}
    sorted_by_interaction = await api.post(QUERY, {"order": {"field": "LAST_INTERACTION"}}, token)
    assert sorted_by_interaction["data"] == {"clients": None}
    assert "Client.lastInteractionAt" in sorted_by_interaction["errors"][0]["message"]


async def test_client_may_search_and_sort_by_what_it_can_read(api, factory):
    token = await _portal_token(api, factory)
    data = await api.data(QUERY, {"filter": {"search": "mine"}, "order": {"field": "NAME"}}, token)
    assert [e["node"]["name"] for e in data["clients"]["edges"]] == ["Mine Ltd"]


async def test_the_same_document_is_judged_by_its_variables_each_request(api, factory):
    token = await _portal_token(api, factory)
    allowed = await api.post(QUERY, {"order": {"field": "NAME"}}, token)
    refused = await api.post(QUERY, {"order": {"field": "LAST_INTERACTION"}}, token)
    again = await api.post(QUERY, {"order": {"field": "NAME"}}, token)
    assert "errors" not in allowed and "errors" not in again
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_document_of_literals_is_judged_for_each_caller(api, factory):
    """Arguments written in the document (no variables) are judged once per document and policy
    key, never once for every caller: the same text is refused to a portal user, then answered
    for staff, then refused to the portal user again."""
    token = await _portal_token(api, factory)
    staff = await factory.user(Role.MEMBER)
    staff_token = await api.login(staff.email, PASSWORD)
    literal = "{ clients(orderBy: { field: LAST_INTERACTION }) { totalCount edges { node { name } } } }"
    refused = await api.post(literal, token=token)
    assert refused["data"] == {"clients": None}
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Query.clients"}
    answered = await api.data(literal, token=staff_token)
    assert answered["clients"]["totalCount"] == 2
    assert await api.post(literal, token=token) == refused


async def test_staff_may_filter_and_sort_by_internal_fields(api, factory):
    await factory.client("Mine Ltd")
    staff = await factory.user(Role.MEMBER)
    token = await api.login(staff.email, PASSWORD)
    data = await api.data(
        QUERY, {"filter": {"statusIds": [str(STATUS_ACTIVE)]}, "order": {"field": "LAST_INTERACTION"}}, token
    )
    assert data["clients"]["totalCount"] == 1


async def test_client_may_filter_its_projects_by_status_which_it_can_read(api, factory):
    """Project.status is PUBLIC, so a client may filter its projects by it."""
    token = await _portal_token(api, factory)
    data = await api.data("{ clients { edges { node { projects(status: [ACTIVE]) { name } } } } }", token=token)
    assert data["clients"]["edges"][0]["node"]["projects"] == []


TWO_OPERATIONS = """
query Listed($order: ClientOrder) { clients(orderBy: $order) { totalCount } }
query Projects($status: [ProjectStatus!]) { clients { edges { node { projects(status: $status) { name } } } } }
query Plain { apiVersion }
"""


async def test_which_fields_have_argument_rules_is_found_once_per_document_and_operation(api, factory, monkeypatch):
    """The typed walk that finds the fields with argument rules runs once per (document,
    operation) while the document is cached; the decisions on their values, every request."""
    from schema import enforcement

    token = await _portal_token(api, factory)
    walks: list[tuple[str, ...]] = []
    found = enforcement._ruled_fields

    def counting(schema, operation, fragments):
        ruled = found(schema, operation, fragments)
        walks.append(tuple(coordinate for *_, coordinate in ruled))
        return ruled

    monkeypatch.setattr(enforcement, "_ruled_fields", counting)

    async def post(operation: str, variables: dict) -> dict:
        payload = {"query": TWO_OPERATIONS, "operationName": operation, "variables": variables}
        response = await api.client.post("/graphql", json=payload, headers={"Authorization": f"Bearer {token}"})
        return response.json()

    for order, expected in (("NAME", None), ("LAST_INTERACTION", "FORBIDDEN"), ("NAME", None)):
        body = await post("Listed", {"order": {"field": order}})
        assert (body.get("errors") or [{}])[0].get("extensions", {}).get("code") == expected, body
    for status in (["ACTIVE"], ["COMPLETED"]):
        body = await post("Projects", {"status": status})
        assert "errors" not in body, body
    assert walks == [("Query.clients",), ("Client.projects",)]
