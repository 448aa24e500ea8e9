"""Roots of people: the caller (`me`), signing in and out, and the caller's notifications."""

from __future__ import annotations

import strawberry
from strawberry import relay

from auth.principal import Principal
from resolvers.errors import InputError
from resolvers.people import notifications, sign_in
from resolvers.people.users import get_user_unscoped
from schema.context import Info
from schema.errors import UserError
from schema.mutation_shape import CallArguments, failed, mutation
from schema.pagination import Connection
from schema.people.inputs import AuthPayload, LogoutPayload, MarkNotificationsReadPayload, payload_for
from schema.people.types import Notification, Viewer


def _viewer(principal: Principal, user) -> Viewer:
    return Viewer(
        _user=user,
        read_only=principal.read_only,
        acting_user_id=strawberry.ID(str(relay.GlobalID("User", str(principal.actor_id))))
        if principal.actor_id
        else None,
    )


_BAD_SIGN_IN = UserError(field=None, code="INVALID_CREDENTIALS", message="The e-mail or password is not right.")


_BAD_REFRESH = UserError(
    field="refreshToken", code="INVALID_REFRESH_TOKEN", message="The refresh token is not valid; sign in again."
)


@strawberry.type
class PeopleQuery:
    @strawberry.field(description="The caller.")
    async def me(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal.user_id is None:
            return None
        # The caller always sees itself, whatever its row scope says of other users.
        user = await get_user_unscoped(info.context.db, principal.user_id)
        return None if user is None else _viewer(principal, user)

    @strawberry.field(description="The caller's notifications, newest first.")
    async def notifications(
        self, info: Info, first: int | None = 20, after: str | None = None, unread_only: bool = False
    ) -> Connection[Notification] | None:
        page = await notifications.list_notifications(
            info.context.db, info.context.principal, unread_only=unread_only, first=first, after=after
        )
        return Connection[Notification].from_page(page)


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(description="Sign in with e-mail and password.")
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        ctx = info.context
        try:
            async with ctx.db.transaction() as session:
                pair = await sign_in.login(
                    session,
                    ctx.services.tokens,
                    email=email,
                    password=password,
                    refresh_ttl=ctx.services.refresh_ttl,
                    ip_address=ctx.ip_address,
                    user_agent=ctx.user_agent,
                )
        except InputError as error:
            return failed(AuthPayload, UserError(field=error.field, code=error.code, message=error.message))
        except sign_in.AuthFailed:
            return failed(AuthPayload, _BAD_SIGN_IN)
        return payload_for(pair)

    @strawberry.mutation(description="Trade a refresh token for a new access token and a new refresh token.")
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        ctx = info.context
        try:
            async with ctx.db.transaction() as session:
                pair = await sign_in.refresh(
                    session, ctx.services.tokens, refresh_token=refresh_token, refresh_ttl=ctx.services.refresh_ttl
                )
        except sign_in.AuthFailed as error:
            if str(error) == "reused":
                # The family was revoked in its own transaction: reuse means the token leaked.
                async with ctx.db.transaction() as session:
                    await sign_in.logout(session, refresh_token=refresh_token)
            return failed(AuthPayload, _BAD_REFRESH)
        return payload_for(pair)

    @strawberry.mutation(description="Sign out: revoke this refresh token and every token rotated from it.")
    async def logout(self, info: Info, refresh_token: str) -> LogoutPayload:
        async with info.context.db.transaction() as session:
            ok = await sign_in.logout(session, refresh_token=refresh_token)
        return LogoutPayload(ok=True) if ok else failed(LogoutPayload, _BAD_REFRESH, ok=False)

    @mutation(
        notifications.mark_read,
        MarkNotificationsReadPayload,
        ids={"ids": "Notification"},
        description="Mark the caller's notifications read: these, or all when ids is omitted.",
    )
    def mark_notifications_read(self, info: Info, ids: list[relay.GlobalID] | None = None) -> CallArguments:
        return dict(ids=ids)
