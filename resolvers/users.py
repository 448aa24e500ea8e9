"""Reading users."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from models import User
from resolvers.db import RequestDb


async def get_user_unscoped(db: RequestDb, user_id: int) -> User | None:
    """The caller's own row, for `me` only: a user may always read itself."""
    return await db.scalar(sa.select(User).where(col(User.id) == user_id, col(User.is_active).is_(True)))
