"""The request's database handle: one session per request, used one statement at a time.

Every use of the database in a request goes through here, so this is where a database that is
away becomes `DatabaseUnavailable` (answered 503 with Retry-After) instead of a driver error."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable, Select

from models.db import (
    ConnectionGate,
    abandon,
    close_session,
    connection_gate,
    is_unavailable,
    read_engine,
    write_transaction,
)
from resolvers.errors import DatabaseUnavailable


class CallerCheck(Protocol):
    """A check of the request's caller against its row, put off until the request first uses
    the database (server.principal.DeferredUserCheck). `statement` reads the row by `parameters`
    (its columns plus, when fused with a compiled read, that read's answer as `answer`);
    `verify` raises when the caller is not as it claimed."""

    @property
    def statement(self) -> Select: ...

    @property
    def parameters(self) -> Mapping[str, Any]: ...

    def verify(self, row: Any | None) -> None: ...


class RequestDb:
    """Reads share one session; DataLoaders of one request may fire in the same tick, so a
    lock keeps them from using the session concurrently (AsyncSession forbids that).

    Writes go through `transaction()`: a fresh session whose one transaction commits
    when the block ends and rolls back on any error, so a mutation is all or nothing
    (models.db.write_transaction: on SQLite, one writer at a time in the process).

    A connection-level failure (server restarting, connection dropped, pool exhausted) raises
    `DatabaseUnavailable`; the read session it broke is invalidated and dropped, so its
    connection never returns to the pool and the next statement starts on a fresh one.

    `close()` ends the request's use: it never runs beside a statement in flight (closing a
    session under a running statement is SQLAlchemy's IllegalStateChangeError, and leaves the
    driver with "another operation is in progress"). When a statement is still running (a
    resolver the response no longer waits for), the statement closes the session as it ends.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = session_factory
        self._session: AsyncSession | None = None
        self._gate: ConnectionGate | None = None  # set while the read session holds a turn at the pool
        self._lock = asyncio.Lock()
        self._closed = False
        #: The caller's check still to make before any statement's answer is used (`defer_check`).
        self._check: CallerCheck | None = None
        #: What the caller's check raised: raised again by every later use of the database.
        self._refusal: BaseException | None = None

    def defer_check(self, check: CallerCheck) -> None:
        """Check the caller before the request's first statement, or, on PostgreSQL, in the same
        statement as its first compiled read (`core_scalar`). `settle()` makes it if nothing did."""
        self._check = check

    async def settle(self) -> None:
        """Make the caller's check now if no statement has made it, and raise what it raised."""
        if self._refusal is not None:
            raise self._refusal
        if self._check is not None:
            async with self._reading():
                pass

    @property
    def caller_refusal(self) -> BaseException | None:
        """What the caller's check raised (it refused the caller, or found it changed), else None."""
        return self._refusal

    def _verify(self, check: CallerCheck, row: Any | None) -> None:
        try:
            check.verify(row)
        except BaseException as error:
            self._refusal = error
            raise

    @property
    def dialect_name(self) -> str:
        """ "sqlite" or "postgresql": the store this handle reads (the compiled read path writes SQL for it)."""
        bind = self._factory.kw.get("bind")
        return bind.dialect.name if bind is not None else ""

    def sibling(self) -> RequestDb:
        """A fresh handle on the same database (a subscription reads each event in its own)."""
        return RequestDb(self._factory)

    async def _read_session(self) -> AsyncSession:
        if self._session is None:
            engine = self._factory.kw.get("bind")
            assert isinstance(engine, AsyncEngine), "sessions are bound to an AsyncEngine (make_session_factory)"
            session = self._factory(bind=read_engine(engine))
            gate = connection_gate(engine)
            await gate.acquire()
            self._session, self._gate = session, gate
        return self._session

    @asynccontextmanager
    async def _reading(self, *, fused: bool = False) -> AsyncIterator[AsyncSession]:
        """The read session, the caller checked first (unless `fused`: the statement checks it)."""
        async with self._lock:
            if self._refusal is not None:
                raise self._refusal
            try:
                session = await self._read_session()
            except BaseException as error:
                if is_unavailable(error):
                    raise DatabaseUnavailable() from error
                raise
            try:
                check = self._check
                if check is not None and not fused:
                    connection = await session.connection()
                    row = (await connection.execute(check.statement, check.parameters)).first()
                    self._check = None  # made (a failed statement leaves it to make)
                    self._verify(check, row)
                yield session
            except BaseException as error:
                await self._after_failure(session, error)
                if is_unavailable(error):
                    raise DatabaseUnavailable() from error
                raise
            finally:
                if self._closed:
                    await self._release()

    async def _after_failure(self, session: AsyncSession, error: BaseException) -> None:
        """Keep the read session usable after a failed statement: a broken or interrupted
        connection is invalidated and the session dropped; after any other database error the
        transaction is rolled back (on PostgreSQL an aborted transaction refuses every later
        statement of the request)."""
        if is_unavailable(error) or isinstance(error, asyncio.CancelledError):
            await abandon(session, error)
            await self._release()
        elif isinstance(error, exc.DBAPIError) and session.bind is not self._factory.kw.get("bind"):
            # An autocommit read (models.db.read_engine) has no transaction to roll back, and a
            # statement that failed between its steps (a value refused while binding it) can
            # leave the server inside it, holding the locks it took: the connection is dropped.
            with contextlib.suppress(Exception):
                await session.invalidate()
            await self._release()
        elif isinstance(error, exc.DBAPIError):
            await abandon(session, error)

    async def scalars(self, statement: Executable) -> list[Any]:
        async with self._reading() as session:
            return list((await session.scalars(statement)).all())

    async def rows(self, statement: Executable) -> list[Any]:
        async with self._reading() as session:
            return list((await session.execute(statement)).all())

    async def core_rows(self, statement: Executable) -> tuple[list[str], list[tuple]]:
        """(column names, plain tuples) through the Core connection: no ORM row processing,
        for loaders that read columns only."""
        async with self._reading() as session:
            connection = await session.connection()
            result = await connection.execute(statement)
            return list(result.keys()), [tuple(row) for row in result.all()]

    async def core_first(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Any | None:
        """The first row (attributes by column name) through the Core connection, or None: for
        a look-up of columns that needs none of the ORM's row processing."""
        async with self._reading() as session:
            connection = await session.connection()
            return (await connection.execute(statement, parameters)).first()

    async def core_scalar(self, statement: Select) -> Any:
        """The first column of the first row through the Core connection (the compiled read
        path's JSON text: no ORM compile state or loading for a statement of columns only).
        On PostgreSQL the caller's check, if still to make, is made in the same statement."""
        fuse = self._check is not None and self.dialect_name == "postgresql"
        async with self._reading(fused=fuse) as session:
            connection = await session.connection()
            check = self._check
            if not fuse or check is None:
                return await connection.scalar(statement)
            row = (await connection.execute(_fused(check.statement, statement), check.parameters)).first()
            self._check = None  # made (a failed statement leaves it to make)
            self._verify(check, row)
            assert row is not None  # else _verify refused
            return row.answer

    async def scalar(self, statement: Executable) -> Any:
        async with self._reading() as session:
            return await session.scalar(statement)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        await self.settle()  # nothing is written for a caller before it is checked
        async with self._lock:
            try:
                # A read transaction left open would hold SQLite's snapshot, and a pooled
                # connection while this waits for the writer lock: end it first. (Closed, not
                # rolled back: rows read so far stay readable, where a rollback expires them.)
                await self._release()
                async with write_transaction(self._factory) as session:
                    yield session
            except DatabaseUnavailable:
                raise
            except BaseException as error:
                if is_unavailable(error):
                    raise DatabaseUnavailable() from error
                raise
            finally:
                if self._closed:
                    await self._release()

    async def close(self) -> None:
        """The request is done with the database. Safe to call more than once; never raises."""
        self._closed = True
        if self._lock.locked():
            return  # the statement in flight releases the session when it ends (see _reading)
        async with self._lock:
            await self._release()

    async def _release(self) -> None:
        """Give the read session's connection and its turn at the pool back."""
        session, self._session = self._session, None
        gate, self._gate = self._gate, None
        try:
            if session is not None:
                await close_session(session)
        finally:
            if gate is not None:
                gate.release()


@functools.lru_cache(maxsize=4096)
def _fused(check: Select, statement: Select) -> Select:
    """The caller's row with a compiled read's answer beside it (`answer`): one round trip for
    both. Remembered per statement (a compiled plan is kept and used again), so its SQL is
    compiled once."""
    return check.add_columns(statement.scalar_subquery().label("answer"))
