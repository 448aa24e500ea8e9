"""Every argument of the Projects and Tasks lists' filters, compiled: both read paths take the filter
from resolvers.work.lists.project_filter and task_filter, the compiled one through the strawberry
input's Python names; each filter narrows the list to the rows it names, the same bytes either way."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from models import Project, ProjectHealth, Task, User
from tests.compiled import test_compiler_lists
from tests.compiled.compiler_support import Agency, Pair, build_agency, tokens
from tests.utils import gid

PROJECTS = """query($filter: ProjectFilterInput) {
  projects(first: 100, filter: $filter) { totalCount edges { node { name endDate client { name } } } } }"""

TASKS = """query($filter: TaskFilterInput) {
  tasks(first: 100, filter: $filter) { totalCount edges { node { title dueDate project { name } } } } }"""


# The lists' tests' two apps, and their spy on the planner ((root field, whether it compiled), per root field).
pair = test_compiler_lists.pair
planned = test_compiler_lists.planned


@pytest.fixture
async def world(factory: Any, db: Any) -> dict[str, Any]:
    """The compiled tests' agency, with what its filters look at: a project at risk, end dates, and
    tasks assigned to the member (one of them hidden from the client)."""
    agency = await build_agency(factory)
    async with db() as session:
        member = await session.scalar(sa.select(col(User.id)).where(col(User.email) == agency.member))
        projects = {(row.client_id, row.name): row.id for row in (await session.execute(sa.select(Project))).scalars()}
        own, other = agency.own_client_id, agency.other_client_id
        await session.execute(
            sa.update(Project)
            .where(col(Project.id) == projects[own, "Beta"])
            .values(health=ProjectHealth.AT_RISK, end_date=dt.date(2026, 3, 1))
        )
        await session.execute(
            sa.update(Project).where(col(Project.id) == projects[other, "Gamma"]).values(end_date=dt.date(2027, 1, 1))
        )
        await session.execute(
            sa.update(Task)
            .where(
                sa.or_(
                    col(Task.title) == "Task 1 of Alpha",
                    sa.and_(
                        col(Task.title) == "Hidden from the client", col(Task.project_id) == projects[own, "Alpha"]
                    ),
                )
            )
            .values(assignee_id=member)
        )
        await session.commit()
    return {"agency": agency, "member": gid("User", member or 0), "projects": projects}


def _rows(body: dict[str, Any], root: str, name: str) -> list[tuple[str, str]]:
    connection = body["data"][root]
    edges = connection["edges"]
    assert connection["totalCount"] == len(edges)
    owner = "client" if root == "projects" else "project"
    return sorted((e["node"][name], e["node"][owner]["name"]) for e in edges)


async def test_every_project_filter_compiles_and_narrows_the_list(
    pair: Pair, world: dict[str, Any], planned: list[tuple[str, bool]]
) -> None:
    agency: Agency = world["agency"]
    token = (await tokens(pair.resolvers, agency))["admin"]
    own, other = "Zeta Ltd", "ålpha & Co <b>"
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"health": ["AT_RISK"]}, [("Beta", own)]),
        ({"assigneeId": world["member"]}, [("Alpha", own), ("Alpha", other)]),
        ({"dueBefore": "2026-06-01"}, [("Beta", own)]),
        ({"dueAfter": "2026-06-01"}, [("Gamma", other)]),
        ({"clientId": gid("Client", agency.other_client_id), "status": ["COMPLETED"]}, [("Gamma", other)]),
        ({"search": "AMM", "health": ["ON_TRACK"]}, [("Gamma", own), ("Gamma", other)]),
        # An id of another type, an id naming no row: read as NO_ROW, which matches nothing.
        ({"assigneeId": gid("Client", agency.own_client_id)}, []),
        ({"clientId": gid("Client", 999999)}, []),
    ]
    planned.clear()
    everything = _rows(await pair.same(PROJECTS, {}, token), "projects", "name")
    assert len(everything) == 6
    for given, expected in cases:
        body = await pair.same(PROJECTS, {"filter": given}, token)
        assert _rows(body, "projects", "name") == expected, given
    assert planned == [("projects", True)] * (len(cases) + 1)


@pytest.mark.parametrize("who", ["admin", "portal"])
async def test_every_task_filter_compiles_and_narrows_the_list(
    pair: Pair, world: dict[str, Any], planned: list[tuple[str, bool]], who: str
) -> None:
    agency: Agency = world["agency"]
    token = (await tokens(pair.resolvers, agency))[who]
    own_alpha = gid("Project", world["projects"][agency.own_client_id, "Alpha"])
    other_alpha = gid("Project", world["projects"][agency.other_client_id, "Alpha"])
    cases: list[tuple[dict[str, Any], list[tuple[str, str]], list[tuple[str, str]]]] = [
        # (filter, what staff sees, what the own client's portal user sees)
        (
            {"projectId": own_alpha},
            [
                ("Commented", "Alpha"),
                ("Hidden from the client", "Alpha"),
                ("Task 0 of Alpha", "Alpha"),
                ("Task 1 of Alpha", "Alpha"),
            ],
            [("Commented", "Alpha"), ("Task 0 of Alpha", "Alpha"), ("Task 1 of Alpha", "Alpha")],
        ),
        ({"projectId": other_alpha, "search": "TASK 1"}, [("Task 1 of Alpha", "Alpha")], []),
        (
            {"assigneeId": world["member"]},
            [("Hidden from the client", "Alpha"), ("Task 1 of Alpha", "Alpha"), ("Task 1 of Alpha", "Alpha")],
            [("Task 1 of Alpha", "Alpha")],
        ),
        (
            {"dueBefore": "2026-06-02", "dueAfter": "2026-06-02"},
            [("Task 1 of Alpha", "Alpha")] * 2,
            [("Task 1 of Alpha", "Alpha")],
        ),
        ({"status": ["TODO"], "search": "of beta"}, [], []),
        ({"status": ["DONE"], "search": "of beta"}, [("Task 2 of Beta", "Beta")] * 2, [("Task 2 of Beta", "Beta")]),
        ({"projectId": gid("Client", agency.own_client_id)}, [], []),
    ]
    planned.clear()
    for given, staff, portal in cases:
        if who == "portal" and "assigneeId" in given:
            continue  # who works on what is the team's: the argument policy's to refuse, not the planner's
        body = await pair.same(TASKS, {"filter": given}, token)
        assert _rows(body, "tasks", "title") == (staff if who == "admin" else portal), given
    assert planned and all(compiled for _, compiled in planned), planned
