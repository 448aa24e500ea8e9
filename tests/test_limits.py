"""What one request may ask for: depth, aliases and cost are refused while validating, with a
typed error and before any SQL; the rule classes are made once, so the validation cache hits."""

from __future__ import annotations

import httpx
import pytest
from graphql import parse

from models import Role
from schema.build import build_schema
from schema.limits import DEFAULT_MAX_COST, LIST_ESTIMATE, configure, limits_extension, operation_cost
from server.app import create_app
from server.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD
from tests.utils import Api

NESTED_50 = """{ clients(first: 50) { edges { node { id name
  projects { id name tasks { id title status dueDate } } } } } }"""


def _cost(query: str, variables: dict | None = None) -> int:
    return operation_cost(build_schema()._schema, parse(query), None, variables)


def test_cost_counts_pages_and_lists_once():
    # clients + 50 x [edge + node + id, name + projects + 10 x (id, name + tasks + 10 x 4 fields)]
    assert _cost(NESTED_50) == 1 + 50 * (1 + 1 + 2 + 1 + LIST_ESTIMATE * (2 + 1 + LIST_ESTIMATE * 4))
    # fragments count like the fields they hold (no variable given: the default page of 20)
    with_fragment = "query($n: Int) { clients(first: $n) { edges { node { ...C } } } } fragment C on Client { id name }"
    assert _cost(with_fragment) == 1 + 20 * (1 + 1 + 2)


def test_a_variable_page_counts_its_value():
    query = "query($n: Int) { clients(first: $n) { edges { node { id } } } }"
    assert _cost(query, {"n": 5}) == 1 + 5 * (1 + 1 + 1)
    assert _cost(query, {}) == 1 + 20 * 3  # omitted: the argument's default page
    assert _cost(query, {"n": 10_000}) == 1 + 100 * 3  # above the cap: the resolver refuses it
    assert _cost(query, {"n": "x"}) == 1 + 20 * 3  # not an int: coercion refuses it


def test_rule_classes_are_made_once_per_process():
    first, second = limits_extension(), limits_extension()
    assert all(a is b for a, b in zip(first.validation_rules, second.validation_rules, strict=True))


async def test_an_expensive_query_is_refused_before_any_sql(api, factory, statements):
    user = await factory.user(Role.ADMIN)
    token = await api.login(user.email, PASSWORD)
    deep = (
        "{ clients(first: 100) { edges { node { projects { tasks { comments { id body author { fullName } } } } } } } }"
    )
    assert _cost(deep) > DEFAULT_MAX_COST
    statements.reset()
    response = await api.client.post("/graphql", json={"query": deep}, headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
    # Only the caller's token lookup ran: nothing of the operation reached the database.
    ran = [s for s in statements.statements if not s.startswith("BEGIN")]
    assert len(ran) == 1 and "FROM user_account" in ran[0], ran
    # the benchmark's nested list of 50 clients is within the default limit
    ok = await api.post(NESTED_50, token=token)
    assert "errors" not in ok, ok


async def test_the_limit_is_a_setting(db, engine, factory):
    """AGENCY_MAX_QUERY_COST sets the limit of the app's process; the cost follows the variables."""
    user = await factory.user(Role.ADMIN)
    settings = Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused", AGENCY_MAX_QUERY_COST=50)
    app = create_app(settings, engine=engine)
    query = "query Page($n: Int) { clients(first: $n) { edges { node { id name } } } }"
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, app)
            token = await api.login(user.email, PASSWORD)
            refused = await api.post(query, {"n": 20}, token=token)
            assert refused["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 81, "limit": 50}
            # the same document with a smaller page, right after: the cost follows the variables
            assert "errors" not in await api.post(query, {"n": 10}, token=token)
    finally:
        configure(max_query_cost=DEFAULT_MAX_COST)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ " + " ".join(f"a{i}: apiVersion" for i in range(31)) + " }", "GRAPHQL_VALIDATION_FAILED"),
        (
            '{ client(id: "Q2xpZW50OjE=") ' + "{ primaryContact { client " * 7 + "{ id }" + " } }" * 7 + " }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ],
    ids=["aliases", "depth"],
)
async def test_aliases_and_depth_are_refused(api, factory, query, code):
    user = await factory.user(Role.ADMIN)
    token = await api.login(user.email, PASSWORD)
    body = await api.post(query, token=token)
    assert body.get("data") is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {code}
    assert any("alias" in e["message"].lower() or "depth" in e["message"].lower() for e in body["errors"])
