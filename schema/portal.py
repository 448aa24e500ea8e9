"""Portal access and View as: granting and revoking a contact's portal user, accepting the
invitation, and a manager's read-only preview of the portal as one client user."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from resolvers import portal
from resolvers.auth_flow import sign_in_user
from schema.context import Info
from schema.errors import UserError, run_mutation
from schema.ids import decode_id
from schema.mutation import AuthPayload, payload_for
from schema.types.billing import Invoice
from schema.types.clients import Client
from schema.types.people import User
from schema.types.work import Comment, Task


@strawberry.type
class PortalAccessPayload:
    user: User | None = None
    invitation_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="The invitation e-mail is in the outbox; its link works once until then."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ViewAsPayload:
    access_token: str | None = strawberry.field(
        default=None, description="Read-only, short-lived; answers exactly as the client user would see it."
    )
    expires_at: dt.datetime | None = None
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        description="Give a contact portal access: a CLIENT user linked to the contact's client, invited by e-mail."
    )
    async def grant_portal_access(self, info: Info, contact_id: relay.GlobalID) -> PortalAccessPayload:
        ctx = info.context

        async def work(session):
            return await portal.grant_portal_access(
                session,
                ctx.principal,
                contact_id=decode_id(contact_id, "Contact", "contactId"),
                accept_url=ctx.services.portal_accept_url,
            )

        result, errors = await run_mutation(info, work)
        if errors:
            return PortalAccessPayload(errors=errors)
        user, expires = result
        return PortalAccessPayload(user=user, invitation_expires_at=expires)

    @strawberry.mutation(description="Set a password with the invitation's one-time token, and sign in.")
    async def accept_invitation(self, info: Info, token: str, password: str) -> AuthPayload:
        ctx = info.context

        async def work(session):
            user = await portal.accept_invitation(session, token=token, password=password)
            return await sign_in_user(session, ctx.services.tokens, user, refresh_ttl=ctx.services.refresh_ttl)

        pair, errors = await run_mutation(info, work)
        return AuthPayload(errors=errors) if errors else payload_for(pair)

    @strawberry.mutation(
        description="Take portal access away: the user can no longer sign in; its tokens stop working at once."
    )
    async def revoke_portal_access(self, info: Info, user_id: relay.GlobalID) -> PortalAccessPayload:
        async def work(session):
            return await portal.revoke_portal_access(
                session, info.context.principal, user_id=decode_id(user_id, "User", "userId")
            )

        user, errors = await run_mutation(info, work)
        return PortalAccessPayload(errors=errors) if errors else PortalAccessPayload(user=user)

    @strawberry.mutation(
        description="View as a client user: a short-lived, read-only token (the real actor is in its `act` claim)."
    )
    async def view_as(self, info: Info, user_id: relay.GlobalID) -> ViewAsPayload:
        ctx = info.context

        async def work(session):
            return await portal.issue_view_as(
                session,
                ctx.principal,
                ctx.services.tokens,
                user_id=decode_id(user_id, "User", "userId"),
                ttl=ctx.services.view_as_ttl,
            )

        result, errors = await run_mutation(info, work)
        if errors:
            return ViewAsPayload(errors=errors)
        token, expires, user = result
        return ViewAsPayload(access_token=token, expires_at=expires, user=user)


@strawberry.type(
    description="The portal's welcome page: quick actions and a task overview for the signed-in client user."
)
class PortalHome:
    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.client.load(info.context.principal.client_id)

    @strawberry.field(description="Open tasks the client can see, soonest due first (at most 20).")
    async def open_tasks(self, info: Info) -> list[Task]:
        return await portal.open_tasks(info.context.db, info.context.principal)

    @strawberry.field(description="The latest replies on the client's projects and tasks (at most 10).")
    async def recent_replies(self, info: Info) -> list[Comment]:
        return await portal.recent_replies(info.context.db, info.context.principal)

    @strawberry.field(description="Sent invoices still awaiting payment.")
    async def open_invoices(self, info: Info) -> list[Invoice] | None:
        return await portal.open_invoices(info.context.db, info.context.principal)

    @strawberry.field(description="Whether the client may book meetings from the portal.")
    async def can_book_meetings(self, info: Info) -> bool:
        client = await info.context.loaders.client.load(info.context.principal.client_id)
        return bool(client and client.portal_booking_enabled)


@strawberry.type
class PortalQuery:
    @strawberry.field(description="The portal home page of a signed-in portal user (null for staff).")
    def portal_home(self, info: Info) -> PortalHome | None:
        return PortalHome() if info.context.principal.is_client else None
