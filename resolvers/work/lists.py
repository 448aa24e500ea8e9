"""The Projects and Tasks lists across clients: filtered, searched, ordered, keyset-paged in SQL.

Row scope: auth.scopes.project_scope and task_scope, composed into each page and its count
alike (a portal user: its own client's projects, and of their tasks those marked visible to the
client; a partner app with projects:read: the same, for the clients it is limited to). A filter
that looks at tasks (a project's assignee) looks only at the tasks the caller may see, so it is
never an oracle for a hidden one. Which filters and orders a caller may use at all is the
argument policy's (auth.policy_table ARGUMENT_RULES: e.g. health is INTERNAL).

Decisions: "due" is a project's end date and a task's due date; dueBefore and dueAfter are
inclusive, and a row without the date matches neither. Dates sort with the undated last in
ascending order (first in descending). A project's assignee filter matches the projects with a
task, visible to the caller, assigned to that user. Search is a case-insensitive substring of a
project's name or a task's title (resolvers.search).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import project_scope, task_scope
from models import Project, ProjectHealth, ProjectStatus, Task, TaskStatus
from resolvers.db import RequestDb
from resolvers.pagination import Page, SortDirection, SortKey, keyset_page
from resolvers.search import contains, search_text

# Undated rows sort after every dated one (ascending): a date no row can have.
_NO_DATE = dt.date(2999, 12, 31)


def _by_date(column: sa.SQLColumnExpression[dt.date | None]) -> SortKey:
    return SortKey(sa.func.coalesce(column, _NO_DATE), "date")


class ProjectOrderField(str, Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    START_DATE = "START_DATE"
    END_DATE = "END_DATE"
    HEALTH = "HEALTH"


class TaskOrderField(str, Enum):
    DUE_DATE = "DUE_DATE"
    TITLE = "TITLE"
    STATUS = "STATUS"


# Health and status sort by meaning, not by name: ON_TRACK < AT_RISK < OFF_TRACK, TODO < ... < DONE.
_HEALTH_RANK = sa.case(
    {ProjectHealth.ON_TRACK: 0, ProjectHealth.AT_RISK: 1, ProjectHealth.OFF_TRACK: 2},
    value=col(Project.health),
    else_=3,
)
_STATUS_RANK = sa.case(
    {TaskStatus.TODO: 0, TaskStatus.IN_PROGRESS: 1, TaskStatus.IN_REVIEW: 2, TaskStatus.DONE: 3},
    value=col(Task.status),
    else_=4,
)

PROJECT_ORDER_KEYS = {
    ProjectOrderField.NAME: SortKey(sa.func.lower(col(Project.name)), "str"),
    ProjectOrderField.CREATED_AT: SortKey(col(Project.created_at), "datetime"),
    ProjectOrderField.START_DATE: _by_date(col(Project.start_date)),
    ProjectOrderField.END_DATE: _by_date(col(Project.end_date)),
    ProjectOrderField.HEALTH: SortKey(_HEALTH_RANK, "int"),
}

TASK_ORDER_KEYS = {
    TaskOrderField.DUE_DATE: _by_date(col(Task.due_date)),
    TaskOrderField.TITLE: SortKey(sa.func.lower(col(Task.title)), "str"),
    TaskOrderField.STATUS: SortKey(_STATUS_RANK, "int"),
}


@dataclass(frozen=True)
class ProjectFilter:
    client_id: int | None = None
    statuses: tuple[ProjectStatus, ...] = ()
    health: tuple[ProjectHealth, ...] = ()
    assignee_id: int | None = None
    due_before: dt.date | None = None
    due_after: dt.date | None = None
    search: str | None = None


@dataclass(frozen=True)
class TaskFilter:
    client_id: int | None = None
    project_id: int | None = None
    statuses: tuple[TaskStatus, ...] = ()
    assignee_id: int | None = None
    due_before: dt.date | None = None
    due_after: dt.date | None = None
    search: str | None = None


#: Reads a global id given in a filter: (value, type name, where it was given) -> the row id, None when
#: none was given (schema.ids.decode_id: an id that names no such row reads as NO_ROW, which matches nothing).
ReadId = Callable[[Any, str, str], int | None]


def _enum_value(item: Any) -> Any:
    return item.value if isinstance(item, Enum) else item


def project_filter(given: Mapping[str, Any], read_id: ReadId) -> ProjectFilter:
    """The Projects list's `filter` argument as the statement reads it. `given` holds its values by
    their Python names (schema.work.inputs.ProjectFilterInput's fields; absent or None: not given),
    `read_id` reads its global ids. Both read paths take it from here: the resolvers
    (schema.work.roots) and the compiled one (resolvers.compiled.planner)."""
    return ProjectFilter(
        client_id=read_id(given.get("client_id"), "Client", "filter.clientId"),
        statuses=tuple(ProjectStatus(_enum_value(s)) for s in given.get("status") or ()),
        health=tuple(ProjectHealth(_enum_value(h)) for h in given.get("health") or ()),
        assignee_id=read_id(given.get("assignee_id"), "User", "filter.assigneeId"),
        due_before=given.get("due_before"),
        due_after=given.get("due_after"),
        search=given.get("search"),
    )


def task_filter(given: Mapping[str, Any], read_id: ReadId) -> TaskFilter:
    """The Tasks list's `filter` argument (schema.work.inputs.TaskFilterInput), as project_filter reads
    the Projects list's."""
    return TaskFilter(
        client_id=read_id(given.get("client_id"), "Client", "filter.clientId"),
        project_id=read_id(given.get("project_id"), "Project", "filter.projectId"),
        statuses=tuple(TaskStatus(_enum_value(s)) for s in given.get("status") or ()),
        assignee_id=read_id(given.get("assignee_id"), "User", "filter.assigneeId"),
        due_before=given.get("due_before"),
        due_after=given.get("due_after"),
        search=given.get("search"),
    )


def _due(
    statement: sa.Select, column: sa.SQLColumnExpression[dt.date | None], before: dt.date | None, after: dt.date | None
) -> sa.Select:
    if before is not None:
        statement = statement.where(column <= before)
    if after is not None:
        statement = statement.where(column >= after)
    return statement


def projects_statement(principal: Principal, filters: ProjectFilter) -> sa.Select:
    statement = sa.select(Project).where(project_scope(principal))
    if filters.client_id is not None:
        statement = statement.where(col(Project.client_id) == filters.client_id)
    if filters.statuses:
        statement = statement.where(col(Project.status).in_(filters.statuses))
    if filters.health:
        statement = statement.where(col(Project.health).in_(filters.health))
    if filters.assignee_id is not None:
        # Only the tasks the caller may see say who works on a project.
        assigned = sa.select(col(Task.project_id)).where(
            col(Task.assignee_id) == filters.assignee_id, task_scope(principal)
        )
        statement = statement.where(col(Project.id).in_(assigned))
    statement = _due(statement, col(Project.end_date), filters.due_before, filters.due_after)
    text = search_text("filter.search", filters.search)
    if text is not None:
        statement = statement.where(contains(text, col(Project.name)))
    return statement


def tasks_statement(principal: Principal, filters: TaskFilter) -> sa.Select:
    statement = sa.select(Task).where(task_scope(principal))
    if filters.client_id is not None:
        of_client = sa.select(col(Project.id)).where(col(Project.client_id) == filters.client_id)
        statement = statement.where(col(Task.project_id).in_(of_client))
    if filters.project_id is not None:
        statement = statement.where(col(Task.project_id) == filters.project_id)
    if filters.statuses:
        statement = statement.where(col(Task.status).in_(filters.statuses))
    if filters.assignee_id is not None:
        statement = statement.where(col(Task.assignee_id) == filters.assignee_id)
    statement = _due(statement, col(Task.due_date), filters.due_before, filters.due_after)
    text = search_text("filter.search", filters.search)
    if text is not None:
        statement = statement.where(contains(text, col(Task.title)))
    return statement


async def list_projects(
    db: RequestDb,
    principal: Principal,
    *,
    filters: ProjectFilter,
    order_by: ProjectOrderField,
    direction: SortDirection,
    first: int | None,
    after: str | None,
) -> Page[Project]:
    return await keyset_page(
        db,
        projects_statement(principal, filters),
        key=PROJECT_ORDER_KEYS[order_by],
        id_column=col(Project.id),
        direction=direction,
        first=first,
        after=after,
    )


async def list_tasks(
    db: RequestDb,
    principal: Principal,
    *,
    filters: TaskFilter,
    order_by: TaskOrderField,
    direction: SortDirection,
    first: int | None,
    after: str | None,
) -> Page[Task]:
    return await keyset_page(
        db,
        tasks_statement(principal, filters),
        key=TASK_ORDER_KEYS[order_by],
        id_column=col(Task.id),
        direction=direction,
        first=first,
        after=after,
    )
