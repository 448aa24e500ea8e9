"""Delivery: projects, tasks, deliverables and comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

import models
from models.enums import CommentKind, DeliverableKind, ProjectHealth, ProjectStatus, TaskStatus
from schema.base import ModelNode
from schema.billing.types import Expense, TimeEntry
from schema.clients.types import Client
from schema.context import Info
from schema.people.types import User

#: How long a download URL works.
DOWNLOAD_TTL = dt.timedelta(minutes=5)


@strawberry.type(description="A link or an uploaded file on a task.")
class Deliverable:
    id: strawberry.ID
    title: str
    url: str = strawberry.field(description="The link (kind LINK); empty for an uploaded file (use downloadUrl).")
    kind: DeliverableKind
    is_complete: bool
    created_at: dt.datetime
    completed_at: dt.datetime | None = strawberry.field(description="When it was marked complete; null while open.")
    file_name: str | None = strawberry.field(description="An uploaded file's name (sanitised); null for a link.")
    file_size: int | None = strawberry.field(description="An uploaded file's size in bytes; null for a link.")
    content_type: str | None = strawberry.field(description="An uploaded file's checked content type.")

    @strawberry.field(
        description="An uploaded file's download address (a path on this server), for the caller only and for "
        "five minutes: GET it, no Authorization header needed. Null for a link, and for a partner app."
    )
    def download_url(self, info: Info) -> str | None:
        user_id = info.context.principal.user_id
        if self.file_key is None or user_id is None:  # type: ignore[attr-defined]
            return None
        token = info.context.services.tokens.issue_file(
            user_id=user_id, file=f"deliverable:{self.id}", ttl=DOWNLOAD_TTL
        )
        return f"/files/deliverables/{self.id}?token={token}"


@strawberry.type(description="A REPLY (the client sees it) or a NOTE (internal) on a task or a project.")
class Comment(ModelNode):
    __model__ = models.Comment
    __loader__ = "work.comment"

    id: relay.NodeID[int]
    kind: CommentKind
    body: str
    created_at: dt.datetime

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        author_id = self.author_id  # type: ignore[attr-defined]
        return None if author_id is None else await info.context.loaders.people.user.load(author_id)

    @strawberry.field
    async def task(self, info: Info) -> Task | None:
        task_id = self.task_id  # type: ignore[attr-defined]
        return None if task_id is None else await info.context.loaders.work.task.load(task_id)

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        return await info.context.loaders.work.project.load(self.project_id)  # type: ignore[attr-defined]


@strawberry.type
class Task(ModelNode):
    __model__ = models.Task
    __loader__ = "work.task"

    id: relay.NodeID[int]
    title: str
    description: str | None
    status: TaskStatus
    due_date: dt.date | None
    estimate_hours: Decimal | None
    visible_to_client: bool | None
    completed_at: dt.datetime | None

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        assignee_id = self.assignee_id  # type: ignore[attr-defined]
        return None if assignee_id is None else await info.context.loaders.people.user.load(assignee_id)

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        return await info.context.loaders.work.project.load(self.project_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Comments on this task; a client sees REPLYs only.")
    async def comments(self, info: Info) -> list[Comment]:
        return await info.context.loaders.work.task_comments.load(self.id)

    @strawberry.field
    async def deliverables(self, info: Info) -> list[Deliverable]:
        return await info.context.loaders.work.deliverables_by_task.load(self.id)


@strawberry.type
class Project(ModelNode):
    __model__ = models.Project
    __loader__ = "work.project"

    id: relay.NodeID[int]
    name: str
    description: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    budget: Decimal | None
    status: ProjectStatus
    health: ProjectHealth | None
    created_at: dt.datetime

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The project's tasks; a client sees only those marked visible to it.")
    async def tasks(self, info: Info) -> list[Task]:
        return await info.context.loaders.work.tasks_by_project.load(self.id)

    @strawberry.field(description="Comments on the project itself; a client sees REPLYs only.")
    async def comments(self, info: Info) -> list[Comment]:
        return await info.context.loaders.work.project_comments.load(self.id)

    @strawberry.field(description="Time logged on the project, newest first.")
    async def time_entries(self, info: Info) -> list[TimeEntry]:
        return await info.context.loaders.billing.time_entries_by_project.load(self.id)

    @strawberry.field(description="Expenses logged on the project, newest first.")
    async def expenses(self, info: Info) -> list[Expense]:
        return await info.context.loaders.billing.expenses_by_project.load(self.id)
