"""A deleted row cannot be re-read under the subscriber's row scope, so its deletion is shown to
whoever sees its parent (resolvers/live/visible.py): a task's to those who see its project, a
deliverable's to those who see its task; and a portal user never hears of the deletion of a task
that was hidden from it. SQLite and PostgreSQL."""

from __future__ import annotations

from models import Role
from resolvers.db import RequestDb
from resolvers.live.events import Change, LiveEvent, Topic
from resolvers.live.visible import may_see_deletion
from server.principal import principal_for_email


async def _sees(db, email: str, event: LiveEvent) -> bool:
    handle = RequestDb(db)
    try:
        principal = await principal_for_email(email, handle)
        assert principal is not None
        return await may_see_deletion(handle, principal, event)
    finally:
        await handle.close()


async def test_a_deletion_reaches_those_who_saw_the_row_and_no_one_else(db, factory):
    own, other = await factory.client("Own"), await factory.client("Other")
    project, elsewhere = await factory.project(own), await factory.project(other)
    shown = await factory.task(project, visible_to_client=True)
    portal = await factory.portal_user(own)
    stranger = await factory.portal_user(other)
    manager = await factory.user(Role.MANAGER)

    def task_deleted(project_id: int, visible: bool) -> LiveEvent:
        return LiveEvent(Topic.TASK, Change.DELETED, 999, {"project_id": project_id, "visible_to_client": int(visible)})

    visible_task_gone = task_deleted(project.id, True)
    hidden_task_gone = task_deleted(project.id, False)
    assert await _sees(db, portal.email, visible_task_gone) is True
    assert await _sees(db, portal.email, hidden_task_gone) is False  # not even its existence
    assert await _sees(db, manager.email, hidden_task_gone) is True
    assert await _sees(db, stranger.email, visible_task_gone) is False  # another client's project
    assert await _sees(db, portal.email, task_deleted(elsewhere.id, True)) is False

    deliverable_gone = LiveEvent(Topic.DELIVERABLE, Change.DELETED, 5, {"task_id": shown.id})
    assert await _sees(db, portal.email, deliverable_gone) is True
    assert await _sees(db, stranger.email, deliverable_gone) is False
    # Only deletions are decided this way; anything else is re-read.
    assert await _sees(db, manager.email, LiveEvent(Topic.TASK, Change.UPDATED, shown.id, {})) is False
