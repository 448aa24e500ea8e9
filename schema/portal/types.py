"""The portal home page of a signed-in portal user."""

from __future__ import annotations

import strawberry

from resolvers.portal import home
from schema.billing.types import Invoice
from schema.clients.types import Client
from schema.context import Info
from schema.work.types import Comment, Task


@strawberry.type(
    description="The portal's welcome page: quick actions and a task overview for the signed-in client user."
)
class PortalHome:
    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.clients.client.load(info.context.principal.client_id)

    @strawberry.field(description="Open tasks the client can see, soonest due first (at most 20).")
    async def open_tasks(self, info: Info) -> list[Task]:
        return await home.open_tasks(info.context.db, info.context.principal)

    @strawberry.field(description="The latest replies on the client's projects and tasks (at most 10).")
    async def recent_replies(self, info: Info) -> list[Comment]:
        return await home.recent_replies(info.context.db, info.context.principal)

    @strawberry.field(description="Sent invoices still awaiting payment.")
    async def open_invoices(self, info: Info) -> list[Invoice] | None:
        return await home.open_invoices(info.context.db, info.context.principal)

    @strawberry.field(description="Whether the client may book meetings from the portal.")
    async def can_book_meetings(self, info: Info) -> bool:
        client = await info.context.loaders.clients.client.load(info.context.principal.client_id)
        return bool(client and client.portal_booking_enabled)
