"""Roots of partner sync: the change feed, external ids and the lookup by one.

Business functions in resolvers/partners/sync.py and external_ids.py (their docstrings have the
decisions). Who may call them is the policy table's (auth.policy_table): `changes` (INTERNAL) and
`recordByExternalId` (PUBLIC) are opened to partners by clients:read, contacts:read and
invoices:read; `setExternalId` needs external_ids:write.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from models import ChangeEntity
from resolvers.partners import external_ids, sync
from schema.context import Info
from schema.ids import NO_ROW, row_id
from schema.mutation_shape import CallArguments, mutation
from schema.partners.sync_types import (
    ENTITIES,
    ChangeConnection,
    SetExternalIdInput,
    SetExternalIdPayload,
    load_record,
)


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description="What changed in clients, contacts, invoices and payments after a cursor, oldest first: every "
        "change once, in an order no later read contradicts. Start with after: null (a full sync), then pass "
        "pageInfo.endCursor each time. ADMIN and MANAGER see every change; a partner app the entities its scopes "
        "read (clients:read, contacts:read, invoices:read), of the clients it may read, never a draft invoice."
    )
    async def changes(
        self,
        info: Info,
        after: Annotated[
            str | None, strawberry.argument(description="A cursor this feed gave out; null: the start.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description=f"At most {sync.MAX_PAGE} changes; null: {sync.DEFAULT_PAGE}.")
        ] = sync.DEFAULT_PAGE,
        entities: Annotated[
            list[ChangeEntity] | None,
            strawberry.argument(description="Only these entities (of those the caller may read); null: all of them."),
        ] = None,
    ) -> ChangeConnection | None:
        page = await sync.read_changes(
            info.context.db, info.context.principal, after_cursor=after, first=first, entities=entities
        )
        return ChangeConnection.of(page)

    @strawberry.field(
        description="The record the calling partner app gave this external id (setExternalId); null when it gave "
        "none, or the record is not one the app may read."
    )
    async def record_by_external_id(self, info: Info, entity: ChangeEntity, external_id: str) -> relay.Node | None:
        found = await external_ids.record_id_by_external_id(
            info.context.db, info.context.principal, entity, external_id
        )
        return None if found is None else await load_record(info, entity, found)


def _record_of(value: str) -> tuple[ChangeEntity | None, int]:
    """The entity and row id a global id names; an id that names no followed record is (None,
    NO_ROW), which the business function answers NOT_FOUND like a missing record."""
    try:
        global_id = relay.GlobalID.from_id(value)
    except GlobalIDValueError:
        return None, NO_ROW
    entity = ENTITIES.get(global_id.type_name)
    found = row_id(global_id.node_id)
    if entity is None or found is None:
        return None, NO_ROW
    return entity, found


async def _after_set(info: Info, value: tuple[ChangeEntity, int, str | None]) -> SetExternalIdPayload:
    """The record as the app reads it now, with the id it holds (the loader is primed with it)."""
    entity, record_id, external_id = value
    info.context.loaders.partners.external_id(entity).prime(record_id, external_id, force=True)
    return SetExternalIdPayload(record=await load_record(info, entity, record_id), external_id=external_id)


@strawberry.type
class SyncMutation:
    @mutation(
        external_ids.set_external_id,
        SetExternalIdPayload,
        result=_after_set,
        description="Set the calling partner app's own id for a Client, Contact, Invoice or Payment it can read "
        "(null clears it); EXTERNAL_ID_TAKEN when another record of that kind has it (scope external_ids:write).",
    )
    def set_external_id(self, info: Info, input: SetExternalIdInput) -> CallArguments:
        entity, record_id = _record_of(str(input.id))
        return dict(entity=entity, record_id=record_id, external_id=input.external_id)
