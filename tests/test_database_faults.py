"""The database going away under a request: the request fails well (DatabaseUnavailable in the
code, HTTP 503 with Retry-After and SERVICE_UNAVAILABLE over HTTP), nothing half-written, no
broken connection left in the pool, and the next request succeeds by itself. Nothing is
restarted.

How a connection is dropped "under a request", on each store:
- PostgreSQL: every other backend of the test database is terminated from a separate connection
  (`pg_terminate_backend`, waiting until each is gone), right before the chosen statement is sent.
- SQLite has no server: the statement's own driver connection is closed under it, so the driver
  answers as for a connection that is gone.
A refused connection (server down) is a connect hook that raises what each driver raises then.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_
from sqlmodel import col

from models import Client, Role
from models import db as db_module
from models.db import connection_gate, database_ready, is_unavailable, make_engine, make_session_factory
from resolvers.db import RequestDb
from resolvers.errors import DatabaseUnavailable
from tests.factories import PASSWORD
from tests.utils import Api

CLIENTS = "query { clients(first: 10) { totalCount edges { node { id name } } } }"
CREATE_CLIENT = """
mutation($name: String!) {
  createClient(input: {name: $name, primaryContact: {fullName: "Pat"}}) {
    client { id name } errors { field code message }
  }
}
"""


async def _terminate_other_backends(url: str) -> int:
    """Terminate every other connection to the test database, from a connection of its own, and
    wait until each is gone. How many there were."""
    outside = create_async_engine(url, poolclass=NullPool)
    try:
        async with outside.connect() as connection:
            result = await connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return len(result.all())
    finally:
        await outside.dispose()


class Dropper:
    """Drops the database connection right before the next statement whose SQL contains `marker`
    is sent (see the module docstring for how, per store); counts how many it dropped."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=False)
        self.marker: str | None = None
        self.dropped = 0
        self.started = asyncio.Event()

    def arm(self, marker: str) -> None:
        self.marker = marker

    def before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.marker is None or self.marker not in statement:
            return
        self.marker = None
        self.dropped += 1
        if conn.dialect.name == "postgresql":
            # The hook runs in SQLAlchemy's greenlet: it may wait for a coroutine.
            assert await_(_terminate_other_backends(self.url)) >= 1
        else:
            await_(conn.connection.driver_connection.close())


@pytest.fixture
def dropper(engine: AsyncEngine, db) -> Iterator[Dropper]:
    dropper = Dropper(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", dropper.before_cursor_execute)
    try:
        yield dropper
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", dropper.before_cursor_execute)


@contextmanager
def refused_connections(engine: AsyncEngine) -> Iterator[None]:
    """Every new connection fails as when the database is down (PostgreSQL: the port refuses;
    SQLite: the file cannot be opened)."""

    def refuse(dialect, conn_rec, cargs, cparams) -> Any:
        if dialect.name == "postgresql":
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        raise sqlite3.OperationalError("unable to open database file")

    event.listen(engine.sync_engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "do_connect", refuse)


def _checked_out(engine: AsyncEngine) -> int:
    pool: Any = engine.sync_engine.pool
    return pool.checkedout()


async def _all_connections_work(engine: AsyncEngine) -> None:
    """Every connection the pool can lend at once answers: none was left broken in it."""
    pool: Any = engine.sync_engine.pool
    width = pool.size() + max(pool._max_overflow, 0)
    dbs = [RequestDb(make_session_factory(engine)) for _ in range(width)]
    try:
        assert await asyncio.gather(*(db.scalar(sa.text("SELECT 1")) for db in dbs)) == [1] * width
    finally:
        for db in dbs:
            await db.close()
    assert _checked_out(engine) == 0


async def _staff(api: Api, factory) -> str:
    manager = await factory.user(Role.MANAGER)
    await factory.client(name="Existing")
    return await api.login(manager.email, PASSWORD)


def _assert_503(response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    codes = [error["extensions"]["code"] for error in response.json()["errors"]]
    assert codes and set(codes) == {"SERVICE_UNAVAILABLE"}, codes


async def _post(api: Api, query: str, token: str, variables: dict | None = None):
    return await api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
    )


# -- at the database handle --------------------------------------------------------------------


async def test_a_connection_dropped_between_reads_raises_database_unavailable_then_reads_recover(engine, dropper):
    db = RequestDb(make_session_factory(engine))
    try:
        assert await db.scalar(sa.text("SELECT 1")) == 1  # the request's session holds a connection
        dropper.arm("SELECT 2")
        with pytest.raises(DatabaseUnavailable) as raised:
            await db.scalar(sa.text("SELECT 2"))
        assert dropper.dropped == 1 and is_unavailable(raised.value.__cause__)
        assert raised.value.retry_after >= 1
        # The same request's next read runs on a fresh connection.
        assert await db.scalar(sa.text("SELECT 3")) == 3
    finally:
        await db.close()
    assert _checked_out(engine) == 0
    await _all_connections_work(engine)


async def test_each_read_method_translates_a_dropped_connection(engine, dropper):
    statement = sa.select(sa.literal(7).label("seven"))
    for method in (RequestDb.scalar, RequestDb.scalars, RequestDb.rows, RequestDb.core_rows):
        db = RequestDb(make_session_factory(engine))
        try:
            await db.scalar(sa.text("SELECT 1"))
            dropper.arm("seven")
            with pytest.raises(DatabaseUnavailable):
                await method(db, statement)
        finally:
            await db.close()
    assert dropper.dropped == 4
    await _all_connections_work(engine)


async def test_a_connection_dropped_inside_a_write_raises_database_unavailable_and_writes_nothing(engine, dropper, db):
    handle = RequestDb(make_session_factory(engine))
    try:
        with pytest.raises(DatabaseUnavailable):
            async with handle.transaction() as session:
                session.add(Client(name="Half written", status_id=1))
                await session.flush()
                dropper.arm("SELECT 2")
                await session.execute(sa.text("SELECT 2"))
        async with handle.transaction() as session:
            session.add(Client(name="Written", status_id=1))
    finally:
        await handle.close()
    async with db() as session:
        names = set(await session.scalars(sa.select(col(Client.name))))
    assert names == {"Written"}
    await _all_connections_work(engine)


async def test_a_connection_dropped_at_commit_raises_database_unavailable(engine, dropper, db):
    handle = RequestDb(make_session_factory(engine))
    try:
        with pytest.raises(DatabaseUnavailable):
            async with handle.transaction() as session:
                session.add(Client(name="Never committed", status_id=1))
                dropper.arm("INSERT INTO client")  # sent by the flush at commit
    finally:
        await handle.close()
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    await _all_connections_work(engine)


async def test_refused_connections_raise_database_unavailable_and_readiness_follows(engine, db):
    await engine.dispose()  # no pooled connection left: the next use must connect
    handle = RequestDb(make_session_factory(engine))
    try:
        with refused_connections(engine):
            assert await database_ready(engine) is False
            with pytest.raises(DatabaseUnavailable):
                await handle.scalar(sa.text("SELECT 1"))
            with pytest.raises(DatabaseUnavailable):
                async with handle.transaction() as session:
                    session.add(Client(name="Refused", status_id=1))
        assert await database_ready(engine) is True
        assert await handle.scalar(sa.text("SELECT 1")) == 1
    finally:
        await handle.close()
    await _all_connections_work(engine)


async def test_closing_the_request_while_a_statement_runs_waits_for_it_and_leaks_nothing(engine, db):
    """What raised IllegalStateChangeError after a response: the request's session was closed
    while a resolver the response no longer waited for was still running a statement on it."""
    started = asyncio.Event()

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if "slow" in statement:
            started.set()

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        handle = RequestDb(make_session_factory(engine))
        await handle.scalar(sa.text("SELECT 1"))
        reading = asyncio.ensure_future(handle.scalar(_slow_statement(engine)))
        await started.wait()
        await handle.close()  # returns at once; the statement in flight closes the session as it ends
        assert await reading == 1
        await handle.close()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert _checked_out(engine) == 0
    await _all_connections_work(engine)


async def test_a_read_cancelled_mid_statement_leaves_no_busy_connection_in_the_pool(engine, db):
    """A request cancelled while its statement runs (client gone, timeout): its connection is
    invalidated, not handed to the next request half-way through an operation ("another
    operation is in progress")."""
    started = asyncio.Event()

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if "slow" in statement:
            started.set()

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        handle = RequestDb(make_session_factory(engine))
        reading = asyncio.ensure_future(handle.scalar(_slow_statement(engine)))
        await started.wait()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        await handle.close()
        assert await handle.scalar(sa.text("SELECT 1")) == 1  # a late reader gets a fresh session
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert _checked_out(engine) == 0
    await _all_connections_work(engine)


async def test_a_bad_statement_or_value_is_not_mistaken_for_an_unavailable_database(engine, db):
    """Only the database being away is DatabaseUnavailable: an out-of-range id, a NUL byte or a
    constraint violation raise as they are, and the request's next read still works."""
    handle = RequestDb(make_session_factory(engine))
    try:
        for statement in (
            sa.select(col(Client.id)).where(col(Client.id) == 10**20),
            sa.select(col(Client.id)).where(col(Client.name) == "nul\x00byte"),
            sa.text("SELECT * FROM no_such_table"),
        ):
            try:
                await handle.scalar(statement)
            except DatabaseUnavailable:  # pragma: no cover - the failure this test is for
                pytest.fail(f"{statement} was taken for an unavailable database")
            except Exception as error:
                assert not is_unavailable(error), error
            assert await handle.scalar(sa.text("SELECT 1")) == 1
        with pytest.raises(sa.exc.IntegrityError) as raised:
            async with handle.transaction() as session:
                session.add(Client(name="No such status", status_id=999_999))
        assert not is_unavailable(raised.value)
    finally:
        await handle.close()
    assert _checked_out(engine) == 0


async def test_no_connection_free_within_the_pool_timeout_raises_database_unavailable(database_url, db):
    """Every connection lent out and none given back in time: the request waits its turn, then
    answers DatabaseUnavailable (503, retry), and is served once a connection is free."""
    small = make_engine(database_url, pool_size=1)  # one pooled connection and one overflow
    holders = [RequestDb(make_session_factory(small)) for _ in range(2)]
    late = RequestDb(make_session_factory(small))
    try:
        for holder in holders:
            assert await holder.scalar(sa.text("SELECT 1")) == 1
        connection_gate(small).timeout = 0.05
        with pytest.raises(DatabaseUnavailable):
            await late.scalar(sa.text("SELECT 1"))
        await holders[0].close()
        assert await late.scalar(sa.text("SELECT 1")) == 1
    finally:
        for handle in (*holders, late):
            await handle.close()
        await small.dispose()


def _slow_statement(engine: AsyncEngine) -> sa.TextClause:
    """A statement that takes a moment on either store and answers 1 (its SQL says `slow`)."""
    if engine.dialect.name == "postgresql":
        return sa.text("SELECT 1 AS slow FROM pg_sleep(0.3)")
    return sa.text(
        "WITH RECURSIVE slow(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM slow WHERE x < 300000) SELECT min(x) FROM slow"
    )


# -- over HTTP ----------------------------------------------------------------------------------


async def test_connections_dropped_during_the_token_lookup_answer_503_then_recover(api, factory, dropper):
    """The context getter's user look-up runs outside GraphQL execution: it answers 503 too."""
    token = await _staff(api, factory)
    dropper.arm("FROM user_account")
    _assert_503(await _post(api, CLIENTS, token))
    assert dropper.dropped == 1
    body = await api.data(CLIENTS, token=token)
    assert body["clients"]["totalCount"] == 1
    assert _checked_out(api.app.state.engine) == 0


async def test_connections_dropped_under_a_resolver_answer_503_then_recover(api, factory, dropper):
    token = await _staff(api, factory)
    dropper.arm("FROM client")
    _assert_503(await _post(api, CLIENTS, token))
    assert dropper.dropped == 1
    assert (await api.data(CLIENTS, token=token))["clients"]["totalCount"] == 1
    await _all_connections_work(api.app.state.engine)


async def test_connections_dropped_under_a_mutation_answer_503_write_nothing_then_recover(api, factory, dropper, db):
    token = await _staff(api, factory)
    dropper.arm("INSERT INTO client")
    _assert_503(await _post(api, CREATE_CLIENT, token, {"name": "Acme"}))
    assert dropper.dropped == 1
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(col(Client.name) == "Acme")) == 0
    # The client retries, as Retry-After invites it to: written once.
    body = await api.data(CREATE_CLIENT, {"name": "Acme"}, token)
    assert body["createClient"]["errors"] == []
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(col(Client.name) == "Acme")) == 1
    await _all_connections_work(api.app.state.engine)


async def test_a_database_that_refuses_connections_answers_503_and_readyz_until_it_is_back(api, factory, engine):
    token = await _staff(api, factory)
    await engine.dispose()
    with refused_connections(engine):
        _assert_503(await _post(api, CLIENTS, token))
        _assert_503(await _post(api, CREATE_CLIENT, token, {"name": "Refused"}))
        ready = await api.client.get("/readyz")
        assert ready.status_code == 503 and int(ready.headers["Retry-After"]) >= 1
    assert (await api.client.get("/readyz")).status_code == 200
    assert (await api.data(CLIENTS, token=token))["clients"]["totalCount"] == 1
    await _all_connections_work(engine)


# -- pooled connections the server dropped while they sat in the pool (PostgreSQL) ---------------


async def _pool_of_dead_connections(engine: AsyncEngine) -> int:
    """Open a few pooled connections, return them, then terminate their backends: how many died."""
    dbs = [RequestDb(make_session_factory(engine)) for _ in range(3)]
    try:
        assert await asyncio.gather(*(db.scalar(sa.text("SELECT 1")) for db in dbs)) == [1, 1, 1]
    finally:
        for db in dbs:
            await db.close()
    return await _terminate_other_backends(engine.url.render_as_string(hide_password=False))


async def test_a_connection_dropped_while_idle_in_the_pool_is_replaced_before_a_request_gets_it(
    engine, db, monkeypatch
):
    """Idle longer than PING_AFTER_IDLE_SECONDS (here: any time at all), a pooled connection is
    pinged at checkout and replaced when the ping fails: the request never sees it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections are files in this process: nothing drops them")
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert await _pool_of_dead_connections(engine) >= 1
    handle = RequestDb(make_session_factory(engine))
    try:
        assert await handle.scalar(sa.text("SELECT 41 + 1")) == 42
    finally:
        await handle.close()
    await _all_connections_work(engine)


async def test_a_connection_dropped_within_the_idle_bound_answers_unavailable_once_then_all_are_replaced(
    engine, db, monkeypatch
):
    """Used within the last PING_AFTER_IDLE_SECONDS (here: an hour), a pooled connection is lent
    without a ping: one that died since fails its statement as DatabaseUnavailable (503), and
    that failure makes the pool replace every connection it opened before, so the next works."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections are files in this process: nothing drops them")
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    assert await _pool_of_dead_connections(engine) >= 1
    handle = RequestDb(make_session_factory(engine))
    try:
        with pytest.raises(DatabaseUnavailable):
            await handle.scalar(sa.text("SELECT 1"))
    finally:
        await handle.close()
    await _all_connections_work(engine)
