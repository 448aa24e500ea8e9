"""/portal/accept, the page the invitation e-mail links to: the link opens a form, the form sets
the password (then the portal user signs in), a used or unknown link says so and changes nothing;
GET / leads to the playground; invitations link to the address the server serves."""

from __future__ import annotations

import sqlalchemy as sa

from models import Role, User
from server.cli import served_url
from tests.factories import PASSWORD
from tests.portal.test_access import GRANT, _invitation_token
from tests.utils import gid


async def _invite(api, factory, db) -> str:
    acme = await factory.client("Acme")
    contact = await factory.contact(acme, primary=True, email="pat@acme.example", full_name="Pat")
    manager = await factory.user(Role.MANAGER)
    granted = await api.data(GRANT, {"id": gid("Contact", contact.id)}, await api.login(manager.email, PASSWORD))
    assert granted["grantPortalAccess"]["errors"] == []
    return await _invitation_token(db, "pat@acme.example")


async def _post(api, fields: dict[str, str]):
    return await api.client.post(
        "/portal/accept", data=fields, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


async def test_the_invitation_link_opens_a_form_that_sets_the_password(api, factory, db):
    token = await _invite(api, factory, db)
    page = await api.client.get("/portal/accept", params={"token": token})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'name="token" value="{token}"' in page.text and 'method="post"' in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "<script" not in page.text

    done = await _post(
        api, {"token": token, "password": "a-new-long-password", "password_again": "a-new-long-password"}
    )
    assert done.status_code == 200 and "pat@acme.example" in done.text and "password is set" in done.text
    assert await api.login("pat@acme.example", "a-new-long-password")

    again = await _post(
        api, {"token": token, "password": "other-long-password", "password_again": "other-long-password"}
    )
    assert again.status_code == 400 and "not valid any more" in again.text
    assert await api.login("pat@acme.example", "a-new-long-password")


async def test_mismatched_short_or_unknown_input_changes_nothing(api, factory, db):
    token = await _invite(api, factory, db)
    cases = [
        ({"token": token, "password": "a-new-long-password", "password_again": "different-password"}, "differ"),
        ({"token": token, "password": "short", "password_again": "short"}, "at least 10 characters"),
        ({"token": "nope", "password": "a-new-long-password", "password_again": "a-new-long-password"}, "not valid"),
        ({"password": "a-new-long-password"}, "incomplete"),
    ]
    for fields, says in cases:
        response = await _post(api, fields)
        assert response.status_code == 400 and says in response.text, (fields, response.text)
    async with db() as session:
        assert await session.scalar(sa.select(User.password_hash).where(User.email == "pat@acme.example")) is None
    # Markup in the token is escaped, never echoed as HTML.
    echoed = await api.client.get("/portal/accept", params={"token": '"><script>alert(1)</script>'})
    assert "<script>" not in echoed.text and "&lt;script&gt;" in echoed.text


async def test_the_root_leads_to_the_playground(api):
    response = await api.client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/graphql"


def test_invitations_link_to_the_address_the_server_serves():
    assert served_url("127.0.0.1", 8123) == "http://127.0.0.1:8123/portal/accept"
    assert served_url("::1", 9000) == "http://[::1]:9000/portal/accept"
    assert served_url("0.0.0.0", 80).endswith(":80/portal/accept") and "0.0.0.0" not in served_url("0.0.0.0", 80)
