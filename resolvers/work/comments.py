"""Comments: a REPLY (the client sees it) or a NOTE (internal), always chosen explicitly.

Who is told (decisions, also in the README):
- A staff REPLY notifies the client's active portal users (a Notification row and an
  outbox e-mail each), unless it is on a task hidden from the client: they could not
  open it, and the task's title would leak.
- A portal user's REPLY notifies the task's assignee and the client's account manager
  (active team members only; never the author), with a Notification row and an e-mail.
- A NOTE notifies nobody and its feed entry is internal; its body is never in a summary.
- A CLIENT may add REPLYs only (a NOTE is refused, FORBIDDEN) and only on its own visible
  tasks and projects: anything else is NOT_FOUND, exactly like a task that does not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import client_scope, project_scope, task_scope, user_scope
from models import ActivityKind, Client, Comment, CommentKind, Project, Role, Task, User
from models.enums import STAFF_ROLES
from resolvers.activity import notify, queue_email, record_activity
from resolvers.errors import InputError, NotFound
from resolvers.validation import required_text

MAX_BODY = 10000


async def add_comment(
    session: AsyncSession,
    principal: Principal,
    *,
    task_id: int | None,
    project_id: int | None,
    kind: CommentKind,
    body: str,
) -> Comment:
    if task_id is None and project_id is None:
        raise InputError("taskId", "REQUIRED", "Say which task or project the comment is on.")
    if task_id is not None and project_id is not None:
        raise InputError("projectId", "AMBIGUOUS_TARGET", "A comment is on a task or on a project, not both.")
    text = required_text("body", body, MAX_BODY)
    task: Task | None = None
    if task_id is not None:
        task = await session.scalar(sa.select(Task).where(col(Task.id) == task_id, task_scope(principal)))
        if task is None:
            raise NotFound("task", field="taskId")
        project_id = task.project_id
    project = await session.scalar(sa.select(Project).where(col(Project.id) == project_id, project_scope(principal)))
    if project is None:
        raise NotFound("project", field="taskId" if task is not None else "projectId")
    assert project.id is not None
    author = await session.get(User, principal.user_id) if principal.user_id is not None else None
    comment = Comment(
        project_id=project.id, task_id=task.id if task else None, kind=kind, author_id=principal.user_id, body=text
    )
    session.add(comment)
    await session.flush()

    where = f"task {task.title}" if task is not None else f"project {project.name}"
    client_sees = kind is CommentKind.REPLY and (task is None or task.visible_to_client)
    who = author.full_name if author is not None else "Someone"
    record_activity(
        session,
        principal,
        ActivityKind.COMMENT_ADDED,
        f"{who} replied on {where}" if kind is CommentKind.REPLY else f"{who} added an internal note on {where}",
        client_id=project.client_id,
        subject_type="Comment",
        subject_id=comment.id,
        client_visible=client_sees,
    )
    if kind is CommentKind.REPLY:
        if principal.is_client:
            recipients = await _team_for_client_reply(session, principal, project.client_id, task)
        elif client_sees:
            recipients = await _portal_users(session, principal, project.client_id)
        else:
            recipients = []
        _tell(session, recipients, who, where, text, comment)
    return comment


async def _portal_users(session: AsyncSession, principal: Principal, client_id: int) -> list[User]:
    statement = (
        sa.select(User)
        .where(
            col(User.role) == Role.CLIENT,
            col(User.client_id) == client_id,
            col(User.is_active).is_(True),
            user_scope(principal),
        )
        .order_by(col(User.id))
    )
    return list((await session.scalars(statement)).all())


async def _team_for_client_reply(
    session: AsyncSession, principal: Principal, client_id: int, task: Task | None
) -> list[User]:
    manager_id = await session.scalar(
        sa.select(col(Client.account_manager_id)).where(col(Client.id) == client_id, client_scope(principal))
    )
    assignee_id = task.assignee_id if task is not None else None
    wanted = {i for i in (manager_id, assignee_id) if i is not None and i != principal.user_id}
    if not wanted:
        return []
    statement = (
        sa.select(User)
        .where(
            col(User.id).in_(wanted),
            col(User.role).in_(STAFF_ROLES),
            col(User.is_active).is_(True),
            user_scope(principal),
        )
        .order_by(col(User.id))
    )
    return list((await session.scalars(statement)).all())


def _tell(session: AsyncSession, users: list[User], who: str, where: str, body: str, comment: Comment) -> None:
    if not users:
        return
    notify(
        session,
        [u.id for u in users if u.id is not None],  # loaded rows: every id is set
        "COMMENT_REPLY",
        f"{who} replied on {where}",
        subject_type="Comment",
        subject_id=comment.id,
    )
    for user in users:
        queue_email(session, user.email, f"New reply on {where}", f"{who} replied on {where}:\n\n{body}\n")
