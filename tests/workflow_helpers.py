"""Helpers the client-workflow tests share: global ids, row counts, signed-in callers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models import Activity, Notification, OutboxEmail, Role
from tests.factories import PASSWORD

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
