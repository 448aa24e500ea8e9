"""Satisfaction scores: a client's answers to the NPS question.

Rows are staff only (row scope): the team reads them on the client record, and the portal user who
has just answered gets its own answer back in the payload.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

import models
from schema.base import ModelNode
from schema.context import Info

if TYPE_CHECKING:
    from schema.clients.types import Client, Contact


_Client = Annotated["Client", strawberry.lazy("schema.clients.types")]


_Contact = Annotated["Contact", strawberry.lazy("schema.clients.types")]


@strawberry.type(description='A client\'s answer to "How likely are you to recommend us?" (0-10), for NPS.')
class SatisfactionScore(ModelNode):
    __model__ = models.SatisfactionSurvey
    __loader__ = "surveys.score"

    id: relay.NodeID[int]
    score: int = strawberry.field(description="0 to 10: 9-10 promoter, 7-8 passive, 0-6 detractor.")
    comment: str | None
    responded_at: dt.datetime

    @strawberry.field
    async def client(self, info: Info) -> _Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who answered, when known.")
    async def contact(self, info: Info) -> _Contact | None:
        contact_id = self.contact_id  # type: ignore[attr-defined]
        return None if contact_id is None else await info.context.loaders.clients.contact.load(contact_id)
