"""DataLoaders of delivery: projects, tasks, comments and deliverables, and the per-client project figures.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built once per request by resolvers.loaders.Loaders (as `loaders.work`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import (
    Comment,
    Deliverable,
    Project,
    ProjectStatus,
    Task,
)
from resolvers.batching import aggregate, by_id, grouped
from resolvers.db import RequestDb
from resolvers.records import columns_of, read_records


class WorkLoaders:
    def __init__(self, db: RequestDb, principal: Principal) -> None:
        p = principal
        self.project = by_id(db, Project, scopes.project_scope(p))
        self.task = by_id(db, Task, scopes.task_scope(p))
        self.comment = by_id(db, Comment, scopes.comment_scope(p))

        async def projects_by_client(keys: Sequence[tuple[int, tuple[ProjectStatus, ...]]]) -> list[list[Project]]:
            """Keyed by (client id, statuses wanted); one statement per distinct status filter."""
            by_filter: dict[tuple[ProjectStatus, ...], list[int]] = defaultdict(list)
            for client_id, statuses in keys:
                by_filter[statuses].append(client_id)
            groups: dict[tuple[int, tuple[ProjectStatus, ...]], list[Project]] = defaultdict(list)
            for statuses, client_ids in by_filter.items():
                statement = (
                    sa.select(*columns_of(Project))
                    .where(col(Project.client_id).in_(client_ids), scopes.project_scope(p))
                    .order_by(col(Project.start_date).desc(), col(Project.id).desc())
                )
                if statuses:
                    statement = statement.where(col(Project.status).in_(statuses))
                for project in await read_records(db, Project, statement):
                    groups[(project.client_id, statuses)].append(project)
            return [groups.get(key, []) for key in keys]

        self.projects_by_client = DataLoader(load_fn=projects_by_client)
        self.tasks_by_project = grouped(
            db, Task, col(Task.project_id), scopes.task_scope(p), (col(Task.position), col(Task.id))
        )
        self.task_comments = grouped(
            db, Comment, col(Comment.task_id), scopes.comment_scope(p), (col(Comment.created_at), col(Comment.id))
        )
        self.project_comments = grouped(
            db,
            Comment,
            col(Comment.project_id),
            scopes.comment_scope(p),
            (col(Comment.created_at), col(Comment.id)),
            col(Comment.task_id).is_(None),
        )
        self.deliverables_by_task = grouped(
            db,
            Deliverable,
            col(Deliverable.task_id),
            scopes.deliverable_scope(p),
            (col(Deliverable.created_at), col(Deliverable.id)),
        )
        self.active_project_count = aggregate(
            db,
            lambda keys: (
                sa.select(col(Project.client_id), sa.func.count())
                .where(
                    col(Project.client_id).in_(keys),
                    col(Project.status) == ProjectStatus.ACTIVE,
                    scopes.project_scope(p),
                )
                .group_by(col(Project.client_id))
            ),
            0,
            int,
        )
        self.last_project_on = aggregate(
            db,
            lambda keys: (
                sa.select(col(Project.client_id), sa.func.max(col(Project.start_date)))
                .where(col(Project.client_id).in_(keys), scopes.project_scope(p))
                .group_by(col(Project.client_id))
            ),
            None,
            _as_date,
        )


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
