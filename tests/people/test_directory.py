"""The staff directory (`users`) and each client's portal users (`Client.portalUsers`): staff only,
the team's fields per the policy table (TEAM for every staff role, PAYROLL for ADMIN and MANAGER),
portal users never in the directory, a portal user and a partner refused; filters, search (`%`
and `_` literal), orders, cursors, totalCount; a constant number of statements. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from models import Contact, Role, User
from tests.factories import PASSWORD
from tests.partners.support import access_token, register
from tests.utils import gid

USERS = """query($filter: UserFilterInput, $order: UserOrder, $first: Int, $after: String) {
  users(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id fullName email role isActive } } } }"""

PORTAL_USERS = """query($id: ID!) { client(id: $id) { name
  portalUsers { id fullName email isActive lastLoginAt contact { fullName email } } } }"""

LOGIN_AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    contacts: dict[str, Any] = field(default_factory=dict)


async def _world(api, factory, db) -> World:
    w = World()
    w.users["ADMIN"] = await factory.user(
        Role.ADMIN, full_name="Alex Owner", email="alex@agency.example", hourly_cost_rate=Decimal("80.00")
    )
    w.users["MANAGER"] = await factory.user(Role.MANAGER, full_name="Maria Manager", email="maria@agency.example")
    w.users["MEMBER"] = await factory.user(
        Role.MEMBER, full_name="Devon 100% Dev", email="devon@agency.example", phone="+1 555 0103"
    )
    w.users["underscore"] = await factory.user(Role.MEMBER, full_name="Dana Design", email="dana_d@agency.example")
    w.users["lookalike"] = await factory.user(Role.MEMBER, full_name="Leo Lookalike", email="danaxd@agency.example")
    w.users["gone"] = await factory.user(
        Role.MEMBER, full_name="Gone Member", email="gone@agency.example", is_active=False
    )
    for role in ("ADMIN", "MANAGER", "MEMBER"):
        w.tokens[role] = await api.login(w.users[role].email, PASSWORD)
    w.clients["acme"] = acme = await factory.client("Acme")
    w.clients["globex"] = globex = await factory.client("Globex")
    w.users["olivia"] = await factory.portal_user(acme, full_name="Olivia Portal")
    w.users["revoked"] = await factory.portal_user(acme, full_name="Ray Revoked", is_active=False)
    w.users["gina"] = await factory.portal_user(globex, full_name="Gina Globex")
    w.tokens["CLIENT"] = await api.login(w.users["olivia"].email, PASSWORD)
    w.tokens["OTHER_CLIENT"] = await api.login(w.users["gina"].email, PASSWORD)
    every = await register(
        db,
        scopes=["clients:read", "contacts:read", "projects:read", "invoices:read", "internal:read"],
        clients=[globex],
    )
    w.tokens["PARTNER"] = await access_token(api.client, every)
    # Olivia signed in (above): pin her last sign-in for the assertions. Ray never did.
    async with db() as session, session.begin():
        olivia = await session.get(User, w.users["olivia"].id)
        olivia.last_login_at = LOGIN_AT
        for key in ("olivia", "revoked"):
            w.contacts[key] = await session.get(Contact, w.users[key].contact_id)
    return w


@pytest.fixture
async def world(api, factory, db) -> World:
    return await _world(api, factory, db)


def _forbidden(body: dict) -> set[str]:
    return {e["extensions"]["field"] for e in body.get("errors", []) if e["extensions"].get("code") == "FORBIDDEN"}


def _names(data: dict) -> list[str]:
    return [edge["node"]["fullName"] for edge in data["users"]["edges"]]


TEAM = ["Alex Owner", "Dana Design", "Devon 100% Dev", "Gone Member", "Leo Lookalike", "Maria Manager"]


# ------------------------------------------------------------------------------ who may list


@pytest.mark.parametrize("who", ["ADMIN", "MANAGER", "MEMBER"])
async def test_every_staff_role_lists_the_team_and_no_portal_user(api, world, who):
    data = await api.data(USERS, {"first": 100}, world.tokens[who])
    assert _names(data) == TEAM
    assert data["users"]["totalCount"] == len(TEAM)
    nodes = {e["node"]["fullName"]: e["node"] for e in data["users"]["edges"]}
    assert nodes["Devon 100% Dev"] == {
        "id": gid("User", world.users["MEMBER"]),
        "fullName": "Devon 100% Dev",
        "email": "devon@agency.example",
        "role": "MEMBER",
        "isActive": True,
    }
    assert nodes["Gone Member"]["isActive"] is False
    assert nodes["Alex Owner"]["role"] == "ADMIN"


async def test_rates_are_payroll_a_member_reads_them_as_null(api, world):
    query = '{ users(filter: {search: "alex"}) { edges { node { fullName phone hourlyCostRate } } } }'
    manager = await api.data(query, token=world.tokens["MANAGER"])
    assert manager["users"]["edges"][0]["node"]["hourlyCostRate"] == "80.00"
    member = await api.post(query, token=world.tokens["MEMBER"])
    assert member["data"]["users"]["edges"][0]["node"] == {
        "fullName": "Alex Owner",
        "phone": None,
        "hourlyCostRate": None,
    }
    assert _forbidden(member) == {"User.hourlyCostRate"}


@pytest.mark.parametrize("who", ["CLIENT", "OTHER_CLIENT", "PARTNER"])
async def test_a_portal_user_or_a_partner_gets_nothing(api, world, who):
    body = await api.post(USERS, {"first": 100}, world.tokens[who])
    assert body["data"] == {"users": None}
    assert _forbidden(body) == {"Query.users"}
    assert "agency.example" not in str(body)
    view = await api.data(
        '{ __schema { queryType { fields { name } } } t: __type(name: "UserConnection") { name } }',
        token=world.tokens[who],
    )
    assert "users" not in {f["name"] for f in view["__schema"]["queryType"]["fields"]}
    assert view["t"] is None


async def test_without_a_token_the_directory_answers_nothing(api, world):
    body = await api.post(USERS)
    assert body["data"] is None or body["data"]["users"] is None
    assert "agency.example" not in str(body)


# ------------------------------------------------------------------------------ filters and search


async def test_filters_and_search(api, world):
    token = world.tokens["MEMBER"]

    async def names(filters: dict) -> list[str]:
        data = await api.data(USERS, {"filter": filters, "first": 100}, token)
        assert data["users"]["totalCount"] == len(data["users"]["edges"])
        return _names(data)

    assert await names({"role": ["MANAGER", "ADMIN"]}) == ["Alex Owner", "Maria Manager"]
    assert await names({"role": ["CLIENT"]}) == []
    assert await names({"active": False}) == ["Gone Member"]
    assert await names({"active": True, "role": ["MEMBER"]}) == ["Dana Design", "Devon 100% Dev", "Leo Lookalike"]
    assert await names({"search": "MARIA@"}) == ["Maria Manager"]
    assert await names({"search": "design"}) == ["Dana Design"]
    # `%` and `_` are themselves, not wildcards: "dana_d" is not "danaxd".
    assert await names({"search": "dana_d"}) == ["Dana Design"]
    assert await names({"search": "_"}) == ["Dana Design"]
    assert await names({"search": "100%"}) == ["Devon 100% Dev"]
    assert await names({"search": "%"}) == ["Devon 100% Dev"]
    # Portal users are not found by any search.
    assert await names({"search": "olivia"}) == []
    assert await names({"search": ""}) == TEAM


async def test_a_search_too_long_is_a_typed_error(api, world):
    body = await api.post(USERS, {"filter": {"search": "a" * 201}}, world.tokens["ADMIN"])
    assert body["data"] == {"users": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "TOO_LONG", "field": "filter.search"}


# ------------------------------------------------------------------------------ orders and pages


async def test_orders(api, world):
    token = world.tokens["ADMIN"]

    async def names(order: dict) -> list[str]:
        return _names(await api.data(USERS, {"order": order, "first": 100}, token))

    assert await names({"field": "NAME", "direction": "DESC"}) == list(reversed(TEAM))
    assert await names({"field": "EMAIL"}) == [
        "Alex Owner",
        "Dana Design",
        "Leo Lookalike",
        "Devon 100% Dev",
        "Gone Member",
        "Maria Manager",
    ]
    # Never signed in first (ties by id), then in the order the world's staff signed in.
    assert await names({"field": "LAST_LOGIN"}) == [
        "Dana Design",
        "Leo Lookalike",
        "Gone Member",
        "Alex Owner",
        "Maria Manager",
        "Devon 100% Dev",
    ]


@pytest.mark.parametrize("order", [{"field": "NAME"}, {"field": "EMAIL", "direction": "DESC"}, {"field": "LAST_LOGIN"}])
async def test_pages_walk_the_whole_directory_once(api, world, order):
    token = world.tokens["MANAGER"]
    expected = _names(await api.data(USERS, {"order": order, "first": 100}, token))
    seen: list[str] = []
    after = None
    while True:
        page = await api.data(USERS, {"order": order, "first": 4, "after": after}, token)
        assert page["users"]["totalCount"] == len(TEAM)
        seen += _names(page)
        if not page["users"]["pageInfo"]["hasNextPage"]:
            break
        after = page["users"]["pageInfo"]["endCursor"]
    assert seen == expected and len(seen) == len(TEAM)


# ------------------------------------------------------------------------------ Client.portalUsers


@pytest.mark.parametrize("who", ["ADMIN", "MANAGER", "MEMBER"])
async def test_staff_read_a_clients_portal_users(api, world, who):
    data = await api.data(PORTAL_USERS, {"id": gid("Client", world.clients["acme"])}, world.tokens[who])
    olivia, ray = world.users["olivia"], world.users["revoked"]
    assert data["client"]["portalUsers"] == [
        {
            "id": gid("User", olivia),
            "fullName": "Olivia Portal",
            "email": olivia.email,
            "isActive": True,
            "lastLoginAt": "2026-11-02T09:30:00+00:00",
            "contact": {"fullName": world.contacts["olivia"].full_name, "email": olivia.email},
        },
        {
            "id": gid("User", ray),
            "fullName": "Ray Revoked",
            "email": ray.email,
            "isActive": False,
            "lastLoginAt": None,
            "contact": {"fullName": world.contacts["revoked"].full_name, "email": ray.email},
        },
    ]
    globex = await api.data(PORTAL_USERS, {"id": gid("Client", world.clients["globex"])}, world.tokens[who])
    assert [u["fullName"] for u in globex["client"]["portalUsers"]] == ["Gina Globex"]


@pytest.mark.parametrize("who", ["CLIENT", "PARTNER"])
async def test_portal_users_are_refused_to_a_portal_user_and_a_partner(api, world, who):
    client = world.clients["acme" if who == "CLIENT" else "globex"]
    body = await api.post(PORTAL_USERS, {"id": gid("Client", client)}, world.tokens[who])
    assert body["data"]["client"]["portalUsers"] is None
    assert "Client.portalUsers" in _forbidden(body)
    assert "@" not in str(body["data"])


async def test_a_portal_user_of_another_company_sees_neither_the_client_nor_its_users(api, world):
    body = await api.post(PORTAL_USERS, {"id": gid("Client", world.clients["acme"])}, world.tokens["OTHER_CLIENT"])
    assert body["data"] == {"client": None}
    assert "Olivia" not in str(body)


async def test_a_client_reads_its_colleagues_display_names_only(api, world):
    """user_scope lets a portal user see its own client's users (e.g. comment authors): by name only."""
    node = """query($id: ID!) { node(id: $id) { ... on User { fullName email isActive contact { fullName } } } }"""
    body = await api.post(node, {"id": gid("User", world.users["revoked"])}, world.tokens["CLIENT"])
    assert body["data"]["node"] == {"fullName": "Ray Revoked", "email": None, "isActive": None, "contact": None}
    assert _forbidden(body) == {"User.email", "User.isActive", "User.contact"}
    other = await api.post(node, {"id": gid("User", world.users["revoked"])}, world.tokens["OTHER_CLIENT"])
    assert other["data"]["node"] is None


# ------------------------------------------------------------------------------ statements


async def _count(api, statements, query: str, variables: dict, token: str) -> tuple[int, dict]:
    await api.data("{ me { id } }", token=token)
    statements.reset()
    data = await api.data(query, variables, token)
    return statements.count, data


async def test_directory_statements_do_not_grow_with_the_page(api, factory, statements):
    admin = await factory.user(Role.ADMIN)
    for i in range(15):
        await factory.user(Role.MEMBER, full_name=f"Member {i:02}")
    token = await api.login(admin.email, PASSWORD)
    query = """query($first: Int) { users(first: $first) { totalCount
      edges { node { fullName email contact { fullName } } } } }"""
    small, data = await _count(api, statements, query, {"first": 2}, token)
    large, data = await _count(api, statements, query, {"first": 16}, token)
    assert len(data["users"]["edges"]) == 16
    assert small == large <= 4, (small, large)


async def test_portal_users_are_batched_across_clients(api, factory, statements):
    admin = await factory.user(Role.ADMIN)
    for i in range(10):
        client = await factory.client(f"Client {i:02}")
        await factory.portal_user(client)
        await factory.portal_user(client)
    token = await api.login(admin.email, PASSWORD)
    query = """query($first: Int) { clients(first: $first) { edges { node { name
      portalUsers { fullName email isActive contact { fullName } } } } } }"""
    small, data = await _count(api, statements, query, {"first": 2}, token)
    large, data = await _count(api, statements, query, {"first": 10}, token)
    assert [len(e["node"]["portalUsers"]) for e in data["clients"]["edges"]] == [2] * 10
    assert small == large <= 5, (small, large)
