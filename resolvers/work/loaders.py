"""DataLoaders of delivery: projects, tasks, comments and deliverables, and the per-client project figures.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.work`."""

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
from resolvers.batching import DomainLoaders, aggregate, by_id, grouped, in_keys, loader, with_keys
from resolvers.db import RequestDb
from resolvers.records import columns_of, read_records

# A project status filter, set per batch (made once: see resolvers.batching.in_keys).
_STATUS_IN = col(Project.status).in_(sa.bindparam("project_statuses", expanding=True))


class WorkLoaders(DomainLoaders):
    @loader
    def project(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Project, scopes.project_scope(p))

    @loader
    def task(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Task, scopes.task_scope(p))

    @loader
    def comment(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, Comment, scopes.comment_scope(p))

    @loader
    def projects_by_client(db: RequestDb, p: Principal) -> DataLoader:
        every_status = (
            sa.select(*columns_of(Project))
            .where(in_keys(col(Project.client_id)), scopes.project_scope(p))
            .order_by(col(Project.start_date).desc(), col(Project.id).desc())
        )
        some_statuses = every_status.where(_STATUS_IN)

        async def projects_by_client(keys: Sequence[tuple[int, tuple[ProjectStatus, ...]]]) -> list[list[Project]]:
            """Keyed by (client id, statuses wanted); one statement per distinct status filter."""
            by_filter: dict[tuple[ProjectStatus, ...], list[int]] = defaultdict(list)
            for client_id, statuses in keys:
                by_filter[statuses].append(client_id)
            groups: dict[tuple[int, tuple[ProjectStatus, ...]], list[Project]] = defaultdict(list)
            for statuses, client_ids in by_filter.items():
                statement = with_keys(some_statuses if statuses else every_status, client_ids)
                if statuses:
                    statement = statement.params(project_statuses=list(statuses))
                for project in await read_records(db, Project, statement):
                    groups[(project.client_id, statuses)].append(project)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=projects_by_client)

    @loader
    def tasks_by_project(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(db, Task, col(Task.project_id), scopes.task_scope(p), (col(Task.position), col(Task.id)))

    @loader
    def task_comments(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db, Comment, col(Comment.task_id), scopes.comment_scope(p), (col(Comment.created_at), col(Comment.id))
        )

    @loader
    def project_comments(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Comment,
            col(Comment.project_id),
            scopes.comment_scope(p),
            (col(Comment.created_at), col(Comment.id)),
            col(Comment.task_id).is_(None),
        )

    @loader
    def deliverables_by_task(db: RequestDb, p: Principal) -> DataLoader:
        return grouped(
            db,
            Deliverable,
            col(Deliverable.task_id),
            scopes.deliverable_scope(p),
            (col(Deliverable.created_at), col(Deliverable.id)),
        )

    @loader
    def active_project_count(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, active_project_counts(p), 0, int)

    @loader
    def last_project_on(db: RequestDb, p: Principal) -> DataLoader:
        return aggregate(db, last_project_starts(p), None, _as_date)


def active_project_counts(p: Principal) -> sa.Select:
    """(client id, ACTIVE projects) for the batch's clients (`in_keys`); the compiled read path
    correlates the same statement with its client row."""
    return (
        sa.select(col(Project.client_id), sa.func.count())
        .where(
            in_keys(col(Project.client_id)),
            col(Project.status) == ProjectStatus.ACTIVE,
            scopes.project_scope(p),
        )
        .group_by(col(Project.client_id))
    )


def last_project_starts(p: Principal) -> sa.Select:
    """(client id, latest project start date) for the batch's clients (`in_keys`)."""
    return (
        sa.select(col(Project.client_id), sa.func.max(col(Project.start_date)))
        .where(in_keys(col(Project.client_id)), scopes.project_scope(p))
        .group_by(col(Project.client_id))
    )


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
