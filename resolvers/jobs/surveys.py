"""Satisfaction survey requests: when a project completes, its client's portal users are asked the
NPS question ("How likely are you to recommend us?"), answered in the portal with the existing
`recordSatisfactionScore` mutation (resolvers/surveys/scores.py: a portal user answers for its own
client and contact).

- Completed: a COMPLETED project whose `completed_at` is within the last `survey_window_days` (14)
  as of the run, so a first run on an old database does not survey every project ever completed,
  and a later edit of a long-completed project (its name, its health) does not ask again.
- To each active portal user of the project's client, once per project and user (key
  `project:ID:user:ID`): reopened and completed again, it is not asked twice. Churned clients are
  not asked; a client with no portal user counts as having no recipient (it cannot answer in the
  portal).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Client, Project, ProjectStatus, Role, User
from resolvers.dashboard.rows import not_churned
from resolvers.jobs.runner import JobConfig, Outgoing, Selection

NAME = "survey_requests"


async def select_survey_requests(session: AsyncSession, config: JobConfig, now: dt.datetime) -> Selection:
    since = now - dt.timedelta(days=config.survey_window_days)
    projects = (
        await session.execute(
            sa.select(col(Project.id), col(Project.name), col(Project.client_id))
            .join(Client, col(Client.id) == col(Project.client_id))
            .where(
                col(Project.status) == ProjectStatus.COMPLETED,
                col(Project.completed_at) >= since,
                col(Project.completed_at) <= now,
                not_churned(),
            )
            .order_by(col(Project.id))
        )
    ).all()
    users: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    if projects:
        rows: Any = await session.execute(
            sa.select(col(User.client_id), col(User.id), col(User.email), col(User.full_name))
            .where(
                col(User.role) == Role.CLIENT,
                col(User.is_active).is_(True),
                col(User.client_id).in_({row[2] for row in projects}),
            )
            .order_by(col(User.id))
        )
        for client_id, user_id, email, full_name in rows:
            users[client_id].append((user_id, email, full_name))
    selection = Selection()
    for project_id, project_name, client_id in projects:
        if not users.get(client_id):
            selection.no_recipient += 1
            continue
        for user_id, email, full_name in users[client_id]:
            selection.outgoing.append(
                Outgoing(
                    key=f"project:{project_id}:user:{user_id}",
                    to=(email,),
                    subject=f"How did we do on {project_name}?",
                    body=(
                        f"Hello {full_name},\n\n{project_name} is complete. One question: how likely are you to"
                        f" recommend us to a friend or colleague, from 0 to 10? Sign in to the portal and"
                        f" answer there (a comment is welcome):\n{config.portal_url}\n\nThank you,\n"
                        f"{config.agency_name}"
                    ),
                )
            )
    return selection
