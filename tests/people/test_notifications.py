"""Each user reads and clears only their own notifications."""

from __future__ import annotations

import sqlalchemy as sa
from strawberry.relay import GlobalID

from models import Notification, Role
from tests.factories import PASSWORD

LIST = """query($unread: Boolean!) { notifications(unreadOnly: $unread) {
  totalCount edges { node { id kind message readAt } } } }"""
MARK = """mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) { marked errors { field code } } }"""


async def test_a_staff_reply_reaches_the_portal_users_notifications_and_no_one_elses(api, factory, db):
    mine = await factory.client("Mine Ltd")
    other = await factory.client("Other Co")
    task = await factory.task(await factory.project(mine), title="Homepage")
    me = await factory.portal_user(mine)
    them = await factory.portal_user(other)
    staff = await factory.user(Role.MANAGER)
    staff_token = await api.login(staff.email, PASSWORD)
    reply = await api.data(
        'mutation($t: ID!) { addComment(taskId: $t, kind: REPLY, body: "Ready for review") { errors { code } } }',
        {"t": str(GlobalID("Task", str(task.id)))},
        staff_token,
    )
    assert reply["addComment"]["errors"] == []
    await api.data(
        'mutation($t: ID!) { addComment(taskId: $t, kind: NOTE, body: "Internal only") { errors { code } } }',
        {"t": str(GlobalID("Task", str(task.id)))},
        staff_token,
    )

    mine_token = await api.login(me.email, PASSWORD)
    mine_list = (await api.data(LIST, {"unread": True}, mine_token))["notifications"]
    assert mine_list["totalCount"] == 1
    assert mine_list["edges"][0]["node"]["kind"] == "COMMENT_REPLY" and "Internal" not in str(mine_list)
    their_list = (await api.data(LIST, {"unread": False}, await api.login(them.email, PASSWORD)))["notifications"]
    assert their_list == {"totalCount": 0, "edges": []}

    # Someone else's notification id marks nothing.
    async with db() as session:
        mine_id = await session.scalar(sa.select(Notification.id).where(Notification.user_id == me.id))
    gid = str(GlobalID("Notification", str(mine_id)))
    assert (await api.data(MARK, {"ids": [gid]}, await api.login(them.email, PASSWORD)))["markNotificationsRead"][
        "marked"
    ] == 0
    assert (await api.data(MARK, {"ids": [gid]}, mine_token))["markNotificationsRead"]["marked"] == 1
    assert (await api.data(LIST, {"unread": True}, mine_token))["notifications"]["totalCount"] == 0
    node = await api.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": gid}, await api.login(them.email, PASSWORD)
    )
    assert node["node"] is None


async def test_anonymous_callers_have_no_notifications(api):
    body = await api.post(LIST, {"unread": False})
    assert body["data"] == {"notifications": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
