"""The sync feed (`changes`): every change once, in order, under the caller's scopes and row scope,
while the agency writes concurrently; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from models import ChangeEvent, Client, Contact, Invoice, InvoiceStatus, Role, utcnow
from models.clients import STATUS_ACTIVE
from tests.partners.support import access_token, register, touch_client
from tests.utils import gid, portal, staff

FEED = """
query Feed($after: String, $first: Int, $entities: [ChangeEntity!]) {
  changes(after: $after, first: $first, entities: $entities) {
    edges { cursor node { id event entity recordId occurredAt record { id %s } } }
    nodes { id }
    pageInfo { endCursor hasNextPage }
  }
}
"""
MONEY = "... on Invoice { number status externalId } ... on Payment { amount }"
EVERYTHING = MONEY + " ... on Client { name } ... on Contact { fullName }"


async def _partner(api, db, *scopes: str, clients=()) -> str:
    app = await register(db, scopes=scopes, clients=clients)
    return await access_token(api.client, app)


async def _page(api, token: str, fields: str = MONEY, **variables: Any) -> dict:
    return (await api.data(FEED % fields, variables, token))["changes"]


async def _sync(api, token: str, after: str | None = None, fields: str = MONEY, **variables: Any):
    """Every change after `after`, page by page: (the changes, the cursor to resume from)."""
    changes: list[dict] = []
    while True:
        page = await _page(api, token, fields, after=after, **variables)
        changes += [edge["node"] for edge in page["edges"]]
        assert [n["id"] for n in page["nodes"]] == [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"], "an end cursor on every page"
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return changes, after


def _event_id(cursor: str) -> int:
    version, _txid, event_id = base64.urlsafe_b64decode(cursor).decode().split(":")
    assert version == "v1"
    return int(event_id)


async def _send(db, invoice: Invoice) -> None:
    async with db() as session, session.begin():
        await session.execute(
            sa.update(Invoice).where(col(Invoice.id) == invoice.id).values(status=InvoiceStatus.SENT, sent_at=utcnow())
        )


async def _two_clients(factory):
    a = await factory.client("A Company")
    b = await factory.client("B Company")
    rows: dict[str, Any] = {"a": a, "b": b}
    for key, client in (("a", a), ("b", b)):
        rows[f"{key}_contact"] = await factory.contact(client, primary=True)
        rows[f"{key}_invoice"] = await factory.invoice(client)
        rows[f"{key}_payment"] = await factory.payment(rows[f"{key}_invoice"], "50.00")
        rows[f"{key}_draft"] = await factory.invoice(client, status=InvoiceStatus.DRAFT)
    # The draft is worked on before it is sent: none of this may show to a partner.
    async with factory.session_factory() as session, session.begin():
        await session.execute(sa.update(Invoice).where(Invoice.id == rows["a_draft"].id).values(notes="net 30"))
    return rows


# ---------------------------------------------------------------- who sees what


async def test_a_partner_limited_to_one_client_sees_its_invoices_and_payments_and_never_a_draft(api, db, factory):
    w = await _two_clients(factory)
    token = await _partner(api, db, "invoices:read", clients=[w["a"]])

    changes, cursor = await _sync(api, token)
    assert [(c["event"], c["recordId"]) for c in changes] == [
        ("invoice.created", gid("Invoice", w["a_invoice"])),
        ("payment.created", gid("Payment", w["a_payment"])),
    ]
    assert changes[0]["record"] == {
        "id": gid("Invoice", w["a_invoice"]),
        "number": w["a_invoice"].number,
        "status": "SENT",
        "externalId": None,
    }
    assert changes[1]["record"] == {"id": gid("Payment", w["a_payment"]), "amount": "50.00"}
    assert [c["entity"] for c in changes] == ["INVOICE", "PAYMENT"]

    # Nothing of client B, nor of the draft, by the other paths either.
    for hidden in (gid("Invoice", w["b_invoice"]), gid("Payment", w["b_payment"]), gid("Invoice", w["a_draft"])):
        assert (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": hidden}, token))["node"] is None
    listed = await api.data("{ invoices { edges { node { id } } } }", token=token)
    assert [e["node"]["id"] for e in listed["invoices"]["edges"]] == [gid("Invoice", w["a_invoice"])]
    # No clients:read, no contacts:read: asking for them lists nothing (and is no error).
    page = await _page(api, token, entities=["CLIENT", "CONTACT"])
    assert page["edges"] == [] and page["pageInfo"] == {
        "endCursor": page["pageInfo"]["endCursor"],
        "hasNextPage": False,
    }

    # Once sent, the draft's later events show (not its history as a draft), after the cursor.
    await _send(db, w["a_draft"])
    await _send(db, w["b_draft"])
    later, _ = await _sync(api, token, cursor)
    assert [(c["event"], c["recordId"]) for c in later] == [("invoice.sent", gid("Invoice", w["a_draft"]))]
    # A full sync from the start tells the same story: the draft appears when it is sent.
    again, _ = await _sync(api, token)
    assert [c["event"] for c in again if c["recordId"] == gid("Invoice", w["a_draft"])] == ["invoice.sent"]
    assert {c["recordId"] for c in again} == {
        gid("Invoice", w["a_invoice"]),
        gid("Payment", w["a_payment"]),
        gid("Invoice", w["a_draft"]),
    }


async def test_each_entity_shows_only_with_its_scope_and_deleted_records_by_their_client(api, db, factory):
    w = await _two_clients(factory)
    async with db() as session, session.begin():
        await session.execute(sa.delete(Contact).where(Contact.id.in_([w["a_contact"].id, w["b_contact"].id])))
    contacts = await _partner(api, db, "contacts:read", clients=[w["a"]])
    changes, _ = await _sync(api, contacts, fields="... on Contact { fullName }")
    # The contact's earlier events went with it; its deletion is listed, with no record.
    assert [(c["event"], c["recordId"], c["record"]) for c in changes] == [
        ("contact.deleted", gid("Contact", w["a_contact"]), None)
    ]

    clients = await _partner(api, db, "clients:read", clients=[w["b"]])
    changes, _ = await _sync(api, clients, fields="... on Client { name }")
    assert [(c["event"], c["record"]) for c in changes] == [
        ("client.created", {"id": gid("Client", w["b"]), "name": "B Company"})
    ]

    # ADMIN and MANAGER see every change: drafts, both clients, both deletions.
    _, manager = await staff(api, factory, Role.MANAGER)
    changes, _ = await _sync(api, manager, fields=EVERYTHING)
    async with db() as session:
        logged = (await session.scalars(sa.select(ChangeEvent.id).order_by(ChangeEvent.txid, ChangeEvent.id))).all()
    shown = [_event_id(c["id"]) for c in changes]
    created_then_deleted = 2  # the two contacts' created events: their records are gone
    assert len(shown) == len(logged) - created_then_deleted and set(shown) < set(logged)
    assert shown == sorted(shown, key=list(logged).index)
    assert ("invoice.created", gid("Invoice", w["a_draft"])) in [(c["event"], c["recordId"]) for c in changes]
    # And only the entities asked for.
    only, _ = await _sync(api, manager, fields=EVERYTHING, entities=["PAYMENT"])
    assert {c["entity"] for c in only} == {"PAYMENT"} and len(only) == 2


async def test_portal_users_members_and_partners_without_a_reading_scope_get_nothing(api, db, factory):
    w = await _two_clients(factory)
    # A portal user (of another company, or of A itself) is refused the root, like every team-only root.
    _, outsider = await portal(api, factory, w["b"])
    body = await api.post(FEED % MONEY, {}, outsider)
    assert body["data"] == {"changes": None}
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("FORBIDDEN", "Query.changes")
    ]
    # A partner with no scope that reads a followed entity is refused the root too.
    projects = await _partner(api, db, "projects:read", clients=[w["a"]])
    body = await api.post(FEED % "", {}, projects)
    assert body["data"] == {"changes": None} and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A MEMBER (no money, not an integration) gets empty pages.
    _, member = await staff(api, factory, Role.MEMBER)
    page = await _page(api, member, fields="")
    assert page["edges"] == [] and page["pageInfo"]["hasNextPage"] is False


# ---------------------------------------------------------------- cursors


async def test_a_bad_cursor_is_invalid_cursor_and_an_empty_page_keeps_the_position(api, db, factory):
    await factory.client("A Company")
    _, manager = await staff(api, factory, Role.ADMIN)
    changes, cursor = await _sync(api, manager, fields="")
    empty = await _page(api, manager, fields="", after=cursor)
    assert empty["edges"] == [] and empty["pageInfo"] == {"endCursor": cursor, "hasNextPage": False}
    start = await _page(api, manager, fields="", first=0)
    assert start["edges"] == [] and start["pageInfo"]["hasNextPage"] is True
    resumed = await _page(api, manager, fields="", after=start["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in resumed["edges"]] == [c["id"] for c in changes]

    def b64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode()

    for bad in (
        "nope",
        b64("v2:0:1"),
        b64("v1:0"),
        b64("v1:-2:1"),
        b64("v1:0:99999999999999999999"),
        b64("v1:x:1"),
        b64("[1, 2]"),
        "x" * 300,
        b64("v1:01:1"),
    ):
        body = await api.post(FEED % "", {"after": bad}, manager)
        assert body["data"] == {"changes": None}, bad
        assert [(e["extensions"]["reason"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("INVALID_CURSOR", "after")
        ], bad
    for size in (-1, 501):
        body = await api.post(FEED % "", {"first": size}, manager)
        assert body["errors"][0]["extensions"]["reason"] == "INVALID_PAGE_SIZE"
    assert len((await _page(api, manager, fields="", first=500))["edges"]) == len(changes)


# ---------------------------------------------------------------- exactly once under concurrent writes


async def test_a_sync_during_concurrent_writes_then_another_collects_every_change_once(api, db, factory):
    await factory.client("Seed")
    _, admin = await staff(api, factory, Role.ADMIN)

    async def write(n: int) -> None:
        for i in range(6):
            client = await factory.client(f"Writer {n}-{i}")
            await touch_client(db, client, f"i{i}")
            await factory.contact(client)
            await asyncio.sleep(0)

    async def read() -> tuple[list[dict], str | None]:
        seen: list[dict] = []
        cursor = None
        for _ in range(8):
            page = await _page(api, admin, fields="", after=cursor, first=3)
            seen += [e["node"] for e in page["edges"]]
            cursor = page["pageInfo"]["endCursor"]
            await asyncio.sleep(0)
        return seen, cursor

    results = await asyncio.gather(write(1), write(2), read(), write(3))
    first, cursor = results[2]
    second, _ = await _sync(api, admin, cursor, fields="")
    ids = [_event_id(c["id"]) for c in first + second]
    assert len(ids) == len(set(ids)), "a change listed twice"
    async with db() as session:
        logged = set((await session.scalars(sa.select(ChangeEvent.id))).all())
    assert set(ids) == logged, "a change missed"


async def test_a_transaction_still_open_during_a_read_is_not_skipped(api, db, factory, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: none can be open during a read of later ones")
    _, admin = await staff(api, factory, Role.ADMIN)
    _, cursor = await _sync(api, admin, fields="")
    async with db() as slow:
        await slow.begin()
        slow.add(Client(name="Slow", status_id=STATUS_ACTIVE))
        await slow.flush()  # the slow transaction has written (and has its txid): it stays open
        quick = await factory.client("Quick")  # commits after the slow one began, with a higher txid
        during, cursor = await _sync(api, admin, cursor, fields="... on Client { name }")
        # Neither shows yet: the quick one waits for the slow one, which might still commit below it.
        assert during == []
        await slow.commit()
    after, cursor = await _sync(api, admin, cursor, fields="... on Client { name }")
    assert [c["record"]["name"] for c in after] == ["Slow", "Quick"]
    assert after[1]["recordId"] == gid("Client", quick)
    assert (await _sync(api, admin, cursor, fields=""))[0] == []


# ---------------------------------------------------------------- statements


async def test_a_feed_page_takes_the_same_statements_whatever_its_size(api, db, factory, statements):
    _, admin = await staff(api, factory, Role.ADMIN)

    async def world(n: int) -> None:
        for _ in range(n):
            client = await factory.client()
            await factory.contact(client)
            invoice = await factory.invoice(client)
            await factory.payment(invoice, "10.00")

    async def counted(first: int) -> int:
        await api.data("{ me { id } }", token=admin)
        statements.reset()
        page = await _page(api, admin, fields=EVERYTHING, first=first)
        assert len(page["edges"]) == first and all(e["node"]["record"] for e in page["edges"])
        return statements.count

    await world(3)
    small = await counted(12)
    await world(10)
    large = await counted(52)
    assert small == large, f"{small} statements for 12 changes, {large} for 52"
    assert small <= 7, statements.statements  # sign-in, the page, one per record type (4)
