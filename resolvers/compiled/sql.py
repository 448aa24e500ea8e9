"""SQL building blocks of the compiled read path, for PostgreSQL and SQLite: JSON text of one
value exactly as the GraphQL scalars serialise it and orjson writes it, JSON text joined, and a
list aggregated in order.

JSON is built as text by concatenation (`||`), not with json_build_object / json_object: those
write `{"a" : 1}` (PostgreSQL's json) or reorder keys (jsonb), and the response must be the very
bytes the resolver path writes (orjson: no spaces, keys in selection order). Strings go through
to_json (PostgreSQL) and json_quote (SQLite), which escape exactly as orjson does (`"`, `\\`, the
control characters with the same short forms; everything else raw UTF-8).

SQLite has no base64 and no time zone arithmetic worth trusting, and stores money as a float:
there, Relay ids, date-times, money, decimals and cursors are deterministic Python functions
registered on every SQLite connection (`agency_*`), which call the very code the resolver path
runs (strawberry's to_base64, the UTC column type's reading, models.base.money, the cursor
encoder), so the two paths cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import Pool
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from strawberry.relay.utils import to_base64

from models.base import money
from resolvers.billing.invoices import line_amounts
from resolvers.pagination import SortKey, encode_cursor

#: The kinds of value a column or aggregate can be written as.
TEXT, INT, BOOL, ENUM, DATE, DATETIME, MONEY, DECIMAL, ID_TEXT = (
    "text",
    "int",
    "bool",
    "enum",
    "date",
    "datetime",
    "money",
    "decimal",
    "id_text",
)
#: A Numeric column of scale 4 (a tax rate): DECIMAL's scale is 2.
DECIMAL4 = "decimal4"
KINDS = frozenset((TEXT, INT, BOOL, ENUM, DATE, DATETIME, MONEY, DECIMAL, DECIMAL4, ID_TEXT))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class json_value(FunctionElement[str]):
    """The JSON text of a value of one kind ('null' for NULL)."""

    type = sa.Text()
    inherit_cache = True
    name = "json_value"
    _traverse_internals = [*FunctionElement._traverse_internals, ("kind", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, expression: Any, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        self.kind = kind
        super().__init__(expression)


class json_global_id(FunctionElement[str]):
    """A Relay id: JSON text of base64("Type:id"), as strawberry's Node.id writes it."""

    type = sa.Text()
    inherit_cache = True
    name = "json_global_id"
    _traverse_internals = [*FunctionElement._traverse_internals, ("type_name", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, type_name: str, expression: Any) -> None:
        self.type_name = type_name
        super().__init__(expression)


class json_cursor(FunctionElement[str]):
    """A page cursor, JSON text of resolvers.pagination.encode_cursor([key.encode(value), id])."""

    type = sa.Text()
    inherit_cache = True
    name = "json_cursor"
    _traverse_internals = [*FunctionElement._traverse_internals, ("sort_kind", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, sort_kind: str, value: Any, row_id: Any) -> None:
        self.sort_kind = sort_kind
        super().__init__(value, row_id)


class json_line_amount(FunctionElement[str]):
    """JSON text of resolvers.billing.invoices.line_amounts(quantity, price, 0)[0]: the product rounded
    to the cent, half away from zero ('null' when either is NULL)."""

    type = sa.Text()
    inherit_cache = True
    name = "json_line_amount"

    def __init__(self, quantity: Any, price: Any) -> None:
        super().__init__(quantity, price)


class json_concat(FunctionElement[str]):
    """Text joined, literal JSON punctuation (str) and SQL text expressions alike."""

    type = sa.Text()
    inherit_cache = True
    name = "json_concat"
    _traverse_internals = [*FunctionElement._traverse_internals, ("template", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, *parts: Any) -> None:
        merged: list[Any] = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            else:
                merged.append(part)
        self.parts_ = merged
        self.template = "\x00".join(p if isinstance(p, str) else "\x01" for p in merged)
        super().__init__(*[p for p in merged if not isinstance(p, str)])


class json_agg_text(FunctionElement[str]):
    """'[' + the rows' JSON texts joined by ',' in order + ']'; '[]' for no row.

    PostgreSQL orders inside the aggregate (the `order` expressions, each (expression,
    descending)); SQLite (no ORDER BY in an aggregate before 3.44) aggregates an ordered subquery,
    which it never flattens into an aggregate query."""

    type = sa.Text()
    inherit_cache = True
    name = "json_agg_text"
    _traverse_internals = [*FunctionElement._traverse_internals, ("directions", InternalTraversal.dp_string)]  # noqa: RUF012

    def __init__(self, element: Any, order: Sequence[tuple[Any, bool]]) -> None:
        self.order = list(order)
        self.directions = "".join("d" if descending else "a" for _, descending in self.order)
        super().__init__(element, *[expression for expression, _ in order])


@compiles(json_concat)
def _concat(element: json_concat, compiler: Any, **kw: Any) -> str:
    clauses = iter(element.clauses)
    out = []
    for part in element.parts_:
        out.append(_quote(part) if isinstance(part, str) else compiler.process(next(clauses), **kw))
    # No parentheses: `||` is associative, and this text is only ever a select column, a function's
    # argument or an operand of another `||` (SQLite's parser stack is shallow: nesting counts).
    return " || ".join(out)


@compiles(json_agg_text, "postgresql")
def _agg_postgresql(element: json_agg_text, compiler: Any, **kw: Any) -> str:
    clauses = list(element.clauses)
    value = compiler.process(clauses[0], **kw)
    order = ", ".join(
        compiler.process(c, **kw) + (" DESC" if descending else " ASC")
        for c, (_, descending) in zip(clauses[1:], element.order, strict=True)
    )
    return f"coalesce('[' || string_agg({value}, ',' ORDER BY {order}) || ']', '[]')"


@compiles(json_agg_text, "sqlite")
def _agg_sqlite(element: json_agg_text, compiler: Any, **kw: Any) -> str:
    value = compiler.process(next(iter(element.clauses)), **kw)
    return f"'[' || coalesce(group_concat({value}, ','), '') || ']'"


_PG_DATETIME = (
    "to_char({v} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN date_trunc('second', {v}) = {v} THEN '' ELSE to_char({v} AT TIME ZONE 'UTC', '.US') END || '+00:00'"
)


@compiles(json_value, "postgresql")
def _value_postgresql(element: json_value, compiler: Any, **kw: Any) -> str:
    v = compiler.process(next(iter(element.clauses)), **kw)
    kind = element.kind
    if kind in (TEXT, ENUM):
        return f"coalesce(to_json({v})::text, 'null')"
    if kind == INT:
        return f"coalesce(({v})::text, 'null')"
    if kind == BOOL:
        return f"(CASE WHEN {v} IS NULL THEN 'null' WHEN {v} THEN 'true' ELSE 'false' END)"
    if kind == ID_TEXT:
        return f"coalesce('\"' || ({v})::text || '\"', 'null')"
    if kind == DATE:
        return f"coalesce('\"' || to_char({v}, 'YYYY-MM-DD') || '\"', 'null')"
    if kind == DATETIME:
        return f"coalesce('\"' || {_PG_DATETIME.format(v=v)} || '\"', 'null')"
    if kind == MONEY:
        return f"coalesce('\"' || round({v}, 2)::text || '\"', 'null')"
    # DECIMAL, DECIMAL4: a Numeric column with its own scale, as asyncpg hands it to str(Decimal).
    return f"coalesce('\"' || ({v})::text || '\"', 'null')"


@compiles(json_value, "sqlite")
def _value_sqlite(element: json_value, compiler: Any, **kw: Any) -> str:
    v = compiler.process(next(iter(element.clauses)), **kw)
    kind = element.kind
    if kind in (TEXT, ENUM, DATE):
        return f"json_quote({v})"
    if kind == INT:
        return f"coalesce(CAST({v} AS TEXT), 'null')"
    if kind == BOOL:
        return f"(CASE WHEN {v} IS NULL THEN 'null' WHEN {v} THEN 'true' ELSE 'false' END)"
    if kind == ID_TEXT:
        return f"coalesce('\"' || CAST({v} AS TEXT) || '\"', 'null')"
    return f"agency_json_{kind}({v})"


@compiles(json_global_id, "postgresql")
def _id_postgresql(element: json_global_id, compiler: Any, **kw: Any) -> str:
    v = compiler.process(next(iter(element.clauses)), **kw)
    prefix = _quote(element.type_name + ":")
    if len(element.type_name) + 1 + 20 <= 57:
        # "Type:" and a bigint's digits: ASCII without a backslash, so the text is its own bytes
        # (a cast, cheaper than convert_to), and its base64 is at most 76 characters, the length
        # after which PostgreSQL breaks lines (nothing to remove). 8% of a portal user's nested list.
        return f"('\"' || encode(({prefix} || ({v})::text)::bytea, 'base64') || '\"')"
    # Longer: PostgreSQL's base64 breaks lines after 76 characters; they are removed.
    return f"('\"' || translate(encode(convert_to({prefix} || ({v})::text, 'UTF8'), 'base64'), chr(10), '') || '\"')"


@compiles(json_global_id, "sqlite")
def _id_sqlite(element: json_global_id, compiler: Any, **kw: Any) -> str:
    v = compiler.process(next(iter(element.clauses)), **kw)
    return f"agency_json_global_id({_quote(element.type_name)}, {v})"


@compiles(json_line_amount, "postgresql")
def _line_amount_postgresql(element: json_line_amount, compiler: Any, **kw: Any) -> str:
    quantity, price = (compiler.process(c, **kw) for c in element.clauses)
    # numeric round(): ties away from zero, as ROUND_HALF_UP.
    return f"coalesce('\"' || round(({quantity}) * ({price}), 2)::text || '\"', 'null')"


@compiles(json_line_amount, "sqlite")
def _line_amount_sqlite(element: json_line_amount, compiler: Any, **kw: Any) -> str:
    quantity, price = (compiler.process(c, **kw) for c in element.clauses)
    return f"agency_json_line_amount({quantity}, {price})"


# Python's json.dumps (ensure_ascii) of a string, in SQL: to_json escapes what both escape; any
# character outside printable ASCII (DEL and beyond) is written \\uXXXX (a surrogate pair above
# the BMP) one character at a time.
_PG_ASCII_JSON = (
    "(CASE WHEN {v} ~ '^[\\x01-\\x7e]*$' THEN to_json({v})::text ELSE '\"' || ("
    "SELECT string_agg(CASE WHEN ascii(ch) < 127 THEN substr(to_json(ch)::text, 2, length(to_json(ch)::text) - 2)"
    " WHEN ascii(ch) < 65536 THEN '\\u' || lpad(to_hex(ascii(ch)), 4, '0')"
    " ELSE '\\u' || to_hex(55296 + ((ascii(ch) - 65536) >> 10))"
    " || '\\u' || to_hex(56320 + ((ascii(ch) - 65536) & 1023))"
    " END, '' ORDER BY n) FROM regexp_split_to_table({v}, '') WITH ORDINALITY AS chars(ch, n)) || '\"' END)"
)


@compiles(json_cursor, "postgresql")
def _cursor_postgresql(element: json_cursor, compiler: Any, **kw: Any) -> str:
    value_clause, id_clause = list(element.clauses)
    v = compiler.process(value_clause, **kw)
    row_id = compiler.process(id_clause, **kw)
    if element.sort_kind == "datetime":
        encoded = f"('\"' || {_PG_DATETIME.format(v=v)} || '\"')"
    elif element.sort_kind == "date":
        encoded = f"('\"' || to_char({v}, 'YYYY-MM-DD') || '\"')"
    elif element.sort_kind == "int":
        encoded = f"({v})::text"
    else:
        encoded = _PG_ASCII_JSON.format(v=v)
    text = f"'[' || coalesce({encoded}, 'null') || ',' || ({row_id})::text || ']'"
    return f"('\"' || translate(encode(convert_to({text}, 'UTF8'), 'base64'), '+/' || chr(10), '-_') || '\"')"


@compiles(json_cursor, "sqlite")
def _cursor_sqlite(element: json_cursor, compiler: Any, **kw: Any) -> str:
    value_clause, id_clause = list(element.clauses)
    v = compiler.process(value_clause, **kw)
    row_id = compiler.process(id_clause, **kw)
    return f"agency_json_cursor({_quote(element.sort_kind)}, {v}, {row_id})"


# ---------------------------------------------------------------- SQLite functions


def _sqlite_datetime(value: Any) -> dt.datetime | None:
    """A UTC column's stored text read as models.base.UTCDateTime reads it."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _quoted(text: str | None) -> str:
    return "null" if text is None else f'"{text}"'


def _json_datetime(value: Any) -> str:
    moment = _sqlite_datetime(value)
    return _quoted(None if moment is None else moment.isoformat())


def _json_money(value: Any) -> str:
    return _quoted(None if value is None else str(money(value)))


def _json_decimal(value: Any) -> str:
    # SQLAlchemy's Numeric(scale=2) on SQLite: the float formatted to its scale, as a Decimal.
    return _quoted(None if value is None else str(decimal.Decimal(f"{float(value):.2f}")))


def _json_decimal4(value: Any) -> str:
    # The same at scale 4 (Numeric(5, 4)).
    return _quoted(None if value is None else str(decimal.Decimal(f"{float(value):.4f}")))


def _json_line_amount(quantity: Any, price: Any) -> str:
    # Both read as their columns read them on SQLite (Numeric at scale 2, Money), multiplied exactly.
    if quantity is None or price is None:
        return "null"
    exact = decimal.Decimal(f"{float(quantity):.2f}"), money(decimal.Decimal(f"{float(price):.2f}"))
    return _quoted(str(line_amounts(*exact, decimal.Decimal(0))[0]))


def _json_global_id(type_name: str, row_id: Any) -> str:
    return _quoted(to_base64(type_name, row_id))


def _json_cursor(kind: str, value: Any, row_id: Any) -> str:
    if kind == "datetime":
        value = _sqlite_datetime(value)
    elif kind == "date" and value is not None:
        value = dt.date.fromisoformat(str(value))
    return _quoted(encode_cursor([SortKey(sa.null(), kind).encode(value), row_id]))


def _register(dbapi_connection: Any) -> None:
    dbapi_connection.create_function("agency_json_datetime", 1, _json_datetime, deterministic=True)
    dbapi_connection.create_function("agency_json_money", 1, _json_money, deterministic=True)
    dbapi_connection.create_function("agency_json_decimal", 1, _json_decimal, deterministic=True)
    dbapi_connection.create_function("agency_json_decimal4", 1, _json_decimal4, deterministic=True)
    dbapi_connection.create_function("agency_json_line_amount", 2, _json_line_amount, deterministic=True)
    dbapi_connection.create_function("agency_json_global_id", 2, _json_global_id, deterministic=True)
    dbapi_connection.create_function("agency_json_cursor", 3, _json_cursor, deterministic=True)


@event.listens_for(Pool, "checkout")
def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:  # pragma: no cover - driver hook
    """On every SQLite connection's first checkout, pooled before this module was imported too."""
    if record.info.get("agency_json") is None:
        sqlite = type(dbapi_connection).__module__.startswith(("sqlalchemy.dialects.sqlite", "sqlite3"))
        if sqlite:
            _register(dbapi_connection)
        record.info["agency_json"] = sqlite
