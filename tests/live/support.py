"""Real clients against a real server for the subscription tests: `agency serve --demo` in a
subprocess (SQLite by default; with TEST_DATABASE_URL, a PostgreSQL database of its own beside
the suite's, created for the server and dropped afterwards), gql's WebSocket transport as the
subscribing client, raw `websockets` for the protocol's close codes, and httpx for the
mutations (which never go over the socket).

The server's signing key is set here (for one worker), so a test can sign a short-lived token
the way the server does (the access-token lifetime is set in whole minutes)."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from auth.tokens import TokenService
from models import Role
from tests.browser_support import LOGIN, ROOT, LiveServer, _free_port, _stop

PASSWORD = "demo-password"
OWNER = "owner@agency.example"
MANAGER = "maria.manager@agency.example"  # Northwind Coffee's account manager
MEMBER = "dev.member@agency.example"
CLIENT_A = "olivia@northwind.example"  # portal user of Northwind Coffee
CLIENT_B = "ben@bluebird.example"  # portal user of Bluebird Health

START_SECONDS = 90
SUBPROTOCOL = "graphql-transport-ws"
SETTLE_SECONDS = 0.6
"""A subscription opens its inbox shortly after `subscribe` arrives: wait this long before the
mutation that should reach it."""
EVENT_SECONDS = 10.0
"""How long an expected event may take."""
QUIET_SECONDS = 1.5
"""How long a test listens for an event that must not come (after a later one that must)."""


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    live: LiveServer
    secret: str | None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def graphql_url(self) -> str:
        return self.live.graphql_url

    @property
    def ws_url(self) -> str:
        return self.live.graphql_url.replace("http://", "ws://", 1)

    def token(self, email: str) -> str:
        """A signed-in user's access token (one sign-in per user per server: the sign-in limits)."""
        if email not in self.tokens:
            body = graphql(self, LOGIN % (json.dumps(email), json.dumps(PASSWORD)))
            assert body["data"]["login"]["errors"] == [], body
            self.tokens[email] = body["data"]["login"]["tokens"]["accessToken"]
        return self.tokens[email]

    def short_lived_token(self, email: str, seconds: int) -> str:
        """A token for the same user and role as `email`'s, signed with the server's key, that
        expires in `seconds` (the server allows another 5 s of clock skew)."""
        assert self.secret is not None, "a server started with workers=1 knows its key"
        claims = token_claims(self.token(email))
        service = TokenService(
            secret=self.secret, issuer="agency-os", audience="agency-os-api", access_ttl=dt.timedelta(seconds=seconds)
        )
        token, _ = service.issue_access(
            user_id=int(claims["sub"]), role=Role(claims["role"]), client_id=claims.get("cid")
        )
        return token


def token_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@contextlib.contextmanager
def live_server(*, workers: int = 1, postgres: bool | None = None) -> Iterator[Server]:
    """`agency serve --demo` from this checkout on a free port. PostgreSQL when TEST_DATABASE_URL
    names it (or `postgres` says so), in a database of its own; else a fresh SQLite file."""
    pg = postgres_url() if postgres is not False else None
    if postgres and pg is None:
        raise RuntimeError("PostgreSQL needs TEST_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        workdir = pathlib.Path(tempfile.mkdtemp(prefix="agency-live-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        if pg is not None:
            database_url = stack.enter_context(_own_postgres_database(pg))
        else:
            database_url = f"sqlite+aiosqlite:///{workdir / 'demo.db'}"
        secret = secrets.token_urlsafe(48) if workers == 1 else None
        yield Server(live=stack.enter_context(_serve(workdir, database_url, workers, secret)), secret=secret)


@contextlib.contextmanager
def _own_postgres_database(test_url: str) -> Iterator[str]:
    url = make_url(test_url)
    name = f"{url.database}_live"

    async def run(statement: str) -> None:
        admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(sa.text(statement))
        finally:
            await admin.dispose()

    def execute(statement: str) -> None:  # in a thread of its own: a test's event loop may be running
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run(statement)).result()

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SERVE = (sys.executable, "-m", "server.cli", "serve", "--demo", "--host", "127.0.0.1")


@contextlib.contextmanager
def _serve(workdir: pathlib.Path, database_url: str, workers: int, secret: str | None) -> Iterator[LiveServer]:
    env = dict(os.environ)
    env.pop("AGENCY_SECRET_KEY", None)
    env.update(
        DATABASE_URL=database_url,
        AGENCY_OUTBOX_INTERVAL="0",
        AGENCY_JOBS_INTERVAL="0",
        AGENCY_DEBUG="false",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    if secret is not None:
        env["AGENCY_SECRET_KEY"] = secret
    process: subprocess.Popen | None = None
    try:
        for attempt in range(3):  # another process may take the free port before the server binds it
            port = _free_port()
            log_path = workdir / f"server-{attempt}.log"
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    [*SERVE, "--port", str(port), "--workers", str(workers)],
                    cwd=workdir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            server = LiveServer(url=f"http://127.0.0.1:{port}", log_path=log_path)
            if _wait_ready(server, process, workers):
                break
            _stop(process)
            if "address already in use" not in server.log_tail().lower():
                raise RuntimeError(f"the demo server did not start:\n{server.log_tail()}")
        else:
            raise RuntimeError(f"the demo server found no free port:\n{server.log_tail()}")
        yield server
    finally:
        if process is not None:
            _stop(process)


def _wait_ready(server: LiveServer, process: subprocess.Popen, workers: int) -> bool:
    """/readyz answers ready (on PostgreSQL: the answering worker listens), and with several
    workers each one's log says it started. False if the process ended (a taken port, say).
    Longer than the browser tests' wait: the demo's load and several workers' start share a
    busy machine."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        started = server.log_tail(400).count("Application startup complete")
        with contextlib.suppress(httpx.HTTPError):
            # Each request on a new connection, so with several workers any of them may answer.
            if started >= workers and all(
                httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200 for _ in range(4 * workers)
            ):
                return True
        time.sleep(0.1)
    raise RuntimeError(f"the demo server was not ready in {START_SECONDS} s:\n{server.log_tail()}")


# --------------------------------------------------------------------------- HTTP


def graphql(
    server: Server, query: str, token: str | None = None, *, expect_status: int = 200, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=30) as http:  # a fresh connection: with workers, any worker answers
        response = http.post(server.graphql_url, json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == expect_status, response.text
    return response.json()


def data(server: Server, query: str, token: str, **variables: Any) -> dict[str, Any]:
    body = graphql(server, query, token, **variables)
    assert "errors" not in body, body
    return body["data"]


# --------------------------------------------------------------------------- subscribing


class Subscriber:
    """One gql WebSocket session running one subscription in the background: its results in
    `events`, and `error` once the subscription ended with one."""

    def __init__(self, client: Client, document: str, variables: dict[str, Any] | None) -> None:
        self._client = client
        self._document = gql(document)
        self._document.variable_values = variables
        self.events: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self.ended = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def _run(self, session: Any) -> None:
        try:
            async for result in session.subscribe(self._document):
                async with self._arrived:
                    self.events.append(result)
                    self._arrived.notify_all()
        except Exception as error:  # the subscription's error (TransportQueryError) or a closed socket
            self.error = error
        finally:
            self.ended.set()
            async with self._arrived:
                self._arrived.notify_all()

    async def next(self, count: int = 1, within: float = EVENT_SECONDS) -> list[dict[str, Any]]:
        """Wait until at least `count` events arrived; all of them."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.events) >= count or self.ended.is_set()), within
            )
        assert len(self.events) >= count, f"the subscription ended: {self.error!r}"
        return list(self.events)


@contextlib.asynccontextmanager
async def subscribed(
    server: Server, token: str, document: str, variables: dict[str, Any] | None = None, *, settle: bool = True
) -> AsyncIterator[Subscriber]:
    """`document` subscribed over gql's WebSocket transport with `token` in connection_init."""
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # graphql-transport-ws
        connect_timeout=10,
        ack_timeout=10,
        close_timeout=2,
        keep_alive_timeout=None,
    )
    client = Client(transport=transport)
    async with client as session:
        subscriber = Subscriber(client, document, variables)
        subscriber._task = asyncio.create_task(subscriber._run(session))
        try:
            if settle:
                await asyncio.sleep(SETTLE_SECONDS)
            yield subscriber
        finally:
            subscriber._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscriber._task


# --------------------------------------------------------------------------- the raw protocol


@contextlib.asynccontextmanager
async def raw_socket(
    server: Server, subprotocols: tuple[str, ...] = (SUBPROTOCOL,), origin: str | None = None
) -> AsyncIterator[Any]:
    """A bare `websockets` connection to /graphql, for what gql's transport would not send."""
    import websockets

    async with websockets.connect(
        server.ws_url,
        subprotocols=[websockets.Subprotocol(p) for p in subprotocols],
        origin=websockets.Origin(origin) if origin else None,
        open_timeout=10,
        close_timeout=2,
    ) as socket:
        yield socket


async def send(socket: Any, message: dict[str, Any]) -> None:
    await socket.send(json.dumps(message))


async def receive(socket: Any, within: float = EVENT_SECONDS) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), within))


async def init(socket: Any, token: str) -> dict[str, Any]:
    """connection_init with the Bearer token; the server's answer."""
    await send(socket, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    return await receive(socket)


async def closed_with(socket: Any, within: float = EVENT_SECONDS) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the server closes the socket: its close code, and what it sent before."""
    import websockets

    received: list[dict[str, Any]] = []
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(within):
            while True:
                received.append(json.loads(await socket.recv()))
    return socket.close_code, received


def partner_app(server: Server, scopes: list[str]) -> tuple[str, str]:
    """A partner app registered by the owner over the API, and an access token for it from
    POST /oauth/token (client credentials): (client_id, token)."""
    created = data(
        server,
        "mutation($scopes: [String!]!) { createPartnerApp(input: {name: $n, scopes: $scopes}) "
        "{ app { clientId } clientSecret errors { code } } }".replace(
            "$n", json.dumps(f"Live test {secrets.token_hex(3)}")
        ),
        server.token(OWNER),
        scopes=scopes,
    )["createPartnerApp"]
    assert created["errors"] == [], created
    client_id, secret = created["app"]["clientId"], created["clientSecret"]
    with httpx.Client(timeout=30) as http:
        response = http.post(
            f"{server.live.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
    assert response.status_code == 200, response.text
    return client_id, response.json()["access_token"]
