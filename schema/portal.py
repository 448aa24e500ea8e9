"""Portal access and View as: granting and revoking a contact's portal user, accepting the
invitation, and a manager's read-only preview of the portal as one client user."""

from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from auth.principal import Principal
from resolvers import portal
from resolvers.auth_flow import TokenPair, sign_in_user
from schema.context import Info, Services
from schema.mutation import AuthPayload, payload_for
from schema.mutation_shape import CallArguments, mutation, payload
from schema.types.billing import Invoice
from schema.types.clients import Client
from schema.types.people import User
from schema.types.work import Comment, Task


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


async def _accept_and_sign_in(
    session: AsyncSession, principal: Principal, *, token: str, password: str, services: Services
) -> TokenPair:
    """Accepting an invitation signs its user in, in the same transaction."""
    user = await portal.accept_invitation(session, token=token, password=password)
    return await sign_in_user(session, services.tokens, user, refresh_ttl=services.refresh_ttl)


@strawberry.type
class PortalMutation:
    @mutation(
        portal.grant_portal_access,
        PortalAccessPayload,
        ids={"contact_id": "Contact"},
        description="Give a contact portal access: a CLIENT user linked to the contact's client, invited by e-mail.",
    )
    def grant_portal_access(self, info: Info, contact_id: relay.GlobalID) -> CallArguments:
        return dict(contact_id=contact_id, accept_url=info.context.services.portal_accept_url)

    @mutation(
        _accept_and_sign_in,
        AuthPayload,
        result=lambda _info, pair: payload_for(pair),
        description="Set a password with the invitation's one-time token, and sign in.",
    )
    def accept_invitation(self, info: Info, token: str, password: str) -> CallArguments:
        return dict(token=token, password=password, services=info.context.services)

    @mutation(
        portal.revoke_portal_access,
        PortalAccessPayload,
        ids={"user_id": "User"},
        result=lambda _info, user: PortalAccessPayload(user=user),
        description="Take portal access away: the user can no longer sign in; its tokens stop working at once.",
    )
    def revoke_portal_access(self, info: Info, user_id: relay.GlobalID) -> CallArguments:
        return dict(user_id=user_id)

    @mutation(
        portal.issue_view_as,
        ViewAsPayload,
        ids={"user_id": "User"},
        description="View as a client user: a short-lived, read-only token (the real actor is in its `act` claim).",
    )
    def view_as(self, info: Info, user_id: relay.GlobalID) -> CallArguments:
        services = info.context.services
        return dict(tokens=services.tokens, user_id=user_id, ttl=services.view_as_ttl)


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
