"""The async engine and session factory, built from a URL the caller passes in; the one place
that says how a write transaction begins, whether an error means "the database is away",
and whether the database answers at all (for a readiness probe).

SQLite (the embedded default) runs in WAL mode, so readers never wait for the writer, and
this process lets one write transaction at a time ask SQLite for its write lock (an asyncio
lock per database and event loop, see `writer_lock`): concurrent mutations queue in
process, in order, instead of racing each other through SQLite's busy handler, which is
unfair and gave up after the old 5 s busy timeout. Other processes on the same file (a CLI
command, a second server) still meet SQLite's own lock; the busy timeout is 60 s for them.

On either store, requests take turns at the connection pool first come, first served
(`connection_gate`), and `is_unavailable` tells a database that is away (restarting, dropped or
refused connections, pool exhausted) from a bad statement; `abandon` and `close_session` make
sure a broken connection is invalidated, never handed back to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

log = logging.getLogger("agency.db")

SQLITE_BUSY_TIMEOUT_MS = 60_000
"""How long a SQLite connection waits for another process's write lock before "database is locked"."""

CONNECT_TIMEOUT_SECONDS = 10
"""How long opening a PostgreSQL connection may take before the database counts as away."""

READY_TIMEOUT_SECONDS = 2.0
"""How long `database_ready` waits for the database to answer."""

SQLITE_CACHE_KIB = 1024
"""SQLite's page cache, per connection (`PRAGMA cache_size`; SQLite's default is 2,000 KiB). Each
pooled connection keeps its own cache, filled as it reads pages of a growing file: with up to 20
connections (pool 10 + overflow 10) that is at most 20 MiB, instead of 40 MiB reached only as the
file grows. The operating system's page cache holds the file either way."""


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle in the pool longer than this is pinged (one `SELECT 1`)
before a request gets it, and replaced when that fails (the server restarted, the backend was
terminated). One used within the last second is handed out as it is: SQLAlchemy's own pre-ping
checked every checkout, with three round trips each (BEGIN, the ping, ROLLBACK), a quarter of
the database work of a small read. A connection that died more recently than that fails its
statement, which answers 503 (resolvers.db) and makes SQLAlchemy replace every connection of the
pool opened before the failure."""

PLAN_CACHE_MODE = "auto"
"""PostgreSQL's own choice (its default, set here so that a server configured otherwise does not
change it): after five executions of a prepared statement (asyncpg prepares each one per
connection) it may keep a generic plan made without the parameter values, when that plan is
estimated no worse. For the compiled read path that used to mean 2 to 4 times slower plans (the
nested list of 10 clients: 3 ms custom, 23 ms generic), because a LIMIT $n looked like a tenth of
the table; the page bounds are now written into the statement's text (resolvers.compiled.planner),
and the generic plans are as fast as the custom ones. Planning every execution instead
(force_custom_plan) cost more than running the portal's nested list: 1.2 ms to plan, 0.8 ms to run."""


JIT = "off"
"""No just-in-time compilation of query plans. PostgreSQL compiles a plan whose estimated cost is
above jit_above_cost (100,000 by default) to machine code, and the compiled read path's nested
lists are estimated above it: the nested list of 50 clients spent 26 ms compiling to run in 13 ms
(EXPLAIN ANALYZE on the bench agency), every execution. JIT pays off for long analytical scans,
which this API does not run."""


def sync_url(url: str) -> str:
    """The same database through a synchronous driver name, for Alembic's offline helpers."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    kwargs: dict = {"echo": echo}
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        if parsed.get_driver_name() == "asyncpg":
            kwargs["connect_args"] = {
                "timeout": CONNECT_TIMEOUT_SECONDS,
                "server_settings": {"plan_cache_mode": PLAN_CACHE_MODE, "jit": JIT},
            }
    elif parsed.database not in (None, "", ":memory:") and "mode=memory" not in url:
        # A SQLite file: enough connections for concurrent readers (the writer lock keeps
        # writers from holding more than one of them).
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server dropped (restart, terminated backend) is replaced at
    checkout instead of failing the request that draws it, when it sat idle longer than
    PING_AFTER_IDLE_SECONDS (SQLAlchemy's documented pessimistic checkout recipe)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:  # pragma: no cover - driver hook
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:  # pragma: no cover - driver hook
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:  # pragma: no cover - driver hook
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            await_only(dbapi_connection.driver_connection.fetchval("SELECT 1"))
        except Exception as error:
            # The pool replaces this connection and every other it opened before now.
            raise exc.InvalidatePoolError(f"a pooled connection failed its ping: {error}") from error
        record.info["idle_since"] = time.monotonic()


def _tune_sqlite(engine: AsyncEngine) -> None:
    # Money columns are stored exactly as text; SQLAlchemy warns once about Decimal on SQLite.
    warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively.*")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First, so that the statements below wait for another process too.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Foreign keys are enforced, as on PostgreSQL.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL: readers run beside the writer and see the last commit. NORMAL sync is safe in
        # WAL mode (no corruption on power loss; the last commits before it may be lost).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A bounded page cache per connection (see SQLITE_CACHE_KIB); negative means KiB.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:  # pragma: no cover - driver hook
        # pysqlite's documented recipe: we emit BEGIN ourselves. A writing transaction asks
        # for BEGIN IMMEDIATE (execution option sqlite_begin), taking the write lock up
        # front so two concurrent mutations queue instead of failing halfway.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_READ_ENGINES: weakref.WeakKeyDictionary[sa.Engine, AsyncEngine] = weakref.WeakKeyDictionary()


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine a request's reads run on (resolvers.db.RequestDb): on PostgreSQL the same pool
    in autocommit, so a request that only reads sends no BEGIN and no ROLLBACK (two round trips
    of the four a small read took). Nothing is lost: at READ COMMITTED, the isolation level both
    run at, every statement takes its own snapshot inside a transaction too, and reads never
    hold locks. On SQLite the engine itself: there the read transaction is the request's one
    snapshot of a WAL database, and BEGIN costs no round trip."""
    if engine.dialect.name != "postgresql":
        return engine
    found = _READ_ENGINES.get(engine.sync_engine)
    if found is None:
        found = _READ_ENGINES[engine.sync_engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


# -- one writer at a time (SQLite) -------------------------------------------------------------

_WRITER_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def writer_lock(engine: AsyncEngine) -> AbstractAsyncContextManager[Any]:
    """Held around every write transaction on a SQLite database: one writer at a time in this
    process, queued in arrival order; reads never take it. On PostgreSQL a no-op (row locks,
    advisory locks and conditional claims serialise what must be serialised there).

    One lock per database (its URL) and event loop, whichever engine points at the database."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    locks = _WRITER_LOCKS.setdefault(asyncio.get_running_loop(), {})
    key = engine.url.render_as_string(hide_password=False)
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_transaction(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A fresh session in one write transaction: committed when the block ends, rolled back on
    any error. On SQLite it waits for `writer_lock`, then takes SQLite's write lock up front
    (BEGIN IMMEDIATE), so the transaction never fails halfway for want of it. Its connection
    is drawn through the engine's `connection_gate`.

    A session whose connection failed (or whose work was cancelled mid-statement) is closed by
    invalidating its connection: a broken connection never goes back to the pool."""
    session = session_factory()
    engine = session.bind
    assert isinstance(engine, AsyncEngine), "sessions are bound to an AsyncEngine (make_session_factory)"
    gate = connection_gate(engine)
    async with writer_lock(engine):
        await gate.acquire()
        try:
            await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                await session.commit()
            except BaseException as error:
                await abandon(session, error)
                raise
        finally:
            await close_session(session)
            gate.release()


# -- fair turns at the pool --------------------------------------------------------------------


class ConnectionGate:
    """First come, first served admission to an engine's connection pool.

    SQLAlchemy's async queue pool lets a newcomer take a connection that was just returned
    ahead of the requests already waiting (the woken waiter queues again at the back), so under
    sustained load one request could wait past the pool timeout while others went ahead: a 503
    for no reason but bad luck. Request handles (resolvers.db.RequestDb) and write transactions
    take a turn here, in arrival order, before they draw a connection, and give it back when
    they return the connection. Waiting longer than the pool's own timeout is a pool timeout."""

    def __init__(self, capacity: int | None, timeout: float) -> None:
        self._turns = asyncio.Semaphore(capacity) if capacity else None
        self.timeout = timeout

    async def acquire(self) -> None:
        if self._turns is None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                await self._turns.acquire()
        except TimeoutError as error:
            raise exc.TimeoutError(f"no database connection came free within {self.timeout:g} s") from error

    def release(self) -> None:
        if self._turns is not None:
            self._turns.release()


_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[sa.Engine, ConnectionGate]] = (
    weakref.WeakKeyDictionary()
)


def connection_gate(engine: AsyncEngine) -> ConnectionGate:
    """The engine's gate in this event loop, as wide as its pool can lend at once (no limit for a
    pool without one, e.g. SQLite in memory)."""
    gates = _GATES.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    gate = gates.get(engine.sync_engine)
    if gate is None:
        pool = engine.sync_engine.pool
        capacity, timeout = None, 30.0
        if isinstance(pool, sa.pool.QueuePool):
            overflow = pool._max_overflow  # what the engine was built with; no public accessor
            capacity = pool.size() + overflow if overflow >= 0 else None
            timeout = pool.timeout()
        gate = gates[engine.sync_engine] = ConnectionGate(capacity, timeout)
    return gate


async def abandon(session: AsyncSession, error: BaseException) -> None:
    """End a session's transaction after `error`: roll back, or invalidate its connection when
    the error says the connection is unusable (gone, or interrupted mid-statement). Never raises:
    `error` is what the caller reports."""
    try:
        if is_unavailable(error) or isinstance(error, asyncio.CancelledError):
            await session.invalidate()
        else:
            await session.rollback()
    except Exception as failure:
        log.warning("ending a failed transaction failed too (%s); invalidating its connection", failure)
        with contextlib.suppress(Exception):
            await session.invalidate()


async def close_session(session: AsyncSession) -> None:
    """Close a session and give its connection back; when that fails (the connection died on the
    way), invalidate the connection instead. Never raises: this runs after the answer is known."""
    try:
        await session.close()
    except Exception as failure:
        log.warning("closing a database session failed (%s); invalidating its connection", failure)
        with contextlib.suppress(Exception):
            await session.invalidate()


# -- is the database away? ---------------------------------------------------------------------

# SQLSTATEs that mean the server is away or refusing work: class 08 (connection exception),
# 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now), 53300 (too many connections).
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")
# Driver messages (asyncpg, sqlite3, aiosqlite) for a connection that is gone or in use.
_UNAVAILABLE_MESSAGES = (
    "connection is closed",
    "connection was closed",
    "another operation is in progress",
    "cannot operate on a closed database",
    "no active connection",
    "database is locked",
    "database is busy",
    "unable to open database file",
    "disk i/o error",
)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what it wraps) means the database cannot be used right now, rather
    than that the statement or its data was wrong: the server restarting, refusing or dropping
    connections, a connection the pool could not open or lend in time, a connection in use by
    an interrupted operation, SQLite's file locked by another process past the busy timeout."""
    return any(_says_unavailable(e) for e in _chain(error))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps (a DBAPI error's `orig`, an explicit `raise ... from`)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        at = stack.pop()
        if at is None or id(at) in seen:
            continue
        seen.add(id(at))
        yield at
        stack.extend((getattr(at, "orig", None), at.__cause__))


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):  # TimeoutError: the pool's queue
        return True
    if isinstance(error, exc.PendingRollbackError) and "invalid transaction" in str(error):
        return True  # a session still holding a connection that was invalidated under it
    if isinstance(error, OSError):  # refused, reset, unreachable, timed out (asyncio's too)
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES):
        return True
    if isinstance(error, sqlite3.Error) or type(error).__module__.startswith(("asyncpg", "aiosqlite")):
        message = str(error).lower()
        return any(text in message for text in _UNAVAILABLE_MESSAGES)
    return False


async def database_ready(engine: AsyncEngine, *, within: float = READY_TIMEOUT_SECONDS) -> bool:
    """Whether the database answers a trivial query within `within` seconds, through the pool
    (a dead pooled connection is replaced by pre-ping, not reported). For a readiness probe."""
    try:
        async with asyncio.timeout(within), engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        return True
    except Exception as error:
        log.info("database not ready: %s", error)
        return False
