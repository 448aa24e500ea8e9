"""View as client: a manager previews the portal exactly as one client user sees it, read-only."""

from __future__ import annotations

import sqlalchemy as sa

from models import Activity, ActivityKind, CommentKind, Role
from tests.factories import PASSWORD
from tests.utils import gid

VIEW_AS = (
    """mutation($id: ID!) { viewAs(userId: $id) { accessToken expiresAt user { fullName } errors { code field } } }"""
)
PORTAL = """{
  clients { totalCount edges { node { name internalNotes projects { name tasks { title comments { kind body } } } } } }
}"""


async def _setup(factory):
    acme = await factory.client("Acme", internal_notes="CANARY-NOTES")
    await factory.client("Globex")
    project = await factory.project(acme, name="Website")
    task = await factory.task(project, title="Design")
    await factory.comment(task, CommentKind.REPLY, "Looks good")
    await factory.comment(task, CommentKind.NOTE, "CANARY-NOTE")
    portal_user = await factory.portal_user(acme)
    manager = await factory.user(Role.MANAGER)
    return acme, portal_user, manager


async def test_view_as_answers_exactly_what_the_client_user_sees(api, factory):
    _, portal_user, manager = await _setup(factory)
    own = await api.post(PORTAL, token=await api.login(portal_user.email, PASSWORD))
    staff = await api.login(manager.email, PASSWORD)
    issued = (await api.data(VIEW_AS, {"id": gid("User", portal_user.id)}, staff))["viewAs"]
    assert issued["errors"] == [] and issued["user"]["fullName"] == portal_user.full_name
    viewed = await api.post(PORTAL, token=issued["accessToken"])
    assert viewed == own
    assert "CANARY" not in str(viewed)
    me = await api.data("{ me { readOnly actingUserId email } }", token=issued["accessToken"])
    assert me["me"] == {"readOnly": True, "actingUserId": gid("User", manager.id), "email": portal_user.email}


async def test_every_mutation_with_a_view_as_token_is_refused(api, factory, db):
    _, portal_user, manager = await _setup(factory)
    staff = await api.login(manager.email, PASSWORD)
    token = (await api.data(VIEW_AS, {"id": gid("User", portal_user.id)}, staff))["viewAs"]["accessToken"]
    body = await api.post(VIEW_AS, {"id": gid("User", portal_user.id)}, token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Mutation.viewAs"}
    logout = await api.post('mutation { logout(refreshToken: "x") { ok } }', token=token)
    assert logout["data"] is None and logout["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_issuing_and_using_view_as_is_logged_with_the_real_actor(api, factory, db):
    acme, portal_user, manager = await _setup(factory)
    staff = await api.login(manager.email, PASSWORD)
    token = (await api.data(VIEW_AS, {"id": gid("User", portal_user.id)}, staff))["viewAs"]["accessToken"]
    await api.post(PORTAL, token=token)
    await api.post(PORTAL, token=token)
    async with db() as session:
        rows = (
            await session.execute(
                sa.select(
                    Activity.kind,
                    Activity.actor_id,
                    Activity.on_behalf_of_id,
                    Activity.client_id,
                    Activity.client_visible,
                )
                .where(Activity.kind.in_([ActivityKind.VIEW_AS_ISSUED, ActivityKind.VIEW_AS_USED]))
                .order_by(Activity.id)
            )
        ).all()
    assert [r.kind for r in rows] == [ActivityKind.VIEW_AS_ISSUED, ActivityKind.VIEW_AS_USED, ActivityKind.VIEW_AS_USED]
    assert {r.actor_id for r in rows} == {manager.id}
    assert [r.on_behalf_of_id for r in rows] == [None, portal_user.id, portal_user.id]
    assert {(r.client_id, r.client_visible) for r in rows} == {(acme.id, False)}


async def test_only_managers_and_admins_may_view_as_and_only_as_a_client_user(api, factory):
    _, portal_user, manager = await _setup(factory)
    member = await api.login((await factory.user(Role.MEMBER)).email, PASSWORD)
    refused = await api.post(VIEW_AS, {"id": gid("User", portal_user.id)}, member)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    staff = await api.login(manager.email, PASSWORD)
    as_staff = (await api.data(VIEW_AS, {"id": gid("User", manager.id)}, staff))["viewAs"]
    assert as_staff["accessToken"] is None and as_staff["errors"] == [{"code": "NOT_FOUND", "field": "userId"}]
