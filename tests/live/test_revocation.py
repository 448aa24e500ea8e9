"""An open socket's caller is checked again every RECHECK_SECONDS (server.live): a portal user
whose access is revoked is closed with 4403, an expired token with 4401, both within the
re-check period (plus the token's 5 s of allowed clock skew for the expiry), never after the
token's whole lifetime; a socket whose caller is still valid stays open and keeps receiving.

A server of its own (its users are revoked), SQLite by default, PostgreSQL with
TEST_DATABASE_URL. The access-token lifetime is set in whole minutes (AGENCY_ACCESS_TOKEN_MINUTES,
at least 1), so the expiring token is signed here with the server's key, exactly as the server
signs one, for 2 seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from server.live import RECHECK_SECONDS
from tests.live.support import (
    CLIENT_A,
    CLIENT_B,
    MANAGER,
    OWNER,
    Server,
    closed_with,
    data,
    graphql,
    init,
    live_server,
    partner_app,
    raw_socket,
    receive,
    send,
    subscribed,
)

pytestmark = pytest.mark.browser

LEEWAY_SECONDS = 5  # auth.tokens: the clock skew a token's expiry is allowed
MARGIN_SECONDS = 3.0
NOTIFICATIONS = "subscription { notificationAdded { kind message } }"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with live_server() as live:
        yield live


async def test_an_expired_token_closes_the_socket_4401_within_the_recheck_period(server: Server):
    token = server.short_lived_token(CLIENT_A, seconds=2)
    issued = time.monotonic()
    async with raw_socket(server) as socket:
        assert (await init(socket, token))["type"] == "connection_ack"  # valid when the socket opened
        await send(socket, {"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
        code, received = await closed_with(socket, within=2 + LEEWAY_SECONDS + RECHECK_SECONDS + MARGIN_SECONDS)
    elapsed = time.monotonic() - issued
    assert code == 4401, (code, received, server.live.log_tail())
    assert received == []
    assert elapsed <= 2 + LEEWAY_SECONDS + RECHECK_SECONDS + MARGIN_SECONDS
    refused = graphql(server, "{ me { email } }", token, expect_status=401)  # HTTP says the same
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"], refused


async def test_revoking_portal_access_closes_that_users_socket_4403_and_no_other(server: Server):
    owner = server.token(OWNER)
    ben = server.token(CLIENT_B)
    ben_id = data(server, "{ me { id } }", ben)["me"]["id"]
    task_id = data(server, "{ projects(first: 1) { edges { node { tasks { id } } } } }", server.token(CLIENT_A))[
        "projects"
    ]["edges"][0]["node"]["tasks"][0]["id"]

    async with (
        raw_socket(server) as socket,
        subscribed(server, server.token(CLIENT_A), NOTIFICATIONS) as olivia,
    ):
        olivia_opened = time.monotonic()
        assert (await init(socket, ben))["type"] == "connection_ack"
        await send(socket, {"id": "n", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
        await send(socket, {"id": "p", "type": "ping"})
        assert (await receive(socket))["type"] == "pong"

        revoked = data(
            server,
            "mutation($id: ID!) { revokePortalAccess(userId: $id) { user { isActive } errors { code } } }",
            owner,
            id=ben_id,
        )
        assert revoked["revokePortalAccess"] == {"user": {"isActive": False}, "errors": []}
        at = time.monotonic()
        code, received = await closed_with(socket, within=RECHECK_SECONDS + MARGIN_SECONDS)
        assert code == 4403, (code, received, server.live.log_tail())
        assert time.monotonic() - at <= RECHECK_SECONDS + MARGIN_SECONDS
        assert received == []

        # Olivia's socket has been re-checked meanwhile and is still open: a staff reply reaches it.
        await asyncio.sleep(max(0.0, olivia_opened + RECHECK_SECONDS + 0.5 - time.monotonic()))
        reply = data(
            server,
            'mutation($t: ID!) { addComment(kind: REPLY, body: "Still here?", taskId: $t) { errors { code } } }',
            server.token(MANAGER),
            t=task_id,
        )
        assert reply["addComment"]["errors"] == []
        assert [e["notificationAdded"]["kind"] for e in await olivia.next()] == ["COMMENT_REPLY"]
        assert olivia.error is None

    # And the revoked user cannot open a new one.
    async with raw_socket(server) as socket:
        await send(socket, {"type": "connection_init", "payload": {"Authorization": f"Bearer {ben}"}})
        code, received = await closed_with(socket)
    assert (code, received) == (4403, [])


async def test_revoking_a_partner_app_closes_its_socket_4403(server: Server):
    client_id, token = partner_app(server, ["clients:read"])
    async with raw_socket(server) as socket:
        assert (await init(socket, token))["type"] == "connection_ack"
        revoked = data(
            server,
            "mutation($c: String!) { revokePartnerApp(clientId: $c) { app { revokedAt } errors { code } } }",
            server.token(OWNER),
            c=client_id,
        )["revokePartnerApp"]
        assert revoked["errors"] == [] and revoked["app"]["revokedAt"], revoked
        at = time.monotonic()
        code, received = await closed_with(socket, within=RECHECK_SECONDS + MARGIN_SECONDS)
    assert (code, received) == (4403, [])
    assert time.monotonic() - at <= RECHECK_SECONDS + MARGIN_SECONDS
