"""Users as others see them, the caller as it sees itself (`me`), and the caller's notifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

import models
from models.enums import Role
from schema.base import ModelNode
from schema.context import Info

if TYPE_CHECKING:
    from schema.clients.types import Client, Contact


async def load_user(info: Info, user_id: int | None) -> Any:
    """The user with this id as the caller may see it (the request's user loader); None for no id."""
    return None if user_id is None else await info.context.loaders.people.user.load(user_id)


@strawberry.type(description="A member of the team or a portal user. A client sees the team's display names only.")
class User(ModelNode):
    __model__ = models.User
    __loader__ = "people.user"

    id: relay.NodeID[int]
    full_name: str
    email: str | None
    phone: str | None
    job_title: str | None
    role: Role | None
    hourly_cost_rate: Decimal | None
    hourly_bill_rate: Decimal | None
    last_login_at: dt.datetime | None
    is_active: bool | None = strawberry.field(
        description="False once the user may no longer sign in (a revoked portal user, a departed team member)."
    )

    @strawberry.field(description="The contact a portal user signs in as; null for the team.")
    async def contact(self, info: Info) -> Annotated[Contact, strawberry.lazy("schema.clients.types")] | None:
        contact_id = self.contact_id  # type: ignore[attr-defined]
        return None if contact_id is None else await info.context.loaders.clients.contact.load(contact_id)


@strawberry.type(description="The caller: who this token acts for.")
class Viewer:
    _user: strawberry.Private[Any]
    read_only: bool = strawberry.field(description="True for a view-as token: every mutation is refused.")
    acting_user_id: strawberry.ID | None = strawberry.field(
        description="View as: the global id of the manager behind this read-only token."
    )

    @strawberry.field
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("User", str(self._user.id))

    @strawberry.field
    def full_name(self) -> str:
        return self._user.full_name

    @strawberry.field
    def email(self) -> str:
        return self._user.email

    @strawberry.field
    def role(self) -> Role:
        return self._user.role

    @strawberry.field(description="The client a portal user belongs to.")
    async def client(self, info: Info) -> Annotated[Client, strawberry.lazy("schema.clients.types")] | None:
        if self._user.client_id is None:
            return None
        return await info.context.loaders.clients.client.load(self._user.client_id)

    @strawberry.field(description="The contact a portal user signs in as.")
    async def contact(self, info: Info) -> Annotated[Contact, strawberry.lazy("schema.clients.types")] | None:
        if self._user.contact_id is None:
            return None
        return await info.context.loaders.clients.contact.load(self._user.contact_id)


@strawberry.type(description="Something the caller was told about; each user sees only their own.")
class Notification(ModelNode):
    __model__ = models.Notification
    __loader__ = "people.notification"

    id: relay.NodeID[int]
    kind: str
    message: str
    subject_type: str | None
    subject_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None
