"""Contacts across clients (`contacts(filter:)`): staff find any contact, an unlinked one too, and
link it (linkContact); a portal user lists its own client's contacts only, never an unlinked
one; a partner app with contacts:read those of its clients; search (`%` and `_` literal), the
client and unlinked filters, cursors, totalCount; a constant number of statements. On SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from models import Contact, Role
from tests.factories import PASSWORD
from tests.partners.support import access_token, register
from tests.utils import gid, mutate

CONTACTS = """query($filter: ContactFilterInput, $first: Int, $after: String) {
  contacts(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id fullName email client { name } } } } }"""

LINK = """mutation($contact: ID!, $client: ID!) { linkContact(contactId: $contact, clientId: $client) {
  contact { fullName isPrimary client { name } } errors { field code } } }"""


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    contacts: dict[str, Any] = field(default_factory=dict)


async def _world(api, factory, db) -> World:
    w = World()
    for role in (Role.ADMIN, Role.MANAGER, Role.MEMBER):
        user = await factory.user(role)
        w.tokens[role.value] = await api.login(user.email, PASSWORD)
    w.clients["acme"] = acme = await factory.client("Acme")
    w.clients["globex"] = globex = await factory.client("Globex")
    c = w.contacts
    c["olivia"] = await factory.contact(
        acme, primary=True, full_name="Olivia Chen", email="olivia@acme.example", internal_notes="CANARY-NOTE"
    )
    c["percent"] = await factory.contact(acme, full_name="Pat 100% Sure", email="pat@acme.example")
    c["underscore"] = await factory.contact(acme, full_name="Quinn Q", email="q_q@acme.example")
    c["lookalike"] = await factory.contact(globex, full_name="Quincy Lookalike", email="qxq@globex.example")
    c["gina"] = await factory.contact(globex, primary=True, full_name="Gina Globex", email="gina@globex.example")
    c["unlinked"] = await factory.add(Contact(client_id=None, full_name="Uma Unlinked", email="uma@freelance.example"))
    c["unlinked_too"] = await factory.add(Contact(client_id=None, full_name="Victor Vacant", email=None))
    acme_user = await factory.portal_user(acme, full_name="Acme Portal")
    globex_user = await factory.portal_user(globex, full_name="Globex Portal")
    c["acme_portal"] = await _contact_of(db, acme_user)
    c["globex_portal"] = await _contact_of(db, globex_user)
    w.tokens["CLIENT"] = await api.login(acme_user.email, PASSWORD)
    w.tokens["OTHER_CLIENT"] = await api.login(globex_user.email, PASSWORD)
    limited = await register(db, scopes=["contacts:read"], clients=[globex])
    w.tokens["PARTNER"] = await access_token(api.client, limited)
    no_contacts = await register(db, scopes=["clients:read", "projects:read", "internal:read"], clients=[acme])
    w.tokens["PARTNER_NO_CONTACTS"] = await access_token(api.client, no_contacts)
    return w


async def _contact_of(db, user) -> Contact:
    async with db() as session:
        contact = await session.get(Contact, user.contact_id)
        assert contact is not None
        return contact


@pytest.fixture
async def world(api, factory, db) -> World:
    return await _world(api, factory, db)


def _names(data: dict) -> list[str]:
    return [edge["node"]["fullName"] for edge in data["contacts"]["edges"]]


def _forbidden(body: dict) -> set[str]:
    return {e["extensions"]["field"] for e in body.get("errors", []) if e["extensions"].get("code") == "FORBIDDEN"}


def _sorted(world: World, *keys: str) -> list[str]:
    return sorted((world.contacts[k].full_name for k in keys), key=str.lower)


ACME = ("olivia", "percent", "underscore", "acme_portal")
GLOBEX = ("lookalike", "gina", "globex_portal")
UNLINKED = ("unlinked", "unlinked_too")


# ------------------------------------------------------------------------------ every role


@pytest.mark.parametrize(
    ("who", "keys"),
    [
        ("ADMIN", ACME + GLOBEX + UNLINKED),
        ("MANAGER", ACME + GLOBEX + UNLINKED),
        ("MEMBER", ACME + GLOBEX + UNLINKED),
        ("CLIENT", ACME),
        ("OTHER_CLIENT", GLOBEX),
        ("PARTNER", GLOBEX),
    ],
)
async def test_each_role_lists_the_contacts_of_its_row_scope(api, world, who, keys):
    data = await api.data(CONTACTS, {"first": 100}, world.tokens[who])
    assert _names(data) == _sorted(world, *keys)
    assert data["contacts"]["totalCount"] == len(keys)


async def test_values_follow_the_field_policy(api, world):
    query = """{ contacts(filter: {search: "olivia"}) { edges { node {
      fullName email title isPrimary internalNotes hasPortalAccess client { name } } } } }"""
    staff = await api.data(query, token=world.tokens["MEMBER"])
    assert staff["contacts"]["edges"][0]["node"] == {
        "fullName": "Olivia Chen",
        "email": "olivia@acme.example",
        "title": None,
        "isPrimary": True,
        "internalNotes": "CANARY-NOTE",
        "hasPortalAccess": False,
        "client": {"name": "Acme"},
    }
    client = await api.post(query, token=world.tokens["CLIENT"])
    node = client["data"]["contacts"]["edges"][0]["node"]
    assert node["fullName"] == "Olivia Chen" and node["client"] == {"name": "Acme"}
    assert node["internalNotes"] is None and node["hasPortalAccess"] is None
    assert _forbidden(client) == {"Contact.internalNotes", "Contact.hasPortalAccess"}
    assert "CANARY" not in str(client)
    # A portal user of another company, and a partner limited to it, find no Acme contact.
    for who in ("OTHER_CLIENT", "PARTNER"):
        body = await api.post(query, token=world.tokens[who])
        assert body["data"]["contacts"]["edges"] == [], who
        assert "Olivia" not in str(body) and "CANARY" not in str(body)


async def test_a_partner_without_contacts_read_is_refused_the_root(api, world):
    body = await api.post(CONTACTS, token=world.tokens["PARTNER_NO_CONTACTS"])
    assert body["data"] == {"contacts": None}
    assert _forbidden(body) == {"Query.contacts"}
    assert "acme.example" not in str(body)
    view = await api.data("{ __schema { queryType { fields { name } } } }", token=world.tokens["PARTNER_NO_CONTACTS"])
    assert "contacts" not in {f["name"] for f in view["__schema"]["queryType"]["fields"]}


# ------------------------------------------------------------------------------ filters and search


async def test_staff_filters_and_search(api, world):
    token = world.tokens["MANAGER"]

    async def names(filters: dict) -> list[str]:
        data = await api.data(CONTACTS, {"filter": filters, "first": 100}, token)
        assert data["contacts"]["totalCount"] == len(data["contacts"]["edges"])
        return _names(data)

    assert await names({"unlinked": True}) == ["Uma Unlinked", "Victor Vacant"]
    assert await names({"unlinked": False}) == _sorted(world, *ACME, *GLOBEX)
    assert await names({"clientId": gid("Client", world.clients["globex"])}) == _sorted(world, *GLOBEX)
    assert await names({"clientId": gid("Client", world.clients["globex"]), "unlinked": True}) == []
    assert await names({"search": "OLIVIA"}) == ["Olivia Chen"]
    assert await names({"search": "freelance.EXAMPLE"}) == ["Uma Unlinked"]
    assert await names({"search": "uma", "unlinked": True}) == ["Uma Unlinked"]
    # `%` and `_` are matched as themselves: "q_q" is not "qxq", "%" is not everything.
    assert await names({"search": "q_q"}) == ["Quinn Q"]
    assert await names({"search": "_"}) == ["Quinn Q"]
    assert await names({"search": "100%"}) == ["Pat 100% Sure"]
    assert await names({"search": "%"}) == ["Pat 100% Sure"]
    assert await names({"search": "nobody"}) == []
    # An id of another type names no client: nothing matches.
    assert await names({"clientId": gid("Contact", world.contacts["gina"])}) == []


async def test_a_portal_user_filters_within_its_own_client(api, world):
    token = world.tokens["CLIENT"]

    async def names(filters: dict) -> list[str]:
        data = await api.data(CONTACTS, {"filter": filters}, token)
        assert data["contacts"]["totalCount"] == len(data["contacts"]["edges"])
        return _names(data)

    assert await names({"unlinked": True}) == []
    assert await names({"clientId": gid("Client", world.clients["globex"])}) == []
    assert await names({"search": "gina"}) == []
    assert await names({"search": "uma"}) == []
    assert await names({"search": "q"}) == ["Quinn Q"]
    assert await names({"clientId": gid("Client", world.clients["acme"]), "search": "olivia"}) == ["Olivia Chen"]


async def test_a_search_too_long_is_a_typed_error(api, world):
    body = await api.post(CONTACTS, {"filter": {"search": "x" * 201}}, world.tokens["MEMBER"])
    assert body["data"] == {"contacts": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "TOO_LONG", "field": "filter.search"}


# ------------------------------------------------------------------------------ find and link


async def test_staff_find_an_unlinked_contact_and_link_it(api, world):
    token = world.tokens["MEMBER"]
    found = await api.data(CONTACTS, {"filter": {"search": "uma", "unlinked": True}}, token)
    [edge] = found["contacts"]["edges"]
    assert edge["node"]["client"] is None
    linked = await mutate(
        api,
        LINK,
        {"contact": edge["node"]["id"], "client": gid("Client", world.clients["globex"])},
        token,
        "linkContact",
    )
    assert linked["errors"] == []
    assert linked["contact"] == {"fullName": "Uma Unlinked", "isPrimary": False, "client": {"name": "Globex"}}
    after = await api.data(CONTACTS, {"filter": {"unlinked": True}}, token)
    assert _names(after) == ["Victor Vacant"]
    of_globex = await api.data(CONTACTS, {"filter": {"clientId": gid("Client", world.clients["globex"])}}, token)
    assert "Uma Unlinked" in _names(of_globex)
    # Now Globex's portal user sees it too, and Acme's does not.
    assert "Uma Unlinked" in _names(await api.data(CONTACTS, {"first": 100}, world.tokens["OTHER_CLIENT"]))
    assert "Uma Unlinked" not in _names(await api.data(CONTACTS, {"first": 100}, world.tokens["CLIENT"]))


# ------------------------------------------------------------------------------ pages and statements


@pytest.mark.parametrize("who", ["ADMIN", "CLIENT"])
async def test_pages_walk_the_whole_list_once(api, world, who):
    token = world.tokens[who]
    expected = _names(await api.data(CONTACTS, {"first": 100}, token))
    seen: list[str] = []
    after = None
    while True:
        page = await api.data(CONTACTS, {"first": 3, "after": after}, token)
        assert page["contacts"]["totalCount"] == len(expected)
        seen += _names(page)
        if not page["contacts"]["pageInfo"]["hasNextPage"]:
            break
        after = page["contacts"]["pageInfo"]["endCursor"]
    assert seen == expected


async def test_statements_do_not_grow_with_the_page(api, factory, statements):
    admin = await factory.user(Role.ADMIN)
    for i in range(8):
        client = await factory.client(f"Client {i:02}")
        await factory.contact(client, primary=True)
        await factory.portal_user(client)
    token = await api.login(admin.email, PASSWORD)
    query = """query($first: Int) { contacts(first: $first) { totalCount
      edges { node { fullName hasPortalAccess client { name primaryContact { fullName } } } } } }"""

    async def count(first: int) -> int:
        await api.data("{ me { id } }", token=token)
        statements.reset()
        data = await api.data(query, {"first": first}, token)
        assert len(data["contacts"]["edges"]) == first
        return statements.count

    small, large = await count(2), await count(16)
    assert small == large <= 7, (small, large)
