"""Keyset pagination in SQL: a page is filtered, ordered and cut by the database.

A cursor is the opaque (sort value, id) of a row; the next page starts strictly
after it, so pages never skip or repeat a row when rows are added meanwhile.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql import Select

from resolvers.db import RequestDb
from resolvers.errors import InputError

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# What a cursor may carry: row ids and integer sort values fit a 32-bit column on both stores,
# date-times the years the API accepts as input, text a bounded length without NUL.
MAX_CURSOR_INT = 2**31 - 1
CURSOR_YEARS = (1900, 2999)
MAX_CURSOR_TEXT = 1000
MAX_CURSOR_LENGTH = 2000


class SortDirection(str, Enum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class SortKey:
    """An ordering column, and how its values travel inside a cursor."""

    expression: sa.SQLColumnExpression[Any]
    kind: str = "str"  # "str", "int", "datetime" or "date"

    def encode(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def decode(self, value: Any) -> Any:
        """The sort value a cursor carries, checked like any other input (ValueError if it is not
        one this key could have written): a cursor is opaque, but anyone can hand-make one."""
        if self.kind == "datetime":
            if not isinstance(value, str) or len(value) > 40:
                raise ValueError("not a date-time")
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC)  # OverflowError near the ends of the calendar
            if not CURSOR_YEARS[0] <= moment.year <= CURSOR_YEARS[1]:
                raise ValueError("a date-time out of range")
            return moment
        if self.kind == "date":
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError("not a date")
            day = dt.date.fromisoformat(value)
            if not CURSOR_YEARS[0] <= day.year <= CURSOR_YEARS[1]:
                raise ValueError("a date out of range")
            return day
        if self.kind == "int":
            if type(value) is not int or abs(value) > MAX_CURSOR_INT:
                raise ValueError("not an integer in range")
            return value
        if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT or "\x00" in value:
            raise ValueError("not a text value")
        return value


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, key: SortKey) -> tuple[Any, int]:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if type(row_id) is not int or not 1 <= row_id <= MAX_CURSOR_INT:
            raise ValueError("not a row id")
        return key.decode(value), row_id
    except (ValueError, TypeError, OverflowError) as error:
        raise InputError("after", "INVALID_CURSOR", "The cursor is not one this API gave out.") from error


@dataclass
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise InputError("first", "INVALID_PAGE_SIZE", "first must not be negative.")
    if first > MAX_PAGE_SIZE:
        raise InputError("first", "INVALID_PAGE_SIZE", f"first may be at most {MAX_PAGE_SIZE}.")
    return first


def after_cursor(
    statement: Select,
    *,
    key: SortKey,
    id_column: sa.SQLColumnExpression[int | None],
    direction: SortDirection,
    after: str | None,
) -> Select:
    """`statement` cut to the rows strictly after the cursor (all of them without one); an
    invalid cursor is INVALID_CURSOR. The compiled read path pages with it too."""
    if not after:
        return statement
    value, last_id = decode_cursor(after, key)
    if direction is SortDirection.DESC:
        return statement.where(sa.or_(key.expression < value, sa.and_(key.expression == value, id_column < last_id)))
    return statement.where(sa.or_(key.expression > value, sa.and_(key.expression == value, id_column > last_id)))


async def keyset_page(
    db: RequestDb,
    statement: Select,
    *,
    key: SortKey,
    id_column: sa.SQLColumnExpression[int | None],
    direction: SortDirection,
    first: int | None,
    after: str | None,
) -> Page[Any]:
    """One page of `statement` (already filtered and scoped), ordered by key then id.

    The count runs only if the caller asks for totalCount, over the same filtered rows.
    """
    size = page_size(first)
    descending = direction is SortDirection.DESC
    filtered = after_cursor(statement, key=key, id_column=id_column, direction=direction, after=after)
    ordering = (key.expression.desc(), id_column.desc()) if descending else (key.expression.asc(), id_column.asc())
    paged = filtered.add_columns(key.expression.label("_sort_key")).order_by(*ordering).limit(size + 1)
    results = await db.rows(paged) if size else []
    has_next = len(results) > size
    results = results[:size]

    async def count() -> int:
        counted = statement.order_by(None).with_only_columns(sa.func.count(), maintain_column_froms=True)
        return int(await db.scalar(counted) or 0)

    rows = [r[0] for r in results]
    cursors = [encode_cursor([key.encode(r[-1]), r[0].id]) for r in results]
    return Page(rows=rows, cursors=cursors, has_next_page=has_next, has_previous_page=bool(after), count=count)
