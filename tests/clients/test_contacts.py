"""Contacts: add a new one or link an existing one; exactly one primary, switched atomically."""

from __future__ import annotations

import asyncio

from sqlmodel import col

from models import Activity, ActivityKind, Contact, Role
from tests.utils import SIDE_TABLES, codes, count, counts, get, gid, mutate, portal, rows, staff

ADD = """
mutation($client: ID!, $input: ContactInput!, $primary: Boolean) {
  addContact(clientId: $client, input: $input, makePrimary: $primary) {
    contact { id fullName email title isPrimary isDecisionMaker hasPortalAccess client { name } }
    errors { field code message } } }"""
LINK = """mutation($contact: ID!, $client: ID!) { linkContact(contactId: $contact, clientId: $client) {
  contact { fullName isPrimary client { name } } errors { field code message } } }"""
PRIMARY = """mutation($contact: ID!) { setPrimaryContact(contactId: $contact) {
  contact { fullName isPrimary } errors { field code message } } }"""
UPDATE = """mutation($input: UpdateContactInput!) { updateContact(input: $input) {
  contact { fullName email phone title isDecisionMaker internalNotes } errors { field code message } } }"""
CONTACTS = """query($id: ID!) { client(id: $id) {
  primaryContact { fullName } contacts { fullName isPrimary hasPortalAccess } } }"""

WRITES = (Contact, *SIDE_TABLES)


async def _primaries(db, client) -> list[str]:
    return [
        c.full_name for c in await rows(db, Contact, Contact.client_id == client.id, col(Contact.is_primary).is_(True))
    ]


async def test_adding_a_contact_keeps_the_existing_primary(api, factory, db):
    client = await factory.client("Acme")
    await factory.contact(client, primary=True, full_name="Pat Primary")
    _, token = await staff(api, factory, Role.MEMBER)
    payload = await mutate(
        api,
        ADD,
        {
            "client": gid("Client", client),
            "input": {
                "fullName": "Dana Day-to-day",
                "email": "dana@acme.example",
                "title": "Marketing lead",
            },
        },
        token,
        "addContact",
    )
    assert payload["errors"] == []
    assert payload["contact"] == {
        "id": payload["contact"]["id"],
        "fullName": "Dana Day-to-day",
        "email": "dana@acme.example",
        "title": "Marketing lead",
        "isPrimary": False,
        "isDecisionMaker": False,
        "hasPortalAccess": False,
        "client": {"name": "Acme"},
    }
    assert await _primaries(db, client) == ["Pat Primary"]
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.CONTACT_ADDED and entry.client_id == client.id and not entry.client_visible


async def test_first_contact_becomes_primary_and_make_primary_switches(api, factory, db):
    client = await factory.client("Acme")
    _, token = await staff(api, factory)
    first = await mutate(
        api, ADD, {"client": gid("Client", client), "input": {"fullName": "First"}}, token, "addContact"
    )
    assert first["contact"]["isPrimary"] is True
    second = await mutate(
        api,
        ADD,
        {"client": gid("Client", client), "input": {"fullName": "Second"}, "primary": True},
        token,
        "addContact",
    )
    assert second["contact"]["isPrimary"] is True
    assert await _primaries(db, client) == ["Second"]


async def test_linking_an_existing_contact_and_never_moving_another_clients(api, factory, db):
    acme = await factory.client("Acme")
    await factory.contact(acme, primary=True, full_name="Acme Primary")
    other = await factory.client("Other")
    theirs = await factory.contact(other, primary=True, full_name="Theirs")
    loose = await factory.add(Contact(full_name="Loose Contact", email="loose@example.com"))
    _, token = await staff(api, factory)

    linked = await mutate(
        api, LINK, {"contact": gid("Contact", loose), "client": gid("Client", acme)}, token, "linkContact"
    )
    assert linked == {
        "contact": {"fullName": "Loose Contact", "isPrimary": False, "client": {"name": "Acme"}},
        "errors": [],
    }
    assert (await get(db, Contact, loose.id)).client_id == acme.id

    before = await counts(db, *WRITES)
    moved = await mutate(
        api, LINK, {"contact": gid("Contact", theirs), "client": gid("Client", acme)}, token, "linkContact"
    )
    again = await mutate(
        api, LINK, {"contact": gid("Contact", loose), "client": gid("Client", acme)}, token, "linkContact"
    )
    unknown = await mutate(
        api, LINK, {"contact": gid("Contact", 9999), "client": gid("Client", acme)}, token, "linkContact"
    )
    no_client = await mutate(
        api, LINK, {"contact": gid("Contact", loose), "client": gid("Client", 9999)}, token, "linkContact"
    )
    assert codes(moved) == ["CONTACT_HAS_CLIENT"] and codes(again) == ["ALREADY_LINKED"]
    assert unknown["errors"][0]["field"] == "contactId" and codes(unknown) == ["NOT_FOUND"]
    assert no_client["errors"][0]["field"] == "clientId" and codes(no_client) == ["NOT_FOUND"]
    assert (await get(db, Contact, theirs.id)).client_id == other.id
    assert await counts(db, *WRITES) == before


async def test_switching_the_primary_contact_unsets_the_old_one(api, factory, db):
    client = await factory.client("Acme")
    old = await factory.contact(client, primary=True, full_name="Old Primary")
    new = await factory.contact(client, full_name="New Primary")
    _, token = await staff(api, factory)
    payload = await mutate(api, PRIMARY, {"contact": gid("Contact", new)}, token, "setPrimaryContact")
    assert payload == {"contact": {"fullName": "New Primary", "isPrimary": True}, "errors": []}
    assert (await get(db, Contact, old.id)).is_primary is False
    assert await _primaries(db, client) == ["New Primary"]
    data = await api.data(CONTACTS, {"id": gid("Client", client)}, token)
    assert data["client"]["primaryContact"] == {"fullName": "New Primary"}
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.PRIMARY_CONTACT_CHANGED

    before = await counts(db, *WRITES)
    same = await mutate(api, PRIMARY, {"contact": gid("Contact", new)}, token, "setPrimaryContact")
    loose = await factory.add(Contact(full_name="Loose"))
    before = await counts(db, *WRITES)
    unlinked = await mutate(api, PRIMARY, {"contact": gid("Contact", loose)}, token, "setPrimaryContact")
    assert codes(same) == ["ALREADY_PRIMARY"] and codes(unlinked) == ["NO_CLIENT"]
    assert await counts(db, *WRITES) == before


async def test_concurrent_primary_switches_leave_exactly_one_primary(api, factory, db):
    client = await factory.client("Acme")
    await factory.contact(client, primary=True, full_name="A")
    others = [await factory.contact(client, full_name=name) for name in ("B", "C", "D", "E")]
    _, token = await staff(api, factory)
    results = await asyncio.gather(
        *[
            mutate(api, PRIMARY, {"contact": gid("Contact", c)}, token, "setPrimaryContact")
            for c in others
            for _ in range(2)
        ]
    )
    assert {c for r in results for c in codes(r)} <= {"ALREADY_PRIMARY"}
    assert sum(1 for r in results if r["errors"] == []) >= len(others)
    assert len(await _primaries(db, client)) == 1


async def test_update_contact_and_its_bad_input(api, factory, db):
    client = await factory.client("Acme")
    pat = await factory.contact(client, primary=True, full_name="Pat", email="pat@acme.example")
    await factory.contact(client, full_name="Sam", email="sam@acme.example")
    _, token = await staff(api, factory)
    ok = await mutate(
        api,
        UPDATE,
        {
            "input": {
                "contactId": gid("Contact", pat),
                "title": "CEO",
                "isDecisionMaker": True,
                "phone": None,
                "internalNotes": "Prefers calls",
            }
        },
        token,
        "updateContact",
    )
    assert ok["errors"] == []
    assert ok["contact"] == {
        "fullName": "Pat",
        "email": "pat@acme.example",
        "phone": None,
        "title": "CEO",
        "isDecisionMaker": True,
        "internalNotes": "Prefers calls",
    }
    before = await counts(db, *WRITES)
    for changes, field, code in [
        ({"email": "pat at acme"}, "input.email", "INVALID_EMAIL"),
        ({"email": "SAM@acme.example"}, "input.email", "DUPLICATE_EMAIL"),
        ({"fullName": "  "}, "input.fullName", "REQUIRED"),
        ({"fullName": None}, "input.fullName", "REQUIRED"),
        ({"title": "x" * 121}, "input.title", "TOO_LONG"),
        ({}, "input", "NOTHING_TO_UPDATE"),
    ]:
        payload = await mutate(
            api, UPDATE, {"input": {"contactId": gid("Contact", pat), **changes}}, token, "updateContact"
        )
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], changes
        assert payload["contact"] is None
    bad = await mutate(
        api,
        ADD,
        {"client": gid("Client", client), "input": {"fullName": "Dup", "email": "pat@ACME.example"}},
        token,
        "addContact",
    )
    assert codes(bad) == ["DUPLICATE_EMAIL"]
    assert await counts(db, *WRITES) == before
    assert (await get(db, Contact, pat.id)).email == "pat@acme.example"


async def test_who_has_portal_access_is_for_staff_only(api, factory, db):
    client = await factory.client("Acme")
    await factory.contact(client, primary=True, full_name="No Access")
    user, portal_token = await portal(api, factory, client, full_name="Portal Person")
    gone = await factory.portal_user(client, is_active=False)
    _, token = await staff(api, factory, Role.MEMBER)
    data = await api.data(CONTACTS, {"id": gid("Client", client)}, token)
    access = {c["fullName"]: c["hasPortalAccess"] for c in data["client"]["contacts"]}
    portal_contact = (await get(db, Contact, user.contact_id)).full_name
    gone_contact = (await get(db, Contact, gone.contact_id)).full_name
    assert access == {"No Access": False, portal_contact: True, gone_contact: False}

    own = await api.post(CONTACTS, {"id": gid("Client", client)}, portal_token)
    assert {c["hasPortalAccess"] for c in own["data"]["client"]["contacts"]} == {None}
    assert [e["extensions"]["field"] for e in own["errors"]] == ["Contact.hasPortalAccess"]

    other = await factory.client("Other")
    _, outsider = await portal(api, factory, other)
    theirs = await api.data(CONTACTS, {"id": gid("Client", client)}, outsider)
    assert theirs == {"client": None}


async def test_portal_users_may_not_manage_contacts(api, factory, db):
    client = await factory.client("Acme")
    contact = await factory.contact(client, full_name="Someone")
    _, token = await portal(api, factory, client)
    before = await counts(db, *WRITES)
    for query, variables in [
        (ADD, {"client": gid("Client", client), "input": {"fullName": "Sneaky"}}),
        (PRIMARY, {"contact": gid("Contact", contact)}),
        (UPDATE, {"input": {"contactId": gid("Contact", contact), "fullName": "Renamed"}}),
    ]:
        body = await api.post(query, variables, token)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(db, *WRITES) == before
    assert await count(db, Contact, Contact.full_name == "Sneaky") == 0
