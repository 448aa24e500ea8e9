"""The root Projects and Tasks lists (`projects(filter:)`, `tasks(filter:)`): every role gets the
rows of its row scope and nothing else, in pages and counts alike; filters, search, orders and
cursors; filter and sort arguments on fields a caller cannot read are refused; a page costs the
same number of statements whatever its size. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from models import ProjectHealth, ProjectStatus, Role, TaskStatus
from tests.factories import PASSWORD
from tests.partners.support import access_token, register
from tests.utils import gid

PROJECTS = """query($filter: ProjectFilterInput, $order: ProjectOrder, $first: Int, $after: String) {
  projects(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name status endDate } } } }"""

TASKS = """query($filter: TaskFilterInput, $order: TaskOrder, $first: Int, $after: String) {
  tasks(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status dueDate } } } }"""


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    projects: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def pid(self, name: str) -> str:
        return gid("Project", self.projects[name])

    def tid(self, name: str) -> str:
        return gid("Task", self.tasks[name])


async def _world(api, factory, db) -> World:
    """Two clients. Acme: four projects (one with `%` and `_` in its name, one without dates) and
    tasks, one of them hidden from the client. Globex: one project with a visible and a hidden task."""
    w = World()
    for role in (Role.ADMIN, Role.MANAGER, Role.MEMBER):
        user = await factory.user(role, full_name=f"{role.value.title()} Person")
        w.users[role.value] = user
        w.tokens[role.value] = await api.login(user.email, PASSWORD)
    dev = w.users["MEMBER"]
    w.clients["acme"] = acme = await factory.client("Acme")
    w.clients["globex"] = globex = await factory.client("Globex")
    p = w.projects
    p["website"] = await factory.project(
        acme,
        name="Website Redesign",
        end_date=dt.date(2026, 6, 30),
        health=ProjectHealth.AT_RISK,
        budget=Decimal("5000.00"),
    )
    p["sale"] = await factory.project(
        acme, name="50% Off_Sale Campaign", end_date=dt.date(2026, 3, 31), status=ProjectStatus.COMPLETED
    )
    p["lookalike"] = await factory.project(acme, name="50X OffXSale lookalike", end_date=dt.date(2026, 9, 30))
    p["undated"] = await factory.project(
        acme, name="brand refresh", start_date=None, end_date=None, health=ProjectHealth.OFF_TRACK
    )
    p["globex"] = await factory.project(globex, name="Globex Portal", end_date=dt.date(2026, 5, 15))
    t = w.tasks
    t["wireframes"] = await factory.task(
        p["website"], title="Wireframes", due_date=dt.date(2026, 2, 1), assignee_id=dev.id, status=TaskStatus.DONE
    )
    t["copy"] = await factory.task(p["website"], title="Homepage copy", due_date=dt.date(2026, 4, 1))
    t["secret"] = await factory.task(
        p["undated"], title="Internal budget review", visible_to_client=False, assignee_id=dev.id
    )
    t["banner"] = await factory.task(
        p["sale"], title="100% banner_v2", due_date=dt.date(2026, 3, 1), status=TaskStatus.IN_REVIEW
    )
    t["undated"] = await factory.task(p["lookalike"], title="Undated task", status=TaskStatus.IN_PROGRESS)
    t["globex"] = await factory.task(p["globex"], title="Globex login page", due_date=dt.date(2026, 5, 1))
    t["globex_hidden"] = await factory.task(p["globex"], title="Globex hidden task", visible_to_client=False)

    acme_user = await factory.portal_user(acme)
    globex_user = await factory.portal_user(globex)
    w.tokens["CLIENT"] = await api.login(acme_user.email, PASSWORD)
    w.tokens["OTHER_CLIENT"] = await api.login(globex_user.email, PASSWORD)
    limited = await register(db, scopes=["projects:read"], clients=[globex])
    w.tokens["PARTNER"] = await access_token(api.client, limited)
    internal = await register(db, scopes=["projects:read", "internal:read"], clients=[globex])
    w.tokens["PARTNER_INTERNAL"] = await access_token(api.client, internal)
    unscoped = await register(db, scopes=["clients:read", "contacts:read"], clients=[acme])
    w.tokens["PARTNER_NO_PROJECTS"] = await access_token(api.client, unscoped)
    return w


@pytest.fixture
async def world(api, factory, db) -> World:
    return await _world(api, factory, db)


def _names(data: dict, root: str, key: str) -> list[str]:
    return [edge["node"][key] for edge in data[root]["edges"]]


def _forbidden(body: dict) -> set[str]:
    return {e["extensions"]["field"] for e in body.get("errors", []) if e["extensions"].get("code") == "FORBIDDEN"}


ALL_PROJECTS = ["50% Off_Sale Campaign", "50X OffXSale lookalike", "brand refresh", "Globex Portal", "Website Redesign"]
ACME_PROJECTS = ["50% Off_Sale Campaign", "50X OffXSale lookalike", "brand refresh", "Website Redesign"]
# Ordered by due date, undated last, ties by id.
ALL_TASKS = [
    "Wireframes",
    "100% banner_v2",
    "Homepage copy",
    "Globex login page",
    "Internal budget review",
    "Undated task",
    "Globex hidden task",
]
ACME_VISIBLE_TASKS = ["Wireframes", "100% banner_v2", "Homepage copy", "Undated task"]


# ------------------------------------------------------------------------------ every role


EXPECTED = {
    "ADMIN": (ALL_PROJECTS, ALL_TASKS),
    "MANAGER": (ALL_PROJECTS, ALL_TASKS),
    "MEMBER": (ALL_PROJECTS, ALL_TASKS),
    "CLIENT": (ACME_PROJECTS, ACME_VISIBLE_TASKS),
    "OTHER_CLIENT": (["Globex Portal"], ["Globex login page"]),
    "PARTNER": (["Globex Portal"], ["Globex login page"]),
    "PARTNER_INTERNAL": (["Globex Portal"], ["Globex login page"]),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
async def test_each_role_lists_the_rows_of_its_row_scope(api, world, who):
    projects, tasks = EXPECTED[who]
    data = await api.data(PROJECTS, {"first": 100}, world.tokens[who])
    assert _names(data, "projects", "name") == projects
    assert data["projects"]["totalCount"] == len(projects)
    data = await api.data(TASKS, {"first": 100}, world.tokens[who])
    assert _names(data, "tasks", "title") == tasks
    assert data["tasks"]["totalCount"] == len(tasks)


async def test_values_and_nested_fields_follow_the_field_policy(api, world):
    query = """{ projects(first: 100, filter: {search: "website"}) { edges { node {
      name budget health client { name } tasks { title assignee { fullName email } } } } } }"""
    manager = await api.data(query, token=world.tokens["MANAGER"])
    [node] = [e["node"] for e in manager["projects"]["edges"]]
    assert node["budget"] == "5000.00" and node["health"] == "AT_RISK" and node["client"] == {"name": "Acme"}
    assert node["tasks"][0] == {
        "title": "Wireframes",
        "assignee": {"fullName": "Member Person", "email": world.users["MEMBER"].email},
    }

    member = await api.post(query, token=world.tokens["MEMBER"])
    [node] = [e["node"] for e in member["data"]["projects"]["edges"]]
    assert node["budget"] is None and node["health"] == "AT_RISK"
    assert _forbidden(member) == {"Project.budget"}

    client = await api.post(query, token=world.tokens["CLIENT"])
    [node] = [e["node"] for e in client["data"]["projects"]["edges"]]
    assert node["budget"] == "5000.00" and node["health"] is None and node["client"] == {"name": "Acme"}
    assert node["tasks"][0]["assignee"] == {"fullName": "Member Person", "email": None}
    assert _forbidden(client) == {"Project.health", "User.email"}

    # The other company's portal user and a partner limited to it find nothing of Acme's.
    for who in ("OTHER_CLIENT", "PARTNER"):
        body = await api.post(query, token=world.tokens[who])
        assert body["data"]["projects"]["edges"] == [], who


async def test_a_client_never_sees_a_hidden_task_by_any_filter(api, world):
    for filters in (
        {},
        {"projectId": world.pid("undated")},
        {"search": "budget"},
        {"assigneeId": gid("User", world.users["MEMBER"])},
        {"clientId": gid("Client", world.clients["acme"])},
    ):
        data = await api.data(TASKS, {"filter": filters, "first": 100}, world.tokens["CLIENT"])
        assert "Internal budget review" not in _names(data, "tasks", "title"), filters
    # Nor does the hidden task make its project match an assignee filter: the member's only Acme
    # task the client sees is on the website project.
    data = await api.data(
        PROJECTS, {"filter": {"assigneeId": gid("User", world.users["MEMBER"])}}, world.tokens["CLIENT"]
    )
    assert _names(data, "projects", "name") == ["Website Redesign"]
    staff = await api.data(
        PROJECTS, {"filter": {"assigneeId": gid("User", world.users["MEMBER"])}}, world.tokens["MANAGER"]
    )
    assert _names(staff, "projects", "name") == ["brand refresh", "Website Redesign"]


@pytest.mark.parametrize("root", ["projects", "tasks"])
async def test_a_partner_without_projects_read_is_refused_the_roots(api, world, root):
    query = PROJECTS if root == "projects" else TASKS
    body = await api.post(query, token=world.tokens["PARTNER_NO_PROJECTS"])
    assert body["data"] == {root: None}
    assert _forbidden(body) == {f"Query.{root}"}
    assert "Acme" not in str(body) and "Website" not in str(body)
    # And the roots are not in its schema view.
    fields = await api.data("{ __schema { queryType { fields { name } } } }", token=world.tokens["PARTNER_NO_PROJECTS"])
    assert root not in {f["name"] for f in fields["__schema"]["queryType"]["fields"]}
    fields = await api.data("{ __schema { queryType { fields { name } } } }", token=world.tokens["PARTNER"])
    assert root in {f["name"] for f in fields["__schema"]["queryType"]["fields"]}


async def test_without_a_token_the_lists_answer_nothing(api, world):
    body = await api.post(PROJECTS)
    assert body["data"] is None or body["data"]["projects"] is None
    assert "Acme" not in str(body) and "Website" not in str(body)


# ------------------------------------------------------------------------------ filters and search


async def test_project_filters(api, world):
    token = world.tokens["MANAGER"]

    async def names(filters: dict) -> list[str]:
        data = await api.data(PROJECTS, {"filter": filters, "first": 100}, token)
        assert data["projects"]["totalCount"] == len(data["projects"]["edges"])
        return _names(data, "projects", "name")

    assert await names({"clientId": gid("Client", world.clients["globex"])}) == ["Globex Portal"]
    assert await names({"status": ["COMPLETED"]}) == ["50% Off_Sale Campaign"]
    assert await names({"status": ["ACTIVE", "COMPLETED"]}) == ALL_PROJECTS
    assert await names({"health": ["AT_RISK", "OFF_TRACK"]}) == ["brand refresh", "Website Redesign"]
    assert await names({"dueBefore": "2026-05-15"}) == ["50% Off_Sale Campaign", "Globex Portal"]
    assert await names({"dueAfter": "2026-05-15", "dueBefore": "2026-06-30"}) == ["Globex Portal", "Website Redesign"]
    assert await names({"search": "WEBSITE"}) == ["Website Redesign"]
    # `%` and `_` are matched as themselves, not as wildcards.
    assert await names({"search": "50% off_sale"}) == ["50% Off_Sale Campaign"]
    assert await names({"search": "%"}) == ["50% Off_Sale Campaign"]
    assert await names({"search": "_"}) == ["50% Off_Sale Campaign"]
    assert await names({"search": "   "}) == ALL_PROJECTS
    assert await names({"search": "website", "clientId": gid("Client", world.clients["globex"])}) == []
    # An id of another type, or a malformed one, matches nothing.
    assert await names({"clientId": gid("Project", world.projects["globex"])}) == []
    assert await names({"assigneeId": gid("User", 999_999)}) == []


async def test_task_filters(api, world):
    token = world.tokens["ADMIN"]

    async def titles(filters: dict) -> list[str]:
        data = await api.data(TASKS, {"filter": filters, "first": 100}, token)
        assert data["tasks"]["totalCount"] == len(data["tasks"]["edges"])
        return _names(data, "tasks", "title")

    assert await titles({"clientId": gid("Client", world.clients["globex"])}) == [
        "Globex login page",
        "Globex hidden task",
    ]
    assert await titles({"projectId": world.pid("website")}) == ["Wireframes", "Homepage copy"]
    assert await titles({"status": ["DONE", "IN_REVIEW"]}) == ["Wireframes", "100% banner_v2"]
    assert await titles({"assigneeId": gid("User", world.users["MEMBER"])}) == ["Wireframes", "Internal budget review"]
    assert await titles({"dueBefore": "2026-03-01"}) == ["Wireframes", "100% banner_v2"]
    assert await titles({"dueAfter": "2026-03-02"}) == ["Homepage copy", "Globex login page"]
    assert await titles({"search": "% BANNER_"}) == ["100% banner_v2"]
    assert await titles({"search": "0%"}) == ["100% banner_v2"]
    # "0_ b" would match "0% b" if `_` were a wildcard.
    assert await titles({"search": "0_ b"}) == []
    assert await titles({"search": "login", "status": ["DONE"]}) == []


async def test_a_client_filters_within_its_own_rows(api, world):
    token = world.tokens["CLIENT"]
    data = await api.data(PROJECTS, {"filter": {"clientId": gid("Client", world.clients["globex"])}}, token)
    assert data["projects"] == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}
    data = await api.data(TASKS, {"filter": {"projectId": world.pid("globex")}}, token)
    assert data["tasks"]["totalCount"] == 0 and data["tasks"]["edges"] == []
    data = await api.data(TASKS, {"filter": {"status": ["IN_REVIEW"], "search": "banner"}}, token)
    assert _names(data, "tasks", "title") == ["100% banner_v2"]


async def test_a_search_too_long_is_a_typed_error(api, world):
    body = await api.post(PROJECTS, {"filter": {"search": "x" * 201}}, world.tokens["MANAGER"])
    assert body["data"] == {"projects": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["reason"] == "TOO_LONG"


# ------------------------------------------------------------------------------ guarded arguments


@pytest.mark.parametrize(
    ("who", "variables", "field"),
    [
        ("CLIENT", {"filter": {"health": ["AT_RISK"]}}, "Project.health"),
        ("CLIENT", {"order": {"field": "HEALTH"}}, "Project.health"),
        ("OTHER_CLIENT", {"filter": {"health": ["ON_TRACK"]}}, "Project.health"),
        ("PARTNER", {"filter": {"health": ["ON_TRACK"]}}, "Project.health"),
        ("PARTNER", {"filter": {"assigneeId": "VXNlcjox"}}, "User.id"),
    ],
)
async def test_filters_and_orders_by_fields_the_caller_cannot_read_are_refused(api, world, who, variables, field):
    body = await api.post(PROJECTS, variables, world.tokens[who])
    assert body["data"] == {"projects": None}
    assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN", "field": "Query.projects"}]
    assert field in body["errors"][0]["message"]


async def test_the_guarded_arguments_are_out_of_the_callers_view(api, world):
    query = """{ f: __type(name: "ProjectFilterInput") { inputFields { name } }
      o: __type(name: "ProjectOrderField") { enumValues { name } } }"""
    client = await api.data(query, token=world.tokens["CLIENT"])
    assert "health" not in {f["name"] for f in client["f"]["inputFields"]}
    assert "HEALTH" not in {v["name"] for v in client["o"]["enumValues"]}
    partner = await api.data(query, token=world.tokens["PARTNER"])
    assert {"health", "assigneeId"}.isdisjoint({f["name"] for f in partner["f"]["inputFields"]})
    staff = await api.data(query, token=world.tokens["MEMBER"])
    assert "health" in {f["name"] for f in staff["f"]["inputFields"]}
    assert "HEALTH" in {v["name"] for v in staff["o"]["enumValues"]}


async def test_what_the_caller_can_read_it_may_filter_and_sort_by(api, world):
    client = await api.data(
        PROJECTS,
        {"filter": {"status": ["ACTIVE"], "search": "web"}, "order": {"field": "END_DATE"}},
        world.tokens["CLIENT"],
    )
    assert _names(client, "projects", "name") == ["Website Redesign"]
    # A partner with internal:read as well reads health, so it may filter and sort by it.
    partner = await api.data(
        PROJECTS, {"filter": {"health": ["ON_TRACK"]}, "order": {"field": "HEALTH"}}, world.tokens["PARTNER_INTERNAL"]
    )
    assert _names(partner, "projects", "name") == ["Globex Portal"]
    tasks = await api.data(
        TASKS, {"filter": {"dueAfter": "2026-01-01"}, "order": {"field": "TITLE"}}, world.tokens["PARTNER"]
    )
    assert _names(tasks, "tasks", "title") == ["Globex login page"]
    member = await api.data(
        PROJECTS,
        {"filter": {"health": ["AT_RISK"]}, "order": {"field": "HEALTH", "direction": "DESC"}},
        world.tokens["MEMBER"],
    )
    assert _names(member, "projects", "name") == ["Website Redesign"]


# ------------------------------------------------------------------------------ orders and pages


async def test_project_orders(api, world):
    token = world.tokens["MANAGER"]

    async def names(order: dict) -> list[str]:
        data = await api.data(PROJECTS, {"order": order, "first": 100}, token)
        return _names(data, "projects", "name")

    assert await names({"field": "NAME", "direction": "DESC"}) == list(reversed(ALL_PROJECTS))
    # Undated last ascending, first descending.
    assert await names({"field": "END_DATE"}) == [
        "50% Off_Sale Campaign",
        "Globex Portal",
        "Website Redesign",
        "50X OffXSale lookalike",
        "brand refresh",
    ]
    assert (await names({"field": "END_DATE", "direction": "DESC"}))[0] == "brand refresh"
    # Health by meaning: on track, at risk, off track (ties by id).
    assert await names({"field": "HEALTH"}) == [
        "50% Off_Sale Campaign",
        "50X OffXSale lookalike",
        "Globex Portal",
        "Website Redesign",
        "brand refresh",
    ]
    created = await names({"field": "CREATED_AT"})
    assert sorted(created) == sorted(ALL_PROJECTS)
    assert (await names({"field": "START_DATE"}))[-1] == "brand refresh"


async def test_task_orders(api, world):
    token = world.tokens["MEMBER"]

    async def titles(order: dict) -> list[str]:
        data = await api.data(TASKS, {"order": order, "first": 100}, token)
        return _names(data, "tasks", "title")

    assert await titles({"field": "DUE_DATE"}) == ALL_TASKS
    assert await titles({"field": "TITLE"}) == sorted(ALL_TASKS, key=str.lower)
    assert await titles({"field": "STATUS", "direction": "DESC"}) == [
        "Wireframes",
        "100% banner_v2",
        "Undated task",
        "Globex hidden task",
        "Globex login page",
        "Internal budget review",
        "Homepage copy",
    ]


@pytest.mark.parametrize(
    ("root", "order", "who"),
    [
        ("projects", {"field": "NAME"}, "MANAGER"),
        ("projects", {"field": "END_DATE"}, "ADMIN"),
        ("projects", {"field": "END_DATE", "direction": "DESC"}, "CLIENT"),
        ("projects", {"field": "HEALTH", "direction": "DESC"}, "MEMBER"),
        ("projects", {"field": "CREATED_AT"}, "CLIENT"),
        ("tasks", {"field": "DUE_DATE"}, "MANAGER"),
        ("tasks", {"field": "DUE_DATE", "direction": "DESC"}, "CLIENT"),
        ("tasks", {"field": "STATUS"}, "MEMBER"),
        ("tasks", {"field": "TITLE", "direction": "DESC"}, "ADMIN"),
    ],
)
async def test_pages_walk_the_whole_list_once(api, world, root, order, who):
    query, key = (PROJECTS, "name") if root == "projects" else (TASKS, "title")
    whole = await api.data(query, {"order": order, "first": 100}, world.tokens[who])
    expected = _names(whole, root, key)
    seen: list[str] = []
    after = None
    while True:
        page = await api.data(query, {"order": order, "first": 2, "after": after}, world.tokens[who])
        assert page[root]["totalCount"] == len(expected)
        seen += _names(page, root, key)
        if not page[root]["pageInfo"]["hasNextPage"]:
            break
        after = page[root]["pageInfo"]["endCursor"]
    assert seen == expected


async def test_page_size_limits_and_hand_made_cursors(api, world):
    token = world.tokens["MANAGER"]
    too_many = await api.post(PROJECTS, {"first": 101}, token)
    assert too_many["errors"][0]["extensions"]["reason"] == "INVALID_PAGE_SIZE"
    empty = await api.data(PROJECTS, {"first": 0}, token)
    assert empty["projects"]["edges"] == [] and empty["projects"]["totalCount"] == 5
    import base64
    import json

    for value in ("yesterday", "0001-01-01", 20260101, "2026-13-01"):
        cursor = base64.urlsafe_b64encode(json.dumps([value, 1]).encode()).decode()
        body = await api.post(TASKS, {"after": cursor}, token)
        assert [e["extensions"].get("reason") for e in body["errors"]] == ["INVALID_CURSOR"], value


# ------------------------------------------------------------------------------ statements


NESTED_PROJECTS = """query($first: Int) { projects(first: $first, orderBy: {field: END_DATE}) { totalCount
  edges { node { name status health client { name accountManager { fullName } }
    tasks { title assignee { fullName } deliverables { title } comments { body } } } } } }"""
NESTED_TASKS = """query($first: Int) { tasks(first: $first) { totalCount
  edges { node { title status dueDate assignee { fullName } project { name client { name } }
    comments { body } deliverables { title } } } } }"""


async def _count(api, statements, query: str, token: str, first: int) -> tuple[int, dict]:
    await api.data("{ me { id } }", token=token)
    statements.reset()
    data = await api.data(query, {"first": first}, token)
    return statements.count, data


@pytest.mark.parametrize("root", ["projects", "tasks"])
async def test_statements_for_a_page_do_not_grow_with_its_size(api, factory, statements, root):
    manager = await factory.user(Role.MANAGER)
    for i in range(12):
        client = await factory.client(f"Client {i:02}", account_manager_id=manager.id)
        project = await factory.project(client, end_date=dt.date(2026, 1, 1) + dt.timedelta(days=i))
        await factory.task(project, assignee_id=manager.id, due_date=dt.date(2026, 2, 1) + dt.timedelta(days=i))
        await factory.task(project, assignee_id=manager.id)
    token = await api.login(manager.email, PASSWORD)
    query = NESTED_PROJECTS if root == "projects" else NESTED_TASKS
    small, data = await _count(api, statements, query, token, 2)
    assert len(data[root]["edges"]) == 2
    large, data = await _count(api, statements, query, token, 12)
    assert len(data[root]["edges"]) == 12
    assert small == large, f"{small} statements for 2 rows, {large} for 12"
    assert small <= 10, small
