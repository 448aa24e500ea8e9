"""This process's subscribers, and how committed events reach them.

`LocalHub` fans events out to the subscriptions open in this worker, each through a bounded
inbox. On SQLite (one worker) commits deliver to it directly (resolvers.live.events); on
PostgreSQL one `PostgresListener` per worker LISTENs on the channel the writing transactions
notify, whichever worker or process wrote, and hands what it hears to the hub.

A subscriber that falls `INBOX_SIZE` events behind is not queued for without end: its inbox
stops taking events and the subscription ends with SLOW_CONSUMER (schema.live), so the client
subscribes again and refetches. Memory per subscription is bounded by the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from resolvers.live.events import CHANNEL, LiveEvent, Topic, parse_payload

log = logging.getLogger("agency.live")

INBOX_SIZE = 100
"""Events a subscription may have waiting before it is ended as a slow consumer."""

RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
"""The listener's waits between reconnection attempts (the last one repeats)."""

KEEPALIVE_SECONDS = 10.0
"""How often the listener checks its connection answers (a half-open connection is noticed)."""


class SlowConsumer(Exception):
    """The subscriber did not keep up: its inbox filled."""


class Inbox:
    """One subscription's pending events, at most INBOX_SIZE."""

    __slots__ = ("_hub", "_queue", "overflowed", "topics")

    def __init__(self, hub: LocalHub, topics: frozenset[Topic]) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[LiveEvent] = asyncio.Queue(INBOX_SIZE)
        self.topics = topics
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._hub.close(self)

    async def next(self) -> LiveEvent:
        if self.overflowed:
            raise SlowConsumer()
        return await self._queue.get()

    def close(self) -> None:
        self._hub.close(self)


class LocalHub:
    def __init__(self) -> None:
        self._inboxes: dict[Topic, set[Inbox]] = defaultdict(set)
        self.listener: PostgresListener | None = None
        self.delivered = 0

    def open(self, topics: Iterable[Topic]) -> Inbox:
        inbox = Inbox(self, frozenset(topics))
        for topic in inbox.topics:
            self._inboxes[topic].add(inbox)
        return inbox

    def close(self, inbox: Inbox) -> None:
        for topic in inbox.topics:
            self._inboxes[topic].discard(inbox)

    def deliver(self, events: Iterable[LiveEvent]) -> None:
        for event in events:
            for inbox in list(self._inboxes.get(event.topic, ())):
                inbox.offer(event)
                self.delivered += 1

    @property
    def subscriptions(self) -> int:
        return len({inbox for inboxes in self._inboxes.values() for inbox in inboxes})

    @property
    def ready(self) -> bool:
        """Events can reach this worker: always on SQLite, while listening on PostgreSQL."""
        return self.listener is None or self.listener.listening


_HUB = LocalHub()


def local_hub() -> LocalHub:
    return _HUB


class PostgresListener:
    """One LISTEN connection per worker, outside the pool, reconnecting by itself (after a
    database restart, say) with RECONNECT_SECONDS between attempts. Events committed while it is
    away are not replayed: `listening` is false meanwhile, and /readyz says so."""

    def __init__(self, database_url: str, hub: LocalHub) -> None:
        url = sa.make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._hub = hub
        self.listening = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._hub.listener = self
        self._task = asyncio.create_task(self._run(), name="live-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.listening = False
        if self._hub.listener is self:
            self._hub.listener = None

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._hub.deliver(parse_payload(payload))

    async def _run(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        attempt = 0
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._heard)
                self.listening = True
                if attempt:
                    log.info("live listener: listening again on %s", CHANNEL)
                attempt = 0
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
                    if not lost.is_set():
                        await connection.fetchval("SELECT 1", timeout=5)
                raise ConnectionError("the listening connection was closed")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever broke, listen again
                self.listening = False
                wait = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                if attempt == 0:
                    log.warning("live listener: not listening (%s); retrying", error)
                attempt += 1
                await asyncio.sleep(wait)
            finally:
                self.listening = False
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 2)
