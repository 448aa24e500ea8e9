"""Sign-in, tokens and the Principal."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from auth.tokens import TokenService
from models import Role
from models.people import LoginEvent, RefreshToken
from tests.factories import PASSWORD
from tests.utils import LOGIN

CLIENTS = "{ clients(first: 5) { totalCount edges { node { id name } } } }"
# Every refused token: one 401, one body, whatever the reason (no oracle), and RFC 6750's challenge.
REFUSED = {
    "errors": [{"message": "The access token is invalid or expired.", "extensions": {"code": "UNAUTHENTICATED"}}]
}


async def _refused(api, token: str) -> None:
    response = await api.client.post("/graphql", json={"query": CLIENTS}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json() == REFUSED
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


REFRESH = """mutation($t: String!) { refreshToken(refreshToken: $t) {
  tokens { accessToken refreshToken } errors { field code message } } }"""


async def test_login_returns_tokens_and_me_returns_the_caller(api, factory):
    user = await factory.user(Role.MANAGER, email="maria@agency.example", full_name="Maria")
    token = await api.login("Maria@Agency.example ", PASSWORD)
    data = await api.data("{ me { fullName email role readOnly } }", token=token)
    assert data["me"] == {"fullName": "Maria", "email": "maria@agency.example", "role": "MANAGER", "readOnly": False}
    assert user.id is not None


async def test_login_records_the_login_event(api, factory, db):
    user = await factory.user(Role.MEMBER)
    await api.login(user.email, PASSWORD)
    async with db() as session:
        events = (await session.scalars(sa.select(LoginEvent).where(LoginEvent.user_id == user.id))).all()
    assert len(events) == 1 and events[0].ip_address == "127.0.0.1"


async def test_wrong_password_and_unknown_email_get_the_same_error(api, factory):
    user = await factory.user()
    wrong = await api.data(LOGIN, {"email": user.email, "password": "not-the-password"})
    unknown = await api.data(LOGIN, {"email": "nobody@agency.example", "password": "not-the-password"})
    assert wrong["login"]["tokens"] is None
    assert wrong["login"]["errors"] == unknown["login"]["errors"]
    assert wrong["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_anonymous_caller_gets_no_client_data_and_unauthenticated(api, factory):
    await factory.client("Secret Co")
    body = await api.post(CLIENTS)
    assert body["data"] == {"clients": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "Secret Co" not in str(body)


async def test_expired_token_gets_a_clear_error_not_a_stack_trace(api, factory, settings):
    user = await factory.user()
    tokens = TokenService(
        secret=settings.signing_key(),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        access_ttl=dt.timedelta(minutes=5),
    )
    old, _ = tokens.issue_access(user_id=user.id, role=user.role, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    await _refused(api, old)


async def test_forged_token_is_refused(api, factory):
    user = await factory.user(Role.ADMIN)
    forged = TokenService(
        secret="another-key-another-key-another-key!!",
        issuer="agency-os",
        audience="agency-os-api",
        access_ttl=dt.timedelta(minutes=5),
    ).issue_access(user_id=user.id, role=Role.ADMIN)[0]
    await _refused(api, forged)
    await _refused(api, "not.a.jwt")


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(api, factory, db):
    user = await factory.user()
    _, first = await api.login_pair(user.email, PASSWORD)
    rotated = (await api.data(REFRESH, {"t": first}))["refreshToken"]
    assert rotated["errors"] == []
    second = rotated["tokens"]["refreshToken"]
    assert second != first
    assert (await api.data("{ me { email } }", token=rotated["tokens"]["accessToken"]))["me"]["email"] == user.email

    replay = (await api.data(REFRESH, {"t": first}))["refreshToken"]
    assert replay["tokens"] is None and replay["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"
    # The replay revoked the family: the token rotated from it is dead too.
    after = (await api.data(REFRESH, {"t": second}))["refreshToken"]
    assert after["tokens"] is None
    async with db() as session:
        live = await session.scalar(
            sa.select(sa.func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))
        )
    assert live == 0


async def test_logout_revokes_the_refresh_token(api, factory):
    user = await factory.user()
    _, refresh = await api.login_pair(user.email, PASSWORD)
    out = await api.data("mutation($t: String!) { logout(refreshToken: $t) { ok } }", {"t": refresh})
    assert out["logout"]["ok"] is True
    again = (await api.data(REFRESH, {"t": refresh}))["refreshToken"]
    assert again["tokens"] is None


async def test_deactivated_user_token_stops_working(api, factory, db):
    from models import User

    user = await factory.user()
    token = await api.login(user.email, PASSWORD)
    async with db() as session, session.begin():
        (await session.get(User, user.id)).is_active = False
    await _refused(api, token)
