"""POST /oauth/token (OAuth 2.0 client credentials) and partner tokens at the API: the token's
shape, every refusal with its exact status and body, tokens refused on their next use once the
app is revoked, its scopes change or its secret is rotated, the rate limit, and last use."""

from __future__ import annotations

import base64
import datetime as dt
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from pydantic import ValidationError

import auth.passwords
from auth import throttle
from auth.policy import decide
from auth.principal import PolicyKey
from auth.tokens import InvalidToken, TokenService
from models import Role
from models.partners import PartnerApp
from resolvers.db import RequestDb
from resolvers.partners import apps
from server.app import create_app
from server.principal import principal_for
from server.settings import Settings
from tests.conftest import TEST_SECRET
from tests.partners.support import CONSOLE, GRANT, TOKEN_URL, access_token, basic, register, request_token
from tests.utils import Api, rows, staff

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
INVALID_TOKEN = {
    "errors": [{"message": "The access token is invalid or expired.", "extensions": {"code": "UNAUTHENTICATED"}}]
}
AUTH_FAILED = {"error": "invalid_client", "error_description": "Client authentication failed."}
AUTH_FAILED_CHALLENGE = 'Basic error="invalid_client", error_description="Client authentication failed."'
API_CHECK = "{ apiVersion me { id } }"
WINDOW = 900
APP_LIMIT, ADDRESS_LIMIT = 30, 50


def _tokens(api: Api) -> TokenService:
    tokens: TokenService = api.app.state.graphql.services.tokens
    return tokens


def _decoded(token: str) -> jwt.Token:
    return jwt.decode(token, OctKey.import_key(TEST_SECRET), algorithms=["HS256"])


def _assert_error(response: httpx.Response, status: int, body: dict) -> None:
    assert response.status_code == status, response.text
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"
    assert {k: response.headers.get(k) for k in NO_STORE} == NO_STORE


async def _app_row(db, client_id: str) -> PartnerApp:
    [row] = await rows(db, PartnerApp, PartnerApp.oauth_client_id == client_id)
    return row


async def _refused_at_the_api(api: Api, token: str) -> None:
    response = await api.client.post(
        "/graphql", json={"query": API_CHECK}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401 and response.json() == INVALID_TOKEN
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


# -- issuing ---------------------------------------------------------------------------------------


async def test_a_token_by_http_basic_is_an_rfc_9068_jwt_with_every_granted_scope(api, db):
    app = await register(db)
    response = await request_token(api.client, app)

    assert response.status_code == 200, response.text
    assert {k: response.headers.get(k) for k in NO_STORE} == NO_STORE
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, "clients:read invoices:read")

    decoded = _decoded(body["access_token"])
    assert decoded.header == {"typ": "at+jwt", "alg": "HS256"}
    claims = decoded.claims
    assert set(claims) == {"iss", "aud", "sub", "client_id", "scope", "iat", "exp", "jti", "gen"}
    assert claims["sub"] == claims["client_id"] == app.client_id
    assert (claims["iss"], claims["aud"]) == ("agency-os", "agency-os-api")
    assert claims["scope"] == "clients:read invoices:read" and claims["gen"] == 1
    assert claims["exp"] - claims["iat"] == 600


async def test_a_token_by_form_fields_with_a_narrower_scope(api, db):
    app = await register(db)
    response = await api.client.post(
        TOKEN_URL,
        data={**GRANT, "client_id": app.client_id, "client_secret": app.secret, "scope": "invoices:read"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "invoices:read"
    assert _decoded(response.json()["access_token"]).claims["scope"] == "invoices:read"


async def test_the_token_lifetime_is_a_setting_of_at_most_an_hour(engine, db):
    settings = Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused", AGENCY_PARTNER_TOKEN_MINUTES=5)
    app = await register(db)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await request_token(client, app)).json()["expires_in"] == 300
    with pytest.raises(ValidationError):
        Settings(AGENCY_SECRET_KEY=TEST_SECRET, AGENCY_PARTNER_TOKEN_MINUTES=61)


# -- refusals --------------------------------------------------------------------------------------


async def test_every_failed_client_authentication_is_one_invalid_client_401(api, db):
    app = await register(db)
    revoked = await register(db)
    async with db() as session, session.begin():
        await apps.revoke_partner_app(session, CONSOLE, client_id=revoked.client_id)

    attempts = {
        "wrong secret": basic(app.client_id, "agps_wrong"),
        "unknown app": basic("agp_" + "0" * 24, app.secret),
        "revoked app": basic(revoked.client_id, revoked.secret),
        "another app's secret": basic(app.client_id, revoked.secret),
    }
    for name, headers in attempts.items():
        response = await api.client.post(TOKEN_URL, data=GRANT, headers=headers)
        _assert_error(response, 401, AUTH_FAILED)
        assert response.headers["www-authenticate"] == AUTH_FAILED_CHALLENGE, name

    by_form = await api.client.post(TOKEN_URL, data={**GRANT, "client_id": app.client_id, "client_secret": "nope"})
    _assert_error(by_form, 401, AUTH_FAILED)
    not_utf8 = {"Authorization": "Basic " + base64.b64encode(b"agp_\xff:agps_\xfe").decode()}
    _assert_error(await api.client.post(TOKEN_URL, data=GRANT, headers=not_utf8), 401, AUTH_FAILED)

    for headers, data in (({}, GRANT), ({}, {**GRANT, "client_id": app.client_id}), (basic(app.client_id, ""), GRANT)):
        response = await api.client.post(TOKEN_URL, data=data, headers=headers)
        _assert_error(
            response,
            401,
            {
                "error": "invalid_client",
                "error_description": "Authenticate the client: HTTP Basic, or client_id and client_secret in the form.",
            },
        )
        assert response.headers["www-authenticate"].startswith('Basic error="invalid_client"')


async def test_malformed_requests_are_invalid_request_and_check_no_secret(api, db, monkeypatch):
    app = await register(db)
    checks: list[str] = []
    real = auth.passwords.verify_password
    monkeypatch.setattr(auth.passwords, "verify_password", lambda p, h: checks.append(p) or real(p, h))
    form = {"content-type": "application/x-www-form-urlencoded", **basic(app.client_id, app.secret)}

    def invalid(description: str) -> dict:
        return {"error": "invalid_request", "error_description": description}

    cases = [
        (
            {"json": GRANT, "headers": basic(app.client_id, app.secret)},
            invalid("A token request is a form: send it as application/x-www-form-urlencoded."),
        ),
        (
            {"data": {"scope": "clients:read"}, "headers": basic(app.client_id, app.secret)},
            invalid("The grant_type parameter is required."),
        ),
        (
            {"content": "grant_type=client_credentials&grant_type=client_credentials", "headers": form},
            invalid("A parameter is repeated: send each one once."),
        ),
        (
            {"content": b"grant_type=client_credentials&scope=%FF", "headers": form},
            invalid("The form is not valid UTF-8 form data."),
        ),
        (
            {"data": {**GRANT, "client_secret": app.secret}, "headers": basic(app.client_id, app.secret)},
            invalid("Authenticate the client one way: HTTP Basic or the form fields, not both."),
        ),
        (
            {"data": {**GRANT, "client_id": "agp_other"}, "headers": basic(app.client_id, app.secret)},
            invalid("The client_id in the form is not the one in the Authorization header."),
        ),
        (
            {"data": {"grant_type": "password"}, "headers": basic(app.client_id, app.secret)},
            {"error": "unsupported_grant_type"},
        ),
        ({"data": {"grant_type": "authorization_code"}, "headers": {}}, {"error": "unsupported_grant_type"}),
    ]
    for kwargs, body in cases:
        _assert_error(await api.client.post(TOKEN_URL, **kwargs), 400, body)
    assert checks == []

    assert (await api.client.get(TOKEN_URL)).status_code == 405


async def test_a_scope_beyond_the_grant_is_invalid_scope(api, db):
    app = await register(db, scopes=["clients:read"])
    for scope in ("clients:read invoices:read", "payments:write", "read:everything"):
        _assert_error(
            await request_token(api.client, app, scope=scope),
            400,
            {
                "error": "invalid_scope",
                "error_description": "The requested scope is unknown or beyond what the app was granted.",
            },
        )
    assert (await request_token(api.client, app, scope="")).json()["scope"] == "clients:read"


# -- at the API ------------------------------------------------------------------------------------


async def test_a_partner_token_reaches_the_api_as_the_partner_and_its_scopes(api, db, factory):
    acme = await factory.client("Acme")
    await factory.client("Globex")
    app = await register(db, scopes=["clients:read", "invoices:read"], clients=[acme])
    token = await access_token(api.client, app, scope="clients:read")

    request_db = RequestDb(db)
    try:
        principal = await principal_for(f"Bearer {token}", _tokens(api), request_db)
    finally:
        await request_db.close()
    assert (principal.user_id, principal.role, principal.client_id) == (None, Role.PARTNER, None)
    assert principal.scopes == frozenset({"clients:read"}) and principal.grants == frozenset({acme.id})

    assert (await api.data(API_CHECK, token=token))["me"] is None
    # Which fields a partner reads is the policy's (auth.policy); the token carries the scopes it decides by.
    for root in ("clients", "invoices"):
        body = await api.post(f"{{ {root} {{ totalCount }} }}", token=token)
        if decide("Query", root, principal.policy_key).allowed:
            assert body["data"][root] is not None and "errors" not in body, root
        else:
            assert body["data"][root] is None, root
            assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
                ("FORBIDDEN", f"Query.{root}")
            ]
    assert not decide("Query", "invoices", principal.policy_key).allowed  # invoices:read was not asked for
    assert not decide("Query", "invoices", PolicyKey(Role.PARTNER)).allowed


async def test_revoking_an_app_refuses_its_token_on_the_next_request(api, db, factory):
    app = await register(db)
    token = await access_token(api.client, app)
    assert (await api.data(API_CHECK, token=token))["apiVersion"]
    _, admin = await staff(api, factory, Role.ADMIN)
    revoke = "mutation($c: String!) { revokePartnerApp(clientId: $c) { errors { code } } }"
    assert (await api.data(revoke, {"c": app.client_id}, admin))["revokePartnerApp"]["errors"] == []

    await _refused_at_the_api(api, token)
    schema = await api.client.get("/graphql/schema.graphql", headers={"Authorization": f"Bearer {token}"})
    assert schema.status_code == 401 and schema.json() == INVALID_TOKEN
    _assert_error(await request_token(api.client, app), 401, AUTH_FAILED)


async def test_shrinking_an_apps_scopes_refuses_the_tokens_it_holds(api, db, factory):
    app = await register(db)
    token = await access_token(api.client, app, scope="clients:read")  # even one within the new grant
    _, admin = await staff(api, factory, Role.ADMIN)
    update = (
        'mutation($c: String!) { updatePartnerAppScopes(clientId: $c, scopes: ["clients:read"]) { errors { code } } }'
    )
    assert (await api.data(update, {"c": app.client_id}, admin))["updatePartnerAppScopes"]["errors"] == []

    await _refused_at_the_api(api, token)
    fresh = await request_token(api.client, app)
    assert fresh.json()["scope"] == "clients:read"
    assert (await api.data(API_CHECK, token=fresh.json()["access_token"]))["apiVersion"]
    assert (await request_token(api.client, app, scope="invoices:read")).json()["error"] == "invalid_scope"


async def test_rotating_the_secret_refuses_the_old_secret_and_its_tokens(api, db, factory):
    app = await register(db)
    token = await access_token(api.client, app)
    _, admin = await staff(api, factory, Role.ADMIN)
    rotate = "mutation($c: String!) { rotatePartnerAppSecret(clientId: $c) { clientSecret errors { code } } }"
    new_secret = (await api.data(rotate, {"c": app.client_id}, admin))["rotatePartnerAppSecret"]["clientSecret"]

    await _refused_at_the_api(api, token)
    _assert_error(await request_token(api.client, app), 401, AUTH_FAILED)
    assert (await request_token(api.client, app, secret=new_secret)).status_code == 200


async def test_user_and_partner_tokens_are_never_taken_for_one_another(api, db, factory):
    app = await register(db)
    partner_token = await access_token(api.client, app)
    user, user_token = await staff(api, factory, Role.ADMIN)
    tokens = _tokens(api)
    with pytest.raises(InvalidToken):
        tokens.verify_access(partner_token)
    with pytest.raises(InvalidToken):
        tokens.verify_partner_access(user_token)

    key = OctKey.import_key(TEST_SECRET)
    now = int(time.time())
    common = {"iss": "agency-os", "aud": "agency-os-api", "iat": now, "exp": now + 300, "jti": "x"}
    as_user = {**common, "sub": str(user.id), "role": "ADMIN"}
    as_partner = {**common, "sub": app.client_id, "client_id": app.client_id, "scope": "clients:read", "gen": 1}
    forged = {
        "a user's claims as at+jwt": ({"typ": "at+jwt"}, as_user),
        "a partner's claims as a user token": ({"typ": "JWT"}, as_partner),
        "a user token naming an app": ({"typ": "JWT"}, {**as_user, "client_id": app.client_id, "gen": 1}),
        "a partner token with a role": ({"typ": "at+jwt"}, {**as_partner, "role": "ADMIN"}),
        "another app as subject": ({"typ": "at+jwt"}, {**as_partner, "sub": "agp_other"}),
        "another token type": ({"typ": "application/jwt"}, as_partner),
    }
    for name, (header, claims) in forged.items():
        token = jwt.encode({"alg": "HS256", **header}, claims, key, algorithms=["HS256"])
        with pytest.raises(InvalidToken):
            tokens.verify_bearer(token)
        response = await api.client.post(
            "/graphql", json={"query": API_CHECK}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401 and response.json() == INVALID_TOKEN, name
    # The same claims, well formed, are accepted: the refusals above are the mix-ups.
    for header, claims in (({"typ": "at+jwt"}, as_partner), ({"typ": "JWT"}, as_user)):
        token = jwt.encode({"alg": "HS256", **header}, claims, key, algorithms=["HS256"])
        assert (await api.post(API_CHECK, token=token))["data"]["apiVersion"]


# -- last use --------------------------------------------------------------------------------------


class PinnedTime:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


async def test_last_use_is_written_at_most_once_a_minute(api, db, statements, monkeypatch):
    pinned = PinnedTime()
    monkeypatch.setattr(apps, "utcnow", pinned)
    app = await register(db)
    assert (await _app_row(db, app.client_id)).last_used_at is None

    start = pinned.now
    token = await access_token(api.client, app)
    assert (await _app_row(db, app.client_id)).last_used_at == start

    pinned.now = start + dt.timedelta(seconds=59)
    statements.reset()
    assert (await api.data(API_CHECK, token=token))["apiVersion"]
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements.statements)
    assert (await _app_row(db, app.client_id)).last_used_at == start

    pinned.now = start + dt.timedelta(seconds=60)
    assert (await api.data(API_CHECK, token=token))["apiVersion"]
    assert (await _app_row(db, app.client_id)).last_used_at == pinned.now

    # A refused token request is no use of the app.
    pinned.now = start + dt.timedelta(hours=1)
    await request_token(api.client, app, secret="agps_wrong")
    assert (await _app_row(db, app.client_id)).last_used_at == start + dt.timedelta(seconds=60)


# -- rate limit ------------------------------------------------------------------------------------


class Clock:
    """The throttle's time, pinned half-way through a window; moved on by hand."""

    def __init__(self) -> None:
        self.now = (int(time.time()) // WINDOW) * WINDOW + WINDOW / 2

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock()
    monkeypatch.setattr(throttle, "clock", pinned)
    return pinned


@pytest.fixture
def secret_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Secret checks made, each answered at once (a real one takes 0.2 s): every agps_ secret of a
    known app is right, anything else wrong."""
    checks: list[str] = []

    def check(secret: str, secret_hash: str | None) -> tuple[bool, str | None]:
        checks.append(secret)
        return secret_hash is not None and secret.startswith("agps_"), None

    monkeypatch.setattr(auth.passwords, "verify_password", check)
    return checks


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["retry-after"])
    assert response.json() == {
        "error": "too_many_requests",
        "error_description": f"Too many token requests; try again in {seconds} seconds.",
    }
    assert {k: response.headers.get(k) for k in NO_STORE} == NO_STORE
    return seconds


async def test_token_requests_are_limited_per_app_successes_and_failures_alike(api, db, clock, secret_checks):
    app = await register(db)
    other = await register(db)
    for attempt in range(APP_LIMIT):
        secret = app.secret if attempt % 2 else "wrong"
        assert (await request_token(api.client, app, secret=secret)).status_code == (200 if attempt % 2 else 401)
    checked = len(secret_checks)

    refused = await request_token(api.client, app)
    wait = _retry_after(refused)
    assert len(secret_checks) == checked  # refused before any secret is checked
    assert (await request_token(api.client, other)).status_code == 200  # another app is not held up

    clock.now += wait
    assert (await request_token(api.client, app)).status_code == 200


async def test_failed_authentications_are_limited_per_address(api, db, clock, secret_checks):
    app = await register(db)
    for attempt in range(ADDRESS_LIMIT):
        unknown = basic(f"agp_guess{attempt}", "agps_guess")
        assert (await api.client.post(TOKEN_URL, data=GRANT, headers=unknown)).status_code == 401
    wait = _retry_after(await request_token(api.client, app))

    transport = httpx.ASGITransport(app=api.app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        assert (await request_token(elsewhere, app)).status_code == 200

    clock.now += wait
    assert (await request_token(api.client, app)).status_code == 200
    # Successes give the address its slot back: they never fill it.
    for _ in range(3):
        assert (await request_token(api.client, app)).status_code == 200
