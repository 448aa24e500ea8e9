"""Webhooks: partner apps receive the change log's events they subscribe to and may see, signed
per the Standard Webhooks specification (verified here with the `standardwebhooks` library),
retried with backoff, every attempt logged, replayable; only an ADMIN manages or reads them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from auth.principal import Principal
from models import (
    Client,
    Contact,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Role,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from resolvers.errors import NotFound
from resolvers.partners import webhooks
from resolvers.partners.apps import GRANTABLE_SCOPES, revoke_partner_app
from schema.partners.webhook_render import NodeRenderer
from server.settings import Settings
from tests.conftest import TEST_SECRET
from tests.partners.support import CONSOLE, Registered, access_token, register, touch_client
from tests.utils import codes, count, gid, mutate, portal, rows, staff


@pytest.fixture
def settings() -> Settings:
    """The app under test: receivers on 127.0.0.1 over http, short retries, no background worker."""
    return Settings(
        AGENCY_SECRET_KEY=TEST_SECRET,
        DATABASE_URL="unused",
        AGENCY_WEBHOOK_ALLOW_INSECURE=True,
        AGENCY_WEBHOOK_RETRY_SCHEDULE=(0, 0),
        AGENCY_WEBHOOK_INTERVAL=0,
        AGENCY_OUTBOX_INTERVAL=0,
    )


CREATE = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    endpoint { id appClientId url eventTypes active }
    secret
    errors { field code message }
  }
}"""

DELIVERIES = """
query($id: ID!, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $id, status: $status) {
    totalCount
    edges { node { id messageId eventType status attemptCount payload attempts { statusCode error durationMs } } }
  }
}"""

REPLAY = """
mutation($id: ID!) { replayWebhookDelivery(id: $id) { delivery { status } errors { field code } } }"""


class Receiver:
    """Records what it is sent (httpx MockTransport) and answers `status`."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle), follow_redirects=False)

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every body, each checked against its signature with the receiver's secret."""
        return [Webhook(secret).verify(r.content, dict(r.headers)) for r in self.requests]


async def _admin(api, factory) -> str:
    _, token = await staff(api, factory, Role.ADMIN)
    return token


async def _endpoint(api, token: str, client_id: str, events: list[str], url: str = "http://127.0.0.1:9/hook"):
    payload = await mutate(
        api,
        CREATE,
        {"input": {"clientId": client_id, "url": url, "eventTypes": events}},
        token,
        "createWebhookEndpoint",
    )
    assert payload["errors"] == [], payload["errors"]
    return payload["endpoint"], payload["secret"]


class Hooked(NamedTuple):
    token: str
    acme: Client
    app: Registered
    endpoint: dict[str, Any]
    secret: str


async def _hooked(api, db, factory, url: str = "http://127.0.0.1:9/hook") -> Hooked:
    """An ADMIN's token, the client Acme, an app reading clients and its endpoint for `client.updated`."""
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    app = await register(db, scopes=["clients:read"])
    endpoint, secret = await _endpoint(api, token, app.client_id, ["client.updated"], url=url)
    return Hooked(token, acme, app, endpoint, secret)


async def settle(db) -> None:
    """Wait until every event in the log is settled (on PostgreSQL an event waits for the oldest
    transaction still running in the cluster: other tests' databases share it)."""
    from models import ChangeEvent
    from resolvers.partners.change_log import settled

    for _ in range(200):
        async with db() as session:
            dialect = session.get_bind().dialect.name
            if not await session.scalar(
                sa.select(sa.func.count()).where(sa.not_(settled(dialect))).select_from(ChangeEvent)
            ):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the change log did not settle")


async def _pump(api, db, client: httpx.AsyncClient) -> tuple[int, int]:
    await settle(db)
    render = NodeRenderer(api.app.state.graphql.schema, db)
    return await webhooks.run_once(db, render, client)


# -- signing, subscriptions, scopes --------------------------------------------------------------


async def test_subscribed_events_arrive_signed_and_others_do_not(api, db, factory):
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    app = await register(db, scopes=["clients:read", "invoices:read", "contacts:read"])
    endpoint, secret = await _endpoint(api, token, app.client_id, ["invoice.paid", "client.updated"])
    assert secret.startswith("whsec_") and endpoint["active"] is True

    invoice = await factory.invoice(acme, status=InvoiceStatus.SENT)
    await factory.contact(acme)  # contact.created: not subscribed
    async with db() as session, session.begin():
        await session.execute(sa.update(Client).where(Client.id == acme.id).values(industry="Retail"))
        await session.execute(sa.update(Invoice).where(Invoice.id == invoice.id).values(status=InvoiceStatus.PAID))

    receiver = Receiver()
    async with receiver.client() as client:
        made, attempted = await _pump(api, db, client)
    assert (made, attempted) == (2, 2)
    bodies = receiver.verified(secret)
    assert [b["type"] for b in bodies] == ["client.updated", "invoice.paid"]
    assert bodies[0]["data"]["id"] == gid("Client", acme) and bodies[0]["data"]["name"] == "Acme"
    assert bodies[1]["data"]["id"] == gid("Invoice", invoice) and bodies[1]["data"]["status"] == "PAID"
    assert bodies[1]["data"]["client"] == {"id": gid("Client", acme)}
    for request in receiver.requests:
        assert request.headers["webhook-id"].startswith("msg_")
        assert request.headers["content-type"] == "application/json"
    # A tampered body or another secret fails verification.
    with pytest.raises(Exception, match="signature"):
        Webhook(webhooks.new_secret()).verify(receiver.requests[0].content, dict(receiver.requests[0].headers))

    # Nothing new: the next pass sends nothing again (the position moved past every event).
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (0, 0)
    delivered = await rows(db, WebhookDelivery)
    assert [d.status for d in delivered] == [DeliveryStatus.DELIVERED] * 2
    assert await count(db, WebhookAttempt) == 2


async def test_an_app_limited_to_one_client_never_hears_of_another(api, db, factory):
    token = await _admin(api, factory)
    acme, globex = await factory.client("Acme"), await factory.client("Globex")
    app = await register(db, scopes=["clients:read", "contacts:read", "invoices:read"], clients=[acme])
    _, secret = await _endpoint(
        api, token, app.client_id, ["client.updated", "contact.created", "invoice.created", "payment.created"]
    )
    for client in (acme, globex):
        await touch_client(db, client)
        await factory.contact(client)
        await factory.payment(await factory.invoice(client), "10.00")

    receiver = Receiver()
    async with receiver.client() as client:
        await _pump(api, db, client)
    bodies = receiver.verified(secret)
    assert sorted(b["type"] for b in bodies) == [
        "client.updated",
        "contact.created",
        "invoice.created",
        "payment.created",
    ]
    assert "Globex" not in json.dumps(bodies)
    acme_ids = {gid("Client", acme)}
    assert {b["data"]["id"] for b in bodies if b["type"] == "client.updated"} == acme_ids


async def test_a_payload_holds_only_what_the_apps_scopes_read(api, db, factory):
    token = await _admin(api, factory)
    acme = await factory.client("Acme", internal_notes="Difficult payer")
    plain = await register(db, scopes=["clients:read"])
    insider = await register(db, scopes=["clients:read", "internal:read"])
    _, plain_secret = await _endpoint(api, token, plain.client_id, ["client.updated"], url="http://127.0.0.1:9/plain")
    _, insider_secret = await _endpoint(
        api, token, insider.client_id, ["client.updated"], url="http://127.0.0.1:9/insider"
    )
    await touch_client(db, acme)

    receiver = Receiver()
    async with receiver.client() as client:
        await _pump(api, db, client)
    by_path = {r.url.path: r for r in receiver.requests}
    plain_data = Webhook(plain_secret).verify(by_path["/plain"].content, dict(by_path["/plain"].headers))["data"]
    insider_data = Webhook(insider_secret).verify(by_path["/insider"].content, dict(by_path["/insider"].headers))[
        "data"
    ]
    assert plain_data["name"] == "Acme" and plain_data["industry"] == "Retail"
    for internal in ("internalNotes", "tier", "accountValue", "showCostsInPortal"):
        assert internal not in plain_data
    assert "Difficult payer" not in by_path["/plain"].content.decode()
    assert insider_data["internalNotes"] == "Difficult payer"
    # Money needs invoices:read: neither app gets a balance.
    assert "outstandingAmount" not in plain_data and "outstandingAmount" not in insider_data


async def test_no_scope_no_event_and_no_draft_invoice(api, db, factory):
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    contacts_only = await register(db, scopes=["contacts:read"])
    await _endpoint(api, token, contacts_only.client_id, ["client.updated", "invoice.created"])
    ledger = await register(db, scopes=["invoices:read"])
    _, ledger_secret = await _endpoint(
        api, token, ledger.client_id, ["invoice.created", "invoice.sent"], url="http://127.0.0.1:9/ledger"
    )
    await touch_client(db, acme)
    draft = await factory.invoice(acme, status=InvoiceStatus.DRAFT)

    receiver = Receiver()
    async with receiver.client() as client:
        await _pump(api, db, client)
    assert receiver.requests == []  # a client event without clients:read; a draft for invoices:read

    async with db() as session, session.begin():
        await session.execute(sa.update(Invoice).where(Invoice.id == draft.id).values(status=InvoiceStatus.SENT))
    async with receiver.client() as client:
        await _pump(api, db, client)
    assert [b["type"] for b in receiver.verified(ledger_secret)] == ["invoice.sent"]


async def test_a_drafts_history_is_not_sent_even_when_fanned_out_after_it_is_sent(api, db, factory):
    """The feed's rule (auth.scopes.change_event_scope): an invoice's events from before it was
    sent stay hidden from an app, however late the dispatcher reads them."""
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    ledger = await register(db, scopes=["invoices:read"])
    _, secret = await _endpoint(api, token, ledger.client_id, ["invoice.created", "invoice.updated", "invoice.sent"])
    draft = await factory.invoice(acme, status=InvoiceStatus.DRAFT)
    async with db() as session, session.begin():
        await session.execute(sa.update(Invoice).where(Invoice.id == draft.id).values(notes="net 30"))
    async with db() as session, session.begin():
        await session.execute(sa.update(Invoice).where(Invoice.id == draft.id).values(status=InvoiceStatus.SENT))
    async with db() as session, session.begin():
        await session.execute(sa.update(Invoice).where(Invoice.id == draft.id).values(notes="net 45"))

    receiver = Receiver()
    async with receiver.client() as client:
        await _pump(api, db, client)
    bodies = receiver.verified(secret)
    assert [b["type"] for b in bodies] == ["invoice.sent", "invoice.updated"]
    assert {b["data"]["id"] for b in bodies} == {gid("Invoice", draft)}


async def test_a_deleted_contact_is_announced_by_id_and_type(api, db, factory):
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    contact = await factory.contact(acme)
    app = await register(db, scopes=["contacts:read"])
    _, secret = await _endpoint(api, token, app.client_id, ["contact.deleted"])
    async with db() as session, session.begin():
        await session.execute(sa.delete(Contact).where(Contact.id == contact.id))
    receiver = Receiver()
    async with receiver.client() as client:
        await _pump(api, db, client)
    [body] = receiver.verified(secret)
    assert body["data"] == {"id": gid("Contact", contact), "type": "Contact"}


async def test_a_revoked_apps_endpoint_receives_nothing(api, db, factory):
    token, acme, app, _, _ = await _hooked(api, db, factory)
    async with db() as session, session.begin():
        await session.execute(sa.update(Client).where(Client.id == acme.id).values(industry="Retail"))
        await revoke_partner_app(session, CONSOLE, client_id=app.client_id)
    receiver = Receiver()
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (0, 0)
    assert receiver.requests == []
    # and no endpoint can be registered for it
    payload = await mutate(
        api,
        CREATE,
        {"input": {"clientId": app.client_id, "url": "https://hooks.example.com/x", "eventTypes": ["client.updated"]}},
        token,
        "createWebhookEndpoint",
    )
    assert codes(payload) == ["APP_REVOKED"]


async def test_a_rolled_back_change_sends_nothing(api, db, factory):
    acme = (await _hooked(api, db, factory)).acme
    with pytest.raises(RuntimeError):
        async with db() as session, session.begin():
            await session.execute(sa.update(Client).where(Client.id == acme.id).values(industry="Retail"))
            raise RuntimeError("rolled back")
    receiver = Receiver()
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (0, 0)
    assert receiver.requests == [] and await count(db, WebhookDelivery) == 0


# -- retries, failure, replay (real sockets) -----------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.server.received.append((dict(self.headers.items()), body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Server:
    def __init__(self, port: int) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.received = []  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def received(self) -> list[tuple[dict[str, str], bytes]]:
        return self.httpd.received  # type: ignore[attr-defined,no-any-return]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def real_receiver() -> Iterator[_Server]:
    server = _Server(_free_port())
    yield server
    server.close()


async def test_a_receiver_on_a_real_socket_verifies_the_signature(api, db, factory, real_receiver):
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    app = await register(db, scopes=["invoices:read"])
    port = real_receiver.httpd.server_address[1]
    _, secret = await _endpoint(api, token, app.client_id, ["payment.created"], url=f"http://127.0.0.1:{port}/hooks")
    payment = await factory.payment(await factory.invoice(acme), "125.50")
    async with webhooks.http_client() as client:
        await _pump(api, db, client)
    [(headers, body)] = real_receiver.received
    verified = Webhook(secret).verify(body, headers)
    assert verified["type"] == "payment.created"
    assert verified["data"]["id"] == gid("Payment", payment) and verified["data"]["amount"] == "125.50"


async def test_an_unreachable_receiver_is_retried_then_failed_and_replay_delivers(api, db, factory):
    port = _free_port()  # nothing listens there
    token, acme, _, endpoint, secret = await _hooked(api, db, factory, url=f"http://127.0.0.1:{port}/h")
    webhooks.configure(retry_schedule=(0.3, 0.6), allow_insecure=True)
    try:
        await touch_client(db, acme)
        render = NodeRenderer(api.app.state.graphql.schema, db)
        await settle(db)
        async with webhooks.http_client() as client:
            assert await webhooks.fan_out(db, render) == 1
            assert await webhooks.deliver_due(db, client) == 1
            [delivery] = await rows(db, WebhookDelivery)
            assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
            first_wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
            assert 0.25 <= first_wait <= 0.35
            assert await webhooks.deliver_due(db, client) == 0  # not due yet: backoff
            await asyncio.sleep(0.35)
            assert await webhooks.deliver_due(db, client) == 1
            [delivery] = await rows(db, WebhookDelivery)
            second_wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
            assert 0.55 <= second_wait <= 0.65
            await asyncio.sleep(0.65)
            assert await webhooks.deliver_due(db, client) == 1
            [delivery] = await rows(db, WebhookDelivery)
            assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
            assert delivery.next_attempt_at is None
            assert await webhooks.deliver_due(db, client) == 0

            # The log as an ADMIN reads it: every attempt, each with why it failed.
            log = (await api.data(DELIVERIES, {"id": endpoint["id"]}, token))["webhookDeliveries"]
            [node] = [edge["node"] for edge in log["edges"]]
            assert node["status"] == "FAILED" and node["attemptCount"] == 3
            assert [a["statusCode"] for a in node["attempts"]] == [None, None, None]
            assert all("Connect" in a["error"] for a in node["attempts"])
            failed = (await api.data(DELIVERIES, {"id": endpoint["id"], "status": "FAILED"}, token))[
                "webhookDeliveries"
            ]
            assert failed["totalCount"] == 1

            # Nothing lost: the receiver comes up, the ADMIN replays, it arrives with the same message id.
            server = _Server(port)
            try:
                replayed = await mutate(api, REPLAY, {"id": node["id"]}, token, "replayWebhookDelivery")
                assert replayed == {"delivery": {"status": "PENDING"}, "errors": []}
                assert await webhooks.deliver_due(db, client) == 1
                [(headers, body)] = server.received
            finally:
                server.close()
        assert headers["webhook-id"] == node["messageId"]
        assert Webhook(secret).verify(body, headers)["data"]["industry"] == "Retail"
        [delivery] = await rows(db, WebhookDelivery)
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 4
        assert await count(db, WebhookAttempt) == 4
    finally:
        webhooks.configure(retry_schedule=(0, 0), allow_insecure=True)


async def test_a_non_2xx_answer_and_a_redirect_are_failures(api, db, factory):
    acme = (await _hooked(api, db, factory)).acme
    await touch_client(db, acme)
    receiver = Receiver(status=302)
    async with receiver.client() as client:
        await _pump(api, db, client)
    [delivery] = await rows(db, WebhookDelivery)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3  # the schedule "0,0": 3 attempts
    assert delivery.last_status_code == 302 and delivery.last_error == "HTTP 302"
    assert len(receiver.requests) == 3 and len({r.headers["webhook-id"] for r in receiver.requests}) == 1


# -- the ADMIN API -------------------------------------------------------------------------------


async def test_bad_input_is_typed_and_writes_nothing(api, db, factory):
    token = await _admin(api, factory)
    app = await register(db, scopes=["clients:read"])

    async def create(**fields: Any) -> list[tuple[str, str]]:
        given = {"clientId": app.client_id, "url": "https://hooks.example.com/in", "eventTypes": ["client.updated"]}
        payload = await mutate(api, CREATE, {"input": {**given, **fields}}, token, "createWebhookEndpoint")
        return [(e["field"], e["code"]) for e in payload["errors"]]

    assert await create(url="ftp://hooks.example.com") == [("input.url", "INVALID_URL")]
    assert await create(url="https://user:pw@hooks.example.com/") == [("input.url", "INVALID_URL")]
    assert await create(eventTypes=["client.exploded"]) == [("input.eventTypes[0]", "UNKNOWN_EVENT_TYPE")]
    assert await create(eventTypes=[]) == [("input.eventTypes", "REQUIRED")]
    assert await create(clientId="agp_nope") == [("input.clientId", "NOT_FOUND")]
    assert await count(db, WebhookEndpoint) == 0


async def test_without_insecure_receivers_http_and_private_addresses_are_refused(db, factory):
    webhooks.configure(allow_insecure=False)
    try:
        for url in (
            "http://hooks.example.com/",
            "https://127.0.0.1/",
            "https://10.0.0.5/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://localhost/",
            "https://db.internal/",
        ):
            with pytest.raises(webhooks.InputError) as refused:
                webhooks.checked_url("url", url)
            assert refused.value.code == "INVALID_URL", url
        assert webhooks.checked_url("url", "https://hooks.example.com/in") == "https://hooks.example.com/in"
        # At delivery the host's addresses are checked too: a name that resolves to loopback (or
        # does not resolve here) is not attempted.
        claim = webhooks.Claim(1, "msg_x", "{}", "https://localtest.me/", webhooks.new_secret())
        outcome = await webhooks.attempt(
            httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))), claim
        )
        assert not outcome.delivered and outcome.error
    finally:
        webhooks.configure(retry_schedule=(0, 0), allow_insecure=True)


async def test_update_rotate_and_delete(api, db, factory):
    token, acme, app, endpoint, old_secret = await _hooked(api, db, factory)
    update = """mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {
      updateWebhookEndpoint(id: $id, input: $input) { endpoint { url eventTypes active } errors { field code } } }"""
    changed = await mutate(
        api,
        update,
        {"id": endpoint["id"], "input": {"eventTypes": ["client.created", "client.updated"], "active": False}},
        token,
        "updateWebhookEndpoint",
    )
    assert changed["endpoint"] == {
        "url": "http://127.0.0.1:9/hook",
        "eventTypes": ["client.created", "client.updated"],
        "active": False,
    }
    # Disabled: nothing is sent, but nothing is skipped either; enabled again, it catches up.
    await touch_client(db, acme)
    receiver = Receiver()
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (0, 0)
    rotate = """mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret errors { code } } }"""
    new_secret = (await mutate(api, rotate, {"id": endpoint["id"]}, token, "rotateWebhookEndpointSecret"))["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    await mutate(api, update, {"id": endpoint["id"], "input": {"active": True}}, token, "updateWebhookEndpoint")
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (1, 1)
    assert [b["type"] for b in receiver.verified(new_secret)] == ["client.updated"]

    listed = (await api.data("{ webhookEndpoints { id appClientId } }", token=token))["webhookEndpoints"]
    assert listed == [{"id": endpoint["id"], "appClientId": app.client_id}]
    delete = """mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { endpoint { id } errors { code } } }"""
    assert (await mutate(api, delete, {"id": endpoint["id"]}, token, "deleteWebhookEndpoint"))["errors"] == []
    assert await count(db, WebhookEndpoint) == 0 and await count(db, WebhookDelivery) == 0
    gone = await mutate(api, delete, {"id": endpoint["id"]}, token, "deleteWebhookEndpoint")
    assert codes(gone) == ["NOT_FOUND"]


async def test_only_an_admin_reads_the_delivery_log_or_manages_endpoints(api, db, factory):
    _, acme, app, endpoint, secret = await _hooked(api, db, factory)
    await touch_client(db, acme)
    async with Receiver().client() as client:
        await _pump(api, db, client)
    [delivery] = await rows(db, WebhookDelivery)

    # The team reads the lists (TEAM) but sees no row of them (webhook_scope: the ADMIN's alone).
    _, manager = await staff(api, factory, Role.MANAGER)
    _, member = await staff(api, factory, Role.MEMBER)
    for caller in (manager, member):
        seen = await api.data(DELIVERIES, {"id": endpoint["id"]}, caller)
        assert seen["webhookDeliveries"] == {"totalCount": 0, "edges": []}
        assert (await api.data("{ webhookEndpoints { id } }", token=caller))["webhookEndpoints"] == []

    REFUSED = {"FORBIDDEN", "GRAPHQL_VALIDATION_FAILED"}
    # A portal user and a partner app (even one with every scope) may not ask at all.
    _, client_token = await portal(api, factory, acme)
    partner = await access_token(api.client, await register(db, scopes=GRANTABLE_SCOPES))
    for caller in (client_token, partner):
        for query in (DELIVERIES, "query($id: ID!) { webhookEndpoints { id url } }"):
            body = await api.post(query, {"id": endpoint["id"]}, caller)
            assert not any((body["data"] or {}).values()), body
            assert body["errors"] and {e["extensions"]["code"] for e in body["errors"]} <= REFUSED
            assert "msg_" not in json.dumps(body) and "127.0.0.1" not in json.dumps(body)

    # Every webhook mutation is refused by the mutation role table, before any resolver runs.
    mutations = {
        "createWebhookEndpoint": (
            CREATE,
            {
                "input": {
                    "clientId": app.client_id,
                    "url": "https://hooks.example.com/",
                    "eventTypes": ["client.updated"],
                }
            },
        ),
        "updateWebhookEndpoint": (
            """mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {active: false}) { errors { code } } }""",
            {"id": endpoint["id"]},
        ),
        "rotateWebhookEndpointSecret": (
            """mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret } }""",
            {"id": endpoint["id"]},
        ),
        "deleteWebhookEndpoint": (
            """mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { errors { code } } }""",
            {"id": endpoint["id"]},
        ),
        "replayWebhookDelivery": (REPLAY, {"id": gid("WebhookDelivery", delivery)}),
    }
    for caller in (manager, member, client_token, partner):
        for name, (query, variables) in mutations.items():
            body = await api.post(query, variables, caller)
            assert (body["data"] or {}).get(name) is None, (name, body)
            assert body["errors"] and {e["extensions"]["code"] for e in body["errors"]} <= REFUSED
            assert "whsec_" not in json.dumps(body)
    [still_endpoint] = await rows(db, WebhookEndpoint)
    assert (still_endpoint.secret, still_endpoint.active) == (secret, True)
    [still] = await rows(db, WebhookDelivery)
    assert still.status == DeliveryStatus.DELIVERED and still.attempts == 1

    # Called directly (no policy table in front), the business functions find nothing for anyone
    # but an ADMIN: the endpoint's row scope, and the app's, hide the rows.
    outsider = Principal(user_id=None, role=Role.MANAGER)
    async with db() as session, session.begin():
        for call in (
            webhooks.update_webhook_endpoint(session, outsider, id=still_endpoint.id, active=False),
            webhooks.rotate_webhook_endpoint_secret(session, outsider, id=still_endpoint.id),
            webhooks.delete_webhook_endpoint(session, outsider, id=still_endpoint.id),
            webhooks.replay_webhook_delivery(session, outsider, id=still.id),
            webhooks.create_webhook_endpoint(
                session,
                outsider,
                client_id=app.client_id,
                url="https://hooks.example.com/",
                event_types=["client.updated"],
            ),
        ):
            with pytest.raises(NotFound):
                await call
    [unchanged] = await rows(db, WebhookEndpoint)
    assert (unchanged.secret, unchanged.active) == (secret, True) and await count(db, WebhookDelivery) == 1


async def test_a_new_endpoint_starts_at_the_end_of_the_log(api, db, factory):
    token = await _admin(api, factory)
    acme = await factory.client("Acme")
    await touch_client(db, acme)
    app = await register(db, scopes=["clients:read"])
    await _endpoint(api, token, app.client_id, ["client.created", "client.updated"])
    receiver = Receiver()
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (0, 0)
    await factory.client("Globex")
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (1, 1)


async def test_every_event_is_fanned_out_once_under_concurrent_dispatchers(api, db, factory):
    token = await _admin(api, factory)
    app = await register(db, scopes=["clients:read"])
    await _endpoint(api, token, app.client_id, ["client.created"])
    for n in range(12):
        await factory.client(f"Client {n}")
    render = NodeRenderer(api.app.state.graphql.schema, db)
    await settle(db)
    made = await asyncio.gather(*(webhooks.fan_out(db, render, batch=5) for _ in range(3)))
    assert sum(made) == 12
    deliveries = await rows(db, WebhookDelivery)
    assert len({d.change_event_id for d in deliveries}) == 12
    assert dt.datetime.now(dt.UTC) >= deliveries[0].created_at


def test_the_retry_schedule_setting_is_seconds_separated_by_commas():
    parsed = Settings.model_validate({"AGENCY_SECRET_KEY": TEST_SECRET, "AGENCY_WEBHOOK_RETRY_SCHEDULE": "10, 60,300"})
    assert parsed.webhook_retry_schedule == (10.0, 60.0, 300.0)
    assert Settings(AGENCY_SECRET_KEY=TEST_SECRET).webhook_retry_schedule == (10, 60, 300, 1800, 7200, 21600)
    with pytest.raises(ValueError):
        Settings.model_validate({"AGENCY_SECRET_KEY": TEST_SECRET, "AGENCY_WEBHOOK_RETRY_SCHEDULE": "10,-1"})


async def test_agency_webhooks_deliver_runs_one_pass(api, db, factory, database_url, monkeypatch, capsys):
    from server.cli import main

    acme = (await _hooked(api, db, factory, url=f"http://127.0.0.1:{_free_port()}/h")).acme
    await touch_client(db, acme)
    await settle(db)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AGENCY_WEBHOOK_ALLOW_INSECURE", "1")
    try:
        assert await asyncio.to_thread(main, ["webhooks", "deliver"]) == 0
    finally:
        webhooks.configure(retry_schedule=(0, 0), allow_insecure=True)
    assert "1 new deliveries, 1 attempts" in capsys.readouterr().out
    [delivery] = await rows(db, WebhookDelivery)
    # Nobody listens: the first attempt failed and the next waits the schedule's first 10 seconds.
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1 and delivery.last_error


async def test_a_failed_render_passes_over_nothing(api, db, factory):
    from schema.partners.webhook_render import RenderFailed

    acme = (await _hooked(api, db, factory)).acme
    await touch_client(db, acme)
    await settle(db)

    async def broken(principal, items):
        raise RenderFailed("the database went away")

    with pytest.raises(RenderFailed):
        await webhooks.fan_out(db, broken)
    assert await count(db, WebhookDelivery) == 0
    receiver = Receiver()
    async with receiver.client() as client:
        assert await _pump(api, db, client) == (1, 1)
    assert [r.headers["webhook-id"][:4] for r in receiver.requests] == ["msg_"]
