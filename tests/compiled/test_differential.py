"""The compiled path's licence (issue 15, item 2): every read runs through both paths and the answers
must be the same bytes.

Two apps over one database: one with `compiled_reads` on (query root fields the compiler can express
answered by one SQL statement building the JSON), one with it off (always the resolvers). Every
operation of five corpora is sent to both, as every kind of caller, and the two HTTP answers (status
and body bytes: key order, number and date formatting, error order and messages all count) must be
equal. A compiled plan that answers differently fails here; nothing falls back silently. A failure
names the operation, the caller and the byte where the answers part, with the bytes around it.

- **Corpora**: the leak test's generated operations (tests/test_leaks.py's generator, its query
  operations: mutations change the data); more of the same generator under the root fields issue 15
  targets (clients, client, projects, tasks, node); the per-role walk (tests/test_roles.py: `node(id)`
  with every leaf field of each node type, for a few rows of each type, whichever caller's scope hides
  them); the README's query examples (tests/test_readme.py's extraction, as written); and a
  hand-written set on the shapes the compiler targets (connections with first/after/filters/orders,
  totalCount and pageInfo, the Clients list page's computed columns, nested clients → projects →
  tasks, client(id) and node(id), aliases, fragments, __typename, variables, @include/@skip, denied
  fields, bad cursors and page sizes, a missing id).
- **Callers**: the demo agency's ADMIN, MANAGER and MEMBER, two portal users (one whose client shows
  costs, one whose does not), a manager's View-as token, two partner apps (every scope; a few scopes
  limited to one client), and anonymous.
- **Data**: the demo agency (`agency serve --demo`'s), with the leak test's and the role walk's rows
  planted beside it (a NOTE, internal tasks and notes, a row of every node type), loaded once for
  the module. `utcnow()` is held at one instant meanwhile, so a field that prints the request's time
  (the dashboard's `asOf`) prints the same on both paths.
- **Silent fallbacks**: an error the compiled app logs that the resolvers did not log for the same
  request (a compiled statement the database refused, answered by the resolvers) fails the
  comparison too, though the bytes agree.
- **Is the compiled path used at all?** While `resolvers/compiled` is a package, each hand-written
  shape marked `compiles` must cost the compiled app fewer SQL statements than the resolvers, for
  every caller the policy refuses none of its fields (a refused field sends the root field to the
  resolvers, by the compiler's rule); before the package exists that check is skipped (both apps are
  then the resolvers and the differential passes trivially).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import logging
import pathlib
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import OperationDefinitionNode, OperationType, parse
from hypothesis_graphql import queries
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from strawberry.relay import GlobalID

import resolvers
from auth.policy import SCOPES as PARTNER_SCOPES
from auth.policy import decide
from auth.principal import PolicyKey
from models import Client, ProjectStatus, User, base
from models.db import make_session_factory
from schema.build import build_schema
from schema.enforcement import field_coordinates
from server.app import AgencyGraphQL, create_app
from server.demo import DEMO_PASSWORD, load_demo
from server.settings import Settings
from tests import test_leaks, test_roles
from tests.conftest import TEST_SECRET, empty_database
from tests.factories import Factory
from tests.partners.support import Registered, access_token, register
from tests.test_readme import readme_examples
from tests.utils import LOGIN, StatementCounter, gid

COMPILER = pathlib.Path(resolvers.__file__).parent / "compiled" / "__init__.py"
WALK_ROWS = 3  # rows of each node type the walk reads: the first, a middle one and the last

ROLES = (
    "ADMIN",
    "MANAGER",
    "MEMBER",
    "CLIENT",  # Bluebird Health's portal user: costs not shown
    "CLIENT_COSTS",  # Northwind Coffee's portal user: costs shown
    "VIEW_AS",  # a manager's View-as token for Bluebird's portal user
    "PARTNER",  # a partner app with every scope, no client limit
    "PARTNER_LIMITED",  # clients, projects and invoices of Northwind Coffee alone
    "ANONYMOUS",
)
SIGN_INS = {
    "ADMIN": "owner@agency.example",
    "MANAGER": "maria.manager@agency.example",
    "MEMBER": "dev.member@agency.example",
    "CLIENT": "ben@bluebird.example",
    "CLIENT_COSTS": "olivia@northwind.example",
}
LIMITED_SCOPES = ("clients:read", "projects:read", "invoices:read")
CORPORA = ("handwritten", "walks", "readme", "generated", "targeted")
TARGETED_ROOTS = ("clients", "client", "projects", "tasks", "node")  # issue 15's shapes
TARGETED_PER_ROOT = 40


@dataclass(frozen=True)
class Operation:
    label: str  # where it comes from: "README.md:365", "walk Task:7", "generated #12", a name
    query: str
    variables: dict[str, Any] | None = None
    compiles: bool = False  # a shape the compiler targets: it must cost the compiled app fewer statements
    operation_name: str | None = None  # which operation of the document runs (operationName)
    method: str = "POST"  # or GET, as a browser or a CDN-cached client sends a query


Answer = tuple[int, str, bytes]  # status, Content-Type, body


@dataclass
class World:
    resolvers: httpx.AsyncClient
    compiled: httpx.AsyncClient
    statements: StatementCounter
    tokens: dict[str, str | None] = field(default_factory=dict)
    corpora: dict[str, list[Operation]] = field(default_factory=dict)
    policy_keys: dict[str, PolicyKey] = field(default_factory=dict)  # each caller's, as the app resolved it
    logged: list[logging.LogRecord] = field(default_factory=list)  # the app's errors since the last clear()

    def refused(self, operation: Operation, role: str) -> list[str]:
        """The fields of the operation the policy refuses this caller (any of them sends the whole root
        field to the resolvers, by the compiler's rule)."""
        schema = build_schema()._schema
        coordinates = field_coordinates(schema, parse(operation.query))
        return sorted(f"{t}.{f}" for t, f in coordinates if not decide(t, f, self.policy_keys[role]).allowed)

    async def ask(self, client: httpx.AsyncClient, operation: Operation, role: str) -> Answer:
        token = self.tokens[role]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body: dict[str, Any] = {"query": operation.query, "variables": operation.variables or {}}
        if operation.operation_name is not None:
            body["operationName"] = operation.operation_name
        if operation.method == "GET":
            params = {**body, "variables": json.dumps(body["variables"])}
            response = await client.get("/graphql", params=params, headers=headers)
        else:
            response = await client.post("/graphql", json=body, headers=headers)
        return response.status_code, response.headers.get("content-type", ""), response.content


# --------------------------------------------------------------------------- the corpora


def _is_query(source: str) -> bool:
    definitions = [d for d in parse(source).definitions if isinstance(d, OperationDefinitionNode)]
    return bool(definitions) and all(d.operation == OperationType.QUERY for d in definitions)


@functools.cache
def generated_corpus() -> tuple[Operation, ...]:
    """The leak test's generated operations (same generator, same seed, same ids), queries only."""
    drawn = test_leaks._generate_queries(build_schema().as_str(), test_leaks._all_ids(), test_leaks.GENERATED_QUERIES)
    queries = test_leaks.PORTAL_QUERIES + [q for q in drawn if _is_query(q)]
    return tuple(Operation(f"generated #{i}", q) for i, q in enumerate(queries))


@functools.cache
def targeted_corpus() -> tuple[Operation, ...]:
    """More of the leak test's generator, on the root fields the compiler targets: random selections,
    arguments and nesting under each, drawn as the leak test draws (seeded, the same argument values)."""
    sdl = build_schema().as_str()
    scalars = test_leaks.custom_scalars(test_leaks._all_ids())
    operations = []
    for root in TARGETED_ROOTS:
        strategy = queries(sdl, fields=[root], custom_scalars=scalars, allow_x00=False)
        drawn = test_leaks._draw(strategy, TARGETED_PER_ROOT)
        operations += [Operation(f"targeted {root} #{i}", q) for i, q in enumerate(drawn)]
    return tuple(operations)


def readme_corpus() -> list[Operation]:
    """The README's query examples as written (their mutations change the data: not run here)."""
    return [Operation(f"README.md:{e.line}", e.source, e.variables) for e in readme_examples() if _is_query(e.source)]


async def walk_corpus(db: Any) -> list[Operation]:
    """tests/test_roles.py's walk: node(id) with every leaf field, for WALK_ROWS rows of every node type."""
    operations = []
    for type_name, model in sorted(test_roles._node_types().items()):
        async with db() as session:
            key = getattr(model, "id")  # noqa: B009 (a model class: mypy sees a type)
            ids = list((await session.scalars(sa.select(key).order_by(key))).all())
        assert ids, f"no {type_name} row to walk"
        picked = sorted({ids[0], ids[len(ids) // 2], ids[-1]})[:WALK_ROWS]
        for row_id in picked:
            node_id = GlobalID(type_name, str(row_id))
            operations.append(Operation(f"walk {type_name}:{row_id}", test_roles.node_query(type_name, node_id)))
    return operations


# The Clients list page with the guide's columns: every field on the compiler's list (resolvers/compiled).
CLIENTS_PAGE = """
query ClientsPage($first: Int, $after: String, $filter: ClientFilterInput, $order: ClientOrder) {
  clients(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id name logoUrl website industry tier paymentTermsDays becameClientOn lastInteractionAt createdAt
      status { id name category isBuiltin }
      primaryContact { id fullName email phone title }
      accountManager { id fullName }
      activeProjectCount lastProjectOn outstandingAmount accountValue
    } }
  }
}
"""

# The same page with columns on the resolver path beside them (unbilled amount, contacts, invoices).
CLIENTS_PAGE_WIDE = """
query WidePage($first: Int, $after: String) {
  clients(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name externalId unbilledAmount activeProjectCount outstandingAmount
      contacts { fullName email isPrimary } portalUsers { fullName }
      invoices { number total amountDue isOverdue } payments { amount receivedOn }
      activity(first: 3) { totalCount edges { node { kind summary } } }
    } }
  }
}
"""

# Nested clients → projects → tasks, with the fields a portal user may read too.
NESTED = """
{
  clients(first: 10) {
    edges { node {
      id name
      projects { id name description status startDate endDate health createdAt
        tasks { id title description status dueDate visibleToClient completedAt }
      }
    } }
  }
}
"""

# Nested deeper than the compiler goes (assignees, comments, costs): the resolvers answer it.
NESTED_WIDE = """
{
  clients(first: 10) {
    edges { node {
      id name internalNotes
      projects { id name status budget startDate endDate health
        tasks { id title status dueDate estimateHours visibleToClient completedAt
          assignee { fullName email hourlyCostRate }
          comments { kind body author { fullName } }
        }
      }
    } }
  }
}
"""

FRAGMENTS = """
query Fragments($withTasks: Boolean!, $skipDescription: Boolean!) {
  first: clients(first: 3, orderBy: {field: NAME, direction: DESC}) { ...Page }
  second: clients(first: 2, filter: {search: "o"}) { totalCount ...Page }
}
fragment Page on ClientConnection {
  __typename
  edges { __typename node { __typename ...Row } }
  pageInfo { __typename hasNextPage }
}
fragment Row on Client {
  label: name
  id
  projects {
    ... on Project { projectName: name description @skip(if: $skipDescription) }
    tasks @include(if: $withTasks) { __typename title }
  }
}
"""


def handwritten_corpus(ids: dict[str, str]) -> list[Operation]:
    """Read queries on the shapes the compiler targets; *ids* holds real global ids and cursors. `compiles`
    marks those whose every field is on the compiler's list (a caller refused one of them gets the
    resolvers, by design: the statement check leaves those out)."""
    page = lambda label, **variables: Operation(label, CLIENTS_PAGE, variables, compiles=True)  # noqa: E731
    return [
        page("clients page", first=20),
        page("clients page 2", first=5, after=ids["clients_after"]),
        page("clients by last interaction", first=10, order={"field": "LAST_INTERACTION", "direction": "DESC"}),
        page(
            "clients by created, page 2",
            first=4,
            after=ids["clients_created_after"],
            order={"field": "CREATED_AT", "direction": "ASC"},
        ),
        page("clients filtered", first=100, filter={"categories": ["ACTIVE"], "search": "e"}),
        page("clients by tier", first=10, filter={"tiers": ["GOLD", "SILVER"]}),
        page("clients by status id", first=10, filter={"statusIds": [ids["status"]]}),
        page("clients of no match", first=10, filter={"search": "no client is called this"}),
        page("clients, one a page", first=1),
        page("clients at the edges", first=10, filter={"search": "edge"}),
        Operation(
            "client(id) at the edges",
            """query($id: ID!) { client(id: $id) { id name website industry internalNotes lastInteractionAt
               activeProjectCount lastProjectOn outstandingAmount accountValue primaryContact { fullName title email }
               projects { name description budget startDate endDate status
                 tasks { title estimateHours dueDate completedAt } } } }""",
            {"id": ids["edge"]},
            compiles=True,
        ),
        Operation(
            "client(id), contacts",
            """query($id: ID!) { client(id: $id) { name contacts { id fullName email phone title isPrimary roles
               reportsTo { fullName } directReports { fullName roles } client { name } } } }""",
            {"id": ids["client"]},
            compiles=True,
        ),
        Operation(
            "clients page with contacts, staff's columns",
            """{ clients(first: 10) { totalCount edges { node { name primaryContact { fullName }
               contacts { fullName isDecisionMaker internalNotes hasPortalAccess marketingConsent marketingConsentAt
                 marketingConsentSource reportsTo { fullName client { name } } } } } } }""",
            compiles=True,
        ),
        Operation(
            "tasks' deliverables, projects' completion",
            """{ tasks(first: 30) { edges { node { title deliverables { id title url kind isComplete createdAt
                 completedAt fileName contentType } } } }
               projects(first: 30) { edges { node { name status completedAt } } } }""",
            compiles=True,
        ),
        Operation(
            "clients' portal users",
            """{ clients(first: 20) { edges { node { name portalUsers { id fullName email isActive
                 contact { fullName roles client { name } } } } } } }""",
            compiles=True,
        ),
        Operation(
            "client(id), invoices and payments",
            """query($id: ID!) { client(id: $id) { name invoices { id number status issueDate dueDate paidOn
                 sentAt voidedAt client { name } payments { amount method reference receivedOn }
                 lines { id kind description quantity unitPrice taxRate amount taxAmount
                   timeEntries { hours billableAmount } expenses { description billableAmount } } }
               payments { id amount receivedOn invoice { number status } } } }""",
            {"id": ids["client"]},
            compiles=True,
        ),
        Operation(
            "client(id), the record's meetings and engagement",
            """query($id: ID!) { client(id: $id) { name
               meetings { id title startsAt endsAt status location agenda requestedBy { fullName } staff { fullName } }
               opportunities { id title kind stage value expectedCloseOn owner { fullName } project { name } }
               interactions { id kind summary occurredAt staff { fullName } contact { fullName } }
               satisfactionScores { score comment respondedAt contact { fullName } } } }""",
            {"id": ids["client"]},
            compiles=True,
        ),
        Operation(
            "client(id), the portal's meetings",
            """query($id: ID!) { client(id: $id) { name meetings { title startsAt endsAt status location
               requestedBy { fullName } staff { fullName } client { name } } } }""",
            {"id": ids["client"]},
            compiles=True,
        ),
        Operation(
            "projects' scope changes",
            """{ projects(first: 30) { edges { node { name completedAt scopeChanges { kind isReduction oldBudget
               newBudget oldEndDate newEndDate occurredAt task { title } changedBy { fullName } } } } } }""",
            compiles=True,
        ),
        Operation(
            "projects' time and expenses",
            """{ projects(first: 30) { edges { node { name
               timeEntries { id workDate hours billable description costRate billRate costAmount billableAmount
                 invoiced invoice { number status } user { fullName } task { title } }
               expenses { id description billable incurredOn amount billableAmount invoiced invoice { number }
                 createdBy { fullName } } } } } }""",
            compiles=True,
        ),
        Operation(
            "projects' time, the portal's columns",
            """{ projects(first: 30) { edges { node { name timeEntries { workDate hours billable billRate
               billableAmount invoiced user { fullName } task { title } } } } } }""",
            compiles=True,
        ),
        Operation("clients page, wide", CLIENTS_PAGE_WIDE, {"first": 6, "after": ids["clients_after"]}),
        Operation("nested clients → projects → tasks", NESTED, compiles=True),
        Operation("nested, wide", NESTED_WIDE),
        Operation(
            "nested, projects by status",
            """{ clients(first: 20, orderBy: {field: NAME, direction: DESC}) { totalCount edges { node { name
                 active: projects(status: [ACTIVE]) { name tasks { title status } }
                 done: projects(status: [COMPLETED, CANCELLED]) { name } } } } }""",
            compiles=True,
        ),
        Operation(
            "projects connection, compiled columns",
            """query($after: String) { projects(first: 5, after: $after, filter: {status: [ACTIVE, ON_HOLD]},
                 orderBy: {field: END_DATE, direction: DESC}) {
               totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
               edges { cursor node { id name description startDate endDate budget status health createdAt
                 client { id name } tasks { id title status dueDate } } } } }""",
            {"after": ids["projects_after"]},
            compiles=True,
        ),
        Operation(
            "tasks connection, compiled columns",
            """query($after: String) { tasks(first: 7, after: $after, filter: {status: [TODO, IN_PROGRESS]},
                 orderBy: {field: DUE_DATE}) {
               totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
               edges { cursor node { id title description status dueDate estimateHours visibleToClient
                 completedAt project { id name client { name } } } } } }""",
            {"after": ids["tasks_after"]},
            compiles=True,
        ),
        Operation(
            "tasks by title, first page",
            """{ tasks(first: 20, orderBy: {field: TITLE, direction: DESC}) { totalCount
               edges { node { id title status dueDate } } } }""",
            compiles=True,
        ),
        Operation(
            "client(id), compiled columns",
            """query($id: ID!) { client(id: $id) { __typename id name website tier lastInteractionAt
               status { name category } accountManager { fullName } primaryContact { fullName email }
               activeProjectCount lastProjectOn outstandingAmount accountValue
               projects(status: [ACTIVE]) { name status tasks { title status } } } }""",
            {"id": ids["client"]},
            compiles=True,
        ),
        Operation(
            "client(id), Bluebird's projects and tasks",
            """query($id: ID!) { client(id: $id) { id name website projects { name status startDate
               tasks { title status dueDate } } } }""",
            {"id": ids["other_client"]},
            compiles=True,
        ),
        Operation(
            "projects connection",
            """query($after: String) { projects(first: 5, after: $after, filter: {status: [ACTIVE, ON_HOLD]},
                 orderBy: {field: END_DATE, direction: DESC}) {
               totalCount pageInfo { hasNextPage endCursor }
               edges { cursor node { id name status budget health endDate client { name } } } } }""",
            {"after": ids["projects_after"]},
        ),
        Operation(
            "projects of a client",
            """query($client: ID) { projects(filter: {clientId: $client}, orderBy: {field: HEALTH}) {
               totalCount edges { node { name health tasks { title status } } } } }""",
            {"client": ids["client"]},
        ),
        Operation(
            "tasks connection",
            """query($after: String) { tasks(first: 7, after: $after, filter: {status: [TODO, IN_PROGRESS]},
                 orderBy: {field: DUE_DATE}) {
               totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
               edges { cursor node { id title status dueDate estimateHours assignee { fullName }
                 project { name client { name } } } } } }""",
            {"after": ids["tasks_after"]},
        ),
        Operation(
            "tasks due in a window, by title",
            """{ tasks(first: 100, filter: {dueAfter: "2020-01-01", dueBefore: "2030-01-01"},
                 orderBy: {field: TITLE, direction: DESC}) { totalCount edges { node { title dueDate } } } }""",
        ),
        Operation(
            "client(id), Northwind",
            """query($id: ID!) { client(id: $id) { __typename id name website internalNotes tier
               status { name } activeProjectCount outstandingAmount accountValue lastProjectOn
               primaryContact { fullName email phone } contacts { fullName title }
               projects(status: [ACTIVE]) { name tasks { title } } } }""",
            {"id": ids["client"]},
        ),
        Operation(
            "client(id), Bluebird",
            """query($id: ID!) { client(id: $id) { name internalNotes projects { name } } }""",
            {"id": ids["other_client"]},
        ),
        Operation(
            "node(id)",
            """query($id: ID!, $task: ID!) {
               client: node(id: $id) { __typename id ... on Client { name tier accountValue } }
               task: node(id: $task) { id ... on Task { title estimateHours project { name } } } }""",
            {"id": ids["client"], "task": ids["task"]},
        ),
        Operation(
            "aliases",
            "{ a: clients(first: 2) { totalCount }"
            " b: clients(first: 1) { n: totalCount e: edges { node { x: name y: name } } } }",
            compiles=True,
        ),
        Operation(
            "fragments, @include and @skip",
            FRAGMENTS,
            {"withTasks": True, "skipDescription": False},
            compiles=True,
        ),
        Operation("fragments, skipped", FRAGMENTS, {"withTasks": False, "skipDescription": True}, compiles=True),
        Operation(
            "denied fields",
            """{ clients(first: 3) { edges { node { name internalNotes accountValue
               accountManager { fullName email phone hourlyCostRate hourlyBillRate }
               projects { budget timeEntries { hours costRate } expenses { amount } } } } } }""",
        ),
        Operation("bad cursor", '{ clients(first: 2, after: "not-a-cursor") { totalCount edges { node { name } } } }'),
        Operation("hand-made cursor", '{ tasks(after: "eyJ2IjogWzEsIDJdfQ==") { edges { node { title } } } }'),
        Operation("page too large", "{ clients(first: 1000) { totalCount } }"),
        Operation("page of none", "{ clients(first: 0) { totalCount edges { node { name } } } }"),
        Operation("negative page", "{ clients(first: -1) { totalCount } }"),
        Operation(
            "missing id",
            """query($id: ID!) { client(id: $id) { name } node(id: $id) { id } }""",
            {"id": gid("Client", 999999)},
        ),
        Operation("malformed id", '{ client(id: "not-an-id") { name } node(id: "Q2xpZW50OmFiYw==") { id } }'),
        Operation("wrong variable type", "query($n: Int) { clients(first: $n) { totalCount } }", {"n": "ten"}),
        Operation("unknown field", "{ clients { edges { node { nameX } } } }"),
        Operation("typename only", "{ __typename clients(first: 1) { __typename } }"),
        Operation(
            "the second operation of a document, by name",
            """query Names { clients(first: 3) { edges { node { name } } } }
               query Page { clients(first: 2, orderBy: {field: NAME, direction: DESC}) {
                 totalCount edges { node { id name activeProjectCount } } } }""",
            compiles=True,
            operation_name="Page",
        ),
        Operation(
            "clients page by GET",
            CLIENTS_PAGE,
            {"first": 3, "order": {"field": "NAME", "direction": "DESC"}},
            compiles=True,
            method="GET",
        ),
        Operation("nested by GET", NESTED, compiles=True, method="GET"),
        Operation(
            "errors beside compiled roots",
            """{ big: clients(first: 1000) { totalCount } ok: clients(first: 2) { totalCount edges { node { name } } }
                 bad: tasks(after: "nope") { totalCount } p: projects(first: 2) { edges { node { name } } }
                 gone: client(id: "Q2xpZW50Ojk5OTk5OQ==") { name } }""",
        ),
        Operation(
            "clients beside other roots",
            "{ me { fullName } clients(first: 2) { totalCount edges { node { name } } } apiVersion }",
        ),
    ]


# --------------------------------------------------------------------------- the world


async def _sign_in(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": DEMO_PASSWORD}}
    )
    tokens = response.json()["data"]["login"]["tokens"]
    assert tokens, f"signing in as {email}: {response.text}"
    token: str = tokens["accessToken"]
    return token


VIEW_AS = "mutation($id: ID!) { viewAs(userId: $id) { accessToken errors { code } } }"


async def _graphql(client: httpx.AsyncClient, query: str, token: str | None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _cursor(client: httpx.AsyncClient, token: str | None, query: str) -> str:
    data = await _graphql(client, query, token)
    cursor: str = next(iter(data.values()))["pageInfo"]["endCursor"]
    assert cursor, query
    return cursor


@contextlib.contextmanager
def _frozen_clock() -> Iterator[None]:
    """`utcnow()` answers one instant (now, when the module starts) wherever it is imported, so a field
    that prints the time of the request (the dashboard's `asOf`) prints the same on both paths. The
    date is today's, so what the database computes from its own clock agrees with it."""
    clock = base.utcnow
    instant = clock()
    with pytest.MonkeyPatch.context() as patch:
        for module in list(sys.modules.values()):
            if getattr(module, "utcnow", None) is clock:
                patch.setattr(module, "utcnow", lambda: instant)
        yield


@contextlib.contextmanager
def _policy_keys_seen() -> Iterator[dict[str, PolicyKey]]:
    """The policy key the app resolves for each Authorization header it is sent (a spy on the
    request's context, whichever way its caller was found)."""
    seen: dict[str, PolicyKey] = {}
    get_context = AgencyGraphQL.get_context

    async def spy(self: AgencyGraphQL, request: Any, response: Any) -> Any:
        context = await get_context(self, request, response)
        seen[request.headers.get("authorization", "")] = context.principal.policy_key
        return context

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AgencyGraphQL, "get_context", spy)
        yield seen


# Text a SQL JSON builder and the response's serialiser may escape differently: quotes, backslashes,
# control characters, DEL, non-ASCII, characters above the BMP, U+2028, markup.
EDGE_TEXT = 'Edge "Zoë" Café \\ / 🚀\u2028\t\n\x7f\x01 <b>&amp;</b> \\u0041'


async def _plant_edges(factory: Factory) -> None:
    """Two clients whose values sit where formats part: escaped text, microseconds and whole seconds,
    the largest and smallest money, dates at month and century ends, an overpaid invoice."""
    edge = await factory.client(
        EDGE_TEXT,
        website="https://zoë.example/ü?q=a&b=1",
        industry="Café & Bar 🍷",
        internal_notes='line one\r\nline two\ttab "quoted" \\ end',
        last_interaction_at=dt.datetime(2026, 11, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
    )
    await factory.contact(edge, primary=True, full_name="Ærøskøbing Ñandú 😀", title='C"E"O', email="ærø@edge.example")
    big = await factory.project(
        edge,
        name='Edge "project" 🚧',
        description="line1\nline2\ttab\\",
        budget=Decimal("999999999999.99"),
        start_date=dt.date(1999, 12, 31),
        end_date=dt.date(2000, 2, 29),
    )
    await factory.task(
        big,
        title='Ünïcödé ✅ "t"',
        estimate_hours=Decimal("0.25"),
        due_date=dt.date(2026, 2, 28),
        completed_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    await factory.task(
        big,
        title="micro",
        estimate_hours=Decimal("999999.99"),
        completed_at=dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC),
    )
    await factory.project(edge, name="Edge small", budget=Decimal("0.10"), status=ProjectStatus.ON_HOLD)
    overpaid = await factory.invoice(edge, lines=(("1", "0.01"),))
    await factory.payment(overpaid, "5.00")
    other = await factory.client(
        "Edge 2 \u2014 \u2018quotes\u2019", last_interaction_at=dt.datetime(2026, 11, 3, 4, 5, 6, tzinfo=dt.UTC)
    )
    await factory.project(other, name="zero", budget=Decimal("0.00"))


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@contextlib.contextmanager
def _errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Every error the app logs ("agency" and below): a compiled statement the database refused is
    logged and answered by the resolvers, which the bytes alone would not show."""
    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    logger = logging.getLogger("agency")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


class _BesideTheDemo(Factory):
    """The test factories, numbering invoices past the demo's."""

    numbers = itertools.count(900_001)

    async def invoice(self, client: Any, lines: Any = (("10", "100.00"),), **kw: Any) -> Any:
        kw.setdefault("number", next(self.numbers))
        return await super().invoice(client, lines, **kw)


async def _tokens(resolvers: httpx.AsyncClient, db: Any, northwind: Client) -> dict[str, str | None]:
    """A bearer token for every caller of ROLES, each issued the way that caller gets one."""
    tokens: dict[str, str | None] = {role: await _sign_in(resolvers, email) for role, email in SIGN_INS.items()}
    async with db() as session:
        ben = (await session.scalars(sa.select(User).where(col(User.email) == SIGN_INS["CLIENT"]))).one()
    issued = await _graphql(resolvers, VIEW_AS, tokens["MANAGER"], id=gid("User", ben.id))
    assert issued["viewAs"]["errors"] == [], issued
    tokens["VIEW_AS"] = issued["viewAs"]["accessToken"]
    every: Registered = await register(db, scopes=list(PARTNER_SCOPES))
    limited = await register(db, scopes=LIMITED_SCOPES, clients=[northwind])
    tokens["PARTNER"] = await access_token(resolvers, every)
    tokens["PARTNER_LIMITED"] = await access_token(resolvers, limited)
    tokens["ANONYMOUS"] = None
    assert set(tokens) == set(ROLES)
    return tokens


async def _ids(
    resolvers: httpx.AsyncClient, manager: str | None, northwind: Client, bluebird: Client
) -> dict[str, str]:
    """Real global ids and cursors for the hand-written operations (cursors as the manager's pages end)."""
    tasks = await _graphql(resolvers, "{ tasks(first: 1) { edges { node { id } } } }", manager)
    return {
        "client": gid("Client", northwind.id),
        "other_client": gid("Client", bluebird.id),
        "status": gid("ClientStatus", northwind.status_id),
        "task": tasks["tasks"]["edges"][0]["node"]["id"],
        "clients_after": await _cursor(resolvers, manager, "{ clients(first: 5) { pageInfo { endCursor } } }"),
        "clients_created_after": await _cursor(
            resolvers, manager, "{ clients(first: 4, orderBy: {field: CREATED_AT}) { pageInfo { endCursor } } }"
        ),
        "projects_after": await _cursor(
            resolvers,
            manager,
            """{ projects(first: 5, filter: {status: [ACTIVE, ON_HOLD]}, orderBy: {field: END_DATE,
                 direction: DESC}) { pageInfo { endCursor } } }""",
        ),
        "tasks_after": await _cursor(
            resolvers, manager, "{ tasks(first: 7, filter: {status: [TODO, IN_PROGRESS]}) { pageInfo { endCursor } } }"
        ),
    }


def _app(engine: AsyncEngine, compiled: bool) -> httpx.AsyncClient:
    settings = Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused", AGENCY_COMPILED_READS=compiled)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine), client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine, statements: StatementCounter) -> AsyncIterator[World]:
    """The demo agency with the leak test's and the role walk's rows beside it, both apps, every token and
    every corpus: built once for the module (the differential only reads)."""
    await empty_database(engine)
    db = make_session_factory(engine)
    await load_demo(db)
    factory = _BesideTheDemo(db)
    await test_leaks._plant(factory, db)
    await test_roles._plant(factory)
    await _plant_edges(factory)
    async with db() as session:
        northwind = (await session.scalars(sa.select(Client).where(col(Client.name) == "Northwind Coffee"))).one()
        bluebird = (await session.scalars(sa.select(Client).where(col(Client.name) == "Bluebird Health"))).one()
        edge = (await session.scalars(sa.select(Client).where(col(Client.name) == EDGE_TEXT))).one()
    with _frozen_clock(), _policy_keys_seen() as seen, _errors_logged() as logged:
        async with _app(engine, False) as resolvers, _app(engine, True) as compiled:
            world = World(resolvers, compiled, statements, logged=logged)
            world.tokens = await _tokens(resolvers, db, northwind)
            for role, token in world.tokens.items():
                if token is not None:
                    await _graphql(resolvers, "{ apiVersion }", token)
                    world.policy_keys[role] = seen[f"Bearer {token}"]
            ids = await _ids(resolvers, world.tokens["MANAGER"], northwind, bluebird)
            ids["edge"] = gid("Client", edge.id)
            world.corpora = {
                "handwritten": handwritten_corpus(ids),
                "walks": await walk_corpus(db),
                "readme": readme_corpus(),
                "generated": list(generated_corpus()),
                "targeted": list(targeted_corpus()),
            }
            yield world


# --------------------------------------------------------------------------- comparing


def _first_difference(a: bytes, b: bytes) -> int:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


def describe(operation: Operation, role: str, resolvers: Answer, compiled: Answer, context: int = 120) -> str:
    """The operation, the caller and where the two answers part, with the bytes around it."""
    (status_r, type_r, body_r), (status_c, type_c, body_c) = resolvers, compiled
    at = _first_difference(body_r, body_c)
    start = max(0, at - context)
    lines = [
        f"{operation.label} as {role}: status {status_r} / {status_c}, {type_r} / {type_c} (resolvers / compiled);"
        " bodies of "
        f"{len(body_r)} / {len(body_c)} bytes part at byte {at}",
        f"  operation: {' '.join(operation.query.split())[:400]}",
    ]
    if operation.variables:
        lines.append(f"  variables: {json.dumps(operation.variables)[:300]}")
    lines += [
        f"  resolvers: ...{body_r[start : at + context]!r}",
        f"  compiled:  ...{body_c[start : at + context]!r}",
        f"             {' ' * (len(repr(body_r[start:at])) - 1)}^",
    ]
    return "\n".join(lines)


def _take(counts: Counter[tuple[str, int, Any]], key: tuple[str, int, Any]) -> bool:
    """Whether the resolvers logged this error too (each of theirs matches one of the compiled app's)."""
    if counts[key] > 0:
        counts[key] -= 1
        return True
    return False


def describe_logged(operation: Operation, role: str, records: list[logging.LogRecord]) -> str:
    """The same bytes, but the compiled app logged an error the resolvers did not (a silent fallback)."""
    first = records[0]
    cause = f": {first.exc_info[1]!r}"[:400] if first.exc_info else ""
    return (
        f"{operation.label} as {role}: the same bytes, but the compiled app logged {len(records)} error(s) the"
        f" resolvers did not, first {first.name}: {first.getMessage()}{cause}\n"
        f"  operation: {' '.join(operation.query.split())[:400]}"
    )


def _answered(body: bytes) -> bool:
    """Some root field of the answer carries data."""
    data = json.loads(body).get("data") or {}
    return any(value is not None for value in data.values())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("corpus", CORPORA)
async def test_both_paths_answer_every_operation_with_the_same_bytes(world: World, corpus: str, role: str):
    operations = world.corpora[corpus]
    differences: list[str] = []
    answered = compiled_fewer = 0
    for operation in operations:
        world.statements.reset()
        world.logged.clear()
        resolvers = await world.ask(world.resolvers, operation, role)
        by_resolvers = world.statements.count
        logged_by_resolvers = Counter((r.name, r.levelno, r.msg) for r in world.logged)
        world.statements.reset()
        world.logged.clear()
        compiled = await world.ask(world.compiled, operation, role)
        if resolvers != compiled:
            differences.append(describe(operation, role, resolvers, compiled))
        elif extra := [r for r in world.logged if not _take(logged_by_resolvers, (r.name, r.levelno, r.msg))]:
            differences.append(describe_logged(operation, role, extra))
        answered += resolvers[0] == 200 and _answered(resolvers[2])
        compiled_fewer += world.statements.count < by_resolvers
    shown = "\n\n".join(differences[:5])
    assert not differences, f"{len(differences)} of {len(operations)} {corpus} operations differ as {role}:\n{shown}"
    # The comparison was not between two identical refusals: the caller's token worked and reads came back.
    if role != "ANONYMOUS":
        assert answered > 0, f"no {corpus} operation answered {role} any data: the corpus or the token is broken"
    # And, once there is a compiler, the random operations under its roots were not all left to the resolvers.
    if corpus == "targeted" and role != "ANONYMOUS" and COMPILER.exists():
        assert compiled_fewer > 0, f"the compiled app spent fewer statements on no targeted operation as {role}"


def test_the_corpora_are_the_ones_the_issue_names(world: World):
    sizes = {name: len(operations) for name, operations in world.corpora.items()}
    assert sizes["generated"] >= test_leaks.GENERATED_QUERIES // 2, sizes
    assert sizes["readme"] >= 15, sizes
    assert sizes["targeted"] >= len(TARGETED_ROOTS) * TARGETED_PER_ROOT // 2, sizes
    assert sizes["walks"] >= 2 * len(test_roles._node_types()), sizes
    assert sum(op.compiles for op in world.corpora["handwritten"]) >= 8, sizes


@pytest.mark.parametrize("role", [r for r in ROLES if r != "ANONYMOUS"])
async def test_the_compiled_app_spends_fewer_statements_on_the_shapes_it_compiles(world: World, role: str):
    """The compiled path is really taken: a shape it compiles costs it fewer SQL statements than the
    resolvers' (one per compiled root field, issue 15 item 4), or the differential above compared the
    resolvers with themselves."""
    if not COMPILER.exists():
        pytest.skip("no compiler yet (no resolvers/compiled package): both apps answer from the resolvers")
    counts = []
    for operation in [op for op in world.corpora["handwritten"] if op.compiles]:
        world.statements.reset()
        _, _, body = await world.ask(world.resolvers, operation, role)
        by_resolvers = world.statements.count
        if world.refused(operation, role) or b'"errors"' in body:
            continue  # a field or filter refused to this caller: the resolvers answer it, by design
        if not _answered(body):
            continue  # a lookup of a row the caller may not see: one statement either way
        world.statements.reset()
        await world.ask(world.compiled, operation, role)
        counts.append((operation.label, by_resolvers, world.statements.count))
    assert counts, f"as {role}, every shape the compiler covers holds a field refused to this caller"
    not_fewer = [(label, r, c) for label, r, c in counts if c >= r]
    assert not not_fewer, f"as {role}, (operation, resolvers' statements, compiled app's): {not_fewer}"
