"""The embedded store under concurrent mixed load: 32 writers at once through the real app on a
file-based SQLite database, with readers beside them. Every write is acknowledged without an
error and is in the database afterwards; a reader is never held up by a writer.

These tests build their own SQLite file (WAL needs a file, not :memory:), so they run the same
whichever store TEST_DATABASE_URL names; the mixed-load test also runs on that store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from models import Client, Comment, Role, Task
from models.db import ConnectionGate, make_engine, make_session_factory, writer_lock
from models.migrate import upgrade
from server.app import create_app
from server.settings import Settings
from tests.conftest import empty_database
from tests.factories import PASSWORD, Factory
from tests.utils import Api, gid, raw_id

WRITERS = 32
WRITES_EACH = 8  # measured: enough to exhaust the old 5 s busy timeout without the writer lock

CREATE_CLIENT = """
mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { id name } errors { field code message } }
}
"""
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id title } errors { field code message } }
}
"""
ADD_COMMENT = """
mutation($kind: CommentKind!, $body: String!, $task: ID) {
  addComment(kind: $kind, body: $body, taskId: $task) { comment { id body } errors { field code message } }
}
"""
READ = "query { clients(first: 50) { totalCount edges { node { id name } } } }"


@dataclass
class Agency:
    api: Api
    engine: AsyncEngine
    manager: str
    member: str
    portal: str
    project_id: str
    task_ids: list[int]


async def _agency(api: Api, engine: AsyncEngine) -> Agency:
    factory = Factory(make_session_factory(engine))
    manager = await factory.user(Role.MANAGER)
    member = await factory.user(Role.MEMBER)
    client = await factory.client()
    portal = await factory.portal_user(client)
    project = await factory.project(client)
    tasks = [await factory.task(project, visible_to_client=True) for _ in range(4)]
    return Agency(
        api=api,
        engine=engine,
        manager=await api.login(manager.email, PASSWORD),
        member=await api.login(member.email, PASSWORD),
        portal=await api.login(portal.email, PASSWORD),
        project_id=gid("Project", project),
        task_ids=[task.id for task in tasks if task.id is not None],
    )


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh, migrated SQLite file of its own, through the same engine factory the server uses."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'concurrency.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    await empty_database(engine)
    yield engine
    await engine.dispose()


async def _api(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, app)


@pytest.fixture
async def sqlite_api(sqlite_engine: AsyncEngine, settings: Settings) -> AsyncIterator[Api]:
    async for api in _api(sqlite_engine, settings):
        yield api


async def _writer(a: Agency, n: int) -> dict[str, list[int]]:
    """One writer's mixed writes (staff and portal user), with a read between each; the ids acknowledged."""
    acked: dict[str, list[int]] = {"client": [], "task": [], "comment": []}
    project_task = a.task_ids[n % len(a.task_ids)]
    for i in range(WRITES_EACH):
        step = (n + i) % 4
        if step == 0:
            body = await a.api.data(
                CREATE_CLIENT,
                {"input": {"name": f"Load client {n}-{i}", "primaryContact": {"fullName": f"Contact {n}-{i}"}}},
                a.manager,
            )
            payload, kind, key = body["createClient"], "client", "client"
        elif step == 1:
            body = await a.api.data(
                CREATE_TASK, {"input": {"projectId": a.project_id, "title": f"Load task {n}-{i}"}}, a.member
            )
            payload, kind, key = body["createTask"], "task", "task"
        else:
            # A portal REPLY and a staff NOTE: both roles write at once.
            kind_value, token = ("REPLY", a.portal) if step == 2 else ("NOTE", a.member)
            body = await a.api.data(
                ADD_COMMENT,
                {"kind": kind_value, "body": f"Load comment {n}-{i}", "task": gid("Task", project_task)},
                token,
            )
            payload, kind, key = body["addComment"], "comment", "comment"
        assert payload["errors"] == [], payload["errors"]
        acked[kind].append(raw_id(payload[key]["id"]))
        await a.api.data(READ, token=a.manager if n % 2 else a.member)
    return acked


async def _mixed_load(a: Agency) -> None:
    async def reader(n: int) -> None:
        for _ in range(WRITES_EACH):
            body = await a.api.data(READ, token=a.portal if n % 2 else a.manager)
            assert body["clients"]["totalCount"] >= 1

    results = await asyncio.gather(
        *(_writer(a, n) for n in range(WRITERS)), *(reader(n) for n in range(WRITERS // 4)), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == [], failures[:3]
    acked: dict[str, set[int]] = {"client": set(), "task": set(), "comment": set()}
    for result in results:
        if isinstance(result, dict):
            for kind, ids in result.items():
                acked[kind].update(ids)
    assert sum(len(ids) for ids in acked.values()) == WRITERS * WRITES_EACH

    # Every acknowledged write is in the database, read back through a fresh connection.
    async with make_session_factory(a.engine)() as session:
        for kind, model in (("client", Client), ("task", Task), ("comment", Comment)):
            stored = set(await session.scalars(sa.select(col(model.id)).where(col(model.id).in_(acked[kind]))))
            assert stored == acked[kind], f"{kind}: acknowledged but missing {sorted(acked[kind] - stored)}"


async def test_32_concurrent_writers_on_a_sqlite_file_all_succeed_and_all_persist(sqlite_api, sqlite_engine):
    assert sqlite_engine.url.database and sqlite_engine.url.database.endswith("concurrency.db")
    await _mixed_load(await _agency(sqlite_api, sqlite_engine))


async def test_the_same_mixed_load_on_the_configured_store(api, engine):
    """The same load on whichever store the suite runs on (PostgreSQL in CI's second run)."""
    await _mixed_load(await _agency(api, engine))


async def test_sqlite_runs_in_wal_mode_with_normal_sync_and_a_generous_busy_timeout(sqlite_engine):
    async with sqlite_engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        # 1 = NORMAL: durable at each checkpoint, safe against corruption in WAL mode.
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 1
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 30_000
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_reads_are_not_held_up_by_a_writer_holding_the_lock(sqlite_api, sqlite_engine):
    """A write transaction is open (the in-process writer lock held, SQLite's write lock taken and
    a row written but not committed): reads through the app still answer, from the last commit."""
    a = await _agency(sqlite_api, sqlite_engine)
    before = (await a.api.data(READ, token=a.manager))["clients"]["totalCount"]
    async with writer_lock(sqlite_engine), sqlite_engine.connect() as conn:
        await (await conn.execution_options(sqlite_begin="IMMEDIATE")).begin()
        await conn.execute(sa.insert(Client).values(name="Uncommitted", status_id=1))
        for token in (a.manager, a.member, a.portal):
            body = await a.api.data(READ, token=token)
            assert body["clients"] is not None
        assert (await a.api.data(READ, token=a.manager))["clients"]["totalCount"] == before
        await conn.rollback()


async def test_writers_queue_in_process_behind_the_writer_lock_instead_of_failing(sqlite_api, sqlite_engine):
    """While one write transaction holds the writer lock, a mutation waits for it (it is neither
    refused nor answered "database is locked") and lands once the lock is released."""
    a = await _agency(sqlite_api, sqlite_engine)
    value = {"input": {"name": "Queued client", "primaryContact": {"fullName": "Queued contact"}}}
    async with writer_lock(sqlite_engine):
        pending = asyncio.ensure_future(a.api.data(CREATE_CLIENT, value, a.manager))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not pending.done(), "the mutation went ahead while another writer held the lock"
    body = await pending
    assert body["createClient"]["errors"] == []
    async with make_session_factory(sqlite_engine)() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(col(Client.name) == "Queued client")) == 1


async def test_turns_at_the_pool_go_in_arrival_order() -> None:
    """A connection given back goes to the request that waited longest, not to one that arrived
    just then (SQLAlchemy's async pool lets the newcomer barge in, which starved a waiter past the
    pool timeout under load)."""
    gate = ConnectionGate(capacity=1, timeout=60)
    order: list[str] = []

    async def take(name: str) -> None:
        await gate.acquire()
        order.append(name)

    await take("first")
    waiting = asyncio.ensure_future(take("waited"))
    await asyncio.sleep(0)  # it is queued now
    gate.release()
    newcomer = asyncio.ensure_future(take("newcomer"))
    await waiting
    assert order == ["first", "waited"] and not newcomer.done()
    gate.release()
    await newcomer
    assert order == ["first", "waited", "newcomer"]
