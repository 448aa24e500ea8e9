"""The base of every type that is served straight from a model row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import strawberry
from strawberry import relay

from resolvers.records import record_class
from schema.ids import row_id


class ModelNode(relay.Node):
    """A Relay node whose source objects are the model's rows themselves (no copying per row):
    ORM objects, or the read-only records list loaders build.

    `__loader__` names the per-request loader (an attribute path on `Loaders`, e.g.
    "billing.time_entry") that fetches rows by id under the caller's row scope, so
    `node(id)` answers null for a row the caller may not see.
    """

    __model__: ClassVar[type]
    __loader__: ClassVar[str]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, cls.__model__, record_class(cls.__model__)))

    @classmethod
    async def resolve_nodes(cls, *, info: Any, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        loader = info.context.loaders
        for part in cls.__loader__.split("."):
            loader = getattr(loader, part)
        ids = [row_id(node_id) for node_id in node_ids]
        rows = await loader.load_many([i for i in ids if i is not None])
        found = iter(rows)
        # An id that cannot name a row (malformed, out of range) is simply not found, like a
        # hidden one, and never reaches the database.
        return [None if i is None else _cast(cls, next(found)) for i in ids]


def _cast(cls: type, row: Any) -> Any:
    return None if row is None else strawberry.cast(cls, row)
