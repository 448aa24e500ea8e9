"""What a subscriber may see of an event: the row re-read under the subscriber's own row scope,
at the moment it is sent. An event carries ids only; a row the subscriber may not see (another
client's, a NOTE, a task hidden from the client, a draft invoice) is skipped as if nothing had
happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

import models
from auth import scopes
from auth.principal import Principal
from resolvers.db import RequestDb
from resolvers.live.events import Change, LiveEvent, Topic

_SCOPED: dict[Topic, tuple[type, Callable[[Principal], ColumnElement[bool]]]] = {
    Topic.COMMENT: (models.Comment, scopes.comment_scope),
    Topic.TASK: (models.Task, scopes.task_scope),
    Topic.DELIVERABLE: (models.Deliverable, scopes.deliverable_scope),
    Topic.INVOICE: (models.Invoice, scopes.invoice_scope),
    Topic.CLIENT: (models.Client, scopes.client_scope),
    Topic.ACTIVITY: (models.Activity, scopes.activity_scope),
    Topic.NOTIFICATION: (models.Notification, scopes.notification_scope),
}

# A deleted row cannot be re-read: its deletion is shown to whoever sees its parent.
_PARENT: dict[Topic, tuple[str, type, Callable[[Principal], ColumnElement[bool]]]] = {
    Topic.TASK: ("project_id", models.Project, scopes.project_scope),
    Topic.DELIVERABLE: ("task_id", models.Task, scopes.task_scope),
}


async def visible_row(db: RequestDb, principal: Principal, event: LiveEvent) -> Any | None:
    """The event's row as the subscriber may see it now, or None."""
    model, scope = _SCOPED[event.topic]
    return await db.scalar(sa.select(model).where(col(model.id) == event.id, scope(principal)))  # type: ignore[attr-defined]


async def may_see_deletion(db: RequestDb, principal: Principal, event: LiveEvent) -> bool:
    """A deleted task or deliverable is news to whoever sees its project or task."""
    if event.change is not Change.DELETED or event.topic not in _PARENT:
        return False
    if event.topic is Topic.TASK and not principal.is_staff and not event.key("visible_to_client"):
        return False  # a task hidden from the client: not even its deletion
    key, model, scope = _PARENT[event.topic]
    parent_id = event.key(key)
    if parent_id is None:
        return False
    found = await db.scalar(sa.select(col(model.id)).where(col(model.id) == parent_id, scope(principal)))  # type: ignore[attr-defined]
    return found is not None


async def visible_id(db: RequestDb, principal: Principal, model: type, row_id: int) -> bool:
    """Whether the subscriber sees the row a subscription is about (its task, project, client)."""
    scopes_by_model: dict[type, Callable[[Principal], ColumnElement[bool]]] = {
        models.Task: scopes.task_scope,
        models.Project: scopes.project_scope,
        models.Client: scopes.client_scope,
    }
    scope = scopes_by_model[model]
    found = await db.scalar(sa.select(col(model.id)).where(col(model.id) == row_id, scope(principal)))  # type: ignore[attr-defined]
    return found is not None
