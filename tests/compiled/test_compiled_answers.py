"""An operation answered wholly by kept compiled plans is answered by its statements alone the
next time (server/compiled.py): the same bytes, for that caller only, and never for an operation
that had an error, variables, or a root field the compiler does not express."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from models import Role, User
from resolvers.db import RequestDb
from resolvers.errors import DatabaseUnavailable
from schema import enforcement
from schema.enforcement import FieldPolicyExecutionContext
from tests.factories import PASSWORD

NESTED = "{ clients(first: 5) { edges { node { name projects { name } } } } }"
REFUSED = {
    "errors": [{"message": "The access token is invalid or expired.", "extensions": {"code": "UNAUTHENTICATED"}}]
}


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enforcement, "compiled_answers", type(enforcement.compiled_answers)())
    monkeypatch.setattr("server.compiled.compiled_answers", enforcement.compiled_answers)
    monkeypatch.setattr(enforcement, "compiled_plans", type(enforcement.compiled_plans)())


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per query that went through GraphQL execution (not answered by statements alone)."""
    seen: list[str] = []
    init = FieldPolicyExecutionContext.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if self.operation.operation.value == "query":
            seen.append("query")

    monkeypatch.setattr(FieldPolicyExecutionContext, "__init__", spy)
    return seen


async def _raw(api, query: str, token: str, **body: Any):
    response = await api.client.post(
        "/graphql", json={"query": query, **body}, headers={"Authorization": f"Bearer {token}"}
    )
    return response


async def _two_clients(factory):
    north = await factory.client("Northwind")
    await factory.project(north, name="Rebrand")
    blue = await factory.client("Bluebird")
    await factory.project(blue, name="Secret launch")
    return north, blue


async def test_the_second_time_the_statements_alone_answer_with_the_same_bytes(api, factory, executions):
    await _two_clients(factory)
    token = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    first = await _raw(api, NESTED, token)
    second = await _raw(api, NESTED, token)
    assert executions == ["query"]  # the second request never reached GraphQL execution
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert {e["node"]["name"] for e in second.json()["data"]["clients"]["edges"]} == {"Northwind", "Bluebird"}
    aliased = "{ a: clients(first: 1) { totalCount } b: clients(first: 2) { edges { node { name } } } }"
    once, again = await _raw(api, aliased, token), await _raw(api, aliased, token)
    assert again.content == once.content and list(again.json()["data"]) == ["a", "b"]


async def test_one_callers_answer_is_never_anothers(api, factory, executions):
    north, blue = await _two_clients(factory)
    north_user = await factory.portal_user(north)
    blue_user = await factory.portal_user(blue)
    staff = await factory.user(Role.MANAGER)
    north_token = await api.login(north_user.email, PASSWORD)
    blue_token = await api.login(blue_user.email, PASSWORD)
    staff_token = await api.login(staff.email, PASSWORD)
    for _ in range(2):  # the second round from the statements alone
        north_answer = (await _raw(api, NESTED, north_token)).json()
        blue_answer = (await _raw(api, NESTED, blue_token)).json()
        staff_answer = (await _raw(api, NESTED, staff_token)).json()
        assert [e["node"]["name"] for e in north_answer["data"]["clients"]["edges"]] == ["Northwind"]
        assert [e["node"]["name"] for e in blue_answer["data"]["clients"]["edges"]] == ["Bluebird"]
        assert "Secret launch" not in str(north_answer) and "Rebrand" not in str(blue_answer)
        assert len(staff_answer["data"]["clients"]["edges"]) == 2
    assert executions == ["query"] * 3  # once per caller


async def test_each_operation_of_a_document_is_its_own(api, factory, executions):
    await _two_clients(factory)
    token = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    document = (
        "query Few { clients(first: 1) { totalCount } } query Names { clients(first: 5) { edges { node { name } } } }"
    )
    for _ in range(2):
        few = (await _raw(api, document, token, operationName="Few")).json()
        names = (await _raw(api, document, token, operationName="Names")).json()
        assert few == {"data": {"clients": {"totalCount": 2}}}
        assert {e["node"]["name"] for e in names["data"]["clients"]["edges"]} == {"Northwind", "Bluebird"}
    assert executions == ["query", "query"]


async def test_what_had_an_error_or_variables_or_a_resolver_goes_the_usual_way(api, factory, executions):
    north, _ = await _two_clients(factory)
    portal = await factory.portal_user(north)
    token = await api.login(portal.email, PASSWORD)
    refused = "{ clients(first: 5) { edges { node { name internalNotes } } } }"  # FORBIDDEN for a portal user
    with_variables = "query($n: Int) { clients(first: $n) { totalCount } }"
    mixed = "{ me { id } clients(first: 5) { totalCount } }"  # `me` is a resolver's
    for _ in range(2):
        body = (await _raw(api, refused, token)).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await _raw(api, with_variables, token, variables={"n": 5})).json() == {
            "data": {"clients": {"totalCount": 1}}
        }
        assert (await _raw(api, mixed, token)).json()["data"]["clients"] == {"totalCount": 1}
    assert executions == ["query"] * 6
    assert not enforcement.compiled_answers


async def test_a_deactivated_caller_is_refused_on_the_second_time(api, factory, db, executions):
    await _two_clients(factory)
    staff = await factory.user(Role.MANAGER)
    token = await api.login(staff.email, PASSWORD)
    assert (await _raw(api, NESTED, token)).status_code == 200
    async with db() as session, session.begin():
        await session.execute(sa.update(User).where(User.id == staff.id).values(is_active=False))
    refused = await _raw(api, NESTED, token)
    assert refused.status_code == 401 and refused.json() == REFUSED
    assert "Northwind" not in refused.text


async def test_a_statement_that_fails_now_sends_the_request_the_usual_way(api, factory, executions, monkeypatch):
    await _two_clients(factory)
    token = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    first = await _raw(api, NESTED, token)
    [(key, roots)] = enforcement.compiled_answers.items()
    broken = ((roots[0][0], sa.select(sa.literal_column("no_such_column_anywhere"))),)
    enforcement.compiled_answers[key] = broken
    again = await _raw(api, NESTED, token)
    assert again.content == first.content
    assert executions == ["query", "query"]
    assert enforcement.compiled_answers.get(key) != broken  # forgotten (and remembered anew)


async def test_the_database_away_the_second_time_is_a_503(api, factory, executions, monkeypatch):
    await _two_clients(factory)
    token = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    assert (await _raw(api, NESTED, token)).status_code == 200

    async def away(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable(retry_after=7)

    monkeypatch.setattr(RequestDb, "core_scalar", away)
    response = await _raw(api, NESTED, token)
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {"SERVICE_UNAVAILABLE"}
    assert executions == ["query"]  # answered from the statements, which found the database away
