"""Client portal access, as the guide lays it out: invite a contact, accept, revoke."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import col

from models import Activity, ActivityKind, OutboxEmail, Role, User
from models.people import PortalInvitation
from tests.factories import PASSWORD
from tests.utils import gid

GRANT = """mutation($id: ID!) { grantPortalAccess(contactId: $id) {
  user { id fullName } invitationExpiresAt errors { field code message } } }"""
ACCEPT = """mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p) {
  tokens { accessToken } viewer { email role } errors { field code } } }"""
REVOKE = """mutation($id: ID!) { revokePortalAccess(userId: $id) { user { id } errors { code } } }"""


async def _invitation_token(db, email: str) -> str:
    async with db() as session:
        body = await session.scalar(
            sa.select(col(OutboxEmail.body))
            .where(col(OutboxEmail.to_email) == email)
            .order_by(col(OutboxEmail.id).desc())
        )
    assert body is not None, f"no invitation e-mail was queued for {email}"
    link = re.search(r"token=([\w-]+)", body)
    assert link is not None, f"the invitation e-mail carries no token link: {body}"
    return link.group(1)


async def test_granting_portal_access_invites_the_contact_who_then_sees_only_their_client(api, factory, db):
    acme = await factory.client("Acme")
    await factory.client("Globex")
    contact = await factory.contact(acme, primary=True, email="Pat@Acme.example", full_name="Pat")
    manager = await factory.user(Role.MANAGER)
    staff = await api.login(manager.email, PASSWORD)

    granted = (await api.data(GRANT, {"id": gid("Contact", contact.id)}, staff))["grantPortalAccess"]
    assert granted["errors"] == [] and granted["user"]["fullName"] == "Pat"
    async with db() as session:
        user = await session.scalar(sa.select(User).where(User.contact_id == contact.id))
        invitation = await session.scalar(sa.select(PortalInvitation).where(PortalInvitation.user_id == user.id))
        activity = await session.scalar(sa.select(Activity).where(Activity.kind == ActivityKind.PORTAL_ACCESS_GRANTED))
    assert (user.role, user.client_id, user.email, user.password_hash) == (
        Role.CLIENT,
        acme.id,
        "pat@acme.example",
        None,
    )
    token = await _invitation_token(db, "pat@acme.example")
    assert invitation.token_hash != token and len(invitation.token_hash) == 64  # stored hashed
    assert activity.actor_id == manager.id and activity.client_id == acme.id and activity.client_visible is False

    accepted = (await api.data(ACCEPT, {"t": token, "p": "a-new-long-password"}))["acceptInvitation"]
    assert accepted["errors"] == []
    assert accepted["viewer"] == {"email": "pat@acme.example", "role": "CLIENT"}
    portal = accepted["tokens"]["accessToken"]
    names = await api.data("{ clients { edges { node { name } } } }", token=portal)
    assert [e["node"]["name"] for e in names["clients"]["edges"]] == ["Acme"]

    # One-time: the same link cannot be used again.
    again = (await api.data(ACCEPT, {"t": token, "p": "another-long-password"}))["acceptInvitation"]
    assert again["tokens"] is None and again["errors"][0]["code"] == "INVALID_INVITATION"
    assert await api.login("pat@acme.example", "a-new-long-password")


async def test_an_expired_invitation_is_refused(api, factory, db):
    import datetime as dt

    from models import utcnow

    acme = await factory.client("Acme")
    contact = await factory.contact(acme, email="pat@acme.example")
    staff = await api.login((await factory.user(Role.ADMIN)).email, PASSWORD)
    await api.data(GRANT, {"id": gid("Contact", contact.id)}, staff)
    token = await _invitation_token(db, "pat@acme.example")
    async with db() as session, session.begin():
        await session.execute(sa.update(PortalInvitation).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    refused = (await api.data(ACCEPT, {"t": token, "p": "a-new-long-password"}))["acceptInvitation"]
    assert refused["errors"][0]["code"] == "INVALID_INVITATION"
    async with db() as session:
        assert await session.scalar(sa.select(User.password_hash).where(User.email == "pat@acme.example")) is None


async def test_members_and_clients_may_not_grant_portal_access(api, factory, db):
    acme = await factory.client("Acme")
    contact = await factory.contact(acme, email="pat@acme.example")
    member = await api.login((await factory.user(Role.MEMBER)).email, PASSWORD)
    portal = await api.login((await factory.portal_user(acme)).email, PASSWORD)
    for token in (member, portal):
        body = await api.post(GRANT, {"id": gid("Contact", contact.id)}, token)
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Mutation.grantPortalAccess"}
    async with db() as session:
        assert await session.scalar(sa.select(User.id).where(User.contact_id == contact.id)) is None


async def test_granting_twice_or_to_a_contact_without_email_is_a_typed_error(api, factory, db):
    acme = await factory.client("Acme")
    contact = await factory.contact(acme, email="pat@acme.example")
    no_email = await factory.contact(acme, email=None)
    staff = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    first = (await api.data(GRANT, {"id": gid("Contact", contact.id)}, staff))["grantPortalAccess"]
    await api.data(ACCEPT, {"t": await _invitation_token(db, "pat@acme.example"), "p": "a-new-long-password"})
    twice = (await api.data(GRANT, {"id": gid("Contact", contact.id)}, staff))["grantPortalAccess"]
    assert first["errors"] == [] and twice["errors"][0]["code"] == "ALREADY_HAS_ACCESS"
    missing = (await api.data(GRANT, {"id": gid("Contact", no_email.id)}, staff))["grantPortalAccess"]
    assert missing["errors"][0]["code"] == "CONTACT_HAS_NO_EMAIL"
    unknown = (await api.data(GRANT, {"id": gid("Contact", 999999)}, staff))["grantPortalAccess"]
    assert unknown["errors"][0] == {"field": "contactId", "code": "NOT_FOUND", "message": "No such contact."}
    wrong_type = (await api.data(GRANT, {"id": gid("Client", acme.id)}, staff))["grantPortalAccess"]
    assert wrong_type == unknown  # an id of another type answers exactly as a missing contact does
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.CLIENT)) == 1


async def test_revoking_portal_access_stops_the_users_tokens_at_once(api, factory, db):
    acme = await factory.client("Acme")
    portal_user = await factory.portal_user(acme)
    portal = await api.login(portal_user.email, PASSWORD)
    staff = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    revoked = (await api.data(REVOKE, {"id": gid("User", portal_user.id)}, staff))["revokePortalAccess"]
    assert revoked["errors"] == []
    refused = await api.client.post(
        "/graphql", json={"query": "{ clients { totalCount } }"}, headers={"Authorization": f"Bearer {portal}"}
    )
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    login = await api.post(
        "mutation($e: String!, $p: String!) "
        "{ login(email: $e, password: $p) { tokens { accessToken } errors { code } } }",
        {"e": portal_user.email, "p": PASSWORD},
    )
    assert login["data"]["login"]["tokens"] is None


async def test_a_contact_of_one_client_is_never_linked_to_another(api, factory, db):
    """The portal user's client comes from its contact, whatever the caller sends."""
    acme = await factory.client("Acme")
    await factory.client("Globex")
    contact = await factory.contact(acme, email="pat@acme.example")
    staff = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    await api.data(GRANT, {"id": gid("Contact", contact.id)}, staff)
    async with db() as session:
        user = await session.scalar(sa.select(User).where(User.contact_id == contact.id))
    assert user.client_id == acme.id
    await api.data(ACCEPT, {"t": await _invitation_token(db, "pat@acme.example"), "p": "a-new-long-password"})
    token = await api.login("pat@acme.example", "a-new-long-password")
    data = await api.data("{ me { client { name } contact { fullName } } }", token=token)
    assert data["me"]["client"]["name"] == "Acme"
