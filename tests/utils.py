"""Helpers every test shares: global ids, an API driver, a statement counter, row counts and
signed-in callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from strawberry import relay

from models import Activity, Notification, OutboxEmail, Role
from tests.factories import PASSWORD


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

    async def of(self, api: Api, query: str, token: str, variables: dict | None = None) -> tuple[int, dict]:
        """How many statements one request of `query` issues, and its data. A request first warms
        what is per caller and per process (the token's look-up, the schema view), uncounted."""
        await api.data("{ me { id } }", token=token)
        self.reset()
        data = await api.data(query, variables, token)
        return self.count, data


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


# Tables every mutation may write to besides its own: counted to prove a failure wrote nothing.
SIDE_TABLES = (Activity, Notification, OutboxEmail)


async def count(db, model: Any, *where: Any) -> int:
    async with db() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


async def counts(db, *models: Any) -> dict[str, int]:
    return {m.__tablename__: await count(db, m) for m in models}


async def rows(db, model: Any, *where: Any, order_by: Any = None) -> list[Any]:
    async with db() as session:
        statement = sa.select(model).where(*where).order_by(order_by if order_by is not None else model.id)
        return list((await session.scalars(statement)).all())


async def get(db, model: Any, row_id: int) -> Any:
    async with db() as session:
        return await session.get(model, row_id)


async def staff(api, factory, role: Role = Role.MANAGER, **kw) -> tuple[Any, str]:
    user = await factory.user(role, **kw)
    return user, await api.login(user.email, PASSWORD)


async def portal(api, factory, client, **kw) -> tuple[Any, str]:
    user = await factory.portal_user(client, **kw)
    return user, await api.login(user.email, PASSWORD)


async def mutate(api, query: str, variables: dict, token: str, name: str) -> dict:
    """The payload of a mutation that must not raise a GraphQL error."""
    data = await api.data(query, variables, token)
    return data[name]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def refused_by_policy(api, query: str, variables: dict, token: str, name: str) -> dict:
    """A mutation the policy tables refuse before any resolver runs: no payload, exactly one
    FORBIDDEN error naming the mutation. Returns that error."""
    body = await api.post(query, variables, token)
    assert (body["data"] or {}).get(name) is None, body
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("FORBIDDEN", f"Mutation.{name}")
    ]
    return body["errors"][0]
