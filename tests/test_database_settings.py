"""The session settings every PostgreSQL connection of the app runs with (models.db.make_engine)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models.db import JIT, PLAN_CACHE_MODE, read_engine


async def test_postgresql_connections_plan_without_jit_and_may_keep_generic_plans(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's own session settings")
    for bind in (engine, read_engine(engine)):  # reads (autocommit) and writes alike
        async with bind.connect() as connection:
            assert await connection.scalar(sa.text("SHOW jit")) == JIT == "off"
            assert await connection.scalar(sa.text("SHOW plan_cache_mode")) == PLAN_CACHE_MODE == "auto"
