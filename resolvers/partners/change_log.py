"""Reading the change log (models/sync.py) in its one safe order, for the sync feed and webhooks.

`settled()` keeps only events whose transaction can no longer be followed by an earlier one:
on PostgreSQL, events of transactions older than every transaction still running when the
statement's snapshot was taken (`pg_snapshot_xmin`); on SQLite, every committed event (one
writer at a time). Read in `(txid, id)` order after a position taken from a previous read, the
log then never shows an event behind that position later: nothing is missed, nothing repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from models import ChangeEvent


class Position(NamedTuple):
    """A place in the log: after the event (txid, id). The start of the log is (-1, 0)."""

    txid: int
    id: int


START = Position(-1, 0)


def settled(dialect_name: str) -> ColumnElement[bool]:
    """Events that no transaction still running can be ordered before (see the module docstring)."""
    if dialect_name == "postgresql":
        xmin = sa.cast(sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text), sa.BigInteger)
        return col(ChangeEvent.txid) < xmin
    return sa.true()


def after(position: Position) -> ColumnElement[bool]:
    return sa.tuple_(col(ChangeEvent.txid), col(ChangeEvent.id)) > sa.tuple_(
        sa.literal(position.txid, sa.BigInteger), sa.literal(position.id, sa.BigInteger)
    )


def events_after(position: Position, dialect_name: str, *where: ColumnElement[bool]) -> sa.Select:
    """The settled events after `position`, in log order, narrowed by `where` (row scope, types)."""
    return (
        sa.select(ChangeEvent)
        .where(after(position), settled(dialect_name), *where)
        .order_by(col(ChangeEvent.txid), col(ChangeEvent.id))
    )


async def read_events(
    session: AsyncSession, position: Position, *where: ColumnElement[bool], limit: int
) -> Sequence[ChangeEvent]:
    dialect = session.get_bind().dialect.name
    return (await session.scalars(events_after(position, dialect, *where).limit(limit))).all()


def position_of(event: ChangeEvent) -> Position:
    assert event.id is not None
    return Position(event.txid, event.id)
