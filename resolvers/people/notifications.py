"""The caller's own notifications: listing them and marking them read."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import notification_scope
from models import Notification, utcnow
from resolvers.db import RequestDb
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page

_NEWEST_FIRST = SortKey(col(Notification.created_at), "datetime")


async def list_notifications(
    db: RequestDb, principal: Principal, *, unread_only: bool, first: int | None, after: str | None
) -> Page[Notification]:
    statement = sa.select(Notification).where(notification_scope(principal))
    if unread_only:
        statement = statement.where(col(Notification.read_at).is_(None))
    return await keyset_page(
        db,
        statement,
        key=_NEWEST_FIRST,
        id_column=col(Notification.id),
        direction=SortDirection.DESC,
        first=first,
        after=after,
    )


async def mark_read(session: AsyncSession, principal: Principal, *, ids: list[int] | None) -> int:
    """Mark the caller's notifications read: these ids, or all of them. Others' ids are ignored."""
    statement = (
        sa.update(Notification)
        .where(notification_scope(principal), col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    if ids is not None:
        statement = statement.where(col(Notification.id).in_(ids))
    # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult (rowcount).
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount or 0
