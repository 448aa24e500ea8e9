"""Webhooks: partner apps' endpoints, the dispatcher that fans the change log out to them, the
worker that delivers, and the delivery log an ADMIN reads and replays.

Decisions the brief left open (also in the README's "Webhooks"):
- **Who**: only the agency's ADMIN registers, changes, lists and replays (as for partner apps):
  the mutations are ADMIN only (auth.policy_table MUTATION_ROLES, checked before any resolver
  runs); the lists, and the look-ups every mutation here starts with, find no row for anyone else
  (auth.scopes.webhook_scope and partner_app_scope): called directly by anyone but an ADMIN, a
  function finds nothing (NOT_FOUND) and writes nothing. An app never manages its own.
- **Event types**: every name the change log's triggers write (models.sync.CHANGE_EVENTS), so an
  app may follow `invoice.updated` or `invoice.created` as well as the issue's `invoice.sent`,
  `invoice.paid`, `invoice.voided`, `client.created`/`client.updated`, `contact.*` and
  `payment.created` ("payment recorded"). What an app receives is decided by its scopes anyway.
- **Which events an endpoint gets**: those after its position in the change log that it
  subscribes to and that its app may see *when the event is fanned out* (a new endpoint starts at
  the end of the log as its creating transaction sees it: no history). CLIENT events need
  clients:read, CONTACT contacts:read, INVOICE and PAYMENT invoices:read, within the app's client
  limit, and never a draft invoice: auth.scopes.change_event_scope decides, the one rule the sync
  feed lists by too. An event whose record the app cannot see then is skipped for good (an
  `invoice.created` of a draft: the app hears of it at `invoice.sent`, and an invoice's events
  from before it was sent are skipped even when fanned out after it).
  A deletion (`contact.deleted`, `payment.deleted`) has no record left: it is sent when the app
  holds the entity's scope and the event's client is within its limit, with `data` = {id, type}.
- **The payload** is rendered once, at fan-out (the record as it is then, normally seconds after
  the change), and stored: every attempt and every replay sends the same bytes under the same
  `webhook-id`, as the Standard Webhooks specification expects of a retried message. `data` is
  the record as the app itself would read it with `node(id:)` (the renderer executes exactly
  that query as the app's PARTNER Principal, selecting the fields of the app's own schema view),
  so the field policy decides: no INTERNAL, COST, TEAM or PAYROLL field unless a scope opens it.
- **Revoked apps and disabled endpoints** receive nothing: their endpoints are not fanned out and
  their pending deliveries are not sent. A disabled endpoint keeps its position: enabled again, it
  catches up on the events of the meantime (nothing lost). Deleting an endpoint deletes its log.
- **Delivery**: claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, in turn with the writes on SQLite)
  by moving `next_attempt_at` a lease ahead, released, POSTed (no lock held during the call),
  then recorded: a 2xx is DELIVERED; anything else (another status, a timeout, a refused
  connection, a redirect: redirects are not followed) is retried after RETRY_SCHEDULE (10 s,
  1 min, 5 min, 30 min, 2 h, 6 h: 7 attempts over about 8.6 hours), then FAILED. Every attempt
  is a `webhook_attempt` row. A worker that dies mid-call leaves the claim to expire: the
  delivery is tried again (receivers deduplicate by `webhook-id`).
- **Replay** queues one more attempt now, whatever the status (a FAILED one, or a DELIVERED one
  the receiver lost); if it fails it is FAILED again (replay again once the receiver is fixed).
- **Receiver URLs (SSRF)**: https only, no credentials in the URL, a host name or a public IP
  address; `localhost`, `*.localhost`, `*.local`, `*.internal` and loopback, private, link-local
  (cloud metadata), shared, reserved and multicast addresses are refused when the endpoint is
  saved and again at each attempt after resolving the host (every address it resolves to must be
  public). `AGENCY_WEBHOOK_ALLOW_INSECURE=1` (development and tests only) allows http and those
  addresses. Redirects are never followed, the response body is never read or stored (only the
  status), and each attempt is bounded by a 10 s timeout. The check is at resolution time, so a
  host whose DNS answer changes between the check and the connection (rebinding) is a known,
  documented limit; only an ADMIN can register a URL at all.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from standardwebhooks import Webhook

from auth.principal import Principal
from auth.scopes import change_event_scope, webhook_scope
from models import (
    ChangeEntity,
    ChangeEvent,
    DeliveryStatus,
    PartnerApp,
    PartnerAppClient,
    Role,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from models.db import is_unavailable, write_transaction
from models.sync import CHANGE_EVENTS
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.partners.admin import MAX_CLIENT_ID, app_named, checked_names
from resolvers.partners.change_log import Position, position_of, read_events

log = logging.getLogger("agency.webhooks")

#: Every event an endpoint may subscribe to: the change log's names.
EVENT_TYPES: tuple[str, ...] = tuple(name for names in CHANGE_EVENTS.values() for name in names)
#: Events whose record is gone: their payload's data is {id, type}.
GONE_EVENTS = frozenset(name for name in EVENT_TYPES if name.endswith(".deleted"))
#: The GraphQL type each followed entity is rendered as.
TYPE_NAMES = {
    ChangeEntity.CLIENT: "Client",
    ChangeEntity.CONTACT: "Contact",
    ChangeEntity.INVOICE: "Invoice",
    ChangeEntity.PAYMENT: "Payment",
}

SECRET_PREFIX = "whsec_"
MESSAGE_PREFIX = "msg_"
MAX_URL = 2000
MAX_ERROR = 500
USER_AGENT = "AgencyOS-Webhooks/1"
RETRY_SCHEDULE: tuple[float, ...] = (10, 60, 300, 1800, 7200, 21600)
"""Seconds to wait after the 1st, 2nd, ... failed attempt; after the last, the delivery is FAILED."""


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """How the worker delivers (server.settings sets it: `configure`)."""

    retry_schedule: tuple[float, ...] = RETRY_SCHEDULE
    timeout_seconds: float = 10.0
    # http:// and private, loopback and link-local receivers: development and tests only.
    allow_insecure: bool = False
    # How long a claimed delivery is kept from other workers while its attempt runs.
    lease_seconds: float = 60.0


_config = DeliveryConfig()


def configure(**changes: Any) -> DeliveryConfig:
    """Set how webhooks are delivered (create_app does, from the settings); returns the new config."""
    global _config
    _config = replace(DeliveryConfig(), **changes)
    return _config


def config() -> DeliveryConfig:
    return _config


# -- what an ADMIN reads -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointView:
    """An endpoint as its administrators read it (schema.partners.webhook_types maps these)."""

    row_id: int
    app_client_id: str
    url: str
    event_types: tuple[str, ...]
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempted_at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class DeliveryView:
    row_id: int
    endpoint_row_id: int
    message_id: str
    event_type: str
    payload: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    delivered_at: dt.datetime | None
    attempts: tuple[AttemptView, ...] = ()


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64: the Standard Webhooks secret format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return MESSAGE_PREFIX + secrets.token_hex(16)


def _public_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def _private_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(_PRIVATE_SUFFIXES) or "." not in name


def checked_url(field: str, url: str | None) -> str:
    """A receiver URL by the rules in the module docstring, or INVALID_URL."""
    text = (url or "").strip()
    if not text:
        raise InputError(field, "REQUIRED", "The receiver URL is required.")
    if len(text) > MAX_URL:
        raise InputError(field, "INVALID_URL", f"The URL may be at most {MAX_URL} characters.")
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(field, "INVALID_URL", "This is not a URL.") from None
    insecure = _config.allow_insecure
    if parts.scheme != "https" and not (insecure and parts.scheme == "http"):
        raise InputError(field, "INVALID_URL", "The receiver URL must use https.")
    if not host or any(ch.isspace() for ch in text):
        raise InputError(field, "INVALID_URL", "The URL needs a host name.")
    if parts.username is not None or parts.password is not None:
        raise InputError(field, "INVALID_URL", "Put no credentials in the URL: verify the signature instead.")
    if parts.fragment:
        raise InputError(field, "INVALID_URL", "The URL may not have a fragment.")
    if not insecure:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if _private_name(host):
                raise InputError(field, "INVALID_URL", "The receiver must be a public host.") from None
        else:
            if not _public_ip(address):
                raise InputError(field, "INVALID_URL", "The receiver must be a public address.")
    return text


def checked_event_types(field: str, event_types: Sequence[str] | None) -> str:
    """The event names to subscribe to, checked, as stored: distinct, sorted, space-separated."""
    return checked_names(
        field,
        event_types,
        EVENT_TYPES,
        unknown_code="UNKNOWN_EVENT_TYPE",
        unknown_message=lambda name: f"{name[:60]!r} is not an event; the events are {', '.join(EVENT_TYPES)}.",
        required="Subscribe to at least one event.",
    )


def _view(endpoint: WebhookEndpoint, app_client_id: str) -> EndpointView:
    assert endpoint.id is not None
    return EndpointView(
        row_id=endpoint.id,
        app_client_id=app_client_id,
        url=endpoint.url,
        event_types=tuple(sorted(endpoint.event_set)),
        active=endpoint.active,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


async def _app_for(session: AsyncSession, principal: Principal, client_id: str) -> PartnerApp:
    app = await app_named(session, principal, client_id, lock=False)
    if app.revoked_at is not None:
        raise InputError("clientId", "APP_REVOKED", "This app is revoked: it receives no webhooks.")
    return app


async def _endpoint(session: AsyncSession, principal: Principal, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """The endpoint with this row id and its app's client id, locked until the transaction ends."""
    row = (
        await session.execute(
            sa.select(WebhookEndpoint, col(PartnerApp.oauth_client_id))
            .join(PartnerApp, col(PartnerApp.id) == col(WebhookEndpoint.partner_app_id))
            .where(col(WebhookEndpoint.id) == endpoint_id, webhook_scope(principal))
            .with_for_update(of=WebhookEndpoint)
        )
    ).first()
    if row is None:
        raise NotFound("webhook endpoint", field="id")
    return row[0], row[1]


async def log_end(session: AsyncSession) -> Position:
    """The last event of the change log this transaction sees: where a new endpoint starts (what
    was committed before it is history). On PostgreSQL, a transaction still running then may yet
    commit events that sort before this position (a lower txid): those belong to the history too."""
    last = (
        await session.execute(
            sa.select(col(ChangeEvent.txid), col(ChangeEvent.id))
            .order_by(col(ChangeEvent.txid).desc(), col(ChangeEvent.id).desc())
            .limit(1)
        )
    ).first()
    return Position(-1, 0) if last is None or last[1] is None else Position(last[0], last[1])


async def create_webhook_endpoint(
    session: AsyncSession, principal: Principal, *, client_id: str, url: str, event_types: list[str]
) -> tuple[EndpointView, str]:
    """Register a receiver for an app; returns it and its signing secret, shown this once."""
    checked = checked_url("url", url)
    events = checked_event_types("eventTypes", event_types)
    app = await _app_for(session, principal, client_id)
    assert app.id is not None
    start = await log_end(session)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        partner_app_id=app.id,
        url=checked,
        secret=secret,
        event_types=events,
        position_txid=start.txid,
        position_id=start.id,
    )
    session.add(endpoint)
    await session.flush()
    return _view(endpoint, app.oauth_client_id), secret


async def update_webhook_endpoint(
    session: AsyncSession,
    principal: Principal,
    *,
    id: int,
    url: str | None = None,
    event_types: list[str] | None = None,
    active: bool | None = None,
) -> EndpointView:
    """Change what is given (the URL, the events, whether it is active); the rest stays."""
    checked = checked_url("input.url", url) if url is not None else None
    events = checked_event_types("input.eventTypes", event_types) if event_types is not None else None
    endpoint, app_client_id = await _endpoint(session, principal, id)
    if checked is not None:
        endpoint.url = checked
    if events is not None:
        endpoint.event_types = events
    if active is not None:
        endpoint.active = active
    endpoint.updated_at = utcnow()
    await session.flush()
    return _view(endpoint, app_client_id)


async def rotate_webhook_endpoint_secret(
    session: AsyncSession, principal: Principal, *, id: int
) -> tuple[EndpointView, str]:
    """A new signing secret, shown once; every message from now on (retries too) is signed with it."""
    endpoint, app_client_id = await _endpoint(session, principal, id)
    secret = new_secret()
    endpoint.secret = secret
    endpoint.updated_at = utcnow()
    await session.flush()
    return _view(endpoint, app_client_id), secret


async def delete_webhook_endpoint(session: AsyncSession, principal: Principal, *, id: int) -> EndpointView:
    """Delete an endpoint with its delivery log (disable it instead to keep the log)."""
    endpoint, app_client_id = await _endpoint(session, principal, id)
    view = _view(endpoint, app_client_id)
    deliveries = sa.select(col(WebhookDelivery.id)).where(col(WebhookDelivery.endpoint_id) == id)
    await session.execute(sa.delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
    await session.execute(sa.delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == id))
    await session.delete(endpoint)
    await session.flush()
    return view


async def list_webhook_endpoints(
    db: RequestDb, principal: Principal, *, client_id: str | None = None
) -> list[EndpointView]:
    """The endpoints the caller may see (an ADMIN: all), of one app when `client_id` names it, oldest first."""
    statement = (
        sa.select(WebhookEndpoint, col(PartnerApp.oauth_client_id))
        .join(PartnerApp, col(PartnerApp.id) == col(WebhookEndpoint.partner_app_id))
        .where(webhook_scope(principal))
        .order_by(col(WebhookEndpoint.id))
    )
    if client_id is not None:
        statement = statement.where(col(PartnerApp.oauth_client_id) == client_id[:MAX_CLIENT_ID])
    return [_view(endpoint, app_client_id) for endpoint, app_client_id in await db.rows(statement)]


def _delivery_view(delivery: WebhookDelivery, attempts: tuple[AttemptView, ...] = ()) -> DeliveryView:
    assert delivery.id is not None
    return DeliveryView(
        row_id=delivery.id,
        endpoint_row_id=delivery.endpoint_id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        status=DeliveryStatus(delivery.status),
        attempt_count=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        delivered_at=delivery.delivered_at,
        attempts=attempts,
    )


async def list_webhook_deliveries(
    db: RequestDb,
    principal: Principal,
    *,
    endpoint_id: int | None,
    status: DeliveryStatus | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[DeliveryView]:
    """An endpoint's deliveries, newest first, each with its attempts (one statement for the page's
    attempts); nothing for anyone but an ADMIN."""
    statement = (
        sa.select(WebhookDelivery)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .join(PartnerApp, col(PartnerApp.id) == col(WebhookEndpoint.partner_app_id))
        .where(col(WebhookDelivery.endpoint_id) == (endpoint_id or -1), webhook_scope(principal))
    )
    if status is not None:
        statement = statement.where(col(WebhookDelivery.status) == status.value)
    page = await keyset_page(
        db,
        statement,
        key=SortKey(col(WebhookDelivery.id), "int"),
        id_column=col(WebhookDelivery.id),
        direction=SortDirection.DESC,
        first=first,
        after=after,
    )
    ids = [delivery.id for delivery in page.rows]
    attempts: dict[int, list[AttemptView]] = {}
    if ids:
        for attempt in await db.scalars(
            sa.select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(ids))
            .order_by(col(WebhookAttempt.delivery_id), col(WebhookAttempt.id))
        ):
            attempts.setdefault(attempt.delivery_id, []).append(
                AttemptView(attempt.attempted_at, attempt.status_code, attempt.error, attempt.duration_ms)
            )
    views = [_delivery_view(delivery, tuple(attempts.get(delivery.id or 0, ()))) for delivery in page.rows]
    return Page(
        rows=views,
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        count=page.count,
    )


async def replay_webhook_delivery(session: AsyncSession, principal: Principal, *, id: int) -> DeliveryView:
    """Queue one more attempt now, whatever the delivery's status; the message (id, body) is the same."""
    delivery = await session.scalar(
        sa.select(WebhookDelivery)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .join(PartnerApp, col(PartnerApp.id) == col(WebhookEndpoint.partner_app_id))
        .where(col(WebhookDelivery.id) == id, webhook_scope(principal))
        .with_for_update(of=WebhookDelivery)
    )
    if delivery is None:
        raise NotFound("webhook delivery", field="id")
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING
    delivery.max_attempts = delivery.attempts + 1
    delivery.next_attempt_at = now
    delivery.updated_at = now
    await session.flush()
    return _delivery_view(delivery)


# -- the dispatcher: change log -> deliveries ----------------------------------------------------

#: Renders records as an app reads them: for each (GraphQL type, row id, gone), the record's data
#: (the `node(id:)` selection of the app's schema view), {id, type} for a gone record, or None
#: when the app cannot see it. The schema layer provides it (schema.partners.webhook_render).
Render = Callable[[Principal, Sequence[tuple[str, int, bool]]], Awaitable[list[dict[str, Any] | None]]]


def app_principal(app: PartnerApp, client_ids: Sequence[int]) -> Principal:
    """The app as it reads the API with every scope it holds (server.principal builds the same for a token)."""
    return Principal(
        user_id=None,
        role=Role.PARTNER,
        scopes=app.scope_set,
        grants=frozenset(client_ids),
        partner_app_id=app.id,
    )


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def fan_out_endpoint(
    session_factory: async_sessionmaker[AsyncSession], render: Render, endpoint_id: int, *, batch: int = 100
) -> int | None:
    """Fan one batch of the change log out to one endpoint, in one write transaction: the endpoint
    is locked (FOR UPDATE SKIP LOCKED on PostgreSQL: another worker holding it does this batch),
    the events after its position read in log order, a delivery made for each the endpoint
    subscribes to and its app may see, and the position moved past the whole batch. Returns how
    many deliveries it made, or None when there was nothing (more) to read."""
    async with write_transaction(session_factory) as session:
        endpoint = await session.scalar(
            sa.select(WebhookEndpoint)
            .where(col(WebhookEndpoint.id) == endpoint_id, col(WebhookEndpoint.active).is_(True))
            .with_for_update(skip_locked=True)
        )
        if endpoint is None:
            return None
        app = await session.get(PartnerApp, endpoint.partner_app_id)
        if app is None or app.revoked_at is not None:
            return None
        events = await read_events(session, Position(endpoint.position_txid, endpoint.position_id), limit=batch)
        if not events:
            return None
        client_ids = list(
            await session.scalars(
                sa.select(col(PartnerAppClient.client_id)).where(col(PartnerAppClient.partner_app_id) == app.id)
            )
        )
        principal = app_principal(app, client_ids)
        wanted = [event for event in events if event.event in endpoint.event_set]
        visible: set[int] = set()
        if wanted:
            visible = set(
                await session.scalars(
                    sa.select(col(ChangeEvent.id)).where(
                        col(ChangeEvent.id).in_([event.id for event in wanted]), change_event_scope(principal)
                    )
                )
            )
        chosen = [event for event in wanted if event.id in visible]
        rendered = await render(
            principal, [(TYPE_NAMES[ChangeEntity(e.entity)], e.entity_id, e.event in GONE_EVENTS) for e in chosen]
        )
        now = utcnow()
        made = 0
        max_attempts = len(_config.retry_schedule) + 1
        for event, data in zip(chosen, rendered, strict=True):
            if data is None:  # hidden between the check and the render: skipped like any hidden record
                continue
            assert event.id is not None
            body = {"type": event.event, "timestamp": _timestamp(event.occurred_at), "data": data}
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint_id,
                    message_id=new_message_id(),
                    event_type=event.event,
                    change_event_id=event.id,
                    payload=json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str),
                    max_attempts=max_attempts,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            made += 1
        end = position_of(events[-1])
        endpoint.position_txid, endpoint.position_id = end.txid, end.id
        await session.flush()
        return made


async def fan_out(session_factory: async_sessionmaker[AsyncSession], render: Render, *, batch: int = 100) -> int:
    """Fan the change log out to every active endpoint of an app that is not revoked; returns how
    many deliveries were made."""
    async with session_factory() as session:
        endpoint_ids: list[int] = list(
            await session.scalars(
                sa.select(col(WebhookEndpoint.id))
                .join(PartnerApp, col(PartnerApp.id) == col(WebhookEndpoint.partner_app_id))
                .where(col(WebhookEndpoint.active).is_(True), col(PartnerApp.revoked_at).is_(None))
                .order_by(col(WebhookEndpoint.id))
            )
        )
    made = 0
    for endpoint_id in endpoint_ids:
        while (count := await fan_out_endpoint(session_factory, render, endpoint_id, batch=batch)) is not None:
            made += count
    return made


# -- the worker: deliveries -> HTTP --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    delivery_id: int
    message_id: str
    payload: str
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Outcome(AttemptView):
    """One attempt as the worker makes it: what the delivery log keeps of it, and whether it delivered."""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(claim: Claim, moment: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt (the timestamp is the attempt's)."""
    return {
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(claim.secret).sign(claim.message_id, moment, claim.payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def _resolves_public(url: str) -> str | None:
    """None when every address the URL's host resolves to is public (or insecure receivers are
    allowed); otherwise why not."""
    if _config.allow_insecure:
        return None
    try:
        checked_url("url", url)
    except InputError as error:
        return error.message
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as error:
        return f"cannot resolve {host}: {error}"[:MAX_ERROR]
    for info in infos:
        if not _public_ip(ipaddress.ip_address(info[4][0])):
            return f"{host} resolves to a non-public address"
    return None


async def attempt(client: httpx.AsyncClient, claim: Claim) -> Outcome:
    """POST one message (signed now), reading nothing of the answer but its status."""
    moment = utcnow()
    started = time.monotonic()
    status: int | None = None
    error: str | None = await _resolves_public(claim.url)
    if error is None:
        try:
            async with client.stream(
                "POST",
                claim.url,
                content=claim.payload.encode(),
                headers=signed_headers(claim, moment),
                timeout=_config.timeout_seconds,
                follow_redirects=False,
            ) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:MAX_ERROR] or type(failure).__name__
    return Outcome(moment, status, error, int((time.monotonic() - started) * 1000))


async def _claim(session_factory: async_sessionmaker[AsyncSession], now: dt.datetime, batch: int) -> list[Claim]:
    async with write_transaction(session_factory) as session:
        rows = (
            await session.execute(
                sa.select(WebhookDelivery, col(WebhookEndpoint.url), col(WebhookEndpoint.secret))
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
                .join(PartnerApp, col(PartnerApp.id) == col(WebhookEndpoint.partner_app_id))
                .where(
                    col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                    col(WebhookDelivery.next_attempt_at) <= now,
                    col(WebhookEndpoint.active).is_(True),
                    col(PartnerApp.revoked_at).is_(None),
                )
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(batch)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
        ).all()
        lease = now + dt.timedelta(seconds=_config.lease_seconds)
        claims = []
        for delivery, url, secret in rows:
            assert delivery.id is not None
            delivery.next_attempt_at = lease
            claims.append(Claim(delivery.id, delivery.message_id, delivery.payload, url, secret))
        return claims


async def _record(session_factory: async_sessionmaker[AsyncSession], results: list[tuple[Claim, Outcome]]) -> None:
    schedule = _config.retry_schedule
    async with write_transaction(session_factory) as session:
        deliveries = {
            d.id: d
            for d in await session.scalars(
                sa.select(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_([claim.delivery_id for claim, _ in results]))
                .with_for_update()
            )
        }
        now = utcnow()
        for claim, outcome in results:
            delivery = deliveries.get(claim.delivery_id)
            if delivery is None:  # its endpoint was deleted meanwhile
                continue
            session.add(
                WebhookAttempt(
                    delivery_id=claim.delivery_id,
                    attempted_at=outcome.attempted_at,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                )
            )
            delivery.attempts += 1
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            delivery.updated_at = now
            if outcome.delivered:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = now
                delivery.next_attempt_at = None
            elif delivery.attempts >= delivery.max_attempts or not schedule:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                wait = schedule[min(delivery.attempts, len(schedule)) - 1]
                delivery.status = DeliveryStatus.PENDING
                delivery.next_attempt_at = now + dt.timedelta(seconds=wait)


async def deliver_due(
    session_factory: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, *, batch: int = 20
) -> int:
    """Claim up to `batch` due deliveries, POST them (concurrently, no lock held), record each
    attempt; returns how many were attempted."""
    claims = await _claim(session_factory, utcnow(), batch)
    if not claims:
        return 0
    outcomes = await asyncio.gather(*(attempt(client, claim) for claim in claims))
    await _record(session_factory, list(zip(claims, outcomes, strict=True)))
    return len(claims)


def http_client() -> httpx.AsyncClient:
    """The worker's HTTP client: no redirects, no proxies or credentials from the environment."""
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=_config.timeout_seconds)


async def run_once(
    session_factory: async_sessionmaker[AsyncSession], render: Render, client: httpx.AsyncClient
) -> tuple[int, int]:
    """One pass: fan the change log out, then deliver everything due. Returns (made, attempted).
    While the database is away it stops quietly (the next pass picks up where this one left)."""
    made = attempted = 0
    try:
        made = await fan_out(session_factory, render)
        while (count := await deliver_due(session_factory, client)) > 0:
            attempted += count
    except Exception as error:
        if not is_unavailable(error):
            raise
        log.warning("webhooks wait for the database: %s", error)
    return made, attempted
