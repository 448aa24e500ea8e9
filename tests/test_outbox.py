"""The e-mail outbox: queued in the mutation's transaction, sent once by the drainer."""

from __future__ import annotations

import asyncio
from collections.abc import Set as AbstractSet

import sqlalchemy as sa

from models import OutboxEmail
from models.db import make_engine, make_session_factory
from resolvers.outbox import MAX_ATTEMPTS, LogSender, drain_outbox


class Recorder:
    def __init__(self, fail_for: AbstractSet[str] = frozenset()) -> None:
        self.sent: list[str] = []
        self.fail_for = fail_for

    async def send(self, email: OutboxEmail) -> None:
        await asyncio.sleep(0)
        if email.to_email in self.fail_for:
            raise ConnectionError("mail server down")
        self.sent.append(email.to_email)


async def test_draining_sends_each_email_once_and_marks_it_sent(db, factory):
    await factory.add(*(OutboxEmail(to_email=f"p{i}@client.example", subject="Hi", body="…") for i in range(3)))
    first, second = Recorder(), Recorder()
    counts = await asyncio.gather(drain_outbox(db, first), drain_outbox(db, second))
    assert sum(counts) == 3
    assert sorted(first.sent + second.sent) == ["p0@client.example", "p1@client.example", "p2@client.example"]
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(OutboxEmail.sent_at.is_(None))) == 0
    assert await drain_outbox(db, Recorder()) == 0


async def test_a_failing_email_is_retried_and_does_not_block_the_others(db, factory):
    await factory.add(
        OutboxEmail(to_email="bad@client.example", subject="Hi", body="…"),
        OutboxEmail(to_email="good@client.example", subject="Hi", body="…"),
    )
    sender = Recorder(fail_for={"bad@client.example"})
    for _ in range(MAX_ATTEMPTS + 2):
        await drain_outbox(db, sender)
    assert sender.sent == ["good@client.example"]
    async with db() as session:
        bad = await session.scalar(sa.select(OutboxEmail).where(OutboxEmail.to_email == "bad@client.example"))
    assert bad.sent_at is None and bad.attempts == MAX_ATTEMPTS


async def test_the_log_sender_writes_the_email_to_the_log(db, factory, caplog):
    await factory.add(OutboxEmail(to_email="pat@acme.example", subject="Your portal", body="Set your password"))
    caplog.set_level("INFO", logger="agency.outbox")
    assert await drain_outbox(db, LogSender()) == 1
    assert "pat@acme.example" in caplog.text and "Your portal" in caplog.text


async def test_the_outbox_waits_quietly_while_the_database_is_away(tmp_path, caplog):

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'agency.db'}")  # cannot be opened
    try:
        assert await drain_outbox(make_session_factory(engine), LogSender()) == 0
    finally:
        await engine.dispose()
    assert "waits for the database" in caplog.text
    assert "Traceback" not in caplog.text
