"""The change log the sync feed and webhooks read: written by triggers in the writing transaction,
for every write path (an ORM insert, a bulk conditional UPDATE, a delete), and never for a rollback."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import col

from models import ChangeEvent, Client, Contact, Invoice, InvoiceStatus


async def _events(db) -> list[tuple[str, str, int, int | None]]:
    async with db() as session:
        rows = await session.execute(
            sa.select(
                col(ChangeEvent.event), col(ChangeEvent.entity), col(ChangeEvent.entity_id), col(ChangeEvent.client_id)
            ).order_by(col(ChangeEvent.txid), col(ChangeEvent.id))
        )
        return [tuple(row) for row in rows]


async def test_every_write_to_a_followed_record_leaves_one_event_with_its_client(db, factory):
    acme = await factory.client("Acme")
    contact = await factory.contact(acme)
    invoice = await factory.invoice(acme, status=InvoiceStatus.DRAFT)
    payment = await factory.payment(invoice, "50.00")
    async with db() as session, session.begin():
        await session.execute(sa.update(Client).where(Client.id == acme.id).values(industry="Retail"))
        await session.execute(sa.update(Invoice).where(Invoice.id == invoice.id).values(status=InvoiceStatus.SENT))
        await session.execute(sa.update(Invoice).where(Invoice.id == invoice.id).values(notes="net 30"))
        await session.execute(sa.update(Invoice).where(Invoice.id == invoice.id).values(status=InvoiceStatus.PAID))
        await session.execute(sa.delete(Contact).where(Contact.id == contact.id))

    events = await _events(db)
    assert events == [
        ("client.created", "CLIENT", acme.id, acme.id),
        ("contact.created", "CONTACT", contact.id, acme.id),
        ("invoice.created", "INVOICE", invoice.id, acme.id),
        ("payment.created", "PAYMENT", payment.id, acme.id),
        ("client.updated", "CLIENT", acme.id, acme.id),
        ("invoice.sent", "INVOICE", invoice.id, acme.id),
        ("invoice.updated", "INVOICE", invoice.id, acme.id),
        ("invoice.paid", "INVOICE", invoice.id, acme.id),
        ("contact.deleted", "CONTACT", contact.id, acme.id),
    ]


async def test_a_rolled_back_write_leaves_no_event(db, factory):
    acme = await factory.client("Acme")
    before = await _events(db)

    with pytest.raises(RuntimeError):
        async with db() as session, session.begin():
            await session.execute(sa.update(Client).where(Client.id == acme.id).values(industry="Retail"))
            raise RuntimeError("rolled back")

    assert await _events(db) == before


async def test_events_carry_when_they_happened(db, factory):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    await factory.client("Acme")
    async with db() as session:
        occurred = await session.scalar(sa.select(ChangeEvent.occurred_at))
    assert occurred is not None and before <= occurred <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


async def test_reading_after_a_position_takes_each_event_once_in_log_order(db, factory):
    from resolvers.partners.change_log import START, position_of, read_events

    clients = [await factory.client(f"Client {n}") for n in range(5)]
    seen: list[int] = []
    position = START
    async with db() as session:
        while batch := await read_events(session, position, limit=2):
            seen += [event.entity_id for event in batch]
            position = position_of(batch[-1])
    assert seen == [client.id for client in clients]
