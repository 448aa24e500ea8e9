"""Draining the e-mail outbox: mutations queue e-mail in their own transaction, a sender
delivers it afterwards, so a rolled-back mutation never sends anything."""

from __future__ import annotations

import logging
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models import OutboxEmail, utcnow
from models.db import is_unavailable, write_transaction

log = logging.getLogger("agency.outbox")
MAX_ATTEMPTS = 5


class Sender(Protocol):
    async def send(self, email: OutboxEmail) -> None: ...


class LogSender:
    """The default sender: writes each e-mail to the log instead of delivering it."""

    async def send(self, email: OutboxEmail) -> None:
        log.info("e-mail to %s: %s\n%s", email.to_email, email.subject, email.body)


async def drain_outbox(session_factory: async_sessionmaker[AsyncSession], sender: Sender, *, batch: int = 50) -> int:
    """Send up to `batch` unsent e-mails, oldest first; returns how many were sent.

    Each e-mail is claimed and marked in its own write transaction (row-locked on PostgreSQL,
    skipping rows another drainer holds; on SQLite in turn with the requests' writes), so two
    drainers never send the same e-mail. While the database is away it stops quietly.
    A failed send is retried on the next drain, up to MAX_ATTEMPTS times.
    """
    sent = 0
    for _ in range(batch):
        try:
            async with write_transaction(session_factory) as session:
                email = await session.scalar(
                    sa.select(OutboxEmail)
                    .where(col(OutboxEmail.sent_at).is_(None), col(OutboxEmail.attempts) < MAX_ATTEMPTS)
                    .order_by(col(OutboxEmail.id))
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if email is None:
                    break
                email.attempts += 1
                try:
                    await sender.send(email)
                except Exception:
                    log.exception("sending e-mail %s failed (attempt %s)", email.id, email.attempts)
                    continue
                email.sent_at = utcnow()
                sent += 1
        except Exception as error:
            if not is_unavailable(error):
                raise
            # The database is away (restarting): nothing was claimed; the next drain picks it up.
            log.warning("the outbox waits for the database: %s", error)
            break
    return sent
