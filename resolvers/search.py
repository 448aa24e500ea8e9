"""Text search in lists: a case-insensitive substring match, the same on SQLite and PostgreSQL.

The caller's text is matched literally: `%`, `_` and `\\` in it are escaped, so "50%" finds
"50% off" and not every row, and "a_b" does not match "axb". Blank text searches nothing (the
filter is left out); text longer than MAX_SEARCH is a typed TOO_LONG on the argument.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from resolvers.errors import InputError

MAX_SEARCH = 200


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_text(field: str, text: str | None) -> str | None:
    """The text to search for (trimmed, lower case), or None when there is nothing to search."""
    if text is None or not text.strip():
        return None
    clean = text.strip()
    if len(clean) > MAX_SEARCH:
        raise InputError(field, "TOO_LONG", f"A search may have at most {MAX_SEARCH} characters.")
    return clean.lower()


def contains(text: str, *columns: sa.SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """Any of `columns` contains `text` (already lower case), ignoring case; NULL columns never match."""
    pattern = f"%{escape_like(text)}%"
    return sa.or_(*(sa.func.lower(column).like(pattern, escape="\\") for column in columns))
