"""The request's database handle: one session per request, used one statement at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable


class RequestDb:
    """Reads share one session; DataLoaders of one request may fire in the same tick, so a
    lock keeps them from using the session concurrently (AsyncSession forbids that).

    Writes go through `transaction()`: a fresh session whose one transaction commits
    when the block ends and rolls back on any error, so a mutation is all or nothing.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = session_factory
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    async def _read_session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
        return self._session

    async def scalars(self, statement: Executable) -> list[Any]:
        async with self._lock:
            session = await self._read_session()
            return list((await session.scalars(statement)).all())

    async def rows(self, statement: Executable) -> list[Any]:
        async with self._lock:
            session = await self._read_session()
            return list((await session.execute(statement)).all())

    async def core_rows(self, statement: Executable) -> tuple[list[str], list[tuple]]:
        """(column names, plain tuples) through the Core connection: no ORM row processing,
        for loaders that read columns only."""
        async with self._lock:
            session = await self._read_session()
            connection = await session.connection()
            result = await connection.execute(statement)
            return list(result.keys()), [tuple(row) for row in result.all()]

    async def scalar(self, statement: Executable) -> Any:
        async with self._lock:
            session = await self._read_session()
            return await session.scalar(statement)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            # A read transaction left open would hold SQLite's snapshot; end it first.
            if self._session is not None:
                await self._session.rollback()
            async with self._factory() as session:
                # On SQLite this takes the write lock up front (BEGIN IMMEDIATE).
                await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
