"""The base of every type that is served straight from a model row."""
from __future__ import annotations

from typing import Any, ClassVar

from strawberry import relay


class ModelNode(relay.Node):
    """A Relay node whose source objects are the model's rows themselves (no copying per row)."""

    __model__: ClassVar[type]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, cls.__model__))
