"""Partner apps as the agency's administrators read them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from schema.context import Info
from schema.people.types import load_user

if TYPE_CHECKING:
    from schema.clients.types import Client
    from schema.people.types import User


_Client = Annotated["Client", strawberry.lazy("schema.clients.types")]
_User = Annotated["User", strawberry.lazy("schema.people.types")]


@strawberry.type(
    description="An integration that calls the API with OAuth 2 client credentials (POST /oauth/token). "
    "The agency's administrators register and manage them; nobody else sees one."
)
class PartnerApp:
    # Served from resolvers.partners.apps.RegisteredApp: the fields map its attributes.
    client_id: str = strawberry.field(
        description="The OAuth client_id (agp_...): public, sent with the secret to get a token."
    )
    name: str
    scopes: list[str] = strawberry.field(description="The scopes granted: a token may carry any of them.")
    created_at: dt.datetime
    revoked_at: dt.datetime | None = strawberry.field(
        description="When the app was revoked: it gets no token and its tokens are refused."
    )
    last_used_at: dt.datetime | None = strawberry.field(
        description="The last token request or API call, to the minute; null: never used."
    )

    @strawberry.field(description="The clients the app is limited to; empty: every client its scopes reach.")
    async def clients(self, info: Info) -> list[_Client]:
        client_ids: Any = self.client_ids  # type: ignore[attr-defined]
        found = await info.context.loaders.clients.client.load_many(list(client_ids))
        return [client for client in found if client is not None]

    @strawberry.field(description="Who registered it; null when it was registered at the console.")
    async def created_by(self, info: Info) -> _User | None:
        return await load_user(info, self.created_by_id)  # type: ignore[attr-defined]
