"""One shape for every mutation: a business function in resolvers/ and a declaration here.

    @mutation(time_tracking.log_time, LogTimePayload, ids={"project_id": "Project", "task_id": "Task"},
              description="Log the caller's hours on a project (staff).")
    def log_time(self, info: Info, input: LogTimeInput) -> CallArguments:
        return given(input)

The decorated method declares the GraphQL field (its name, arguments and description; its type
is the payload) and says how the request becomes the business function's keyword arguments.
The declaration does the rest, the same way for every mutation:

1. every global id in the arguments, at any depth, is turned into a row id by `decode_id`
   with the type `ids` declares for its name (an id of another type, or none this API gave
   out, names no row: the business function answers it as the missing row it is), so the
   method sees row ids where the request had global ids;
2. the method and then `business(session, principal, **arguments)` run in one transaction
   (schema.errors.run_mutation): bad input, a row the caller may not see or a refused action
   rolls it all back and comes back as typed errors, each `field` the path of the value at
   fault in the request (`input.projectId` inside an input object, `taskId` for an argument);
3. the payload is built: its one field takes the result, or its fields take a tuple's items in
   order (or `result` builds it); on errors only `errors` is set.

Who may call a mutation is decided before it runs, once per request, by the mutation table
(auth.policy MUTATION_ROLES, keyed by the field's name) and its argument rules
(ARGUMENT_RULES): a declaration never checks permissions itself. Row-level conditions (a
portal user's own tasks) are row scopes inside the business function.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, dataclass_transform

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, relay
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from schema.context import Info
from schema.errors import UserError, run_mutation
from schema.ids import decode_id

P = TypeVar("P")
CallArguments = dict[str, Any]
"""A business function's keyword arguments, built from the request."""


@dataclass_transform(kw_only_default=True, field_specifiers=(strawberry.field, StrawberryField))
def payload(cls: type[P]) -> type[P]:
    """A mutation's payload type: the fields it declares, each defaulting to null, then
    `errors: [UserError!]!` last (empty on success)."""
    cls.__annotations__["errors"] = list[UserError]
    cls.errors = strawberry.field(default_factory=list)  # type: ignore[attr-defined]
    return strawberry.type(cls)


def failed(payload_type: type[P], *errors: UserError, **fields: Any) -> P:
    """A payload that carries these errors (and, where a field may not be null, `fields`)."""
    return payload_type(errors=list(errors), **fields)  # type: ignore[call-arg]  # errors: added by @payload


@dataclasses.dataclass(frozen=True)
class Declaration:
    """What a declared mutation is made of, for the tests that walk them all."""

    business: Callable[..., Awaitable[Any]]
    payload: type
    ids: Mapping[str, str]


def mutation(
    business: Callable[..., Awaitable[Any]],
    payload_type: type[P],
    *,
    ids: Mapping[str, str] | None = None,
    result: Callable[[Info, Any], P | Awaitable[P]] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., CallArguments]], Any]:
    """Declare a mutation: `business(session, principal, **arguments)` in one transaction, where
    the decorated method builds `arguments` from the request and the result fills `payload_type`.

    `ids` names every global id the arguments hold (arguments and input fields, at any depth, by
    their Python name) and the type each must name. `result(info, value)` builds the payload
    when its fields are not simply the result (it runs after the commit, so it may load rows)."""
    declared = dict(ids or {})
    fill = result or _filler(payload_type)

    def declare(build: Callable[..., CallArguments]) -> Any:
        @functools.wraps(build)
        async def resolve(self: Any, info: Info, **request: Any) -> P:
            async def work(session: AsyncSession) -> Any:
                arguments = build(
                    self, info, **{k: _decoded(v, k, to_camel_case(k), declared) for k, v in request.items()}
                )
                return await business(session, info.context.principal, **arguments)

            value, errors = await run_mutation(info, work)
            if errors:
                return failed(payload_type, *errors)
            built = fill(info, value)
            return await built if inspect.isawaitable(built) else built

        # The GraphQL field is the method's own signature, typed as the payload.
        signature = inspect.signature(build).replace(return_annotation=payload_type)
        resolve.__signature__ = signature  # type: ignore[attr-defined]
        resolve.declaration = Declaration(business, payload_type, declared)  # type: ignore[attr-defined]
        return strawberry.mutation(resolve, description=description)

    return declare


def given(data: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields an input object set, by Python name: an update's omitted fields (UNSET) are
    left out, an explicit null is kept."""
    return {key: value for key, value in vars(data).items() if key not in skip and value is not UNSET}


def _filler(payload: type[P]) -> Callable[[Info, Any], P]:
    fields = [f.name for f in dataclasses.fields(payload) if f.name != "errors"]  # type: ignore[arg-type]
    if len(fields) == 1:
        return lambda _info, value: payload(**{fields[0]: value})

    def fill(_info: Info, value: Any) -> P:
        return payload(**dict(zip(fields, value, strict=True)))

    return fill


def _decoded(value: Any, name: str, path: str, ids: Mapping[str, str]) -> Any:
    """`value` with each global id in it turned into a row id of the type `ids` gives its name."""
    if isinstance(value, relay.GlobalID):
        if name not in ids:
            raise TypeError(f"{path} is a global id the mutation does not declare in ids")
        return decode_id(value, ids[name], path)
    if isinstance(value, list):
        items = [_decoded(item, name, f"{path}[{i}]", ids) for i, item in enumerate(value)]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    definition = getattr(value, "__strawberry_definition__", None)
    if isinstance(definition, StrawberryObjectDefinition) and definition.is_input and not isinstance(value, type):
        changes = {
            key: decoded
            for key, item in vars(value).items()
            if item is not UNSET and (decoded := _decoded(item, key, f"{path}.{to_camel_case(key)}", ids)) is not item
        }
        return dataclasses.replace(value, **changes) if changes else value
    return value
