"""Payloads of signing in and out and of marking notifications read; the directory's filter and order."""

from __future__ import annotations

import datetime as dt

import strawberry

from models.enums import Role
from resolvers.pagination import SortDirection
from resolvers.people import sign_in
from resolvers.people.directory import UserOrderField
from schema.mutation_shape import payload
from schema.people.types import Viewer


@strawberry.type
class AuthTokens:
    access_token: str
    access_token_expires_at: dt.datetime
    refresh_token: str = strawberry.field(description="Single use: each refresh returns a new one.")
    refresh_token_expires_at: dt.datetime
    token_type: str = "Bearer"


@payload
class AuthPayload:
    tokens: AuthTokens | None = None
    viewer: Viewer | None = None


@payload
class LogoutPayload:
    ok: bool


def payload_for(pair: sign_in.TokenPair) -> AuthPayload:
    return AuthPayload(
        tokens=AuthTokens(
            access_token=pair.access_token,
            access_token_expires_at=pair.access_expires_at,
            refresh_token=pair.refresh_token,
            refresh_token_expires_at=pair.refresh_expires_at,
        ),
        viewer=Viewer(_user=pair.user, read_only=False, acting_user_id=None),
    )


@payload
class MarkNotificationsReadPayload:
    marked: int = 0


@strawberry.input(description="Narrow the staff directory. Filters combine with AND.")
class UserFilterInput:
    role: list[Role] | None = strawberry.field(
        default=None, description="Any of these staff roles (CLIENT and PARTNER match no one: not in the directory)."
    )
    search: str | None = strawberry.field(default=None, description="Part of the name or e-mail, any case.")
    active: bool | None = strawberry.field(
        default=None, description="Only active (true) or deactivated (false) users; both when left out."
    )


@strawberry.input(description="How the staff directory is ordered; ties in id order.")
class UserOrder:
    field: UserOrderField = UserOrderField.NAME
    direction: SortDirection = SortDirection.ASC
