"""Fixtures: one migrated database per run (SQLite, or PostgreSQL when TEST_DATABASE_URL
says so), emptied before each test; the real app driven over ASGI."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from models.base import metadata
from models.clients import BUILTIN_STATUSES, ClientStatus
from models.db import make_engine, make_session_factory
from models.migrate import upgrade
from server.app import create_app
from server.settings import Settings
from tests.utils import Api, StatementCounter

TEST_SECRET = "test-signing-key-that-is-long-enough-0123456789"


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    path = os.path.join(tempfile.mkdtemp(prefix="agency-test-"), "test.db")
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def database_url() -> str:
    url = _database_url()
    if url.startswith("postgresql"):
        asyncio.run(_reset_postgres(url))
    upgrade(url)
    return url


async def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def statements(engine: AsyncEngine) -> StatementCounter:
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter.on_execute)
    return counter


async def empty_database(engine: AsyncEngine) -> None:
    # Ids start again from 1: a cost setting this process saw for a client of an earlier test
    # (server.principal) belongs to another client now, and an operation answered for a caller
    # (server/compiled.py) is another test's.
    from schema.enforcement import compiled_answers
    from server.principal import _COSTS_SHOWN

    _COSTS_SHOWN.clear()
    compiled_answers.clear()
    tables = [t.name for t in metadata.sorted_tables]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            # Inside a transaction only deferring works; every row is gone by commit.
            await conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in reversed(tables):
                await conn.exec_driver_sql(f'DELETE FROM "{table}"')
            # Deleting followed rows wrote their change events (migration 0007's triggers).
            await conn.exec_driver_sql('DELETE FROM "change_event"')
            await conn.exec_driver_sql("DELETE FROM sqlite_sequence") if await conn.scalar(
                sa.text("SELECT count(*) FROM sqlite_master WHERE name='sqlite_sequence'")
            ) else None
        await conn.execute(sa.insert(ClientStatus), [dict(row) for row in BUILTIN_STATUSES])
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('client_status', 'id'), 100)")


@pytest.fixture
async def db(engine: AsyncEngine):
    """An emptied database with the built-in statuses; yields the session factory."""
    await empty_database(engine)
    return make_session_factory(engine)


@pytest.fixture
def settings() -> Settings:
    return Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused")


@pytest.fixture
async def api(db, engine: AsyncEngine, settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, app)


@pytest.fixture
async def demo(db):
    """The demo agency, loaded through the same function `agency serve --demo` uses."""
    from server.demo import load_demo

    return await load_demo(db)


@pytest.fixture
def factory(db):
    from tests.factories import Factory

    return Factory(db)
