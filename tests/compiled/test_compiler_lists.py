"""The Projects and Tasks lists and client(id), compiled: byte-identical to the resolvers as staff,
a portal user, a partner app limited to one client, and a View-as token; one statement each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from models import Client, User
from resolvers.compiled import planner
from schema import enforcement
from tests.compiled.compiler_support import Agency, NoPlans, Pair, build_agency, make_api, statements_of, tokens
from tests.partners.support import access_token, register
from tests.utils import gid

PROJECTS = """query($after: String, $filter: ProjectFilterInput, $order: ProjectOrder) {
  projects(first: 2, after: $after, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name status startDate endDate createdAt
      client { id name } tasks { title status } comments { body } } } } }"""

TASKS = """query($after: String, $filter: TaskFilterInput, $order: TaskOrder) {
  tasks(first: 3, after: $after, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status dueDate completedAt
      assignee { fullName } project { name client { name } } comments { body author { fullName } } } } } }"""

CLIENT = """query($id: ID!) { client(id: $id) { __typename id name website createdAt
  primaryContact { fullName email } projects(status: [ACTIVE, COMPLETED]) { name tasks { title } } } }"""


@pytest.fixture
async def pair(db: Any, engine: Any, settings: Any) -> AsyncIterator[Pair]:
    compiled, first = await make_api(engine, settings, True)
    resolvers, second = await make_api(engine, settings, False)
    async with first, second:
        yield Pair(compiled, resolvers)


@pytest.fixture
async def agency(factory: Any) -> Agency:
    return await build_agency(factory)


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    seen: list[tuple[str, bool]] = []
    plan = planner.plan_root_field

    def spy(schema: Any, field_details: Any, **kwargs: Any) -> Any:
        statement = plan(schema, field_details, **kwargs)
        seen.append((field_details[0].node.name.value, statement is not None))
        return statement

    monkeypatch.setattr("schema.enforcement.plan_root_field", spy)
    monkeypatch.setattr(enforcement, "compiled_plans", NoPlans())
    return seen


async def _walk(pair: Pair, query: str, token: str, variables: dict[str, Any]) -> list[str]:
    """Every page of a connection (both paths, byte-identical), the ids seen."""
    ids: list[str] = []
    after = None
    root = "projects" if "projects(" in query else "tasks"
    while True:
        body = await pair.same(query, {**variables, "after": after}, token)
        connection = body["data"][root]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


async def _callers(pair: Pair, agency: Agency, db: Any) -> dict[str, str]:
    callers = await tokens(pair.resolvers, agency)
    async with db() as session:
        own = await session.get(Client, agency.own_client_id)
    limited = await register(db, scopes=("clients:read", "projects:read"), clients=[own])
    callers["partner"] = await access_token(pair.resolvers.client, limited)
    issued = await pair.resolvers.data(
        "mutation($id: ID!) { viewAs(userId: $id) { accessToken } }",
        {"id": gid("User", await _portal_user_id(db, agency))},
        callers["manager"],
    )
    callers["view_as"] = issued["viewAs"]["accessToken"]
    return callers


async def _portal_user_id(db: Any, agency: Agency) -> int:
    async with db() as session:
        found = await session.scalar(sa.select(col(User.id)).where(col(User.email) == agency.portal))
    assert found is not None
    return found


@pytest.mark.parametrize("who", ["admin", "member", "portal", "partner", "view_as"])
async def test_lists_and_lookups_as_every_kind_of_caller(
    pair: Pair, agency: Agency, db: Any, planned: list[tuple[str, bool]], who: str
) -> None:
    token = (await _callers(pair, agency, db))[who]
    projects_query, tasks_query, client_query = PROJECTS, TASKS, CLIENT
    if who == "partner":
        client_query = CLIENT.replace("primaryContact { fullName email }", "")
        # No scope names comments or users: those fields are refused to a partner app (and would
        # send the root field to the resolvers).
        projects_query = PROJECTS.replace("comments { body }", "")
        tasks_query = TASKS.replace("assignee { fullName }", "").replace("comments { body author { fullName } }", "")
    planned.clear()
    own, other = gid("Client", agency.own_client_id), gid("Client", agency.other_client_id)
    projects = await _walk(pair, projects_query, token, {})
    for order in ({"field": "START_DATE", "direction": "DESC"}, {"field": "NAME"}, {"field": "CREATED_AT"}):
        assert sorted(await _walk(pair, projects_query, token, {"order": order})) == sorted(projects)
    await _walk(pair, projects_query, token, {"filter": {"clientId": other, "status": ["ACTIVE", "ON_HOLD"]}})
    await _walk(pair, projects_query, token, {"filter": {"search": "ALPH", "dueAfter": "2020-01-01"}})
    tasks = await _walk(pair, tasks_query, token, {})
    for order in ({"field": "TITLE", "direction": "DESC"}, {"field": "STATUS"}):
        assert sorted(await _walk(pair, tasks_query, token, {"order": order})) == sorted(tasks)
    await _walk(pair, tasks_query, token, {"filter": {"clientId": own, "status": ["DONE"]}})
    mine = await pair.same(client_query, {"id": own}, token)
    theirs = await pair.same(client_query, {"id": other}, token)
    assert mine["data"]["client"]["name"] == "Zeta Ltd"
    if who in ("admin", "member"):
        assert len(projects) == 6 and len(tasks) == 10
        assert theirs["data"]["client"]["name"] == "ålpha & Co <b>"
    else:
        # Only the own client's rows, and of its tasks those marked for the client.
        assert len(projects) == 3 and len(tasks) == 4
        assert theirs["data"]["client"] is None
    assert planned and all(compiled for _, compiled in planned), [p for p in planned if not p[1]]


async def test_one_statement_per_compiled_list_and_fallbacks(
    pair: Pair, agency: Agency, statements: Any, planned: list[tuple[str, bool]]
) -> None:
    token = (await tokens(pair.resolvers, agency))["admin"]
    counts = []
    for query, variables in ((PROJECTS, {}), (TASKS, {}), (CLIENT, {"id": gid("Client", agency.own_client_id)})):
        counts.append(await statements_of(pair.compiled, statements, query, variables, token))
    assert counts == [1, 1, 1]
    planned.clear()
    fallbacks: list[tuple[str, dict[str, Any] | None]] = [
        # A malformed id, an id of another type, a cursor from elsewhere: the resolvers answer (and err).
        ('{ projects(filter: {clientId: "nonsense"}) { totalCount } }', None),
        (CLIENT, {"id": gid("Project", 1)}),
        ('{ tasks(after: "eyJ2IjogWzEsIDJdfQ==") { totalCount } }', None),
        # Fields not mapped: a deliverable's download address (a token per caller) and size (a 64-bit
        # column the Int scalar refuses beyond 32 bits, with an error), a project's budget burn.
        ("{ tasks { edges { node { title deliverables { title downloadUrl } } } } }", None),
        ("{ tasks { edges { node { title deliverables { fileSize } } } } }", None),
        ("{ projects { edges { node { name budgetBurn { burned } } } } }", None),
    ]
    for query, given in fallbacks:
        await pair.same(query, given, token)
    assert [compiled for _, compiled in planned] == [False] * 6


async def test_plans_are_decided_once_per_operation_caller_and_variables(
    pair: Pair, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    plan = planner.plan_root_field

    def spy(schema: Any, field_details: Any, **kwargs: Any) -> Any:
        asked.append(field_details[0].node.name.value)
        return plan(schema, field_details, **kwargs)

    monkeypatch.setattr("schema.enforcement.plan_root_field", spy)
    monkeypatch.setattr(enforcement, "compiled_plans", type(enforcement.compiled_plans)())
    callers = await tokens(pair.resolvers, agency)
    first = await pair.same(TASKS, {}, callers["admin"])
    again = await pair.same(TASKS, {}, callers["admin"])
    assert first == again and asked == ["tasks"]
    # Another caller, other variables: planned afresh, and the portal user still sees its own rows only.
    portal = await pair.same(TASKS, {}, callers["portal"])
    await pair.same(TASKS, {"order": {"field": "TITLE"}}, callers["admin"])
    assert asked == ["tasks"] * 3
    assert portal["data"]["tasks"]["totalCount"] == 4 and first["data"]["tasks"]["totalCount"] == 10


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Client { name website projects { name } }
  ... on Project { name status client { name } }
  ... on Task { title taskStatus: status project { name } }
  ... on Comment { kind body }
  ... on Contact { fullName email }
  ... on User { fullName }
  ... on Invoice { number }
} }"""


@pytest.mark.parametrize("who", ["admin", "portal"])
async def test_node_by_id(pair: Pair, agency: Agency, db: Any, planned: list[tuple[str, bool]], who: str) -> None:
    """node(id) of every compiled type, the caller's own and another client's rows, a NOTE: the
    resolvers' bytes, null for what the caller may not see."""
    from models import Comment, Contact, Project, Task

    token = (await tokens(pair.resolvers, agency))[who]
    ids: list[str] = [gid("Client", agency.own_client_id), gid("Client", agency.other_client_id)]
    async with db() as session:
        for model in (Project, Task, Comment, Contact, User):
            key: Any = getattr(model, "id")  # noqa: B009 (a model class: mypy sees the value's type)
            for row in (await session.scalars(sa.select(key).order_by(key))).all():
                ids.append(gid(model.__name__, row))
    planned.clear()
    seen = 0
    for node_id in ids:
        body = await pair.same(NODE, {"id": node_id}, token)
        assert body["data"] is not None, body
        seen += body["data"]["node"] is not None
    assert planned == [("node", True)] * len(ids)
    notes = [i for i in ids if i.startswith(gid("Comment", 0)[:8])]
    assert notes
    if who == "portal":
        note = await pair.same(NODE, {"id": notes[0]}, token)
        assert note["data"]["node"] is None  # the only comments are NOTEs: never a portal user's
        assert seen < len(ids)
        other = await pair.same(NODE, {"id": gid("Client", agency.other_client_id)}, token)
        assert other["data"]["node"] is None
    else:
        assert seen == len(ids)
    # Malformed, another kind of object, no object: the resolvers answer (null), the same bytes.
    planned.clear()
    for node_id in ("nonsense", gid("Lead", 999999), gid("Client", 999999)):
        assert (await pair.same(NODE, {"id": node_id}, token))["data"]["node"] is None
    assert planned == [("node", False), ("node", False), ("node", True)]


async def test_executing_the_schema_outside_the_http_view_gets_data(pair: Pair, agency: Agency, db: Any) -> None:
    """Whoever executes the schema with the app's own services (the webhook worker renders payloads
    by node(id) so) gets data: the compiled path's JSON text is for the HTTP view alone."""
    from auth.principal import Principal
    from models import Role
    from resolvers.db import RequestDb
    from resolvers.loaders import Loaders
    from schema.context import Context

    graphql = pair.compiled.app.state.graphql
    assert graphql.services.compiled_reads is True
    principal = Principal(user_id=None, role=Role.ADMIN)
    request_db = RequestDb(db)
    try:
        context = Context(
            principal=principal, db=request_db, loaders=Loaders(request_db, principal), services=graphql.services
        )
        result = await graphql.schema.execute(
            "query($id: ID!) { node(id: $id) { ... on Client { name } } clients { totalCount } }",
            variable_values={"id": gid("Client", agency.own_client_id)},
            context_value=context,
        )
    finally:
        await request_db.close()
    assert result.errors is None
    assert result.data == {"node": {"name": "Zeta Ltd"}, "clients": {"totalCount": 8}}


DELIVERY = """query($after: String) {{
  tasks(first: 20, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }}
  edges {{ node {{ title deliverables {{ id title url kind isComplete createdAt completedAt fileName
    contentType }} project {{ name completedAt }} }} }} }}
  projects(first: 20) {{ edges {{ node {{ name status completedAt
    tasks {{ title deliverables {{ title kind }} }} }} }} }}
  clients(first: 20) {{ edges {{ node {{ name {staff} }} }} }}
}}"""

STAFF_DELIVERY = "portalUsers { id fullName email isActive contact { fullName isPrimary client { name } } }"


@pytest.mark.parametrize("who", ["admin", "member", "portal", "view_as"])
async def test_deliverables_completion_and_portal_users_compile(
    pair: Pair, agency: Agency, db: Any, planned: list[tuple[str, bool]], statements: Any, who: str
) -> None:
    """Task.deliverables, Project.completedAt, Client.portalUsers and User.contact: one statement per
    root field, the resolvers' bytes, a portal user seeing no deliverable of a task hidden from it."""
    token = (await _callers(pair, agency, db))[who]
    staff = who in ("admin", "member")
    query = DELIVERY.format(staff=STAFF_DELIVERY if staff else "projects { completedAt }")
    planned.clear()
    body = await pair.same(query, {}, token)
    assert "errors" not in body, body
    assert planned == [("tasks", True), ("projects", True), ("clients", True)]
    if who != "view_as":  # a View-as request also writes its use to the activity log
        assert await statements_of(pair.compiled, statements, query, {}, token) == 3
    data = body["data"]
    delivered = [d for e in data["tasks"]["edges"] for d in e["node"]["deliverables"]]
    titles = [d["title"] for d in delivered]
    upload = next(d for d in delivered if d["kind"] == "FILE")
    assert upload["completedAt"] == "2026-04-05T00:00:00+00:00"
    assert upload["url"] == "" and upload["fileName"] == "report ü.pdf"
    gamma = next(e["node"] for e in data["projects"]["edges"] if e["node"]["name"] == "Gamma")
    assert gamma["completedAt"] == "2026-06-30T23:59:59.999999+00:00"
    if staff:
        assert titles.count("Internal draft") == 2 and titles.count("A link") == 2
        zeta = next(e["node"] for e in data["clients"]["edges"] if e["node"]["name"] == "Zeta Ltd")
        users = zeta["portalUsers"]
        assert users[0]["fullName"] == "adam Early" and users[0]["isActive"] is False
        assert users[-1]["fullName"] == "Zed Late" and users[-1]["isActive"] is True
        assert {u["contact"]["client"]["name"] for u in users} == {"Zeta Ltd"}
    else:
        # The deliverable of the hidden task is not there; only the own client's rows are.
        assert "Internal draft" not in titles and titles.count("A link") == 1
        assert [e["node"]["name"] for e in data["clients"]["edges"]] == ["Zeta Ltd"]
    # A portal user may not read who signs in to the portal: refused, and the resolvers answer.
    if not staff:
        planned.clear()
        refused = await pair.same("{ clients { edges { node { portalUsers { fullName } } } } }", None, token)
        assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Client.portalUsers"}
        assert planned == [("clients", False)]


SCOPE_CHANGES = """{ projects(first: 20, filter: {status: [ACTIVE]}) { edges { node { name client { name }
  scopeChanges { kind isReduction oldBudget newBudget oldEndDate newEndDate occurredAt
    task { title } changedBy { fullName } } } } } }"""


@pytest.mark.parametrize("who", ["admin", "manager", "portal"])
async def test_scope_changes_compile_for_staff(
    pair: Pair, agency: Agency, db: Any, planned: list[tuple[str, bool]], who: str
) -> None:
    """Project.scopeChanges, the agency's own log: compiled for staff in the log's order; refused to a
    portal user (null and FORBIDDEN, from the resolvers)."""
    token = (await _callers(pair, agency, db))[who]
    planned.clear()
    body = await pair.same(SCOPE_CHANGES, None, token)
    if who == "portal":
        assert planned == [("projects", False)]
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Project.scopeChanges"}
        assert all(e["node"]["scopeChanges"] is None for e in body["data"]["projects"]["edges"])
        return
    assert planned == [("projects", True)] and "errors" not in body
    alpha = next(e["node"] for e in body["data"]["projects"]["edges"] if e["node"]["client"]["name"] == "Zeta Ltd")
    changes = alpha["scopeChanges"]
    assert [c["kind"] for c in changes] == ["END_DATE_MOVED", "BUDGET_CHANGED", "TASK_ADDED"]
    assert changes[1]["newBudget"] == "0.05" and changes[1]["isReduction"] is True and changes[1]["changedBy"]
    assert changes[2]["task"] == {"title": "Hidden from the client"} and changes[0]["newEndDate"] == "2027-02-28"


TIME_AND_EXPENSES = """{ projects(first: 20, filter: {status: [ACTIVE]}) { edges { node { name client { name }
  timeEntries { id workDate hours billable createdAt user { fullName } project { name } task { title } %s }
  expenses { id description billable incurredOn createdAt createdBy { fullName } project { name } %s } } } } }"""

TIME_FIELDS = {
    "admin": (
        "description costRate billRate costAmount billableAmount invoiced invoice { number status }",
        "amount billableAmount invoiced invoice { number }",
    ),
    "member": ("description", ""),
    # Zeta shows costs in its portal: a portal user reads them, not the team's own words.
    "portal": (
        "costRate billRate costAmount billableAmount invoiced invoice { number status }",
        "amount billableAmount invoiced invoice { number }",
    ),
}


@pytest.mark.parametrize("who", ["admin", "member", "portal"])
async def test_time_and_expenses_compile(
    pair: Pair, agency: Agency, db: Any, statements: Any, planned: list[tuple[str, bool]], who: str
) -> None:
    """Project.timeEntries and Project.expenses with their amounts: one statement, the resolvers' bytes
    (amounts rounded at the half cent as an invoice line rounds them); a portal user sees no time on
    a task hidden from it, and no draft invoice behind an entry."""
    token = (await _callers(pair, agency, db))[who]
    query = TIME_AND_EXPENSES % TIME_FIELDS[who]
    planned.clear()
    body = await pair.same(query, None, token)
    assert planned == [("projects", True)] and "errors" not in body, body
    assert await statements_of(pair.compiled, statements, query, None, token) == 1
    alpha = next(e["node"] for e in body["data"]["projects"]["edges"] if e["node"]["client"]["name"] == "Zeta Ltd")
    entries, expenses = alpha["timeEntries"], alpha["expenses"]
    assert [e["hours"] for e in entries] == (["1.15", "0.01"] if who == "portal" else ["2.35", "1.15", "0.01"])
    assert [e["description"] for e in expenses] == ["Coffee", "Fonts ✒️"]  # the same day: the newer id first
    if who == "member":
        return
    first = next(e for e in entries if e["hours"] == "1.15")
    assert first["costAmount"] == "1.73" and first["billableAmount"] == "0.35" and first["invoiced"] is True
    assert first["invoice"]["status"] == "VOID"
    on_draft = next(e for e in entries if e["hours"] == "0.01")
    assert on_draft["billableAmount"] == "1.50" and on_draft["invoiced"] is True
    assert [x["billableAmount"] for x in expenses] == ["0.00", "19.99"]
    if who == "portal":
        assert on_draft["invoice"] is None and expenses[1]["invoice"] is None  # a draft: not the client's
    else:
        hidden = entries[0]
        assert hidden["billableAmount"] == "0.00" and hidden["costAmount"] == "78.33" and hidden["invoiced"] is False
        assert on_draft["invoice"]["status"] == "DRAFT" and expenses[1]["invoice"] is not None
