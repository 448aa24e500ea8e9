"""Small SQL building blocks the reports share, written once for SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from models.base import UTCDateTime


class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a UTC timestamp column, so two timestamps can be subtracted in SQL."""

    type = sa.Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # UTC timestamps are stored as naive ISO text on SQLite; julianday parses them, fractions included.
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


class round_half_up(FunctionElement):
    """A non-negative float rounded half up to an integer, the same on both stores."""

    type = sa.Integer()
    inherit_cache = True
    name = "round_half_up"


@compiles(round_half_up, "sqlite")
def _round_half_up_sqlite(element: round_half_up, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) + 0.5 AS INTEGER)"


@compiles(round_half_up, "postgresql")
def _round_half_up_postgresql(element: round_half_up, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(({compiler.process(element.clauses, **kw)}) + 0.5) AS INTEGER)"


class whole_part(FunctionElement):
    """A non-negative float's whole part (negative values, moments in the future, come out at or below 0)."""

    type = sa.Integer()
    inherit_cache = True
    name = "whole_part"


@compiles(whole_part, "sqlite")
def _whole_part_sqlite(element: whole_part, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@compiles(whole_part, "postgresql")
def _whole_part_postgresql(element: whole_part, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS INTEGER)"


class day_start(FunctionElement):
    """A DATE column as the timestamp of its 00:00 UTC, comparable with the UTC timestamp columns."""

    type = UTCDateTime()
    inherit_cache = True
    name = "day_start"


@compiles(day_start, "sqlite")
def _day_start_sqlite(element: day_start, compiler: Any, **kw: Any) -> str:
    # UTC timestamps are naive ISO text on SQLite: 'YYYY-MM-DD 00:00:00' sorts among them.
    return f"datetime({compiler.process(element.clauses, **kw)})"


@compiles(day_start, "postgresql")
def _day_start_postgresql(element: day_start, compiler: Any, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP) AT TIME ZONE 'UTC')"


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    """The first day of each of the last `months` months, oldest first, ending with this month."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return starts[::-1]


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def quarter_start(today: dt.date) -> dt.date:
    return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def month_bucket(column: sa.SQLColumnExpression[Any], boundaries: Sequence[Any]) -> ColumnElement[int]:
    """Which month a value falls in: -1 before the first boundary, i for [boundaries[i], boundaries[i+1]),
    len(boundaries) - 1 or more at or after the last one. Portable: plain comparisons, no date functions."""
    whens = [(column < boundaries[0], -1)]
    whens += [(column < bound, i) for i, bound in enumerate(boundaries[1:])]
    return sa.case(*whens, else_=len(boundaries) - 1)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), dt.UTC)
