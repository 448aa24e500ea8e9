"""External ids: a partner app's own id for one of our records (the Xero contact id, the QuickBooks
invoice id), so its sync matches records without keeping a table of ours.

Decisions (the brief left them open):
- Each app has its own ids (models.PartnerExternalId): one per app per record, and one record per
  app per entity per external id. Another app never reads or changes them; a staff member or a
  portal user has none (`externalId` answers null to them).
- Setting one needs the scope `external_ids:write` (a read scope never writes) and a record the
  app can read: a record outside its row scope answers NOT_FOUND like a missing one. Reading one
  needs nothing more than reading the record: `externalId` is PUBLIC on Client, Contact, Invoice
  and Payment, so the record's own read scope opens it (clients:read, contacts:read,
  invoices:read), and `recordByExternalId` is a root of those scopes that answers only records
  the app may read (their row scope), else null.
- The value is trimmed; null or blank clears it; at most 255 characters. An external id another
  record of the same entity holds for the app is EXTERNAL_ID_TAKEN (also when two requests race
  for it: the unique constraint decides). An id left behind by a record that no longer exists (a
  deleted contact or payment) is free again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import CHANGE_RECORDS as RECORDS
from models import ChangeEntity, PartnerExternalId, Role, utcnow
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound, Refused
from resolvers.lookup import visible_row
from resolvers.validation import optional_text

MAX_EXTERNAL_ID = 255  # the column's length


def _app_of(principal: Principal) -> int:
    if principal.role is not Role.PARTNER or principal.partner_app_id is None:
        raise Refused("Only a partner app keeps external ids.")
    return principal.partner_app_id


def _theirs(app_id: int, entity: ChangeEntity) -> sa.ColumnElement[bool]:
    return sa.and_(col(PartnerExternalId.partner_app_id) == app_id, col(PartnerExternalId.entity) == entity.value)


async def set_external_id(
    session: AsyncSession,
    principal: Principal,
    *,
    entity: ChangeEntity | None,
    record_id: int,
    external_id: str | None,
) -> tuple[ChangeEntity, int, str | None]:
    """Set (or with null, clear) the calling app's external id for one record it can read.
    Answers the entity, the record's id and the external id now held."""
    app_id = _app_of(principal)
    if entity is None:
        raise NotFound("record", field="id")
    record = await visible_row(session, principal, RECORDS[entity], record_id, what="record", field="id")
    value = optional_text("externalId", external_id, MAX_EXTERNAL_ID)
    mine = _theirs(app_id, entity)
    current = await session.scalar(
        sa.select(PartnerExternalId).where(mine, col(PartnerExternalId.record_id) == record.id)
    )
    if value is None:
        if current is not None:
            await session.delete(current)
            await session.flush()
        return entity, record.id, None
    holder = await session.scalar(sa.select(PartnerExternalId).where(mine, col(PartnerExternalId.external_id) == value))
    if holder is not None and holder.record_id != record.id:
        if await session.get(RECORDS[entity], holder.record_id) is not None:
            raise _taken(entity)
        await session.delete(holder)  # its record is gone: the id is free
        await session.flush()
    try:
        async with session.begin_nested():
            if current is None:
                session.add(
                    PartnerExternalId(partner_app_id=app_id, entity=entity, record_id=record.id, external_id=value)
                )
            else:
                current.external_id = value
                current.updated_at = utcnow()
            await session.flush()
    except IntegrityError as error:  # another request took it meanwhile (PostgreSQL)
        raise _taken(entity) from error
    return entity, record.id, value


def _taken(entity: ChangeEntity) -> InputError:
    return InputError(
        "externalId",
        "EXTERNAL_ID_TAKEN",
        f"Another {entity.value.lower()} already has this external id in your app; clear it there first.",
    )


async def record_id_by_external_id(
    db: RequestDb, principal: Principal, entity: ChangeEntity, external_id: str
) -> int | None:
    """The id of the record the calling app named `external_id` (None for anyone but a partner
    app, or when it named none). The caller loads it under its row scope."""
    if principal.role is not Role.PARTNER or principal.partner_app_id is None:
        return None
    value = external_id.strip()
    if not value or len(value) > MAX_EXTERNAL_ID:
        return None
    found: int | None = await db.scalar(
        sa.select(col(PartnerExternalId.record_id)).where(
            _theirs(principal.partner_app_id, entity), col(PartnerExternalId.external_id) == value
        )
    )
    return found
