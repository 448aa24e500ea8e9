"""Payloads of portal access and View as."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.mutation_shape import payload
from schema.people.types import User


@payload
class PortalAccessPayload:
    user: User | None = None
    invitation_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="The invitation e-mail is in the outbox; its link works once until then."
    )


@payload
class ViewAsPayload:
    access_token: str | None = strawberry.field(
        default=None, description="Read-only, short-lived; answers exactly as the client user would see it."
    )
    expires_at: dt.datetime | None = None
    user: User | None = None
