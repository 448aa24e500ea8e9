"""The HTTP layer under hostile or unlucky requests (issue 11): bodies that are not a GraphQL
request, bodies over the size limit, refused bearer tokens, the database away, security headers
on every response, CORS for listed origins only. Every refusal answers JSON with
`errors[].extensions.code`, never a plain-text 500, and the connection it came on stays usable."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import inspect
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from auth.principal import Principal
from auth.tokens import TokenService
from models import Role, User
from resolvers.db import RequestDb
from resolvers.errors import DatabaseUnavailable
from server.app import create_app
from server.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD

ME = "{ me { email } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { tokens { accessToken } } }"
INVALID_TOKEN = {
    "errors": [{"message": "The access token is invalid or expired.", "extensions": {"code": "UNAUTHENTICATED"}}]
}
ORIGIN = "https://app.agency.example"


def _settings(**env: Any) -> Settings:
    return Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused", **env)


@contextlib.asynccontextmanager
async def _client(engine, **env: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app built with these settings, driven over ASGI."""
    app = create_app(_settings(**env), engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    return body


# ---------------------------------------------------------------- 1. bodies that are not a request

NOT_A_REQUEST = {
    "null": b"null",
    "number": b"1",
    "string": b'"x"',
    "true": b"true",
    "empty": b"",
    "not JSON": b"{not json",
    "not UTF-8": b'{"query": "{ apiVersion \xff }"}',
    "UTF-16": '{"query": "{ apiVersion }"}'.encode("utf-16"),
    "lone surrogate": b'{"query": "{ apiVersion }", "variables": {"name": "\\ud800"}}',
    "NaN": b'{"query": "{ apiVersion }", "variables": {"hours": NaN}}',
    "overflowing number": b'{"query": "{ apiVersion }", "variables": {"hours": 1e999}}',
    "deep nesting": b"[" * 50_000 + b"]" * 50_000,
    "batch": b'[{"query": "{ apiVersion }"}]',
    "operationName a number": b'{"query": "{ apiVersion }", "operationName": 1}',
}


@pytest.mark.parametrize("body", NOT_A_REQUEST.values(), ids=NOT_A_REQUEST.keys())
async def test_a_body_that_is_not_a_graphql_request_is_a_typed_400(api, body):
    response = await api.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    error = _assert_error(response, 400, "BAD_REQUEST")["errors"][0]
    assert "Unexpected" not in error["message"]
    # The same connection (client) goes on working.
    assert (await api.data("{ apiVersion }"))["apiVersion"]


async def test_a_json_body_is_an_object_and_its_bom_and_surrogate_pairs_are_fine(api):
    bom = await api.client.post(
        "/graphql", content=b'\xef\xbb\xbf{"query": "{ apiVersion }"}', headers={"Content-Type": "application/json"}
    )
    assert bom.status_code == 200 and bom.json()["data"]["apiVersion"]
    # An emoji as an ASCII-only encoder writes it: a surrogate pair is one character.
    pair = await api.client.post(
        "/graphql",
        content=b'{"query": "query($x: String) { apiVersion }", "variables": {"x": "\\ud83d\\ude00"}}',
        headers={"Content-Type": "application/json"},
    )
    assert pair.status_code == 200, pair.text


@contextlib.asynccontextmanager
async def _live_server(app: Any) -> AsyncIterator[tuple[uvicorn.Server, str]]:
    """The app under a real uvicorn on a free localhost port, in this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_refused_bodies_and_an_unexpected_error_keep_the_connection_alive(db, engine, factory, monkeypatch):
    """Over a real HTTP/1.1 connection: a plain-text 500 used to be followed by the server
    closing the connection, dropping the client's next request on it."""
    user = await factory.user(Role.ADMIN)

    async def explode(*args: Any, **kwargs: Any) -> Principal:
        raise RuntimeError("a bug")

    def explode_at_once(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    app = create_app(_settings(), engine=engine)
    async with _live_server(app) as (server, url), httpx.AsyncClient(base_url=url) as client:
        login = await client.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"e": user.email, "p": PASSWORD},
            },
        )
        token = login.json()["data"]["login"]["tokens"]["accessToken"]
        for body in (b"null", b"1", b'"x"', b"[]", b"\xff\xfe", b"{not json"):
            response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
            _assert_error(response, 400, "BAD_REQUEST")
        _assert_error(
            await client.post("/graphql", json={"query": ME}, headers={"Authorization": "Bearer x"}),
            401,
            "UNAUTHENTICATED",
        )
        with monkeypatch.context() as patch:
            patch.setattr("server.app.principal_for", explode)
            patch.setattr("server.app.deferred_principal", explode_at_once)
            crashed = await client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
        assert crashed.status_code == 500 and crashed.json() == {
            "errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
        }
        me = await client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
        assert me.json() == {"data": {"me": {"email": user.email}}}
        # Every request above came over the one connection the client opened.
        assert len(server.server_state.connections) == 1
        assert server.server_state.total_requests == 10


# ---------------------------------------------------------------- 2. the body size limit


async def test_a_body_over_the_limit_is_refused_before_any_sql(db, engine, factory, statements):
    async with _client(engine, AGENCY_MAX_BODY_BYTES=2000) as client:
        user = await factory.user(Role.ADMIN)
        login = await client.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"e": user.email, "p": PASSWORD},
            },
        )
        token = login.json()["data"]["login"]["tokens"]["accessToken"]
        big = {"query": "{ apiVersion }", "variables": {"padding": "x" * 2000}}
        statements.reset()
        response = await client.post("/graphql", json=big, headers={"Authorization": f"Bearer {token}"})
        body = _assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert statements.count == 0  # not even the token's user was looked up
        assert body["errors"][0]["extensions"]["maxBytes"] == 2000
        assert response.headers["connection"] == "close"

        # Within the limit: answered as usual.
        fits = await client.post("/graphql", json={"query": "{ apiVersion }", "variables": {"padding": "x" * 1900}})
        assert fits.status_code == 200 and fits.json()["data"]["apiVersion"]


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(engine, db):
    sent: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        for index in range(100):  # 100 x 1000 bytes, no Content-Length
            sent.append(index)
            yield b" " * 1000

    async with _client(engine, AGENCY_MAX_BODY_BYTES=5000) as client:
        response = await client.post("/graphql", content=stream(), headers={"Content-Type": "application/json"})
        assert "content-length" not in response.request.headers
        _assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert len(sent) < 10  # stopped reading early, never buffered the 100 KB


def test_the_default_body_limit_is_one_mebibyte_and_is_configurable(monkeypatch):
    assert _settings().max_body_bytes == 1024 * 1024
    monkeypatch.setenv("AGENCY_MAX_BODY_BYTES", "4096")
    assert Settings().max_body_bytes == 4096


# ---------------------------------------------------------------- 3. refused bearer tokens


def _token_service(settings: Settings, secret: str | None = None) -> TokenService:
    return TokenService(
        secret=secret or settings.signing_key(),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        access_ttl=dt.timedelta(minutes=5),
    )


async def test_every_refused_token_is_one_401_with_the_rfc_6750_challenge(api, factory, db, settings):
    user = await factory.user(Role.ADMIN)
    demoted = await factory.user(Role.MANAGER)
    deactivated = await factory.user(Role.MANAGER)
    good = await api.login(user.email, PASSWORD)
    tokens = _token_service(settings)
    expired, _ = tokens.issue_access(
        user_id=user.id, role=user.role, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    forged, _ = _token_service(settings, "another-key-another-key-another-key!!").issue_access(
        user_id=user.id, role=Role.ADMIN
    )
    header, payload, signature = good.split(".")
    edited_payload = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "==").replace(b'"ADMIN"', b'"MEMBER"')
    ).rstrip(b"=")
    edited = f"{header}.{edited_payload.decode()}.{signature}"
    gone_token, _ = tokens.issue_access(user_id=user.id + 1000, role=Role.MEMBER)  # no such user
    demoted_token = await api.login(demoted.email, PASSWORD)
    deactivated_token = await api.login(deactivated.email, PASSWORD)
    async with db() as session, session.begin():
        (await session.get(User, demoted.id)).role = Role.MEMBER
        (await session.get(User, deactivated.id)).is_active = False

    bearer = {
        "expired": expired,
        "forged": forged,
        "edited": edited,
        "malformed": "not.a.jwt",
        "garbage": "x" * 40,
        "no such user": gone_token,
        "role changed": demoted_token,
        "user deactivated": deactivated_token,
    }
    headers = {name: f"Bearer {token}" for name, token in bearer.items()}
    headers["empty"] = "Bearer "
    headers["lower-case scheme, bad token"] = "bearer nope"
    for name, authorization in headers.items():
        for method, path, kwargs in (
            ("POST", "/graphql", {"json": {"query": ME}}),
            ("GET", "/graphql", {"params": {"query": ME}}),
            ("GET", "/graphql/schema.graphql", {}),
        ):
            response = await api.client.request(method, path, headers={"Authorization": authorization}, **kwargs)
            assert response.status_code == 401, (name, path, response.text[:200])
            assert response.json() == INVALID_TOKEN, (name, path)
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', (name, path)
            assert response.headers["content-type"] == "application/json"

    # Another scheme is no bearer token at all: the same body, a challenge without an error code.
    basic = await api.client.post("/graphql", json={"query": ME}, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401 and basic.json() == INVALID_TOKEN
    assert basic.headers["www-authenticate"] == "Bearer"

    # No Authorization header: anonymous, answered 200 as before; a good token still works.
    anonymous = await api.client.post("/graphql", json={"query": ME})
    assert anonymous.status_code == 200
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.client.get("/graphql/schema.graphql")).status_code == 200
    assert (await api.data(ME, token=good))["me"]["email"] == user.email


async def test_a_refused_token_runs_nothing(api, factory, db, statements):
    """401 before the document is even parsed: a mutation with a dead token writes nothing."""
    statements.reset()
    response = await api.client.post(
        "/graphql",
        json={"query": 'mutation { login(email: "a@b.example", password: "x") { tokens { accessToken } } }'},
        headers={"Authorization": "Bearer not.a.jwt"},
    )
    assert response.status_code == 401 and response.json() == INVALID_TOKEN
    assert statements.count == 0


# ---------------------------------------------------------------- 4. the database away


@pytest.fixture
def database_away(monkeypatch) -> Iterator[None]:
    """Every read and write of a request's database handle fails as the DB layer reports a
    database that is away."""

    async def away(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable(retry_after=7)

    @contextlib.asynccontextmanager
    async def away_transaction(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise DatabaseUnavailable(retry_after=7)
        yield  # pragma: no cover

    # Every read method of the handle (each public coroutine but close), so a new one is covered too.
    reads = [n for n, f in vars(RequestDb).items() if inspect.iscoroutinefunction(f) and n[0] != "_" and n != "close"]
    assert {"rows", "scalars", "scalar", "core_rows", "core_first", "core_scalar"} <= set(reads), reads
    real_settle = RequestDb.settle

    async def settle(self: RequestDb) -> None:
        """The caller's check fails like any read when it is still to make (nothing else to do)."""
        if self._check is not None:
            raise DatabaseUnavailable(retry_after=7)
        await real_settle(self)

    for method in reads:
        monkeypatch.setattr(RequestDb, method, settle if method == "settle" else away)
    monkeypatch.setattr(RequestDb, "transaction", away_transaction)
    yield


def _assert_unavailable(response: httpx.Response) -> dict:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["retry-after"] == "7"
    body = response.json()
    assert body["errors"] and {e["extensions"]["code"] for e in body["errors"]} == {"SERVICE_UNAVAILABLE"}, body
    assert "Unexpected error." not in response.text
    return body


async def test_the_token_lookup_finding_the_database_away_is_a_503(api, database_away):
    token = _token_service(_settings()).issue_access(user_id=1, role=Role.ADMIN)[0]
    _assert_unavailable(
        await api.client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    )
    _assert_unavailable(await api.client.get("/graphql/schema.graphql", headers={"Authorization": f"Bearer {token}"}))


async def test_a_resolver_finding_the_database_away_is_a_503(api, monkeypatch, database_away):
    async def known(*args: Any, **kwargs: Any) -> Principal:
        return Principal(user_id=1, role=Role.ADMIN)

    monkeypatch.setattr("server.app.principal_for", known)  # the token lookup is the test above's
    monkeypatch.setattr("server.app.deferred_principal", lambda *args: None)
    bearer = {"Authorization": "Bearer any"}
    read = _assert_unavailable(
        await api.client.post(
            "/graphql", json={"query": "{ apiVersion clients(first: 5) { totalCount } }"}, headers=bearer
        )
    )
    assert read["data"]["apiVersion"]  # what needed no database still resolved
    assert read["errors"][0]["path"] == ["clients"]
    assert read["errors"][0]["extensions"]["retryAfter"] == 7
    write = 'mutation { createClientStatus(name: "Paused", category: ON_HOLD) { status { id } } }'
    _assert_unavailable(await api.client.post("/graphql", json={"query": write}, headers=bearer))


async def test_readyz_follows_the_database_and_healthz_does_not(api, monkeypatch):
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True}

    async def not_ready(engine: Any) -> bool:
        return False

    monkeypatch.setattr("server.app.database_ready", not_ready)
    down = await api.client.get("/readyz")
    assert down.status_code == 503 and down.json()["ready"] is False
    assert down.headers["retry-after"].isdigit()
    assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    alive = await api.client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}


# ---------------------------------------------------------------- 5. security headers


async def test_every_response_carries_the_security_headers(api, factory):
    responses = {
        "api": await api.client.post("/graphql", json={"query": "{ apiVersion }"}),
        "api error": await api.client.post("/graphql", content=b"null", headers={"Content-Type": "application/json"}),
        "refused token": await api.client.post("/graphql", json={"query": ME}, headers={"Authorization": "Bearer x"}),
        "graphiql": await api.client.get("/graphql", headers={"Accept": "text/html"}),
        "static": await api.client.get("/static/graphiql/graphiql.min.css"),
        "sdl": await api.client.get("/graphql/schema.graphql"),
        "healthz": await api.client.get("/healthz"),
        "readyz": await api.client.get("/readyz"),
        "not found": await api.client.get("/nothing-here"),
        "method": await api.client.delete("/graphql"),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "no-referrer", name
        assert headers["x-frame-options"] == "DENY", name
        assert "frame-ancestors 'none'" in headers["content-security-policy"], name
        assert len(headers.get_list("content-security-policy")) == 1, name
        if name != "graphiql":
            assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'", name
    for name in ("not found", "method"):
        assert responses[name].json()["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "METHOD_NOT_ALLOWED"), name


async def test_the_graphiql_page_allows_its_own_inline_script_by_hash_and_nothing_else(api):
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    csp = dict(directive.strip().split(" ", 1) for directive in page.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["connect-src"] == "'self'"
    assert "unsafe" not in page.headers["content-security-policy"]  # no unsafe-inline, no unsafe-eval
    inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    styles = re.findall(r"<style>(.*?)</style>", page.text, flags=re.S)
    assert len(inline) == 1 and len(styles) == 1

    def sha(source: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"

    assert csp["script-src"] == f"'self' {sha(inline[0])}"
    assert csp["style-src"] == f"'self' {sha(styles[0])}"


@pytest.mark.browser
def test_graphiql_works_under_its_csp_with_no_violation_in_the_console():
    """Headless Chromium on the demo server: GraphiQL loads, signs in and introspects with no
    CSP violation reported, while a script injected into the page is blocked (so the policy is
    in force and the listener hears violations)."""
    from tests.browser_support import GraphiQLPage, chromium, demo_server

    with demo_server() as live, chromium() as driver:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            {
                "source": "window.__cspViolations = [];"
                "document.addEventListener('securitypolicyviolation', function (e) {"
                " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI); });"
            },
        )
        page = GraphiQLPage(driver, live).open()
        page.sign_in("owner@agency.example", "demo-password")
        assert page.whoami() == {"data": {"me": {"email": "owner@agency.example", "role": "ADMIN"}}}
        page.wait_for_signed_in_schema()
        assert "clients" in page.docs_fields_of("Query")

        assert driver.execute_script("return window.__cspViolations") == []
        console = driver.get_log("browser")
        assert not [entry for entry in console if "Content Security Policy" in entry["message"]], console

        driver.execute_script(
            "var s = document.createElement('script'); s.textContent = 'window.__injected = true';"
            "document.body.appendChild(s);"
        )
        page.until(lambda: driver.execute_script("return window.__cspViolations.length"), "no violation reported")
        assert driver.execute_script("return window.__injected === undefined")


# ---------------------------------------------------------------- 6. CORS

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}


async def test_no_cors_headers_by_default(engine, db):
    async with _client(engine) as client:
        preflight = await client.options("/graphql", headers={"Origin": ORIGIN, **PREFLIGHT})
        assert "access-control-allow-origin" not in preflight.headers
        _assert_error(preflight, 405, "METHOD_NOT_ALLOWED")
        post = await client.post("/graphql", json={"query": "{ apiVersion }"}, headers={"Origin": ORIGIN})
        assert post.status_code == 200 and "access-control-allow-origin" not in post.headers


async def test_cors_for_listed_origins_only(engine, db):
    async with _client(engine, AGENCY_CORS_ORIGINS=f"{ORIGIN}, http://localhost:5173") as client:
        preflight = await client.options("/graphql", headers={"Origin": ORIGIN, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert set(preflight.headers["access-control-allow-methods"].replace(" ", "").split(",")) >= {"GET", "POST"}
        allowed_headers = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers and "content-type" in allowed_headers
        assert "access-control-allow-credentials" not in preflight.headers  # bearer tokens, no cookies

        post = await client.post("/graphql", json={"query": "{ apiVersion }"}, headers={"Origin": ORIGIN})
        assert post.headers["access-control-allow-origin"] == ORIGIN
        # A refusal is readable by the listed front end too.
        refused = await client.post(
            "/graphql", json={"query": ME}, headers={"Origin": ORIGIN, "Authorization": "Bearer x"}
        )
        assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == ORIGIN

        other = "https://elsewhere.example"
        denied = await client.options("/graphql", headers={"Origin": other, **PREFLIGHT})
        assert "access-control-allow-origin" not in denied.headers
        _assert_error(denied, 400, "CORS_REFUSED")
        post_other = await client.post("/graphql", json={"query": "{ apiVersion }"}, headers={"Origin": other})
        assert "access-control-allow-origin" not in post_other.headers

        unlisted_header = await client.options(
            "/graphql",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-secret",
            },
        )
        _assert_error(unlisted_header, 400, "CORS_REFUSED")


def test_cors_origins_are_read_comma_separated(monkeypatch):
    assert _settings().cors_origins == []
    monkeypatch.setenv("AGENCY_CORS_ORIGINS", f" {ORIGIN}/ ,http://localhost:5173,, ")
    assert Settings().cors_origins == [ORIGIN, "http://localhost:5173"]
