"""Partner apps for tests: registered through the business function the console uses, and token
requests to POST /oauth/token."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from auth.principal import Principal
from models import Client, Role
from resolvers.partners.apps import create_partner_app

CONSOLE = Principal(user_id=None, role=Role.ADMIN)
SCOPES = ("clients:read", "invoices:read")
TOKEN_URL = "/oauth/token"
GRANT = {"grant_type": "client_credentials"}


@dataclass(frozen=True)
class Registered:
    client_id: str
    secret: str


async def register(db: Any, *, scopes: Sequence[str] = SCOPES, clients: Sequence[Any] = ()) -> Registered:
    async with db() as session, session.begin():
        app, secret = await create_partner_app(
            session, CONSOLE, name="Ledger sync", scopes=list(scopes), client_ids=[c.id for c in clients]
        )
    return Registered(app.client_id, secret)


def basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


async def request_token(
    client: httpx.AsyncClient, app: Registered, *, scope: str | None = None, secret: str | None = None
) -> httpx.Response:
    """A client-credentials request authenticated with HTTP Basic."""
    data = dict(GRANT) if scope is None else {**GRANT, "scope": scope}
    return await client.post(TOKEN_URL, data=data, headers=basic(app.client_id, secret or app.secret))


async def access_token(client: httpx.AsyncClient, app: Registered, *, scope: str | None = None) -> str:
    response = await request_token(client, app, scope=scope)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def touch_client(db: Any, client: Any, industry: str = "Retail") -> None:
    """A `client.updated` in the change log: the client's industry set, in a transaction of its own."""
    async with db() as session, session.begin():
        await session.execute(sa.update(Client).where(Client.id == client.id).values(industry=industry))
