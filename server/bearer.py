"""Who calls a route outside /graphql (an export, a PDF): the API's own bearer-token identification
and its refusals, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from auth.principal import Principal
from resolvers.db import RequestDb
from server.middleware import json_error
from server.principal import TokenRefused

Identify = Callable[[Request, RequestDb], Awaitable[Principal]]
RefuseToken = Callable[[TokenRefused], Response]


async def signed_in_caller(
    request: Request,
    *,
    identify: Identify,
    refuse_token: RefuseToken,
    session_factory: async_sessionmaker[AsyncSession],
    what: str,
) -> Principal | Response:
    """The caller of `request`, signed in, or the response that refuses it: the API's one 401 for a
    refused token (`refuse_token`), and 401 UNAUTHENTICATED with a bare `Bearer` challenge (RFC 6750:
    no credentials, no error code) when there is no token. `what` names the resource in that message."""
    db = RequestDb(session_factory)
    try:
        principal = await identify(request, db)
    except TokenRefused as error:
        return refuse_token(error)
    finally:
        await db.close()
    if principal.role is None:
        return json_error(
            401,
            f"{what} needs an access token (Authorization: Bearer ...).",
            "UNAUTHENTICATED",
            headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
        )
    return principal
