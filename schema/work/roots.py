"""Roots of delivery: the Projects and Tasks lists; projects, tasks and comments.

Each mutation is a business function in resolvers/work/ and a declaration (schema.mutation_shape).
"""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.enums import CommentKind
from resolvers.pagination import SortDirection
from resolvers.work import comments, lists, projects
from schema.context import Info
from schema.ids import decode_id
from schema.mutation_shape import CallArguments, given, mutation
from schema.pagination import Connection
from schema.work.inputs import (
    CommentPayload,
    CreateProjectInput,
    CreateTaskInput,
    ProjectFilterInput,
    ProjectOrder,
    ProjectPayload,
    TaskFilterInput,
    TaskOrder,
    TaskPayload,
    UpdateProjectInput,
    UpdateTaskInput,
)
from schema.work.types import Project, Task


@strawberry.type
class WorkQuery:
    @strawberry.field(
        description="The Projects list across clients: filtered, searched, ordered, cursor-paginated (at most 100 "
        "a page). A portal user lists its own client's projects."
    )
    async def projects(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ProjectFilterInput | None = None,
        order_by: ProjectOrder | None = None,
    ) -> Connection[Project] | None:
        order = order_by or ProjectOrder()
        page = await lists.list_projects(
            info.context.db,
            info.context.principal,
            filters=lists.project_filter({} if filter is None else vars(filter), decode_id),
            order_by=lists.ProjectOrderField(order.field),
            direction=SortDirection(order.direction),
            first=first,
            after=after,
        )
        return Connection[Project].from_page(page)

    @strawberry.field(
        description="The Tasks list across projects: filtered, searched, ordered, cursor-paginated (at most 100 a "
        "page). A portal user lists the tasks of its own client's projects marked visible to it."
    )
    async def tasks(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: TaskFilterInput | None = None,
        order_by: TaskOrder | None = None,
    ) -> Connection[Task] | None:
        order = order_by or TaskOrder()
        page = await lists.list_tasks(
            info.context.db,
            info.context.principal,
            filters=lists.task_filter({} if filter is None else vars(filter), decode_id),
            order_by=lists.TaskOrderField(order.field),
            direction=SortDirection(order.direction),
            first=first,
            after=after,
        )
        return Connection[Task].from_page(page)


@strawberry.type
class WorkMutation:
    # ---- projects and tasks
    @mutation(
        projects.create_project,
        ProjectPayload,
        ids={"client_id": "Client", "assignee_id": "User"},
        result=lambda _info, created: ProjectPayload(project=created[0]),
        description="A project for this client, with optional initial tasks, in one transaction.",
    )
    def create_project(self, info: Info, client_id: relay.GlobalID, input: CreateProjectInput) -> CallArguments:
        tasks = [given(task) for task in input.tasks or ()]
        return dict(client_id=client_id, data=given(input, skip=("tasks",)), tasks=tasks)

    @mutation(
        projects.update_project,
        ProjectPayload,
        ids={"project_id": "Project"},
        description="Change a project's status, health or details.",
    )
    def update_project(self, info: Info, input: UpdateProjectInput) -> CallArguments:
        return dict(project_id=input.project_id, changes=given(input, skip=("project_id",)))

    @mutation(projects.create_task, TaskPayload, ids={"project_id": "Project", "assignee_id": "User"})
    def create_task(self, info: Info, input: CreateTaskInput) -> CallArguments:
        return dict(project_id=input.project_id, data=given(input, skip=("project_id",)))

    @mutation(
        projects.update_task,
        TaskPayload,
        ids={"task_id": "Task", "assignee_id": "User"},
        description="Change a task's status, assignee or details. Staff only: a client never changes them.",
    )
    def update_task(self, info: Info, input: UpdateTaskInput) -> CallArguments:
        return dict(task_id=input.task_id, changes=given(input, skip=("task_id",)))

    # ---- comments
    @mutation(
        comments.add_comment,
        CommentPayload,
        ids={"task_id": "Task", "project_id": "Project"},
        description="Comment on a task or a project. `kind` has no default: REPLY (the client sees it) or NOTE "
        "(internal). A portal user may add REPLYs only, on its own visible tasks and projects.",
    )
    def add_comment(
        self,
        info: Info,
        kind: CommentKind,
        body: str,
        task_id: relay.GlobalID | None = None,
        project_id: relay.GlobalID | None = None,
    ) -> CallArguments:
        return dict(task_id=task_id, project_id=project_id, kind=kind, body=body)
