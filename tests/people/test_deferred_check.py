"""A user's token is checked against its row in the request's first statement (on PostgreSQL,
inside its first compiled read) instead of a round trip of its own (server.principal,
DeferredUserCheck): nothing may come of that but one statement less. A refused caller gets the
same 401 as ever, whatever it asked; a portal user whose client's cost setting changed is
answered under the new setting."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from strawberry.relay import to_base64

from models import Client, Role, User
from tests.factories import PASSWORD
from tests.utils import count

REFUSED = {
    "errors": [{"message": "The access token is invalid or expired.", "extensions": {"code": "UNAUTHENTICATED"}}]
}
NESTED = "{ clients(first: 5) { edges { node { name projects { name } } } } }"
COSTS = "query($id: ID!) { clientReport(clientId: $id) { profitability { totalCost } } }"


async def _post(api, query: str, token: str):
    return await api.client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})


async def _portal(factory, *, costs: bool = False):
    client = await factory.client("Northwind", show_costs_in_portal=costs)
    await factory.project(client, name="Rebrand")
    user = await factory.portal_user(client)
    return client, user


async def test_a_portal_users_compiled_read_is_one_statement_on_postgresql(api, factory, statements, engine):
    _, user = await _portal(factory)
    token = await api.login(user.email, PASSWORD)
    expected = {"clients": {"edges": [{"node": {"name": "Northwind", "projects": [{"name": "Rebrand"}]}}]}}
    assert await api.data(NESTED, token=token) == expected  # checked first: its client now seen
    statements.reset()
    assert await api.data(NESTED, token=token) == expected
    # PostgreSQL: the user's row and the answer in one statement; SQLite: the look-up, then the read.
    issued = [s for s in statements.statements if not s.startswith("BEGIN")]  # SQLite's own
    assert len(issued) == (1 if engine.dialect.name == "postgresql" else 2), issued
    assert "user_account" in issued[0] and "json" in issued[-1].lower()


@pytest.mark.parametrize(
    "query",
    [NESTED, "{ __typename }", "{ me { id } }", "{ tasks(first: 3) { totalCount } }"],
    ids=["compiled", "no-database", "resolver", "list"],
)
async def test_a_deactivated_portal_user_is_refused_whatever_it_asks(api, factory, db, query):
    _, user = await _portal(factory)
    token = await api.login(user.email, PASSWORD)
    await api.data(NESTED, token=token)  # its client seen: the next requests put the check off
    async with db() as session, session.begin():
        (await session.get(User, user.id)).is_active = False
    response = await _post(api, query, token)
    assert response.status_code == 401 and response.json() == REFUSED
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_portal_user_moved_to_another_client_is_refused(api, factory, db):
    _, user = await _portal(factory)
    other = await factory.client("Bluebird")
    contact = await factory.contact(other)
    token = await api.login(user.email, PASSWORD)
    await api.data(NESTED, token=token)
    async with db() as session, session.begin():
        moved = await session.get(User, user.id)
        moved.client_id, moved.contact_id = other.id, contact.id
    response = await _post(api, NESTED, token)
    assert response.status_code == 401 and response.json() == REFUSED
    assert "Bluebird" not in response.text


async def test_a_deactivated_staff_member_writes_nothing(api, factory, db):
    staff = await factory.user(Role.MANAGER)
    token = await api.login(staff.email, PASSWORD)
    await api.data(NESTED, token=token)
    async with db() as session, session.begin():
        (await session.get(User, staff.id)).is_active = False
    before = await count(db, Client)
    create = 'mutation { createClient(input: { name: "Acme" }) { client { id } errors { code } } }'
    response = await _post(api, create, token)
    assert response.status_code == 401 and response.json() == REFUSED
    assert await count(db, Client) == before
    assert await count(db, Client, Client.name == "Acme") == 0


async def test_a_changed_cost_setting_is_answered_as_it_now_is(api, factory, db):
    client, user = await _portal(factory, costs=False)
    token = await api.login(user.email, PASSWORD)
    variables = {"id": to_base64("Client", client.id)}
    hidden = await api.post(COSTS, variables, token)
    assert hidden["data"] == {"clientReport": {"profitability": None}}
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["FORBIDDEN"]

    async def show(costs: bool) -> None:
        async with db() as session, session.begin():
            await session.execute(sa.update(Client).where(Client.id == client.id).values(show_costs_in_portal=costs))

    # Put off under the old setting, found changed by the check, answered again under the new one.
    await show(True)
    shown = await api.post(COSTS, variables, token)
    assert shown == {"data": {"clientReport": {"profitability": {"totalCost": "0.00"}}}}
    await show(False)
    again = await api.post(COSTS, variables, token)
    assert again["data"] == {"clientReport": {"profitability": None}}
    assert [e["extensions"]["code"] for e in again["errors"]] == ["FORBIDDEN"]
