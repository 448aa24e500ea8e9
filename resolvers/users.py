"""Reading users."""

from __future__ import annotations

import sqlalchemy as sa

from models import User
from resolvers.db import RequestDb


async def get_user_unscoped(db: RequestDb, user_id: int) -> User | None:
    """The caller's own row, for `me` only: a user may always read itself."""
    return await db.scalar(sa.select(User).where(User.id == user_id, User.is_active.is_(True)))
