"""Idempotency keys: a write sent again with the same key answers its first result and writes nothing.

A partner's accounting tool (or any caller) that retries a write after a timeout cannot know
whether the first attempt landed. With a key (`idempotencyKey`, 1 to 255 characters, no NUL) the
retry is safe: `claim()` runs first inside the mutation's own transaction, and

- a key not seen before (or expired) is claimed: the mutation goes on and, before its transaction
  commits, `Claim.done(result_id)` records what it produced. If the mutation fails (bad input, a
  row the caller may not see), its transaction rolls back and takes the claim with it: nothing was
  written, and the same key may be sent again;
- the same key with the same input: `Claim.replay` is the id of the first result, which the
  mutation re-reads and answers as the first time; it writes nothing (no second row, no second
  notification or e-mail);
- the same key with another input (or for another mutation): IDEMPOTENCY_KEY_REUSED on the key
  field, and nothing is written.

Keys belong to their sender (`owner`): a partner app (`app:<id>`, whatever token it uses), a
signed-in user (`user:<id>`), or the console (`console`). Two senders never share a key.

"The same input" is a SHA-256 digest of the mutation's arguments without the key, normalised:
keys sorted, ids as row ids, amounts as their decimal value (10, 10.0 and 10.00 are one amount),
dates ISO, enums by value, an argument left out the same as its default.

Concurrency: two requests with one key at the same moment make one write. On PostgreSQL the
claim is `INSERT ... ON CONFLICT DO NOTHING` on the (owner, key) unique constraint, so the second
request waits for the first transaction: when it commits, the second finds its row and answers
the first result; when it rolls back, the second claims the key itself. On SQLite writes are
serial (models.db.write_transaction), so the second simply finds the first's row.

Keys expire after KEY_TTL (24 hours): an older key is deleted when it is sent again (and so may
be reused for a new write), and `purge_expired()` deletes every expired key (a job may run it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from models import IdempotencyKey, utcnow
from resolvers.errors import InputError

KEY_TTL = dt.timedelta(hours=24)
"""How long a key answers its first result. After that it may be deleted and sent again as new."""

MAX_KEY = 255  # the column's length


@dataclasses.dataclass(slots=True)
class Claim:
    """A key this request holds: `replay` is the first result's id when the key was used before
    with the same input; otherwise the request goes on and calls `done()` with what it made."""

    row_id: int | None
    replay: int | None = None

    async def done(self, session: AsyncSession, result_id: int) -> None:
        """Record the result in the claiming transaction (it commits with the write)."""
        assert self.row_id is not None and self.replay is None
        await session.execute(
            sa.update(IdempotencyKey).where(col(IdempotencyKey.id) == self.row_id).values(result_id=result_id)
        )


def owner_of(principal: Principal) -> str:
    """Whose keys these are: the partner app, else the signed-in user, else the console."""
    if principal.partner_app_id is not None:
        return f"app:{principal.partner_app_id}"
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return "console"


def checked_key(field: str, key: str) -> str:
    """The key as sent (compared exactly), or a typed error: 1 to 255 characters, no NUL."""
    if not key:
        raise InputError(field, "INVALID_IDEMPOTENCY_KEY", "An idempotency key has 1 to 255 characters.")
    if len(key) > MAX_KEY:
        raise InputError(field, "INVALID_IDEMPOTENCY_KEY", f"An idempotency key has at most {MAX_KEY} characters.")
    if "\x00" in key:
        raise InputError(field, "INVALID_IDEMPOTENCY_KEY", "An idempotency key may not contain a NUL character.")
    return key


def _normal(value: Any) -> Any:
    if isinstance(value, Enum):
        return _normal(value.value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value


def request_digest(operation: str, arguments: Mapping[str, Any]) -> str:
    """SHA-256 of the operation and its normalised arguments (hex)."""
    text = json.dumps({"operation": operation, "input": _normal(arguments)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _insert(dialect: str) -> Any:
    return postgresql.insert(IdempotencyKey) if dialect == "postgresql" else sqlite.insert(IdempotencyKey)


async def claim(
    session: AsyncSession,
    principal: Principal,
    *,
    operation: str,
    key: str,
    arguments: Mapping[str, Any],
    field: str = "idempotencyKey",
) -> Claim:
    """Claim `key` for this write, in the write's transaction (see the module docstring).

    `arguments` is the write's input without the key, with defaults filled in. Raises
    IDEMPOTENCY_KEY_REUSED when the key was used with another input or operation."""
    key = checked_key(field, key)
    owner = owner_of(principal)
    digest = request_digest(operation, arguments)
    now = utcnow()
    mine = sa.and_(col(IdempotencyKey.owner) == owner, col(IdempotencyKey.key) == key)
    # An expired key is forgotten: sent again, it is a new write.
    await session.execute(sa.delete(IdempotencyKey).where(mine, col(IdempotencyKey.created_at) < now - KEY_TTL))
    dialect = session.get_bind().dialect.name
    statement = (
        _insert(dialect)
        .values(owner=owner, key=key, operation=operation, request_digest=digest, created_at=now)
        .on_conflict_do_nothing(index_elements=["owner", "key"])
        .returning(col(IdempotencyKey.id))
    )
    claimed = await session.scalar(statement)
    if claimed is not None:
        return Claim(row_id=claimed)
    # Held already: by a committed write (PostgreSQL waited for it above), read as it is now.
    first = (
        await session.execute(sa.select(IdempotencyKey).where(mine).execution_options(populate_existing=True))
    ).scalar_one()
    if first.operation != operation or first.request_digest != digest:
        raise InputError(
            field,
            "IDEMPOTENCY_KEY_REUSED",
            "This idempotency key was already used with a different request; send a new key for a new write.",
        )
    assert first.result_id is not None, "a committed claim always records its result"
    return Claim(row_id=first.id, replay=first.result_id)


async def purge_expired(session: AsyncSession, *, now: dt.datetime | None = None) -> int:
    """Delete every key older than KEY_TTL; how many were deleted."""
    cutoff = (now or utcnow()) - KEY_TTL
    result = await session.execute(sa.delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
