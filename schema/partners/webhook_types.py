"""Webhook endpoints and their delivery log as the agency's administrators read them, and the
inputs and payloads of managing them (resolvers/partners/webhooks.py has the decisions)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry import relay

from models import DeliveryStatus
from schema.mutation_shape import payload


@strawberry.enum(description="Where a webhook delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = DeliveryStatus.PENDING.value
    DELIVERED = DeliveryStatus.DELIVERED.value
    FAILED = DeliveryStatus.FAILED.value


@strawberry.type(
    description="Where a partner app receives the events it subscribes to, signed per the Standard Webhooks "
    "specification. Only the agency's administrators manage them."
)
class WebhookEndpoint:
    # Served from resolvers.partners.webhooks.EndpointView: the fields map its attributes.
    app_client_id: str = strawberry.field(description="The OAuth client_id (agp_...) of the app it belongs to.")
    url: str = strawberry.field(description="Where events are POSTed (https).")
    event_types: list[str] = strawberry.field(description="The events it subscribes to, e.g. invoice.paid.")
    active: bool = strawberry.field(description="False: disabled; it receives nothing until enabled again.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry.field(description="The endpoint's id (updateWebhookEndpoint, webhookDeliveries).")
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("WebhookEndpoint", str(self.row_id))  # type: ignore[attr-defined]


@strawberry.type(description="One try at delivering a webhook.")
class WebhookAttempt:
    attempted_at: dt.datetime
    status_code: int | None = strawberry.field(description="The receiver's HTTP status; null: no answer.")
    error: str | None = strawberry.field(description="Why it was not delivered (a status, a timeout, ...).")
    duration_ms: int


@strawberry.type(description="One event for one endpoint: the signed message and every attempt at delivering it.")
class WebhookDelivery:
    # Served from resolvers.partners.webhooks.DeliveryView.
    message_id: str = strawberry.field(description="The message id (msg_...), sent as the webhook-id header.")
    event_type: str
    payload: str = strawberry.field(description="The JSON body, exactly as signed and sent.")
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: dt.datetime | None = strawberry.field(description="When it is tried next (PENDING only).")
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    delivered_at: dt.datetime | None
    attempts: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @strawberry.field(description="The delivery's id (replayWebhookDelivery).")
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("WebhookDelivery", str(self.row_id))  # type: ignore[attr-defined]


@strawberry.input(description="A webhook endpoint to register for a partner app.")
class CreateWebhookEndpointInput:
    client_id: str = strawberry.field(description="The app's OAuth client_id (agp_...).")
    url: str = strawberry.field(description="Where to POST events: https, a public host.")
    event_types: list[str] = strawberry.field(
        description="The events to receive (at least one): client.created, client.updated, contact.created, "
        "contact.updated, contact.deleted, invoice.created, invoice.updated, invoice.sent, invoice.paid, "
        "invoice.voided, payment.created, payment.updated, payment.deleted."
    )


@strawberry.input(description="What to change of a webhook endpoint; omitted fields stay as they are.")
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.UNSET
    event_types: list[str] | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@payload
class WebhookEndpointSecretPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_...), shown this once: give it to the app to verify signatures.",
    )


@payload
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None


@payload
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
