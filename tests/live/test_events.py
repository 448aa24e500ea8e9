"""The live events in process (resolvers.live.events and resolvers.live.hub), on the suite's
database (SQLite, or PostgreSQL with TEST_DATABASE_URL, where a PostgresListener in this process
hears the transaction's NOTIFY): a commit publishes its rows as ids, a rollback nothing; a slow
subscriber's inbox is bounded; notification payloads stay under PostgreSQL's limit and a
malformed one is dropped, never raised."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Comment, CommentKind, Task
from resolvers.live import events
from resolvers.live.events import Change, LiveEvent, Topic, parse_payload
from resolvers.live.hub import INBOX_SIZE, Inbox, LocalHub, PostgresListener, SlowConsumer, local_hub
from tests.factories import Factory, row_id

# --------------------------------------------------------------------------- the hub


def _event(topic: Topic = Topic.COMMENT, row: int = 1, **keys: int | None) -> LiveEvent:
    return LiveEvent(topic, Change.CREATED, row, keys)


async def test_a_slow_subscriber_is_ended_and_the_others_keep_receiving():
    hub = LocalHub()
    slow, quick, other_topic = hub.open({Topic.COMMENT}), hub.open({Topic.COMMENT}), hub.open({Topic.TASK})
    assert hub.subscriptions == 3
    for n in range(INBOX_SIZE):
        hub.deliver([_event(row=n)])
        assert (await quick.next()).id == n  # this one keeps up
    assert not slow.overflowed  # exactly INBOX_SIZE waiting: still fine
    hub.deliver([_event(row=INBOX_SIZE)])
    assert slow.overflowed
    assert hub.subscriptions == 2  # the slow one was taken off the hub: nothing more is queued for it
    with pytest.raises(SlowConsumer):
        await slow.next()
    hub.deliver([_event(row=INBOX_SIZE + 1)])
    assert slow._queue.qsize() == INBOX_SIZE  # bounded, whatever comes after
    assert [(await quick.next()).id for _ in range(2)] == [INBOX_SIZE, INBOX_SIZE + 1]
    assert other_topic._queue.empty()  # only its own topics reach an inbox
    quick.close()
    other_topic.close()
    assert hub.subscriptions == 0


# --------------------------------------------------------------------------- payloads


def test_a_large_transaction_goes_out_in_notifications_under_the_limit_and_reads_back_in_order():
    many = [LiveEvent(Topic.TASK, Change.UPDATED, n, {"project_id": 10**12 + n}) for n in range(2000)]
    payloads = events._payloads(many)
    assert len(payloads) > 1
    assert all(len(p.encode()) < 8000 for p in payloads)
    assert [e for p in payloads for e in parse_payload(p)] == many


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "{}",
        '{"t": "task"}',
        "[1]",
        "[null]",
        '["task"]',
        '[{"t": "nope", "c": "CREATED", "id": 1}]',
        '[{"t": "task", "c": "MAYBE", "id": 1}]',
        '[{"t": "task", "c": "CREATED"}]',
        '[{"t": "task", "c": "CREATED", "id": "x"}]',
        '[{"t": "task", "c": "CREATED", "id": 1, "k": [1]}]',
        '[{"t": "task", "c": "CREATED", "id": 1, "k": {"project_id": "x"}}]',
    ],
)
def test_a_malformed_notification_is_dropped_with_a_warning(payload: str, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="agency.live"):
        assert parse_payload(payload) == []
    assert "malformed live notification" in caplog.text


def test_an_event_round_trips_as_ids_only():
    event = LiveEvent(Topic.COMMENT, Change.CREATED, 7, {"task_id": 3, "project_id": None})
    text = json.dumps([event.to_json()])
    assert parse_payload(text) == [event]
    assert json.loads(text) == [{"t": "comment", "c": "CREATED", "id": 7, "k": {"task_id": 3, "project_id": None}}]


# --------------------------------------------------------------------------- the ORM hooks


@pytest.fixture
async def heard(database_url: str) -> AsyncIterator[Inbox]:
    """An inbox on this process's hub for comments and tasks, fed the way a worker's is: after
    the commit on SQLite, by a listener on PostgreSQL."""
    events.install()
    hub = local_hub()
    listener = None
    if database_url.startswith("postgresql"):
        listener = PostgresListener(database_url, hub)
        listener.start()
        for _ in range(200):  # it connects in the background
            if listener.listening:
                break
            await asyncio.sleep(0.05)
        assert listener.listening
    inbox = hub.open({Topic.COMMENT, Topic.TASK})
    try:
        yield inbox
    finally:
        inbox.close()
        if listener is not None:
            await listener.stop()


async def _next(inbox: Inbox) -> LiveEvent:
    return await asyncio.wait_for(inbox.next(), 5)


async def _nothing(inbox: Inbox) -> None:
    await asyncio.sleep(0.3)  # long enough for a NOTIFY to arrive on PostgreSQL
    assert inbox._queue.empty(), inbox._queue


async def test_a_commit_publishes_its_rows_and_a_rollback_nothing(
    db: async_sessionmaker[AsyncSession], factory: Factory, heard: Inbox
):
    client = await factory.client()
    project = await factory.project(client)
    task = await factory.task(project)
    while not heard._queue.empty():  # the factory's own commits
        heard._queue.get_nowait()

    async with db() as session:
        session.add(Comment(project_id=row_id(project), task_id=row_id(task), kind=CommentKind.NOTE, body="never"))
        await session.flush()  # noted at the flush...
        await session.rollback()  # ...and forgotten with the transaction
    await _nothing(heard)

    async with db() as session, session.begin():
        kept = Comment(project_id=row_id(project), task_id=row_id(task), kind=CommentKind.REPLY, body="kept")
        session.add(kept)
    assert await _next(heard) == LiveEvent(
        Topic.COMMENT, Change.CREATED, row_id(kept), {"task_id": row_id(task), "project_id": row_id(project)}
    )
    await _nothing(heard)


async def test_a_row_created_and_changed_in_one_transaction_is_one_creation_and_a_deletion_is_the_last_word(
    db: async_sessionmaker[AsyncSession], factory: Factory, heard: Inbox
):
    project = await factory.project(await factory.client())
    while not heard._queue.empty():
        heard._queue.get_nowait()

    async with db() as session, session.begin():
        task = Task(project_id=row_id(project), title="Draft")
        session.add(task)
        await session.flush()
        task.title = "Final"
    created = await _next(heard)
    assert (created.topic, created.change, created.id) == (Topic.TASK, Change.CREATED, row_id(task))
    assert created.key("project_id") == row_id(project)
    await _nothing(heard)

    async with db() as session, session.begin():
        loaded = await session.get(Task, row_id(task))
        assert loaded is not None
        loaded.title = "Renamed"
        await session.flush()
        await session.delete(loaded)
    deleted = await _next(heard)
    assert (deleted.topic, deleted.change, deleted.id) == (Topic.TASK, Change.DELETED, row_id(task))
    assert deleted.key("project_id") == row_id(project)
    await _nothing(heard)
