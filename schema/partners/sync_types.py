"""Types of the sync feed and of partner external ids (resolvers/partners/sync.py and
external_ids.py have the decisions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry import relay

from models import ChangeEntity, ChangeEvent
from resolvers.partners.sync import ChangePage
from schema.base import ModelNode
from schema.context import Info
from schema.mutation_shape import payload
from schema.pagination import PageInfo

strawberry.enum(ChangeEntity, description="The records the change feed follows: clients, contacts, invoices, payments.")

#: The GraphQL type of each followed entity.
TYPE_NAMES: dict[ChangeEntity, str] = {
    ChangeEntity.CLIENT: "Client",
    ChangeEntity.CONTACT: "Contact",
    ChangeEntity.INVOICE: "Invoice",
    ChangeEntity.PAYMENT: "Payment",
}
ENTITIES: dict[str, ChangeEntity] = {name: entity for entity, name in TYPE_NAMES.items()}


async def load_record(info: Info, entity: ChangeEntity, row_id: int) -> relay.Node | None:
    """The record as it is now, through its type's node loader: the caller's row scope, batched
    with every other record of the type the request asks for in the same tick."""
    definition: Any = info.schema.get_type_by_name(TYPE_NAMES[entity])
    origin = definition.origin
    assert isinstance(origin, type) and issubclass(origin, ModelNode)
    [found] = await origin.resolve_nodes(info=info, node_ids=[str(row_id)])
    return found  # type: ignore[no-any-return]


def external_id_field(entity: ChangeEntity) -> Any:
    """`externalId` on a record type: the calling app's id for it (one batched statement per
    entity per request, resolvers.partners.loaders)."""

    async def resolve(root: Any, info: Info) -> str | None:
        found: str | None = await info.context.loaders.partners.external_id(entity).load(root.id)
        return found

    return strawberry.field(
        resolver=resolve,
        description="The calling partner app's own id for this record (setExternalId); null when it set none, "
        "and for anyone but a partner app.",
    )


@strawberry.type(description="One change to a client, contact, invoice or payment, in the order the feed guarantees.")
class Change:
    id: strawberry.ID = strawberry.field(
        description="The change's position in the feed: pass it as `after` to resume right after it."
    )
    event: str = strawberry.field(
        description="What happened: client.created, client.updated, contact.created, contact.updated, "
        "contact.deleted, invoice.created, invoice.updated, invoice.sent, invoice.paid, invoice.voided, "
        "payment.created, payment.updated, payment.deleted."
    )
    entity: ChangeEntity
    record_id: relay.GlobalID = strawberry.field(description="The record's global id (node(id:) reads it).")
    occurred_at: dt.datetime = strawberry.field(description="When the change was written (its transaction began).")
    _entity_id: strawberry.Private[int]

    @strawberry.field(
        description="The record as it is now, as the caller may read it; null once it is deleted or no longer "
        "visible to the caller."
    )
    async def record(self, info: Info) -> relay.Node | None:
        return await load_record(info, self.entity, self._entity_id)

    @classmethod
    def of(cls, event: ChangeEvent, cursor: str) -> Change:
        entity = ChangeEntity(event.entity)
        return cls(
            id=strawberry.ID(cursor),
            event=event.event,
            entity=entity,
            record_id=relay.GlobalID(TYPE_NAMES[entity], str(event.entity_id)),
            occurred_at=event.occurred_at,
            _entity_id=event.entity_id,
        )


@strawberry.type
class ChangeEdge:
    cursor: str
    node: Change


@strawberry.type(description="A page of the change feed. Store pageInfo.endCursor and ask again from it.")
class ChangeConnection:
    edges: list[ChangeEdge]
    nodes: list[Change]
    page_info: PageInfo = strawberry.field(
        description="endCursor is set on every page, an empty one too (the position the caller is at); "
        "hasNextPage: more changes are ready now."
    )

    @classmethod
    def of(cls, page: ChangePage) -> ChangeConnection:
        nodes = [Change.of(event, cursor) for event, cursor in zip(page.events, page.cursors, strict=True)]
        return cls(
            edges=[ChangeEdge(cursor=str(node.id), node=node) for node in nodes],
            nodes=nodes,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.end_cursor,
            ),
        )


@strawberry.input(description="A partner app's own id for one of the records it reads.")
class SetExternalIdInput:
    id: strawberry.ID = strawberry.field(description="A Client, Contact, Invoice or Payment global id.")
    external_id: str | None = strawberry.field(
        description="The app's id for it, at most 255 characters (trimmed); null or blank clears it."
    )


@payload
class SetExternalIdPayload:
    record: relay.Node | None = None
    external_id: str | None = None
