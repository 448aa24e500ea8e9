"""Delivery: projects, tasks, deliverables and comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

import models
from models.enums import CommentKind, DeliverableKind, ProjectHealth, ProjectStatus, ScopeChangeKind, TaskStatus
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


@strawberry.type(
    description="Budget burn: billable hours at the bill rate captured on each time entry, plus billable "
    "expenses, against the budget. Non-billable time burns no budget; time on tasks hidden from the portal counts."
)
class BudgetBurn:
    budget: Decimal | None
    billable_hours: Decimal | None
    labor_value: Decimal | None = strawberry.field(description="Billable hours x their captured bill rates.")
    billable_expenses: Decimal | None
    burned: Decimal | None = strawberry.field(description="laborValue + billableExpenses.")
    remaining: Decimal | None = strawberry.field(description="budget - burned; null without a budget.")
    burn_rate: float | None = strawberry.field(description="burned / budget; null without a budget above 0.")


@strawberry.type(
    description="A change to a project's scope once it had started: a budget change, an end-date move, a task "
    "added, or the project's cancellation. The agency's record: staff only."
)
class ScopeChange:
    kind: ScopeChangeKind | None
    is_reduction: bool | None = strawberry.field(description="A lower budget or a cancellation.")
    old_budget: Decimal | None
    new_budget: Decimal | None
    old_end_date: dt.date | None
    new_end_date: dt.date | None
    occurred_at: dt.datetime | None

    @strawberry.field(description="The task added (TASK_ADDED).")
    async def task(self, info: Info) -> Task | None:
        task_id = self.task_id  # type: ignore[attr-defined]
        return None if task_id is None else await info.context.loaders.work.task.load(task_id)

    @strawberry.field
    async def changed_by(self, info: Info) -> User | None:
        user_id = self.changed_by_id  # type: ignore[attr-defined]
        return None if user_id is None else await info.context.loaders.people.user.load(user_id)


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
    completed_at: dt.datetime | None = strawberry.field(
        description="When the project was completed; null while it is not COMPLETED."
    )

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        return await info.context.loaders.clients.client.load(self.client_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def budget_burn(self, info: Info) -> BudgetBurn | None:
        burn = await info.context.loaders.dashboard.budget_burn.load(self.id)
        if burn is None:
            return None
        return BudgetBurn(
            budget=burn.budget,
            billable_hours=burn.billable_hours,
            labor_value=burn.labor_value,
            billable_expenses=burn.billable_expenses,
            burned=burn.burned,
            remaining=burn.remaining,
            burn_rate=burn.burn_rate,
        )

    @strawberry.field(description="Budget changes, end-date moves and tasks added after start, and cancellation.")
    async def scope_changes(self, info: Info) -> list[ScopeChange] | None:
        return await info.context.loaders.dashboard.scope_changes.load(self.id)

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
