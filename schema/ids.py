"""Global ids in mutation inputs: the one place they are turned back into row ids."""
from __future__ import annotations

from strawberry import relay

from resolvers.errors import InputError


def decode_id(value: relay.GlobalID | None, type_name: str, field: str) -> int | None:
    """The row id inside a global id of the expected type (call it inside the mutation's work,
    so a bad id rolls the mutation back as a typed INVALID_ID error on `field`)."""
    if value is None:
        return None
    if value.type_name != type_name:
        raise InputError(field, "INVALID_ID", f"Expected the id of a {type_name}.")
    try:
        return int(value.node_id)
    except ValueError as error:
        raise InputError(field, "INVALID_ID", f"Expected the id of a {type_name}.") from error
