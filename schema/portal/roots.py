"""Roots of the portal: its home page, granting and revoking a contact's portal user, accepting
the invitation, and a manager's read-only preview of the portal as one client user (View as).
"""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from auth.principal import Principal
from resolvers.people.sign_in import TokenPair, sign_in_user
from resolvers.portal import access
from schema.context import Info, Services
from schema.mutation_shape import CallArguments, mutation
from schema.people.inputs import AuthPayload, payload_for
from schema.people.roots import throttled
from schema.portal.inputs import PortalAccessPayload, ViewAsPayload
from schema.portal.types import PortalHome


async def _accept_and_sign_in(
    session: AsyncSession, principal: Principal, *, token: str, password: str, services: Services
) -> TokenPair:
    """Accepting an invitation signs its user in, in the same transaction."""
    user = await access.accept_invitation(session, token=token, password=password)
    return await sign_in_user(session, services.tokens, user, refresh_ttl=services.refresh_ttl)


@strawberry.type
class PortalMutation:
    @mutation(
        access.grant_portal_access,
        PortalAccessPayload,
        ids={"contact_id": "Contact"},
        description="Give a contact portal access: a CLIENT user linked to the contact's client, invited by e-mail.",
    )
    def grant_portal_access(self, info: Info, contact_id: relay.GlobalID) -> CallArguments:
        return dict(contact_id=contact_id, accept_url=info.context.services.portal_accept_url)

    @throttled(failures={"INVALID_INVITATION"})
    @mutation(
        _accept_and_sign_in,
        AuthPayload,
        result=lambda _info, pair: payload_for(pair),
        description="Set a password with the invitation's one-time token, and sign in.",
    )
    def accept_invitation(self, info: Info, token: str, password: str) -> CallArguments:
        return dict(token=token, password=password, services=info.context.services)

    @mutation(
        access.revoke_portal_access,
        PortalAccessPayload,
        ids={"user_id": "User"},
        result=lambda _info, user: PortalAccessPayload(user=user),
        description="Take portal access away: the user can no longer sign in; its tokens stop working at once.",
    )
    def revoke_portal_access(self, info: Info, user_id: relay.GlobalID) -> CallArguments:
        return dict(user_id=user_id)

    @mutation(
        access.issue_view_as,
        ViewAsPayload,
        ids={"user_id": "User"},
        description="View as a client user: a short-lived, read-only token (the real actor is in its `act` claim).",
    )
    def view_as(self, info: Info, user_id: relay.GlobalID) -> CallArguments:
        services = info.context.services
        return dict(tokens=services.tokens, user_id=user_id, ttl=services.view_as_ttl)


@strawberry.type
class PortalQuery:
    @strawberry.field(description="The portal home page of a signed-in portal user (null for staff).")
    def portal_home(self, info: Info) -> PortalHome | None:
        return PortalHome() if info.context.principal.is_client else None
