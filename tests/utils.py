"""Small helpers the tests share: an API driver and a statement counter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from strawberry import relay


def gid(type_name: str, row_or_id: Any) -> str:
    """The global id the API gives a row (or a row id) of this type."""
    row_id = getattr(row_or_id, "id", row_or_id)
    return str(relay.GlobalID(type_name, str(row_id)))


def raw_id(global_id: str) -> int:
    """The row id inside a global id the API gave out."""
    return int(relay.GlobalID.from_id(global_id).node_id)


LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    tokens { accessToken refreshToken }
    errors { field code message }
  }
}
"""


@dataclass
class StatementCounter:
    count: int = 0
    statements: list[str] = field(default_factory=list)

    def on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.statements.append(statement)

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


class Api:
    """Drives the real app over HTTP, as a web, mobile or partner client would."""

    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client = client
        self.app = app

    async def post(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """The data of a request that must succeed without errors."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def login(self, email: str, password: str) -> str:
        body = await self.data(LOGIN, {"email": email, "password": password})
        assert body["login"]["errors"] == [], body["login"]["errors"]
        return body["login"]["tokens"]["accessToken"]

    async def login_pair(self, email: str, password: str) -> tuple[str, str]:
        body = await self.data(LOGIN, {"email": email, "password": password})
        tokens = body["login"]["tokens"]
        return tokens["accessToken"], tokens["refreshToken"]
