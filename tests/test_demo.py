"""The demo agency: loads once, and walks through the README's first steps."""

from __future__ import annotations

import sqlalchemy as sa

from models import Client
from server.demo import DEMO_PASSWORD, load_demo

FIRST_CLIENTS = "{ clients(first: 5) { totalCount edges { node { name status { name } } } } }"


async def test_demo_loads_once_and_has_every_role(db, demo):
    roles = {s.role for s in demo}
    assert {"ADMIN", "MANAGER", "MEMBER", "CLIENT"} <= roles
    again = await load_demo(db)
    assert [s.email for s in again] == [s.email for s in demo]
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Client)) == 12


async def test_staff_login_then_clients_returns_demo_clients(api, demo):
    token = await api.login("owner@agency.example", DEMO_PASSWORD)
    data = await api.data(FIRST_CLIENTS, token=token)
    assert data["clients"]["totalCount"] == 12
    assert len(data["clients"]["edges"]) == 5


async def test_demo_portal_user_sees_only_northwind(api, demo):
    token = await api.login("olivia@northwind.example", DEMO_PASSWORD)
    body = await api.post(
        "{ clients { totalCount edges { node { name projects { name tasks { title comments { kind } } } } } } }",
        token=token,
    )
    assert "errors" not in body
    clients = body["data"]["clients"]
    assert clients["totalCount"] == 1
    assert [e["node"]["name"] for e in clients["edges"]] == ["Northwind Coffee"]
    kinds = {c["kind"] for p in clients["edges"][0]["node"]["projects"] for t in p["tasks"] for c in t["comments"]}
    assert kinds == {"REPLY"}
