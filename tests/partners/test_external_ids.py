"""Partner external ids: an app sets its own id on records it can read, reads it back on the record
and finds the record by it; another app, staff and portal users never see it. SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from models import InvoiceStatus, PartnerApp, PartnerExternalId, Role
from server.app import create_app
from tests.partners.support import access_token, register
from tests.utils import Api, count, gid, portal, refused_by_policy, staff

SET = """
mutation($input: SetExternalIdInput!) {
  setExternalId(input: $input) {
    record { id ... on Client { name externalId } ... on Invoice { number externalId } ... on Payment { externalId } }
    externalId
    errors { field code message }
  }
}
"""
FIND = """
query($entity: ChangeEntity!, $externalId: String!) {
  recordByExternalId(entity: $entity, externalId: $externalId) { id }
}
"""
WRITER = ("clients:read", "contacts:read", "invoices:read", "external_ids:write")


async def _partner(api, db, *scopes: str, clients=()) -> str:
    app = await register(db, scopes=scopes, clients=clients)
    return await access_token(api.client, app)


async def _set(api, token: str, record_id: str, external_id: str | None) -> dict:
    data = await api.data(SET, {"input": {"id": record_id, "externalId": external_id}}, token)
    return data["setExternalId"]


async def _find(api, token: str, entity: str, external_id: str) -> str | None:
    found = (await api.data(FIND, {"entity": entity, "externalId": external_id}, token))["recordByExternalId"]
    return None if found is None else found["id"]


async def test_set_read_look_up_and_clear_an_external_id(api, db, factory):
    a = await factory.client("A Company")
    invoice = await factory.invoice(a)
    payment = await factory.payment(invoice, "10.00")
    token = await _partner(api, db, *WRITER, clients=[a])

    done = await _set(api, token, gid("Client", a), " xero-contact-1 ")
    assert done == {
        "record": {"id": gid("Client", a), "name": "A Company", "externalId": "xero-contact-1"},
        "externalId": "xero-contact-1",
        "errors": [],
    }
    assert (await _set(api, token, gid("Invoice", invoice), "INV-0001"))["record"]["externalId"] == "INV-0001"
    assert (await _set(api, token, gid("Payment", payment), "PAY-1"))["externalId"] == "PAY-1"

    listed = await api.data(
        "{ clients { edges { node { externalId invoices { externalId payments { externalId } } } } } }", token=token
    )
    assert listed["clients"]["edges"] == [
        {
            "node": {
                "externalId": "xero-contact-1",
                "invoices": [{"externalId": "INV-0001", "payments": [{"externalId": "PAY-1"}]}],
            }
        }
    ]
    assert await _find(api, token, "CLIENT", "xero-contact-1") == gid("Client", a)
    assert await _find(api, token, "INVOICE", "INV-0001") == gid("Invoice", invoice)
    assert await _find(api, token, "CLIENT", "INV-0001") is None  # ids are per entity
    assert await _find(api, token, "CLIENT", "nobody") is None

    # Changing it replaces it; null (or blank) clears it.
    assert (await _set(api, token, gid("Client", a), "xero-contact-2"))["externalId"] == "xero-contact-2"
    assert await _find(api, token, "CLIENT", "xero-contact-1") is None
    cleared = await _set(api, token, gid("Client", a), None)
    assert cleared["externalId"] is None and cleared["record"]["externalId"] is None and cleared["errors"] == []
    assert await _find(api, token, "CLIENT", "xero-contact-2") is None
    assert (await _set(api, token, gid("Invoice", invoice), "  "))["externalId"] is None
    assert await count(db, PartnerExternalId) == 1  # the payment's


async def test_each_app_has_its_own_ids_and_nobody_else_reads_them(api, db, factory):
    a = await factory.client("A Company")
    first = await _partner(api, db, *WRITER, clients=[a])
    second = await _partner(api, db, *WRITER, clients=[a])
    await _set(api, first, gid("Client", a), "shared-name")
    # The other app may use the same external id for the same record: its own.
    assert (await _set(api, second, gid("Client", a), "shared-name"))["errors"] == []
    await _set(api, second, gid("Client", a), "second-only")
    query = "query($id: ID!) { node(id: $id) { ... on Client { externalId } } }"
    assert (await api.data(query, {"id": gid("Client", a)}, first))["node"] == {"externalId": "shared-name"}
    assert await _find(api, second, "CLIENT", "shared-name") is None
    # Staff and portal users have no external ids: null, and the lookup finds nothing.
    _, manager = await staff(api, factory, Role.MANAGER)
    assert (await api.data(query, {"id": gid("Client", a)}, manager))["node"] == {"externalId": None}
    assert await _find(api, manager, "CLIENT", "shared-name") is None
    _, own = await portal(api, factory, a)
    assert (await api.data(query, {"id": gid("Client", a)}, own))["node"] == {"externalId": None}
    # The lookup is not in a portal user's schema at all: refused, nothing found, and not listed.
    body = await api.post(FIND, {"entity": "CLIENT", "externalId": "shared-name"}, own)
    assert body["data"] is None or body["data"].get("recordByExternalId") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    roots = await api.data('{ __type(name: "Query") { fields { name } } }', token=own)
    assert "recordByExternalId" not in {f["name"] for f in roots["__type"]["fields"]}
    assert "recordByExternalId" in {
        f["name"]
        for f in (await api.data('{ __type(name: "Query") { fields { name } } }', token=manager))["__type"]["fields"]
    }


async def test_a_taken_external_id_is_refused_and_writes_nothing(api, db, factory):
    a = await factory.client("A Company")
    one = await factory.invoice(a)
    two = await factory.invoice(a)
    token = await _partner(api, db, *WRITER, clients=[a])
    await _set(api, token, gid("Invoice", one), "INV-1")
    refused = await _set(api, token, gid("Invoice", two), "INV-1")
    assert refused == {
        "record": None,
        "externalId": None,
        "errors": [
            {
                "field": "input.externalId",
                "code": "EXTERNAL_ID_TAKEN",
                "message": "Another invoice already has this external id in your app; clear it there first.",
            }
        ],
    }
    assert await _find(api, token, "INVOICE", "INV-1") == gid("Invoice", one)
    assert await count(db, PartnerExternalId) == 1
    # Setting the same id again on its own record is no conflict; another entity may hold it too.
    assert (await _set(api, token, gid("Invoice", one), "INV-1"))["errors"] == []
    assert (await _set(api, token, gid("Client", a), "INV-1"))["errors"] == []


async def test_records_the_app_cannot_read_answer_like_missing_ones(api, db, factory):
    a = await factory.client("A Company")
    b = await factory.client("B Company")
    draft = await factory.invoice(a, status=InvoiceStatus.DRAFT)
    other = await factory.invoice(b)
    contact = await factory.contact(a)
    app = await register(db, scopes=("clients:read", "invoices:read", "external_ids:write"), clients=[a])
    token = await access_token(api.client, app)
    missing = [{"field": "input.id", "code": "NOT_FOUND", "message": "No such record."}]
    for record_id in (
        gid("Client", b),  # another client's
        gid("Invoice", other),
        gid("Invoice", draft),  # a draft: no partner's
        gid("Contact", contact),  # contacts:read not granted
        gid("Client", 999999),  # none at all
        gid("Project", 1),  # not a record with external ids
        "not-a-global-id",
    ):
        body = await _set(api, token, record_id, "X-1")
        assert body == {"record": None, "externalId": None, "errors": missing}, record_id
    assert await count(db, PartnerExternalId) == 0
    # An id set while the record was readable is found only while it still is.
    async with db() as session, session.begin():
        app_id = await session.scalar(sa.select(PartnerApp.id).where(PartnerApp.oauth_client_id == app.client_id))
        session.add(PartnerExternalId(partner_app_id=app_id, entity="INVOICE", record_id=other.id, external_id="B-1"))
    assert await _find(api, token, "INVOICE", "B-1") is None

    # Without external_ids:write the mutation is refused before it runs.
    reader = await _partner(api, db, "clients:read", clients=[a])
    await refused_by_policy(api, SET, {"input": {"id": gid("Client", a), "externalId": "X"}}, reader, "setExternalId")
    _, admin = await staff(api, factory, Role.ADMIN)
    await refused_by_policy(api, SET, {"input": {"id": gid("Client", a), "externalId": "X"}}, admin, "setExternalId")
    # Too long is a typed error.
    body = await _set(api, token, gid("Client", a), "x" * 256)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("input.externalId", "TOO_LONG")]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolvers"])
async def test_external_ids_load_in_one_statement_per_entity(api, db, factory, statements, settings, compiled):
    """Never a statement per row: through the resolvers one per entity (clients', invoices'); on
    the compiled read path inside the root field's one statement."""
    app = create_app(settings.model_copy(update={"compiled_reads": compiled}), engine=db.kw["bind"])
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = Api(client, app)
        clients = [await factory.client(f"Client {n}") for n in range(6)]
        token = await _partner(api, db, *WRITER)
        for n, row in enumerate(clients):
            await _set(api, token, gid("Client", row), f"ext-{n}")
            await _set(api, token, gid("Invoice", await factory.invoice(row)), f"inv-{n}")
        query = "{ clients(first: 50) { edges { node { externalId invoices { externalId } } } } }"
        statements.reset()
        listed = await api.data(query, token=token)
    edges = listed["clients"]["edges"]
    assert sorted(e["node"]["externalId"] for e in edges) == [f"ext-{n}" for n in range(6)]
    assert sorted(i["externalId"] for e in edges for i in e["node"]["invoices"]) == [f"inv-{n}" for n in range(6)]
    external = [s for s in statements.statements if "partner_external_id" in s]
    assert len(external) == (1 if compiled else 2), external
