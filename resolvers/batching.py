"""The three shapes every DataLoader here takes: rows by id, rows grouped by a key, and one
aggregate value per key. Each is one SQL statement per batch of keys, with the caller's row
scope composed in.

And how a domain declares its loaders (`DomainLoaders`, `loader`): each is built the first time
a request uses it, not all of them for every request. A request reads a handful of some seventy
loaders; building them all (each with its row scope, SQL expressions and closures) cost up to
2.7 ms and 140 KB per request, for a portal user most of it.

Nothing a loader builds may refer back to its domain's loaders object: a loader's closures see
only the request's database handle and Principal (what `loader` passes in). A reference back
would be a cycle per request, which keeps the whole request (its loaders, their caches, every row
they hold) alive until the cyclic garbage collector looks at it, instead of freeing it when the
response is sent (tests/test_memory.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, QueryableAttribute
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from strawberry.dataloader import DataLoader

from auth.principal import Principal
from resolvers.db import RequestDb
from resolvers.records import columns_of, read_records

T = TypeVar("T")
S = TypeVar("S", bound=ClauseElement)


class DomainLoaders:
    """A domain's loaders for one request: every `loader` attribute of a subclass is built on
    first use from the request's database handle and Principal, then kept for the request."""

    def __init__(self, db: RequestDb, principal: Principal) -> None:
        self.db = db
        self.principal = principal


class loader(Generic[T]):
    """Declares a loader of a DomainLoaders subclass: `build(db, principal)` runs the first time
    the attribute is read in a request, and its result replaces the attribute on that instance
    (a non-data descriptor: later reads are plain attribute reads)."""

    def __init__(self, build: Callable[[RequestDb, Principal], T]) -> None:
        self.build = build
        self.name = build.__name__
        self.__doc__ = build.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> loader[T]: ...
    @overload
    def __get__(self, instance: DomainLoaders, owner: type | None = None) -> T: ...
    def __get__(self, instance: DomainLoaders | None, owner: type | None = None) -> T | loader[T]:
        if instance is None:
            return self
        built = self.build(instance.db, instance.principal)
        instance.__dict__[self.name] = built
        return built


class _BatchKeys(sa.types.TypeDecorator[list[int]]):
    """The batch's keys as one parameter: an integer array on PostgreSQL, a JSON array elsewhere
    (SQLite reads it with `json_each`). Every key a loader batches is an integer id."""

    impl = sa.types.String
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.BigInteger()))
        return dialect.type_descriptor(sa.types.String())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        keys = [int(key) for key in value]
        return keys if dialect.name == "postgresql" else json.dumps(keys)


_KEYS: BindParameter[Any] = sa.bindparam("batch_keys", type_=_BatchKeys())


class _InKeys(ColumnElement[bool]):
    """`column` among the batch's keys, written so that the SQL text is the same whatever the
    batch's size: `column = ANY($1)` on PostgreSQL, `column IN (SELECT value FROM json_each(?))`
    on SQLite. (`column IN (...)` with an expanding parameter is a new statement text for every
    batch size, and each text is a prepared statement the driver caches per pooled connection:
    asyncpg keeps its types and record layout, 100 per connection, which under load was the
    server's memory still growing after the warm-up.)"""

    __visit_name__ = "agency_in_keys"
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a condition as it stands (no `= 1` where booleans are integers)
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own declaration is a plain list)
        ("column", InternalTraversal.dp_clauseelement),
        ("keys", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.keys = _KEYS


@compiles(_InKeys)
def _in_keys_sql(element: _InKeys, compiler: Any, **kw: Any) -> str:
    column, keys = compiler.process(element.column, **kw), compiler.process(element.keys, **kw)
    return f"{column} IN (SELECT value FROM json_each({keys}))"


@compiles(_InKeys, "postgresql")
def _in_keys_postgresql(element: _InKeys, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.keys, **kw)})"


_in_keys: dict[int, tuple[QueryableAttribute[Any], ColumnElement[bool]]] = {}


def in_keys(column: Mapped[Any]) -> ColumnElement[bool]:
    """`column` among the batch's keys (`_InKeys`), for a statement run with `with_keys`: one
    statement text per loader, whatever the batch's size.

    Made once per mapped column for the life of the process, so that no request builds (and
    leaves for the cyclic collector) clause objects of its own. Only mapped columns (the model's
    class attributes, which live as long as the process) are accepted, so this holds one entry
    per column and never grows with requests."""
    if not isinstance(column, QueryableAttribute):
        raise TypeError(f"{column!r} is not a mapped column")
    found = _in_keys.get(id(column))
    if found is None or found[0] is not column:
        found = _in_keys[id(column)] = (column, _InKeys(column.expression))
    return found[1]


def with_keys(statement: S, keys: Sequence[Any]) -> S:
    """The statement for this batch: its `in_keys` parameter set to the keys (a copy; the
    statement built once stays as it was, and SQLAlchemy's compiled cache hits)."""
    return statement.params(batch_keys=list(keys))


def by_id(db: RequestDb, entity: Any, scope: ColumnElement[bool]) -> DataLoader:
    statement = sa.select(entity).where(in_keys(entity.id), scope)

    async def load(keys: Sequence[int]) -> list[Any]:
        rows = await db.scalars(with_keys(statement, keys))
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
    statement = sa.select(*columns_of(entity)).where(in_keys(key_column), scope, *extra).order_by(*order_by)

    async def load(keys: Sequence[Any]) -> list[list[Any]]:
        groups: dict[Any, list[Any]] = defaultdict(list)
        for record in await read_records(db, entity, with_keys(statement, keys)):
            groups[getattr(record, key_name)].append(record)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def aggregate(
    db: RequestDb,
    statement: sa.Select,
    default: Any,
    convert: Callable[[Any], Any] = lambda v: v,
) -> DataLoader:
    """A loader over `statement`, which yields (key, value) rows for the keys it selects with
    `in_keys` (run per batch with `with_keys`)."""

    async def load(keys: Sequence[Hashable]) -> list[Any]:
        found = {key: convert(value) for key, value in await db.rows(with_keys(statement, keys))}
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)
