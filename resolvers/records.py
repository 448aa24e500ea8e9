"""Read-only records: a row's columns as plain attributes, for the lists a request reads.

Building an ORM object costs far more than reading the row (identity map, instrumented
attributes, validation): measured here, a third of a 5,000-row nested list went to it.
Lists only read columns, so their loaders build these instead. A record carries its
model (`__model__`), so a GraphQL type can still tell which type a record is.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


@functools.cache
def record_class(model: type) -> type:
    return type(f"{model.__name__}Record", (), {"__model__": model, "__doc__": f"A read-only {model.__name__} row."})


def columns_of(model: Any) -> list[sa.Column]:
    return list(model.__table__.columns)


def to_records(model: type, keys: Sequence[str], rows: Sequence[tuple]) -> list[Any]:
    cls = record_class(model)
    new = object.__new__
    out = []
    for row in rows:
        record: Any = new(cls)
        record.__dict__.update(zip(keys, row, strict=True))
        out.append(record)
    return out


async def read_records(db: Any, model: type, statement: sa.Select) -> list[Any]:
    """The records of a `select(*columns_of(model))` statement, read through the Core connection."""
    keys, rows = await db.core_rows(statement)
    return to_records(model, keys, rows)
