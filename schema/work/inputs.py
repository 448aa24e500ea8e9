"""Inputs and payloads of projects, tasks and comments.

Update inputs leave every field UNSET unless the caller sends it: an omitted field is left alone,
an explicit null clears it (where it may be empty at all).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import UNSET, relay

from models.enums import (
    ProjectHealth,
    ProjectStatus,
    TaskStatus,
)
from schema.mutation_shape import payload
from schema.work.types import Comment, Project, Task


@strawberry.input(description="A task, created with its project or on its own.")
class TaskInput:
    title: str
    description: str | None = None
    due_date: dt.date | None = None
    assignee_id: relay.GlobalID | None = strawberry.field(default=None, description="An active team member.")
    estimate_hours: Decimal | None = None
    visible_to_client: bool = strawberry.field(default=True, description="False keeps the task internal to the team.")
    status: TaskStatus | None = strawberry.field(default=None, description="TODO unless given.")


@strawberry.input(description="A new project for the client it is created from.")
class CreateProjectInput:
    name: str
    description: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = strawberry.field(default=None, description="On or after the start date.")
    budget: Decimal | None = strawberry.field(default=None, description="Zero or more; ADMIN and MANAGER only.")
    health: ProjectHealth | None = strawberry.field(default=None, description="ON_TRACK unless given.")
    tasks: list[TaskInput] | None = strawberry.field(
        default=None, description="Initial tasks (at most 100), created in the same transaction."
    )


@strawberry.input(description="Change a project: status (CANCELLED is final), health and details.")
class UpdateProjectInput:
    project_id: relay.GlobalID
    name: str | None = UNSET
    description: str | None = UNSET
    start_date: dt.date | None = UNSET
    end_date: dt.date | None = UNSET
    budget: Decimal | None = strawberry.field(default=UNSET, description="ADMIN and MANAGER only.")
    status: ProjectStatus | None = UNSET
    health: ProjectHealth | None = UNSET


@strawberry.input
class CreateTaskInput:
    project_id: relay.GlobalID
    title: str
    description: str | None = None
    due_date: dt.date | None = None
    assignee_id: relay.GlobalID | None = None
    estimate_hours: Decimal | None = None
    visible_to_client: bool = True
    status: TaskStatus | None = None


@strawberry.input(description="Change a task's status, assignment or details (staff only).")
class UpdateTaskInput:
    task_id: relay.GlobalID
    title: str | None = UNSET
    description: str | None = UNSET
    status: TaskStatus | None = UNSET
    assignee_id: relay.GlobalID | None = UNSET
    due_date: dt.date | None = UNSET
    estimate_hours: Decimal | None = UNSET
    visible_to_client: bool | None = UNSET


@payload
class ProjectPayload:
    project: Project | None = None


@payload
class TaskPayload:
    task: Task | None = None


@payload
class CommentPayload:
    comment: Comment | None = None
