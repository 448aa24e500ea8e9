"""Small SQL building blocks the reports share, written once for SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


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
