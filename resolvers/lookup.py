"""Finding the one row a mutation acts on, within the caller's row scope."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from auth.principal import Principal
from auth.scopes import SCOPES
from models import User
from resolvers.errors import NotFound
from resolvers.validation import staff_member

T = TypeVar("T", bound=SQLModel)


async def staff_user_id(session: AsyncSession, user_id: int | None, field: str) -> int | None:
    """The id of an assignee, account manager, owner or staff member named in the input (None stays
    None), after checking it is an active member of the team (else NOT_STAFF on `field`)."""
    if user_id is None:
        return None
    return staff_member(field, await session.get(User, user_id)).id


async def visible_row(
    session: AsyncSession,
    principal: Principal,
    model: type[T],
    row_id: Any,
    *,
    what: str,
    field: str | None,
    lock: bool = False,
) -> T:
    """The row with this id that the caller may see, else NotFound (a hidden row and a missing
    one answer alike). `lock` holds it until the transaction ends (PostgreSQL; SQLite's write
    lock is already held), so two mutations of one row never interleave."""
    # filter_by: `id` is the primary key of every model here, which SQLModel's base class does not declare.
    statement = sa.select(model).filter_by(id=row_id).where(SCOPES[model](principal))
    if lock:
        statement = statement.with_for_update()
    row = await session.scalar(statement)
    if row is None:
        raise NotFound(what, field=field)
    return row
