"""Projects: counts by status and health, and how many projects each client has.

- Projects per client: over every visible client, zero-project clients included; health
  is counted over ACTIVE projects.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Client, Project, ProjectHealth, ProjectStatus
from resolvers.dashboard.params import DashboardParams
from resolvers.db import RequestDb


@dataclass
class ProjectCounts:
    by_status: dict[ProjectStatus, int]
    by_health: dict[ProjectHealth, int]  # ACTIVE projects only

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def active(self) -> int:
        return self.by_status[ProjectStatus.ACTIVE]


@dataclass
class ProjectBucket:
    projects: int
    clients: int


async def project_counts(db: RequestDb, principal: Principal, params: DashboardParams) -> ProjectCounts:
    statement = (
        sa.select(col(Project.status), col(Project.health), sa.func.count())
        .where(scopes.project_scope(principal), params.in_view(col(Project.client_id)))
        .group_by(col(Project.status), col(Project.health))
    )
    by_status = dict.fromkeys(ProjectStatus, 0)
    by_health = dict.fromkeys(ProjectHealth, 0)
    for status, health, count in await db.rows(statement):
        by_status[status] += int(count)
        if status is ProjectStatus.ACTIVE:
            by_health[health] += int(count)
    return ProjectCounts(by_status, by_health)


async def projects_per_client(db: RequestDb, principal: Principal, params: DashboardParams) -> list[ProjectBucket]:
    """How many clients have 0, 1, 2, ... projects."""
    per_client = (
        sa.select(col(Client.id), sa.func.count(col(Project.id)).label("projects"))
        .outerjoin(Project, sa.and_(col(Project.client_id) == col(Client.id), scopes.project_scope(principal)))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .group_by(col(Client.id))
        .subquery()
    )
    statement = (
        sa.select(per_client.c.projects, sa.func.count())
        .group_by(per_client.c.projects)
        .order_by(per_client.c.projects)
    )
    return [ProjectBucket(int(projects), int(clients)) for projects, clients in await db.rows(statement)]
