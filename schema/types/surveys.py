"""Satisfaction scores: a client's answers to the NPS question, with the input and payload
of recording one.

Rows are staff only (row scope): the team reads them on the client record, and the
portal user who has just answered gets its own answer back in the payload, nothing more.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

import models
from schema.context import Info
from schema.mutation_shape import payload
from schema.types.base import ModelNode

if TYPE_CHECKING:
    from schema.types.clients import Client, Contact

_Client = Annotated["Client", strawberry.lazy("schema.types.clients")]
_Contact = Annotated["Contact", strawberry.lazy("schema.types.clients")]


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
        return await info.context.loaders.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who answered, when known.")
    async def contact(self, info: Info) -> _Contact | None:
        contact_id = self.contact_id  # type: ignore[attr-defined]
        return None if contact_id is None else await info.context.loaders.contact.load(contact_id)


@strawberry.input(description="A satisfaction score to record.")
class RecordSatisfactionScoreInput:
    score: int = strawberry.field(description="0 to 10.")
    client_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Required for the team; a portal user answers for its own client."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who answered, a contact of that client; a portal user is its own contact."
    )
    comment: str | None = strawberry.field(default=None, description="At most 2,000 characters.")
    responded_at: dt.datetime | None = strawberry.field(
        default=None, description="With a time zone offset, not in the future; now unless given."
    )


@payload
class SatisfactionScorePayload:
    score: SatisfactionScore | None = None
