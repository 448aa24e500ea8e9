"""Writes the demo data (server.demo.data) into an empty, migrated database, in one transaction:
people and clients, then the work, then billing, then the relationship around it. Every date is
relative to one "today"; the generated time entries come from a seeded random generator, so a
given day always loads the same agency."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from auth.passwords import hash_password
from models import Client, Role
from server.demo.data.clients import CLIENTS
from server.demo.data.people import DEMO_PASSWORD, PORTAL_CLIENTS, STAFF
from server.demo.loader import billing, engagement, people, work
from server.demo.loader.state import DemoLoad

# Serialises two concurrent loads on PostgreSQL; on SQLite, BEGIN IMMEDIATE does.
_PG_LOCK_KEY = 0x0A6E_D3E0

# In order: each step reads what the ones before it wrote.
STEPS = (
    people.add_staff,
    people.add_statuses,
    people.add_clients,
    people.add_leads,
    people.add_portal_users,
    work.add_projects,
    work.add_time_and_expenses,
    billing.add_invoices,
    engagement.add_opportunities,
    engagement.add_interactions_and_meetings,
    engagement.add_logins_notifications_and_outbox,
    engagement.add_satisfaction_surveys,
)


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    password: str
    role: str
    note: str


def sign_ins() -> list[DemoSignIn]:
    staff = [DemoSignIn(s.email, DEMO_PASSWORD, s.role.value, s.note) for s in STAFF]
    by_key = {c.key: c for c in CLIENTS}
    portal = [
        DemoSignIn(f"{by_key[key].contacts[0].local_part}@{by_key[key].domain}", DEMO_PASSWORD, Role.CLIENT.value, note)
        for key, note in PORTAL_CLIENTS
    ]
    return staff + portal


async def load_demo(
    session_factory: async_sessionmaker[AsyncSession], *, today: dt.date | None = None
) -> list[DemoSignIn]:
    """Load the demo agency into an empty, migrated database (idempotent: if any Client
    exists, load nothing and just return the sign-ins)."""
    async with session_factory() as session:
        if await session.scalar(sa.select(col(Client.id)).limit(1)) is not None:
            return sign_ins()
    # Argon2 is slow on purpose: hash the one shared password once, off the event loop.
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with session_factory() as session, session.begin():
        # Take the write lock before re-checking, so a concurrent load waits, then finds the clients.
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if await session.scalar(sa.select(col(Client.id)).limit(1)) is not None:
            return sign_ins()
        load = DemoLoad(session, today, password_hash)
        for step in STEPS:
            await step(load)
        session.add_all(load.activities)
        await session.flush()
    return sign_ins()
