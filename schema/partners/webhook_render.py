"""A webhook's `data`: the record as the receiving app itself reads it.

The renderer executes `node(id:)` on the full schema as the app's PARTNER Principal, selecting the
fields of the record's type in the app's own schema view (schema.views): every scalar and enum
field without a required argument, and `{ id }` of each single object it links to (an invoice's
client, a payment's invoice). Lists and connections are left out (a receiver that wants an
invoice's lines reads them with its token). So the field policy decides what a payload holds,
exactly as for the app's own requests: no INTERNAL, COST, TEAM or PAYROLL field unless one of its
scopes opens it, and a record outside its row scope is null (no delivery). Up to 25 records are
rendered by one operation (aliases), and their look-ups batched by the request's DataLoaders.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry import relay

from auth.principal import PolicyKey, Principal
from auth.tokens import TokenService
from resolvers.db import RequestDb
from resolvers.loaders import Loaders
from schema.build import AgencySchema
from schema.context import Context, Services
from schema.views import view_for

log = logging.getLogger("agency.webhooks")

CHUNK = 25  # records per operation (the alias limit is 30)
_selections: dict[tuple[PolicyKey, str], str | None] = {}


def selection(view: GraphQLSchema, key: PolicyKey, type_name: str) -> str | None:
    """The fields of `type_name` a caller with this view reads, as a selection; None when the type
    is not in its view at all."""
    cache_key = (key, type_name)
    if cache_key in _selections:
        return _selections[cache_key]
    found = view.get_type(type_name)
    text: str | None = None
    if isinstance(found, GraphQLObjectType):
        parts: list[str] = []
        for name, field in found.fields.items():
            if any(isinstance(arg.type, GraphQLNonNull) and arg.default_value is None for arg in field.args.values()):
                continue
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            named = get_named_type(field.type)
            if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
                parts.append(name)
            elif (
                isinstance(named, GraphQLObjectType)
                and not isinstance(inner, GraphQLList)
                and "id" in named.fields
                and not named.name.endswith("Connection")
            ):
                parts.append(f"{name} {{ id }}")
        text = " ".join(parts) if parts else None
    if len(_selections) > 512:
        _selections.clear()
    _selections[cache_key] = text
    return text


class RenderFailed(Exception):
    """A payload could not be rendered; nothing is fanned out from the batch (it is tried again)."""


class NodeRenderer:
    """resolvers.partners.webhooks.Render, by executing the schema (see the module docstring)."""

    def __init__(
        self,
        schema: AgencySchema,
        session_factory: async_sessionmaker[AsyncSession],
        services: Services | None = None,
    ) -> None:
        self.schema = schema
        self.session_factory = session_factory
        # Rendering issues no token: a throwaway key keeps the context whole.
        self.services = services or Services(
            tokens=TokenService(
                secret=secrets.token_urlsafe(48),
                issuer="agency-webhooks",
                audience="agency-webhooks",
                access_ttl=dt.timedelta(minutes=1),
            ),
            refresh_ttl=dt.timedelta(minutes=1),
        )

    async def __call__(
        self, principal: Principal, items: Sequence[tuple[str, int, bool]]
    ) -> list[dict[str, Any] | None]:
        results: list[dict[str, Any] | None] = [None] * len(items)
        view = view_for(self.schema._schema, principal.policy_key)
        live: list[tuple[int, str, str, str]] = []  # (index, global id, type, selection)
        for index, (type_name, row_id, gone) in enumerate(items):
            global_id = str(relay.GlobalID(type_name, str(row_id)))
            if gone:
                results[index] = {"id": global_id, "type": type_name}
                continue
            fields = selection(view, principal.policy_key, type_name)
            if fields is not None:
                live.append((index, global_id, type_name, fields))
        for start in range(0, len(live), CHUNK):
            chunk = live[start : start + CHUNK]
            variables = ", ".join(f"$id{n}: ID!" for n in range(len(chunk)))
            body = " ".join(
                f"r{n}: node(id: $id{n}) {{ ... on {type_name} {{ {fields} }} }}"
                for n, (_, _, type_name, fields) in enumerate(chunk)
            )
            document = f"query WebhookPayload({variables}) {{ {body} }}"
            db = RequestDb(self.session_factory)
            try:
                context = Context(principal=principal, db=db, loaders=Loaders(db, principal), services=self.services)
                result = await self.schema.execute(
                    document,
                    variable_values={f"id{n}": item[1] for n, item in enumerate(chunk)},
                    context_value=context,
                    operation_name="WebhookPayload",
                )
            finally:
                await db.close()
            failures = [error for error in result.errors or () if error.original_error is not None]
            if failures:
                # A resolver failed (the database went away, a bug): no payload is made, so the
                # dispatcher's transaction rolls back and the batch is tried again on the next
                # pass, rather than the events being passed over.
                raise RenderFailed(failures[0].message) from failures[0].original_error
            if result.errors:
                # Never expected (the selection is the app's own view): the data still holds what
                # the policy let through, every refused field null.
                log.warning("rendering webhook payloads: %s", [error.message for error in result.errors])
            data = result.data or {}
            for n, (index, _, _, _) in enumerate(chunk):
                record = data.get(f"r{n}")
                results[index] = dict(record) if record else None
        return results
