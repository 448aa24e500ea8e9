"""Typed mutation errors, and the one wrapper that runs a mutation as a single transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.errors import InputError, NotFound, Refused
from schema.context import Info

T = TypeVar("T")


@strawberry.type(description="A problem with the input: the field at fault and a stable code to branch on.")
class UserError:
    field: str | None
    code: str
    message: str


class MutationFailed(Exception):
    """Raised inside a mutation's work to roll it back with these errors."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


async def run_mutation(info: Info, work: Callable[[AsyncSession], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run `work` in one transaction. Bad input, an unknown (or invisible) id, or a refused
    action rolls everything back and comes back as typed errors; nothing is written."""
    try:
        async with info.context.db.transaction() as session:
            return await work(session), []
    except InputError as error:
        return None, [UserError(field=error.field, code=error.code, message=error.message)]
    except NotFound as error:
        return None, [UserError(field=error.field, code="NOT_FOUND", message=str(error))]
    except Refused as error:
        return None, [UserError(field=None, code=error.code, message=str(error))]
    except MutationFailed as error:
        return None, error.errors
