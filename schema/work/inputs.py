"""Inputs and payloads of projects, tasks and comments, and the filters and orders of their lists.

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
from resolvers.pagination import SortDirection
from resolvers.work.lists import ProjectOrderField, TaskOrderField
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


@strawberry.input(description="Narrow the Projects list. Filters combine with AND.")
class ProjectFilterInput:
    client_id: relay.GlobalID | None = strawberry.field(default=None, description="One client's projects.")
    status: list[ProjectStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    health: list[ProjectHealth] | None = strawberry.field(
        default=None, description="Any of these health values (staff only: health is internal)."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Projects with a task (one the caller may see) assigned to this team member."
    )
    due_before: dt.date | None = strawberry.field(default=None, description="Ending on or before this date.")
    due_after: dt.date | None = strawberry.field(default=None, description="Ending on or after this date.")
    search: str | None = strawberry.field(default=None, description="Part of the project name, any case.")


@strawberry.input(description="How the Projects list is ordered; ties in id order. Undated projects sort last.")
class ProjectOrder:
    field: ProjectOrderField = ProjectOrderField.NAME
    direction: SortDirection = SortDirection.ASC


@strawberry.input(description="Narrow the Tasks list. Filters combine with AND.")
class TaskFilterInput:
    client_id: relay.GlobalID | None = strawberry.field(default=None, description="Tasks of one client's projects.")
    project_id: relay.GlobalID | None = strawberry.field(default=None, description="One project's tasks.")
    status: list[TaskStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    assignee_id: relay.GlobalID | None = strawberry.field(default=None, description="Assigned to this team member.")
    due_before: dt.date | None = strawberry.field(default=None, description="Due on or before this date.")
    due_after: dt.date | None = strawberry.field(default=None, description="Due on or after this date.")
    search: str | None = strawberry.field(default=None, description="Part of the task title, any case.")


@strawberry.input(description="How the Tasks list is ordered; ties in id order. Tasks without a due date sort last.")
class TaskOrder:
    field: TaskOrderField = TaskOrderField.DUE_DATE
    direction: SortDirection = SortDirection.ASC
