"""The Query and Mutation roots: the schema's own fields (node, apiVersion), merged with one root
class per domain (schema/<domain>/roots.py)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Annotated, cast

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.tools import merge_types

from schema.base import ModelNode
from schema.billing.roots import BillingMutation, BillingQuery
from schema.clients.roots import ClientsMutation, ClientsQuery
from schema.context import Info
from schema.dashboard.roots import (
    DashboardQuery,
    DashboardViewsMutation,
    DashboardViewsQuery,
    HealthScoreMutation,
    HealthScoreQuery,
)
from schema.engagement.roots import EngagementMutation
from schema.live.roots import LiveSubscription
from schema.partners.roots import PartnersMutation, PartnersQuery
from schema.partners.sync_roots import SyncMutation, SyncQuery
from schema.partners.webhook_roots import WebhooksMutation, WebhooksQuery
from schema.people.roots import PeopleMutation, PeopleQuery
from schema.portal.roots import PortalMutation, PortalQuery
from schema.reports.roots import ReportsQuery
from schema.surveys.roots import SurveysMutation
from schema.work.deliverables import DeliverablesMutation
from schema.work.roots import WorkMutation, WorkQuery

try:
    API_VERSION = _package_version("agency-os-api")
except PackageNotFoundError:  # running from a checkout that was never installed
    API_VERSION = "0.0.0"


@strawberry.type
class NodeQuery:
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


def roots() -> tuple[type, type, type]:
    """Query, Mutation and Subscription: the schema's own fields, then one root class per domain, in this order."""
    queries: tuple[type, ...] = (
        NodeQuery,
        PeopleQuery,
        ClientsQuery,
        PortalQuery,
        BillingQuery,
        DashboardQuery,
        DashboardViewsQuery,
        HealthScoreQuery,
        ReportsQuery,
        PartnersQuery,
        WebhooksQuery,
        SyncQuery,
        WorkQuery,
    )
    mutations: tuple[type, ...] = (
        PeopleMutation,
        PortalMutation,
        ClientsMutation,
        WorkMutation,
        DeliverablesMutation,
        EngagementMutation,
        BillingMutation,
        SurveysMutation,
        DashboardViewsMutation,
        HealthScoreMutation,
        PartnersMutation,
        WebhooksMutation,
        SyncMutation,
    )
    subscriptions: tuple[type, ...] = (LiveSubscription,)
    return merge_types("Query", queries), merge_types("Mutation", mutations), merge_types("Subscription", subscriptions)
