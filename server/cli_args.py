"""Argument types the `agency` commands share."""

from __future__ import annotations

import argparse


def client_id_arg(value: str) -> int:
    """A client named on the command line: its number (3) or its global id as the API shows it
    (`Client.id`, e.g. Q2xpZW50OjM=)."""
    from strawberry import relay
    from strawberry.relay.types import GlobalIDValueError

    from schema.ids import row_id

    text = value.strip()
    if text.isascii() and text.isdigit():
        number = row_id(text)
    else:
        try:
            global_id = relay.GlobalID.from_id(text)
        except GlobalIDValueError:
            global_id = None
        number = row_id(global_id.node_id) if global_id is not None and global_id.type_name == "Client" else None
    if number is None:
        raise argparse.ArgumentTypeError(f"{value!r} is neither a client number nor a Client id from the API")
    return number
