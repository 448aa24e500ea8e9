"""Typed mutation errors, and the one wrapper that runs a mutation as a single transaction."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import strawberry
from graphql import GraphQLArgument, GraphQLInputObjectType, GraphQLInputType, GraphQLList, GraphQLNonNull
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.errors import InputError, NotFound, Refused
from schema.context import Info

T = TypeVar("T")


@strawberry.type(description="A problem with the input: the field at fault and a stable code to branch on.")
class UserError:
    field: str | None
    code: str
    message: str
    retry_after: int | None = strawberry.field(
        default=None,
        description="Seconds to wait before trying again, when the code is TOO_MANY_ATTEMPTS; otherwise null.",
    )


class MutationFailed(Exception):
    """Raised inside a mutation's work to roll it back with these errors."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


async def run_mutation(info: Info, work: Callable[[AsyncSession], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run `work` in one transaction. Bad input, an unknown (or invisible) id, or a refused
    action rolls everything back and comes back as typed errors; nothing is written.

    Each error's `field` is where the value at fault was in the request (request_path)."""
    try:
        async with info.context.db.transaction() as session:
            return await work(session), []
    except InputError as error:
        errors = [UserError(field=error.field, code=error.code, message=error.message)]
    except NotFound as error:
        errors = [UserError(field=error.field, code="NOT_FOUND", message=str(error))]
    except Refused as error:
        errors = [UserError(field=None, code=error.code, message=str(error))]
    except MutationFailed as error:
        errors = error.errors
    mutation_type = info.schema._schema.mutation_type
    assert mutation_type is not None  # a mutation is running
    arguments = mutation_type.fields[info.field_name].args
    for user_error in errors:
        user_error.field = request_path(arguments, user_error.field)
    return None, errors


_STEP = re.compile(r"[A-Za-z_]\w*|\d+")


def request_path(arguments: Mapping[str, GraphQLArgument], field: str | None) -> str | None:
    """Where a value was in the request: a top-level argument by its own name (`taskId`), a field
    of an input object under it (`input.projectId`, `input.lines[0].quantity`).

    Business functions name the value at fault as they know it (`projectId`, `lines.0.quantity`,
    or already `input.projectId`); the mutation's arguments say where it sat. A name that is no
    argument is looked up in the one input object argument that has such a field. A path that
    goes on past what the request holds (`leadId.email`: the e-mail of the lead named by leadId)
    is cut back to the last step the caller sent. A name found nowhere is left as it is."""
    if not field:
        return field
    steps = _STEP.findall(field)
    if steps[0] not in arguments:
        holders = [
            name
            for name, argument in arguments.items()
            if isinstance(named := _nullable(argument.type), GraphQLInputObjectType) and steps[0] in named.fields
        ]
        if len(holders) != 1:
            return field
        steps.insert(0, holders[0])
    path, at = steps[0], arguments[steps[0]].type
    for step in steps[1:]:
        at = _nullable(at)
        if step.isdigit() and isinstance(at, GraphQLList):
            path, at = f"{path}[{step}]", at.of_type
        elif isinstance(at, GraphQLInputObjectType) and step in at.fields:
            path, at = f"{path}.{step}", at.fields[step].type
        else:
            break
    return path


def _nullable(graphql_type: GraphQLInputType) -> GraphQLInputType:
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
