"""Idempotency keys on recordPayment (resolvers/idempotency.py): the same key and input again answer
the first payment and write nothing; another input is IDEMPOTENCY_KEY_REUSED; concurrent posts
with one key make one payment. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from auth.principal import Principal
from models import IdempotencyKey, Payment, Role
from resolvers.idempotency import KEY_TTL, Claim, claim, request_digest
from tests.partners.support import access_token, register
from tests.utils import SIDE_TABLES, count, counts, gid, staff

PAY = """
mutation($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    payment { id amount receivedOn method reference }
    invoice { id status amountPaid amountDue }
    errors { field code message }
  }
}
"""
SCOPES = ("invoices:read", "payments:write")


async def _setup(api, db, factory):
    client = await factory.client("A Company")
    invoice = await factory.invoice(client)  # sent, 1000.00 due
    app = await register(db, scopes=SCOPES, clients=[client])
    return invoice, await access_token(api.client, app)


async def _pay(api, token: str, invoice, amount: str = "100.00", key: str | None = "xero-payment-1", **more) -> dict:
    data = {"invoiceId": gid("Invoice", invoice), "amount": amount, "receivedOn": "2026-10-20", **more}
    if key is not None:
        data["idempotencyKey"] = key
    return (await api.data(PAY, {"input": data}, token))["recordPayment"]


async def _written(db) -> dict[str, int]:
    return await counts(db, Payment, IdempotencyKey, *SIDE_TABLES)


async def test_the_same_payment_posted_twice_with_one_key_is_one_payment(api, db, factory):
    invoice, token = await _setup(api, db, factory)
    first = await _pay(api, token, invoice, reference="Xero 123")
    assert first["errors"] == [] and first["invoice"]["amountPaid"] == "100.00"
    after_first = await _written(db)

    # The retry (amounts written another way are the same amount) answers the first payment.
    again = await _pay(api, token, invoice, amount="100", reference="Xero 123")
    assert again == first
    assert await _written(db) == after_first
    assert await count(db, Payment) == 1

    # Without a key, the same body is a second payment (the caller asked for no protection).
    assert (await _pay(api, token, invoice, key=None, reference="Xero 123"))["payment"]["id"] != first["payment"]["id"]
    assert await count(db, Payment) == 2


async def test_the_same_key_with_another_body_is_refused_and_writes_nothing(api, db, factory):
    invoice, token = await _setup(api, db, factory)
    first = await _pay(api, token, invoice)
    before = await _written(db)
    for changed in ({"amount": "150.00"}, {"reference": "other"}, {"method": "CARD"}):
        refused = await _pay(api, token, invoice, **{"amount": "100.00", **changed})
        assert refused == {
            "payment": None,
            "invoice": None,
            "errors": [
                {
                    "field": "input.idempotencyKey",
                    "code": "IDEMPOTENCY_KEY_REUSED",
                    "message": "This idempotency key was already used with a different request; "
                    "send a new key for a new write.",
                }
            ],
        }, changed
    assert await _written(db) == before
    # The key still answers its own request.
    assert (await _pay(api, token, invoice))["payment"] == first["payment"]


async def test_bad_keys_are_typed_errors_and_a_failed_write_keeps_no_key(api, db, factory):
    invoice, token = await _setup(api, db, factory)
    for key, message in (("", "1 to 255"), ("k" * 256, "at most 255")):
        body = await _pay(api, token, invoice, key=key)
        assert [(e["field"], e["code"]) for e in body["errors"]] == [
            ("input.idempotencyKey", "INVALID_IDEMPOTENCY_KEY")
        ]
        assert message in body["errors"][0]["message"]
    assert (await _pay(api, token, invoice, key="k" * 255))["errors"] == []
    # A NUL anywhere in a request is refused before anything runs (schema/hostile.py).
    body = await api.post(
        PAY, {"input": {"invoiceId": gid("Invoice", invoice), "amount": "1", "idempotencyKey": "a\x00"}}, token
    )
    assert body["errors"][0]["extensions"]["reason"] == "NUL_CHARACTER"

    # An overpayment fails and rolls the key back with it: the same key may carry the corrected request.
    before = await _written(db)
    refused = await _pay(api, token, invoice, amount="5000.00", key="retry-me")
    assert [e["code"] for e in refused["errors"]] == ["OVERPAYMENT"]
    assert await _written(db) == before
    assert (await _pay(api, token, invoice, amount="50.00", key="retry-me"))["errors"] == []


async def test_keys_are_their_senders_own_and_expire(api, db, factory):
    invoice, token = await _setup(api, db, factory)
    first = await _pay(api, token, invoice, key="shared")
    # A staff member's key of the same text is its own: a new payment.
    _, manager = await staff(api, factory, Role.MANAGER)
    theirs = await _pay(api, manager, invoice, key="shared")
    assert theirs["errors"] == [] and theirs["payment"]["id"] != first["payment"]["id"]
    assert await count(db, IdempotencyKey) == 2
    # After KEY_TTL a key is forgotten: sent again, even with another body, it is a new write.
    async with db() as session, session.begin():
        for key in (await session.scalars(sa.select(IdempotencyKey))).all():
            key.created_at = key.created_at - KEY_TTL - dt.timedelta(minutes=1)
    later = await _pay(api, token, invoice, amount="30.00", key="shared")
    assert later["errors"] == [] and later["payment"]["id"] not in (first["payment"]["id"], theirs["payment"]["id"])
    assert await count(db, Payment) == 3


async def test_concurrent_posts_with_one_key_make_one_payment(api, db, factory):
    invoice, token = await _setup(api, db, factory)
    results = await asyncio.gather(*(_pay(api, token, invoice, key="burst") for _ in range(5)))
    assert all(r["errors"] == [] for r in results), results
    assert len({r["payment"]["id"] for r in results}) == 1
    assert await count(db, Payment) == 1
    assert await count(db, IdempotencyKey) == 1


def test_the_digest_normalises_the_input():
    base = {"invoice_id": 1, "amount": "x", "received_on": None, "method": "CARD", "reference": None}
    same = [request_digest("recordPayment", {**base, "amount": Decimal(v)}) for v in ("10", "10.0", "10.00")]
    assert len(set(same)) == 1
    assert request_digest("recordPayment", {**base, "amount": Decimal("10.01")}) not in same
    assert request_digest("createInvoice", {**base, "amount": Decimal("10")}) not in same


async def test_a_claim_waits_for_the_transaction_holding_its_key(db, engine):
    """PostgreSQL: the second claim of a key waits for the first transaction, then answers its result
    when it commits, or claims the key itself when it rolls back."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    app = Principal(user_id=None, role=Role.PARTNER, partner_app_id=7)
    arguments = {"amount": Decimal("5")}

    async def second() -> Claim:
        async with db() as session, session.begin():
            return await claim(session, app, operation="recordPayment", key="k", arguments=arguments)

    for outcome in ("commit", "rollback"):
        async with db() as session:
            await session.begin()
            held = await claim(session, app, operation="recordPayment", key="k", arguments=arguments)
            await held.done(session, 42)
            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the second claim must wait for the first transaction"
            await (session.commit() if outcome == "commit" else session.rollback())
        answered = await asyncio.wait_for(waiting, 10)
        if outcome == "commit":
            assert answered.replay == 42
            async with db() as session, session.begin():
                await session.execute(sa.delete(IdempotencyKey))
        else:
            assert answered.replay is None and answered.row_id is not None
