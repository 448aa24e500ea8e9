"""The Query root."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Annotated, cast

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from auth.principal import Principal
from resolvers.clients import ClientFilter, ClientOrderField, list_clients
from resolvers.pagination import SortDirection
from resolvers.users import get_user_unscoped
from schema.context import Info
from schema.ids import lookup_id, plain_row_id
from schema.types.base import ModelNode
from schema.types.clients import Client
from schema.types.enums import ClientCategory, ClientTier
from schema.types.pagination import Connection
from schema.types.people import Viewer

try:
    API_VERSION = _package_version("agency-os-api")
except PackageNotFoundError:  # running from a checkout that was never installed
    API_VERSION = "0.0.0"

# Registered in place: the resolvers' own enum classes are the GraphQL enums.
strawberry.enum(ClientOrderField, name="ClientOrderField")
strawberry.enum(SortDirection, name="SortDirection")


@strawberry.input(description="Narrow the Clients list. Filters combine with AND.")
class ClientFilterInput:
    status_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Any of these statuses.")
    categories: list[ClientCategory] | None = strawberry.field(default=None, description="Any of these categories.")
    search: str | None = strawberry.field(default=None, description="Part of the company name, any case.")
    tiers: list[ClientTier] | None = strawberry.field(
        default=None, description="Any of these account tiers (staff only)."
    )


@strawberry.input
class ClientOrder:
    field: ClientOrderField = ClientOrderField.NAME
    direction: SortDirection = SortDirection.ASC


def _client_filter(filter: ClientFilterInput | None) -> ClientFilter:
    if filter is None:
        return ClientFilter()
    status_ids = tuple(plain_row_id(s, "filter.statusIds", "Status") for s in filter.status_ids or ())
    return ClientFilter(
        status_ids=status_ids,
        categories=tuple(filter.categories or ()),
        search=filter.search,
        tiers=tuple(filter.tiers or ()),
    )


def _viewer(principal: Principal, user) -> Viewer:
    return Viewer(
        _user=user,
        read_only=principal.read_only,
        acting_user_id=strawberry.ID(str(relay.GlobalID("User", str(principal.actor_id))))
        if principal.actor_id
        else None,
    )


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; null when the caller may not see it.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")]
    ) -> relay.Node | None:
        # Every id that names no row the caller may see answers the same null: not a global id,
        # a type that is no node (or no type), a malformed or out-of-range row id, a hidden row.
        try:
            global_id = relay.GlobalID.from_id(id)
        except GlobalIDValueError:
            return None
        definition = info.schema.get_type_by_name(global_id.type_name)
        origin = getattr(definition, "origin", None)
        if not (isinstance(origin, type) and issubclass(origin, ModelNode)):
            return None
        [found] = await origin.resolve_nodes(info=info, node_ids=[global_id.node_id])
        return cast(relay.Node | None, found)

    @strawberry.field(
        description="The API's version. Open to everyone, signed in or not: a schema needs one query field, and this "
        "is the one an anonymous caller sees beside the sign-in mutations."
    )
    def api_version(self) -> str:
        return API_VERSION

    @strawberry.field(description="The caller.")
    async def me(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal.user_id is None:
            return None
        # The caller always sees itself, whatever its row scope says of other users.
        user = await get_user_unscoped(info.context.db, principal.user_id)
        return None if user is None else _viewer(principal, user)

    @strawberry.field(
        description="The Clients list: filtered, searched, ordered, cursor-paginated (at most 100 a page)."
    )
    async def clients(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ClientFilterInput | None = None,
        order_by: ClientOrder | None = None,
    ) -> Connection[Client] | None:
        order = order_by or ClientOrder()
        page = await list_clients(
            info.context.db,
            info.context.principal,
            filters=_client_filter(filter),
            order_by=ClientOrderField(order.field),
            direction=SortDirection(order.direction),
            first=first,
            after=after,
        )
        return Connection[Client].from_page(page)

    @strawberry.field(description="One client by its global id; null when there is none the caller may see.")
    async def client(self, info: Info, id: relay.GlobalID) -> Client | None:
        client_id = lookup_id(id, "Client")
        return None if client_id is None else await info.context.loaders.client.load(client_id)
