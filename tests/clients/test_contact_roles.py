"""Contact roles and reporting lines, on SQLite and PostgreSQL: set on create and update, read back,
refused with a typed error and nothing written (another client's contact, a loop), who may set them,
who may read them (a portal user its own client's only, a partner through contacts:read on its
clients only), and a constant number of statements for a contacts list."""

from __future__ import annotations

from models import Contact, ContactRole, ContactRoleAssignment, Role
from tests.factories import PASSWORD
from tests.partners.support import access_token, register
from tests.utils import SIDE_TABLES, codes, count, counts, get, gid, mutate, raw_id, refused_by_policy, staff

ADD = """mutation($client: ID!, $input: ContactInput!) { addContact(clientId: $client, input: $input) {
  contact { id fullName roles reportsTo { fullName } directReports { fullName } }
  errors { field code message } } }"""
UPDATE = """mutation($input: UpdateContactInput!) { updateContact(input: $input) {
  contact { id roles reportsTo { fullName } } errors { field code message } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { name primaryContact { fullName roles } } errors { field code message } } }"""
CLIENT_CONTACTS = """query($id: ID!) { client(id: $id) { contacts {
  fullName title roles reportsTo { fullName } directReports { fullName } } } }"""
CONTACT = """query($id: ID!) { node(id: $id) { ... on Contact { fullName roles reportsTo { fullName } } } }"""


async def _written(db) -> dict[str, int]:
    return await counts(db, Contact, ContactRoleAssignment, *SIDE_TABLES)


async def test_roles_and_reports_to_are_set_on_create_and_read_back(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client("Northwind")
    boss = await factory.contact(client, primary=True, full_name="Beatrice Boss")
    payload = await mutate(
        api,
        ADD,
        {
            "client": gid("Client", client),
            "input": {
                "fullName": "Frank Finance",
                "roles": ["DAY_TO_DAY", "BILLING", "BILLING"],
                "reportsToId": gid("Contact", boss),
            },
        },
        token,
        "addContact",
    )
    assert payload["errors"] == []
    contact = payload["contact"]
    # A role given twice is held once; the order is the enum's.
    assert contact["roles"] == ["BILLING", "DAY_TO_DAY"]
    assert contact["reportsTo"] == {"fullName": "Beatrice Boss"}
    assert contact["directReports"] == []
    stored = await get(db, Contact, raw_id(contact["id"]))
    assert stored.reports_to_id == boss.id
    listed = await api.data(CLIENT_CONTACTS, {"id": gid("Client", client)}, token)
    by_name = {c["fullName"]: c for c in listed["client"]["contacts"]}
    assert by_name["Beatrice Boss"]["directReports"] == [{"fullName": "Frank Finance"}]
    assert by_name["Beatrice Boss"]["roles"] == [] and by_name["Beatrice Boss"]["reportsTo"] is None


async def test_a_new_clients_primary_contact_takes_roles(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    payload = await mutate(
        api,
        CREATE_CLIENT,
        {
            "input": {
                "name": "Initech",
                "primaryContact": {"fullName": "Peter", "roles": ["EXECUTIVE_SPONSOR", "LEGAL"]},
            }
        },
        token,
        "createClient",
    )
    assert payload["errors"] == []
    assert payload["client"]["primaryContact"] == {"fullName": "Peter", "roles": ["EXECUTIVE_SPONSOR", "LEGAL"]}


async def test_update_replaces_roles_and_reports_to_and_null_clears_them(api, factory, db):
    _, token = await staff(api, factory, Role.ADMIN)
    client = await factory.client()
    boss = await factory.contact(client, full_name="Boss")
    other_boss = await factory.contact(client, full_name="Other boss")
    person = await factory.contact(client, full_name="Person", reports_to_id=boss.id)
    await factory.add(ContactRoleAssignment(contact_id=person.id, role=ContactRole.TECHNICAL))
    changed = await mutate(
        api,
        UPDATE,
        {"input": {"contactId": gid("Contact", person), "roles": ["LEGAL"], "reportsToId": gid("Contact", other_boss)}},
        token,
        "updateContact",
    )
    assert changed["errors"] == []
    assert changed["contact"]["roles"] == ["LEGAL"]
    assert changed["contact"]["reportsTo"] == {"fullName": "Other boss"}
    # Leaving them out leaves them alone.
    kept = await mutate(
        api, UPDATE, {"input": {"contactId": gid("Contact", person), "title": "CTO"}}, token, "updateContact"
    )
    assert kept["contact"]["roles"] == ["LEGAL"] and kept["contact"]["reportsTo"] == {"fullName": "Other boss"}
    cleared = await mutate(
        api,
        UPDATE,
        {"input": {"contactId": gid("Contact", person), "roles": None, "reportsToId": None}},
        token,
        "updateContact",
    )
    assert cleared["errors"] == []
    assert cleared["contact"]["roles"] == [] and cleared["contact"]["reportsTo"] is None
    assert (await get(db, Contact, person.id)).reports_to_id is None


async def test_a_reporting_loop_is_refused_and_nothing_is_written(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client()
    top = await factory.contact(client, full_name="Top")
    middle = await factory.contact(client, full_name="Middle", reports_to_id=top.id)
    bottom = await factory.contact(client, full_name="Bottom", reports_to_id=middle.id)
    before = await _written(db)
    for who, manager in ((top, bottom), (top, middle), (middle, middle)):
        payload = await mutate(
            api,
            UPDATE,
            {"input": {"contactId": gid("Contact", who), "reportsToId": gid("Contact", manager), "roles": ["BILLING"]}},
            token,
            "updateContact",
        )
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("input.reportsToId", "REPORTS_TO_CYCLE")]
        assert payload["contact"] is None
    assert await _written(db) == before
    assert (await get(db, Contact, top.id)).reports_to_id is None
    # Moving a branch elsewhere in the tree is not a loop.
    fine = await mutate(
        api,
        UPDATE,
        {"input": {"contactId": gid("Contact", bottom), "reportsToId": gid("Contact", top)}},
        token,
        "updateContact",
    )
    assert fine["errors"] == []


async def test_reports_to_another_clients_contact_is_refused(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    acme, globex = await factory.client("Acme"), await factory.client("Globex")
    outsider = await factory.contact(globex, full_name="Outsider")
    person = await factory.contact(acme, full_name="Person")
    before = await _written(db)
    added = await mutate(
        api,
        ADD,
        {"client": gid("Client", acme), "input": {"fullName": "New", "reportsToId": gid("Contact", outsider)}},
        token,
        "addContact",
    )
    assert [(e["field"], e["code"]) for e in added["errors"]] == [("input.reportsToId", "REPORTS_TO_OTHER_CLIENT")]
    updated = await mutate(
        api,
        UPDATE,
        {"input": {"contactId": gid("Contact", person), "reportsToId": gid("Contact", outsider)}},
        token,
        "updateContact",
    )
    assert codes(updated) == ["REPORTS_TO_OTHER_CLIENT"]
    missing = await mutate(
        api,
        UPDATE,
        {"input": {"contactId": gid("Contact", person), "reportsToId": gid("Contact", 9999)}},
        token,
        "updateContact",
    )
    assert codes(missing) == ["NOT_FOUND"]
    created = await mutate(
        api,
        CREATE_CLIENT,
        {"input": {"name": "Hooli", "primaryContact": {"fullName": "Gavin", "reportsToId": gid("Contact", outsider)}}},
        token,
        "createClient",
    )
    assert codes(created) == ["REPORTS_TO_OTHER_CLIENT"]
    assert await _written(db) == before


async def test_portal_users_and_partners_may_not_set_roles(api, factory, db):
    client = await factory.client()
    person = await factory.contact(client)
    portal_user = await factory.portal_user(client)
    portal_token = await api.login(portal_user.email, PASSWORD)
    app = await register(db, clients=[client])
    partner_token = await access_token(api.client, app)
    before = await _written(db)
    for token in (portal_token, partner_token):
        await refused_by_policy(
            api, UPDATE, {"input": {"contactId": gid("Contact", person), "roles": ["BILLING"]}}, token, "updateContact"
        )
        await refused_by_policy(
            api,
            ADD,
            {"client": gid("Client", client), "input": {"fullName": "X", "roles": ["BILLING"]}},
            token,
            "addContact",
        )
    assert await _written(db) == before


async def _org(factory, name: str):
    client = await factory.client(name)
    boss = await factory.contact(client, primary=True, full_name=f"{name} boss", title="CEO")
    clerk = await factory.contact(client, full_name=f"{name} clerk", reports_to_id=boss.id)
    await factory.add(ContactRoleAssignment(contact_id=clerk.id, role=ContactRole.BILLING))
    return client, boss, clerk


async def test_a_portal_user_reads_its_own_clients_roles_and_never_another_clients(api, factory, db):
    acme, _, acme_clerk = await _org(factory, "Acme")
    globex, _, globex_clerk = await _org(factory, "Globex")
    portal_user = await factory.portal_user(acme)
    token = await api.login(portal_user.email, PASSWORD)
    own = await api.data(CONTACT, {"id": gid("Contact", acme_clerk)}, token)
    assert own["node"] == {"fullName": "Acme clerk", "roles": ["BILLING"], "reportsTo": {"fullName": "Acme boss"}}
    listed = await api.data(CLIENT_CONTACTS, {"id": gid("Client", acme)}, token)
    boss = next(c for c in listed["client"]["contacts"] if c["fullName"] == "Acme boss")
    assert boss["directReports"] == [{"fullName": "Acme clerk"}]
    other = await api.post(CONTACT, {"id": gid("Contact", globex_clerk)}, token)
    assert other["data"]["node"] is None
    other_client = await api.post(CLIENT_CONTACTS, {"id": gid("Client", globex)}, token)
    assert other_client["data"]["client"] is None
    assert "Globex" not in str(other) + str(other_client)


async def test_a_partner_with_contacts_read_reads_roles_of_its_clients_only(api, factory, db):
    acme, _, acme_clerk = await _org(factory, "Acme")
    _, _, globex_clerk = await _org(factory, "Globex")
    app = await register(db, scopes=["contacts:read"], clients=[acme])
    token = await access_token(api.client, app)
    own = await api.data(CONTACT, {"id": gid("Contact", acme_clerk)}, token)
    assert own["node"] == {"fullName": "Acme clerk", "roles": ["BILLING"], "reportsTo": {"fullName": "Acme boss"}}
    other = await api.post(CONTACT, {"id": gid("Contact", globex_clerk)}, token)
    assert other["data"]["node"] is None and "Globex" not in str(other)


async def test_a_contacts_list_with_roles_and_reports_to_takes_constant_statements(api, factory, db, statements):
    admin = await factory.user(Role.ADMIN)
    token = await api.login(admin.email, PASSWORD)
    small = await factory.client("Small")
    large = await factory.client("Large")
    for client, size in ((small, 2), (large, 12)):
        boss = await factory.contact(client, primary=True, full_name=f"{client.name} boss")
        for i in range(size):
            person = await factory.contact(client, full_name=f"{client.name} {i:02}", reports_to_id=boss.id)
            await factory.add(
                ContactRoleAssignment(contact_id=person.id, role=ContactRole.BILLING),
                ContactRoleAssignment(contact_id=person.id, role=ContactRole.TECHNICAL),
            )

    async def statements_for(client) -> int:
        await api.data("{ me { id } }", token=token)
        statements.reset()
        data = await api.data(CLIENT_CONTACTS, {"id": gid("Client", client)}, token)
        assert all(c["roles"] == ["BILLING", "TECHNICAL"] for c in data["client"]["contacts"][1:])
        return statements.count

    assert await statements_for(small) == await statements_for(large)


async def test_a_change_of_roles_alone_is_in_the_change_log(api, factory, db):
    from models import ChangeEvent

    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client()
    person = await factory.contact(client)

    async def updates() -> int:
        return await count(db, ChangeEvent, ChangeEvent.entity_id == person.id, ChangeEvent.event == "contact.updated")

    before = await updates()
    payload = await mutate(
        api, UPDATE, {"input": {"contactId": gid("Contact", person), "roles": ["BILLING"]}}, token, "updateContact"
    )
    assert payload["errors"] == []
    assert await updates() == before + 1
    # The same roles again change nothing.
    await mutate(
        api, UPDATE, {"input": {"contactId": gid("Contact", person), "roles": ["BILLING"]}}, token, "updateContact"
    )
    assert await updates() == before + 1
