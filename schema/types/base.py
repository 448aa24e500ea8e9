"""The base of every type that is served straight from a model row."""
from __future__ import annotations

from typing import Any, ClassVar

from strawberry import relay

from resolvers.records import record_class


class ModelNode(relay.Node):
    """A Relay node whose source objects are the model's rows themselves (no copying per row):
    ORM objects, or the read-only records list loaders build."""

    __model__: ClassVar[type]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, cls.__model__, record_class(cls.__model__)))
