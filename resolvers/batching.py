"""The three shapes every DataLoader here takes: rows by id, rows grouped by a key, and one
aggregate value per key. Each is one SQL statement per batch of keys, with the caller's row
scope composed in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, QueryableAttribute
from sqlalchemy.sql import ColumnElement
from strawberry.dataloader import DataLoader

from resolvers.db import RequestDb
from resolvers.records import columns_of, read_records


def by_id(db: RequestDb, entity: Any, scope: ColumnElement[bool]) -> DataLoader:
    async def load(keys: Sequence[int]) -> list[Any]:
        rows = await db.scalars(sa.select(entity).where(entity.id.in_(keys), scope))
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def grouped(
    db: RequestDb,
    entity: Any,
    key_column: Mapped[Any],
    scope: ColumnElement[bool],
    order_by: Sequence[sa.SQLColumnExpression[Any]],
    *extra: ColumnElement[bool],
) -> DataLoader:
    # `col()` types a column as Mapped; at runtime it is the class's instrumented attribute, whose
    # key names the record's attribute.
    if not isinstance(key_column, QueryableAttribute):
        raise TypeError(f"{key_column!r} is not a mapped column")
    key_name = key_column.key

    columns = columns_of(entity)

    async def load(keys: Sequence[Any]) -> list[list[Any]]:
        statement = sa.select(*columns).where(key_column.in_(keys), scope, *extra).order_by(*order_by)
        groups: dict[Any, list[Any]] = defaultdict(list)
        for record in await read_records(db, entity, statement):
            groups[getattr(record, key_name)].append(record)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def aggregate(
    db: RequestDb,
    build: Callable[[Sequence[Any]], sa.Select],
    default: Any,
    convert: Callable[[Any], Any] = lambda v: v,
) -> DataLoader:
    """A loader over `build(keys)`, a statement yielding (key, value) rows."""

    async def load(keys: Sequence[Hashable]) -> list[Any]:
        found = {key: convert(value) for key, value in await db.rows(build(keys))}
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)
