"""Global ids: the one place they are turned back into row ids.

A global id must never be an oracle for which types or rows exist. So an id that cannot name
a row the caller may see (malformed, of an unknown type, of another type than the argument
wants, out of range) is read as the id of a row that does not exist: the lookup that follows
answers it exactly as it answers a missing or hidden row (null, or NOT_FOUND on the same field
with the same message), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from strawberry import relay

# Row ids are INTEGER columns (int4 on PostgreSQL): a larger number can name no row, and must
# not reach the database (the drivers reject it: a server error instead of "not found").
MAX_ROW_ID = 2**31 - 1
# What an id that names no row decodes to: no table ever hands out a negative id. Not 0, so
# `id or default` never mistakes it for "not given".
NO_ROW = -1


def row_id(node_id: str) -> int | None:
    """The row id in a global id's node part, exactly as this API writes them (plain ASCII
    digits, no sign, no leading zero, no `_`, from 1 to MAX_ROW_ID), or None when it cannot name
    a row. Never 0: no table hands it out, and `id or default` would read it as "not given"."""
    if not (node_id.isascii() and node_id.isdigit()) or len(node_id) > len(str(MAX_ROW_ID)):
        return None
    value = int(node_id)
    return value if 0 < value <= MAX_ROW_ID and str(value) == node_id else None


def decode_id(value: relay.GlobalID | None, type_name: str, field: str) -> int | None:
    """The row id inside a global id for a mutation input or filter (None when none was given).

    An id that cannot name a `type_name` row decodes to NO_ROW, so the caller's scoped lookup
    reports it as the missing row it is: NOT_FOUND on the same field, with the same message,
    at the same point of the mutation; a filter by it matches nothing. `field` (where the id
    came from) is what that lookup reports, not this function; call sites name it all the same."""
    if value is None:
        return None
    decoded = row_id(value.node_id) if value.type_name == type_name else None
    return NO_ROW if decoded is None else decoded


def lookup_id(value: relay.GlobalID, type_name: str) -> int | None:
    """The row id for a root lookup (`client(id:)`, `invoice(id:)`): None when the id cannot name
    a `type_name` row, which the root answers with the same null as a missing row."""
    return row_id(value.node_id) if value.type_name == type_name else None


def plain_row_id(value: str, field: str, what: str) -> int:
    """A plain numeric id (statuses): a typed INVALID_ID error when it is not one a row can have."""
    from resolvers.errors import InputError

    decoded = row_id(str(value))
    if decoded is None:
        raise InputError(field, "INVALID_ID", f"{what} ids are whole numbers.")
    return decoded
