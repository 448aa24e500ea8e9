"""The input and payload of recording a satisfaction score."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from schema.mutation_shape import payload
from schema.surveys.types import SatisfactionScore

if TYPE_CHECKING:
    pass


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
