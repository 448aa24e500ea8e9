"""DataLoaders of partner integrations: the calling app's external ids of the records it reads.

One statement per entity per request (per batch of keys), never one per row; a caller that is no
partner app has no external ids and issues no statement. Built on first use in a request, as
`loaders.partners`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth.principal import Principal
from models import ChangeEntity, PartnerExternalId
from resolvers.batching import DomainLoaders, aggregate, in_keys, loader
from resolvers.db import RequestDb


def _external_ids(db: RequestDb, principal: Principal, entity: ChangeEntity) -> DataLoader:
    """record id -> the calling app's external id for it (None: none set, or not a partner app).
    Row scope: an app's external ids are its own (`partner_app_id`); the records they name were
    loaded under their own row scopes before their `externalId` is asked for."""
    app_id = principal.partner_app_id
    if app_id is None:

        async def nothing(keys: Sequence[Any]) -> list[None]:
            return [None] * len(keys)

        return DataLoader(load_fn=nothing)
    return aggregate(db, external_ids(app_id, entity), None)


def external_ids(app_id: int, entity: ChangeEntity) -> sa.Select:
    """(record id, external id) for the batch's records (`in_keys`) of `entity`: the app's own ids
    (_external_ids; the compiled read path's externalId)."""
    return sa.select(col(PartnerExternalId.record_id), col(PartnerExternalId.external_id)).where(
        in_keys(col(PartnerExternalId.record_id)),
        col(PartnerExternalId.partner_app_id) == app_id,
        col(PartnerExternalId.entity) == entity.value,
    )


class PartnerLoaders(DomainLoaders):
    @loader
    def client_external_id(db: RequestDb, p: Principal) -> DataLoader:
        return _external_ids(db, p, ChangeEntity.CLIENT)

    @loader
    def contact_external_id(db: RequestDb, p: Principal) -> DataLoader:
        return _external_ids(db, p, ChangeEntity.CONTACT)

    @loader
    def invoice_external_id(db: RequestDb, p: Principal) -> DataLoader:
        return _external_ids(db, p, ChangeEntity.INVOICE)

    @loader
    def payment_external_id(db: RequestDb, p: Principal) -> DataLoader:
        return _external_ids(db, p, ChangeEntity.PAYMENT)

    def external_id(self, entity: ChangeEntity) -> DataLoader:
        loaded: DataLoader = getattr(self, f"{entity.value.lower()}_external_id")
        return loaded
