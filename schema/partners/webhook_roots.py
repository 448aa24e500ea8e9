"""Roots of webhooks: partner apps' endpoints, their delivery log and replay (ADMIN only).

Business functions in resolvers/partners/webhooks.py (its docstring has the decisions), declared
here (schema.mutation_shape). Only an ADMIN may call the mutations (auth.policy_table
MUTATION_ROLES); the lists show nothing to anyone else.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay

from models import DeliveryStatus
from resolvers.partners import webhooks
from schema.context import Info
from schema.ids import decode_id
from schema.mutation_shape import CallArguments, given, mutation
from schema.pagination import Connection
from schema.partners.webhook_types import (
    CreateWebhookEndpointInput,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookDeliveryPayload,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointPayload,
    WebhookEndpointSecretPayload,
)

EndpointId = Annotated[relay.GlobalID, strawberry.argument(description="The endpoint's id.")]


@strawberry.type
class WebhooksQuery:
    @strawberry.field(
        description="Partner apps' webhook endpoints, oldest first; of one app with clientId (ADMIN only)."
    )
    async def webhook_endpoints(
        self,
        info: Info,
        client_id: Annotated[str | None, strawberry.argument(description="The app's OAuth client_id.")] = None,
    ) -> list[WebhookEndpoint] | None:
        found: Any = await webhooks.list_webhook_endpoints(info.context.db, info.context.principal, client_id=client_id)
        return found

    @strawberry.field(
        description="An endpoint's deliveries, newest first, each with its attempts, cursor-paginated (ADMIN only)."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: EndpointId,
        status: WebhookDeliveryStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[WebhookDelivery] | None:
        page = await webhooks.list_webhook_deliveries(
            info.context.db,
            info.context.principal,
            endpoint_id=decode_id(endpoint_id, "WebhookEndpoint", "endpointId"),
            status=DeliveryStatus(status.value) if status is not None else None,
            first=first,
            after=after,
        )
        return Connection[WebhookDelivery].from_page(page)


@strawberry.type
class WebhooksMutation:
    @mutation(
        webhooks.create_webhook_endpoint,
        WebhookEndpointSecretPayload,
        description="Register a webhook endpoint for a partner app. The payload holds its signing secret, shown "
        "this once (ADMIN only).",
    )
    def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput) -> CallArguments:
        return given(input)

    @mutation(
        webhooks.update_webhook_endpoint,
        WebhookEndpointPayload,
        ids={"id": "WebhookEndpoint"},
        description="Change an endpoint's URL, events or whether it is active (ADMIN only).",
    )
    def update_webhook_endpoint(self, info: Info, id: EndpointId, input: UpdateWebhookEndpointInput) -> CallArguments:
        return dict(id=id, **given(input))

    @mutation(
        webhooks.rotate_webhook_endpoint_secret,
        WebhookEndpointSecretPayload,
        ids={"id": "WebhookEndpoint"},
        description="Give an endpoint a new signing secret, shown this once; messages are signed with it from now "
        "on (ADMIN only).",
    )
    def rotate_webhook_endpoint_secret(self, info: Info, id: EndpointId) -> CallArguments:
        return dict(id=id)

    @mutation(
        webhooks.delete_webhook_endpoint,
        WebhookEndpointPayload,
        ids={"id": "WebhookEndpoint"},
        description="Delete an endpoint and its delivery log; disable it instead to keep the log (ADMIN only).",
    )
    def delete_webhook_endpoint(self, info: Info, id: EndpointId) -> CallArguments:
        return dict(id=id)

    @mutation(
        webhooks.replay_webhook_delivery,
        WebhookDeliveryPayload,
        ids={"id": "WebhookDelivery"},
        description="Send a delivery again now, whatever its status: the same message id and body, signed anew "
        "(ADMIN only).",
    )
    def replay_webhook_delivery(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The delivery's id.")]
    ) -> CallArguments:
        return dict(id=id)
