"""Subscriptions (graphql-transport-ws on /graphql; server.live authenticates the socket).

Each field opens an inbox on this worker's hub for the topics it needs, keeps the events whose
routing ids match its arguments, and re-reads each row under the subscriber's own row scope
before anything is sent (resolvers.live.visible): a row the subscriber may not see is skipped as
if nothing had happened. The field policy decides, once per operation, exactly as for a query:
a field outside the caller's classes is refused with FORBIDDEN before any event is read
(schema.enforcement), and each payload's fields pass through it like any query's."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, cast

import strawberry
from strawberry import relay

import models
from auth.principal import Principal
from resolvers.db import RequestDb
from resolvers.errors import InputError, NotFound, Refused
from resolvers.live.events import Change, LiveEvent, Topic
from resolvers.live.hub import SlowConsumer, local_hub
from resolvers.live.visible import may_see_deletion, visible_id, visible_row
from resolvers.loaders import Loaders
from schema.billing.types import Invoice
from schema.clients.types import Client
from schema.context import EventPayload, Info
from schema.engagement.types import Activity
from schema.ids import lookup_id
from schema.live.types import DeliverableChange, TaskChange
from schema.people.types import Notification
from schema.work.types import Comment

Render = Callable[[RequestDb, Principal, LiveEvent], Awaitable[Any | None]]


async def _events(
    info: Info,
    topics: set[Topic],
    matches: Callable[[LiveEvent], bool],
    render: Render,
    about: tuple[type, int | None, str, str] | None = None,
) -> AsyncGenerator[Any, None]:
    """The subscription's stream: EventPayloads, each with its own database handle and loaders
    (closed once the event has been executed, when the stream is asked for the next one).

    `about` is (model, row id, argument, what): the row the subscription is about must be one the
    caller sees, else NOT_FOUND (a hidden row and a missing one answer the same)."""
    context = info.context
    principal = context.principal
    inbox = local_hub().open(topics)  # first, so no event committed after the check is missed
    try:
        if about is not None:
            model, row_id, argument, what = about
            db = context.db.sibling()
            try:
                if row_id is None or not await visible_id(db, principal, model, row_id):
                    raise NotFound(what, argument)
            finally:
                await db.close()
        while True:
            try:
                event = await inbox.next()
            except SlowConsumer:
                raise Refused(
                    "This subscription fell too far behind and was ended; subscribe again and refetch.",
                    code="SLOW_CONSUMER",
                ) from None
            if not matches(event):
                continue
            db = context.db.sibling()
            try:
                value = await render(db, principal, event)
                if value is not None:
                    event_context = dataclasses.replace(
                        context, db=db, loaders=Loaders(db, principal), request_id=uuid.uuid4().hex[:16]
                    )
                    yield EventPayload(value, event_context)
            finally:
                await db.close()
    finally:
        inbox.close()


async def _row(db: RequestDb, principal: Principal, event: LiveEvent) -> Any | None:
    return None if event.change is Change.DELETED else await visible_row(db, principal, event)


async def _task_change(db: RequestDb, principal: Principal, event: LiveEvent) -> TaskChange | None:
    task_id = strawberry.ID(relay.to_base64("Task", event.id))
    if event.change is Change.DELETED:
        return (
            TaskChange(change=event.change, task_id=task_id, task=None)
            if await may_see_deletion(db, principal, event)
            else None
        )
    row = await visible_row(db, principal, event)
    return None if row is None else TaskChange(change=event.change, task_id=task_id, task=row)


async def _deliverable_change(db: RequestDb, principal: Principal, event: LiveEvent) -> DeliverableChange | None:
    deliverable_id = strawberry.ID(str(event.id))
    if event.change is Change.DELETED:
        if not await may_see_deletion(db, principal, event):
            return None
        return DeliverableChange(change=event.change, deliverable_id=deliverable_id, deliverable=None)
    row = await visible_row(db, principal, event)
    return (
        None if row is None else DeliverableChange(change=event.change, deliverable_id=deliverable_id, deliverable=row)
    )


def _key_is(name: str, value: int | None) -> Callable[[LiveEvent], bool]:
    return lambda event: value is not None and event.key(name) == value


@strawberry.type
class LiveSubscription:
    @strawberry.subscription(description="The caller's own notifications, as they are created.")
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification | None, None]:
        user_id = info.context.principal.user_id
        async for payload in _events(info, {Topic.NOTIFICATION}, _key_is("user_id", user_id), _row):
            yield cast(Any, payload)

    @strawberry.subscription(
        description="Comments added on a task (taskId) or anywhere on a project (projectId): give exactly one. "
        "A portal user receives REPLYs on what it may see, never a NOTE."
    )
    async def comment_added(
        self, info: Info, task_id: relay.GlobalID | None = None, project_id: relay.GlobalID | None = None
    ) -> AsyncGenerator[Comment | None, None]:
        if (task_id is None) == (project_id is None):
            raise InputError("taskId", "ONE_OF_REQUIRED", "Give exactly one of taskId and projectId.")
        about: tuple[type, int | None, str, str]
        if task_id is not None:
            row_id = lookup_id(task_id, "Task")
            about = (models.Task, row_id, "taskId", "task")
            matches = _key_is("task_id", row_id)
        else:
            row_id = lookup_id(cast(relay.GlobalID, project_id), "Project")
            about = (models.Project, row_id, "projectId", "project")
            matches = _key_is("project_id", row_id)
        async for payload in _events(info, {Topic.COMMENT}, matches, _row, about):
            yield cast(Any, payload)

    @strawberry.subscription(description="Tasks of a project created, changed (status, assignee, dates) or deleted.")
    async def task_changed(self, info: Info, project_id: relay.GlobalID) -> AsyncGenerator[TaskChange | None, None]:
        row_id = lookup_id(project_id, "Project")
        about = (models.Project, row_id, "projectId", "project")
        async for payload in _events(info, {Topic.TASK}, _key_is("project_id", row_id), _task_change, about):
            yield cast(Any, payload)

    @strawberry.subscription(description="Deliverables of a task added, changed (completed, reopened) or removed.")
    async def deliverable_changed(
        self, info: Info, task_id: relay.GlobalID
    ) -> AsyncGenerator[DeliverableChange | None, None]:
        row_id = lookup_id(task_id, "Task")
        about = (models.Task, row_id, "taskId", "task")
        async for payload in _events(info, {Topic.DELIVERABLE}, _key_is("task_id", row_id), _deliverable_change, about):
            yield cast(Any, payload)

    @strawberry.subscription(
        description="A client's invoices as they change (sent, paid, voided; staff also see drafts). "
        "A portal user receives only its own client's sent invoices."
    )
    async def invoice_changed(self, info: Info, client_id: relay.GlobalID) -> AsyncGenerator[Invoice | None, None]:
        row_id = lookup_id(client_id, "Client")
        about = (models.Client, row_id, "clientId", "client")
        async for payload in _events(info, {Topic.INVOICE}, _key_is("client_id", row_id), _row, about):
            yield cast(Any, payload)

    @strawberry.subscription(description="Clients created or changed (staff only).")
    async def client_changed(self, info: Info) -> AsyncGenerator[Client | None, None]:
        async for payload in _events(info, {Topic.CLIENT}, lambda _event: True, _row):
            yield cast(Any, payload)

    @strawberry.subscription(description="A client's activity feed as entries are added (staff only).")
    async def activity_added(self, info: Info, client_id: relay.GlobalID) -> AsyncGenerator[Activity | None, None]:
        row_id = lookup_id(client_id, "Client")
        about = (models.Client, row_id, "clientId", "client")
        async for payload in _events(info, {Topic.ACTIVITY}, _key_is("client_id", row_id), _row, about):
            yield cast(Any, payload)
