"""The Mutation root. Every mutation returns a typed payload with field-level errors."""

from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import auth_flow
from resolvers.errors import InputError
from schema.context import Info
from schema.errors import UserError
from schema.mutation_shape import failed, payload
from schema.types.people import Viewer


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


_BAD_SIGN_IN = UserError(field=None, code="INVALID_CREDENTIALS", message="The e-mail or password is not right.")
_BAD_REFRESH = UserError(
    field="refreshToken", code="INVALID_REFRESH_TOKEN", message="The refresh token is not valid; sign in again."
)


def payload_for(pair: auth_flow.TokenPair) -> AuthPayload:
    return AuthPayload(
        tokens=AuthTokens(
            access_token=pair.access_token,
            access_token_expires_at=pair.access_expires_at,
            refresh_token=pair.refresh_token,
            refresh_token_expires_at=pair.refresh_expires_at,
        ),
        viewer=Viewer(_user=pair.user, read_only=False, acting_user_id=None),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in with e-mail and password.")
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        ctx = info.context
        try:
            async with ctx.db.transaction() as session:
                pair = await auth_flow.login(
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
        except auth_flow.AuthFailed:
            return failed(AuthPayload, _BAD_SIGN_IN)
        return payload_for(pair)

    @strawberry.mutation(description="Trade a refresh token for a new access token and a new refresh token.")
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        ctx = info.context
        try:
            async with ctx.db.transaction() as session:
                pair = await auth_flow.refresh(
                    session, ctx.services.tokens, refresh_token=refresh_token, refresh_ttl=ctx.services.refresh_ttl
                )
        except auth_flow.AuthFailed as error:
            if str(error) == "reused":
                # The family was revoked in its own transaction: reuse means the token leaked.
                async with ctx.db.transaction() as session:
                    await auth_flow.logout(session, refresh_token=refresh_token)
            return failed(AuthPayload, _BAD_REFRESH)
        return payload_for(pair)

    @strawberry.mutation(description="Sign out: revoke this refresh token and every token rotated from it.")
    async def logout(self, info: Info, refresh_token: str) -> LogoutPayload:
        async with info.context.db.transaction() as session:
            ok = await auth_flow.logout(session, refresh_token=refresh_token)
        return LogoutPayload(ok=True) if ok else failed(LogoutPayload, _BAD_REFRESH, ok=False)
