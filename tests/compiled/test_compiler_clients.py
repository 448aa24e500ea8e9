"""The compiled read path answers the Clients list byte for byte as the resolvers do, as every
role, in one statement; what it cannot express falls back and still answers the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from strawberry.relay import GlobalID

from resolvers.compiled import planner
from schema import enforcement
from tests.compiled.compiler_support import Agency, NoPlans, Pair, build_agency, make_api, statements_of, tokens
from tests.utils import gid

NESTED = """query Nested($first: Int) { clients(first: $first) { edges { node {
  id name website createdAt
  projects { id name status startDate tasks { id title status dueDate } }
} } } }"""

CLIENTS_PAGE = """query ClientsPage { clients(first: 50) { totalCount edges { node {
  id name logoUrl tier status { name category } primaryContact { fullName email } accountManager { fullName }
  activeProjectCount outstandingAmount lastInteractionAt accountValue } } } }"""

EVERYTHING = """query Everything($first: Int, $after: String, $order: ClientOrder, $filter: ClientFilterInput) {
  __typename
  list: clients(first: $first, after: $after, orderBy: $order, filter: $filter) {
    __typename totalCount
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges { __typename cursor node { __typename ...ClientColumns
      again: name
      projects(status: [ACTIVE, ON_HOLD]) {
        id __typename name description startDate endDate budget status health createdAt
        tasks { id title description status dueDate estimateHours visibleToClient completedAt } }
      allProjects: projects { name }
      status { id name category isBuiltin }
      primaryContact { id fullName email phone title isPrimary isDecisionMaker }
      accountManager { id fullName }
      activeProjectCount lastProjectOn outstandingAmount accountValue
    } }
  }
}
fragment ClientColumns on Client {
  id name logoUrl website billingAddress industry tier paymentTermsDays becameClientOn
  showCostsInPortal portalBookingEnabled lastInteractionAt createdAt
}"""

# The same, without the fields a portal user may not read (they would send it to the resolvers).
PORTAL_EVERYTHING = """query Everything($first: Int, $after: String, $order: ClientOrder, $filter: ClientFilterInput) {
  list: clients(first: $first, after: $after, orderBy: $order, filter: $filter) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename
      id name logoUrl website billingAddress industry paymentTermsDays becameClientOn portalBookingEnabled createdAt
      projects(status: [ACTIVE, ON_HOLD]) { id name description startDate endDate budget status createdAt
        tasks { id title description status dueDate completedAt } }
      allProjects: projects { name tasks { title } }
      primaryContact { id fullName email phone title isPrimary }
      accountManager { id fullName }
      activeProjectCount lastProjectOn outstandingAmount
    } }
  }
}"""


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
def planned(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each root field the planner was asked about compiled."""
    seen: list[bool] = []
    plan = planner.plan_root_field

    def spy(schema: Any, field_details: Any, **kwargs: Any) -> Any:
        statement = plan(schema, field_details, **kwargs)
        if field_details[0].node.name.value == "clients":
            seen.append(statement is not None)
        return statement

    monkeypatch.setattr("schema.enforcement.plan_root_field", spy)
    monkeypatch.setattr(enforcement, "compiled_plans", NoPlans())
    return seen


@pytest.mark.parametrize("role", ["admin", "manager", "member", "portal"])
async def test_bench_shapes_are_byte_identical(pair: Pair, agency: Agency, planned: list[bool], role: str) -> None:
    token = (await tokens(pair.resolvers, agency))[role]
    planned.clear()
    nested = await pair.same(NESTED, {"first": 50}, token)
    page = await pair.same(CLIENTS_PAGE, None, token)
    names = [edge["node"]["name"] for edge in nested["data"]["clients"]["edges"]]
    if role == "portal":
        # A portal user sees its own client only, and only the tasks marked for it.
        assert names == ["Zeta Ltd"]
        titles = {t["title"] for p in nested["data"]["clients"]["edges"][0]["node"]["projects"] for t in p["tasks"]}
        assert "Hidden from the client" not in titles and "Task 0 of Alpha" in titles
        assert page["data"]["clients"]["totalCount"] == 1
    else:
        assert len(names) == 8 and "Zeta Ltd" in names
        assert page["data"]["clients"]["totalCount"] == 8
    if role in ("member", "portal"):
        # Neither may read the account value: the field is refused (null and FORBIDDEN), so the
        # whole root field takes the resolvers.
        assert page["errors"] and all(e["extensions"]["code"] == "FORBIDDEN" for e in page["errors"])
        assert planned == [True, False]
    else:
        assert "errors" not in page
        assert planned == [True, True]
        zeta = next(e["node"] for e in page["data"]["clients"]["edges"] if e["node"]["name"] == "Zeta Ltd")
        assert zeta["outstandingAmount"] == "1049.89" and zeta["activeProjectCount"] == 1


@pytest.mark.parametrize("role", ["admin", "portal"])
async def test_every_compiled_field_arguments_and_pages(
    pair: Pair, agency: Agency, planned: list[bool], role: str
) -> None:
    token = (await tokens(pair.resolvers, agency))[role]
    query = PORTAL_EVERYTHING if role == "portal" else EVERYTHING
    cursor = None
    seen: list[str] = []
    planned.clear()
    while True:
        body = await pair.same(query, {"first": 2, "after": cursor}, token)
        connection = body["data"]["list"]
        seen += [e["node"]["name"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        cursor = connection["pageInfo"]["endCursor"]
    assert len(seen) == (1 if role == "portal" else 8) and len(set(seen)) == len(seen)
    orders = [{"field": "CREATED_AT", "direction": "DESC"}, {"field": "NAME", "direction": "DESC"}]
    filters: list[dict] = [{"search": "zeta"}, {"search": "nothing matches this"}]
    if role != "portal":
        orders.append({"field": "LAST_INTERACTION", "direction": "ASC"})
        filters += [{"search": "CLIENT", "tiers": ["SILVER"]}, {"categories": ["ACTIVE"]}]
    for order in orders:
        first = await pair.same(query, {"first": 3, "order": order}, token)
        after = first["data"]["list"]["pageInfo"]["endCursor"]
        await pair.same(query, {"first": 3, "order": order, "after": after}, token)
    for given in filters:
        await pair.same(query, {"first": 5, "filter": given}, token)
    assert planned and all(planned)


async def test_portal_user_sees_only_its_client_with_a_cursor_of_another(pair: Pair, agency: Agency) -> None:
    """A cursor taken by staff cannot widen a portal user's page."""
    token = await tokens(pair.resolvers, agency)
    staff = await pair.same(EVERYTHING, {"first": 1}, token["admin"])
    cursor = staff["data"]["list"]["pageInfo"]["endCursor"]
    body = await pair.same(EVERYTHING, {"first": 10, "after": cursor}, token["portal"])
    names = [e["node"]["name"] for e in body["data"]["list"]["edges"]]
    assert set(names) <= {"Zeta Ltd"}


async def test_what_cannot_compile_falls_back_and_answers_the_same(
    pair: Pair, agency: Agency, planned: list[bool]
) -> None:
    token = await tokens(pair.resolvers, agency)
    cases = [
        # A field not mapped (a custom resolver), an argument not mapped, values the resolver refuses.
        ("{ clients { edges { node { name unbilledAmount } } } }", None),
        ("{ clients { edges { node { name invoices { number isOverdue } } } } }", None),
        ('{ clients(filter: {statusIds: ["1"]}) { totalCount } }', None),
        ("{ clients(first: 101) { totalCount } }", None),
        ("{ clients(first: 0) { totalCount edges { cursor } } }", None),
        ('{ clients(after: "not a cursor") { totalCount } }', None),
        # Internal notes are refused to a portal user: null with FORBIDDEN, from the resolvers.
    ]
    for query, variables in cases:
        planned.clear()
        await pair.same(query, variables, token["admin"])
        assert planned == [False], query
    planned.clear()
    refused = await pair.same("{ clients { edges { node { name internalNotes } } } }", None, token["portal"])
    assert planned == [False]
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Client.internalNotes"}
    # A compiled field beside a resolver field, with errors from the resolver field, in order.
    planned.clear()
    mixed = await pair.same(
        "{ a: clients(first: 1) { totalCount } me { id } b: clients(first: 500) { totalCount }"
        " c: clients { totalCount } }",
        None,
        token["admin"],
    )
    assert planned == [True, False, True]  # b's page size is refused by the resolver
    assert list(mixed["data"]) == ["a", "me", "b", "c"] and mixed["errors"][0]["path"] == ["b"]


async def test_one_statement_per_compiled_root_field(
    pair: Pair, agency: Agency, statements: Any, planned: list[bool], engine: Any
) -> None:
    token = (await tokens(pair.resolvers, agency))["admin"]
    await pair.compiled.data("{ me { id } }", token=token)  # the caller's own look-up, warm
    # The caller's row is read in the first compiled statement on PostgreSQL, by a statement of
    # its own before it elsewhere (server.principal.DeferredUserCheck).
    lookup = 0 if engine.dialect.name == "postgresql" else 1

    def issued() -> list[str]:
        return [s for s in statements.statements if not s.startswith("BEGIN")]  # SQLite's own

    for query in (NESTED, CLIENTS_PAGE, EVERYTHING):
        statements.reset()
        await pair.compiled.data(query, {"first": 50} if "$first" in query else None, token)
        assert len(issued()) == 1 + lookup, (query, issued())
    two = "{ a: clients(first: 2) { totalCount } b: clients(first: 3) { edges { node { name projects { name } } } } }"
    for _ in range(2):  # the second time from the statements alone (server/compiled.py): the same two
        statements.reset()
        await pair.compiled.data(two, None, token)
        assert len(issued()) == 2 + lookup, issued()


# As deep as the operation depth limit (12) lets a query go, through every relation compiled.
DEEP = """{ clients(first: 1, filter: {search: "zeta"}) { edges { node { name
  projects(status: [ACTIVE]) { name tasks { title comments { body
  task { title project { name client { name projects { name tasks { title assignee { fullName }
  } } } } } } } } } } } }"""


# Five objects deep (node, projects, tasks, comments, author): as deep as SQLite's parser takes.
FIVE_DEEP = """{ clients(first: 2) { edges { node { name projects { name tasks { title
  comments { body author { fullName } } assignee { fullName } } } } } } }"""


async def test_as_deep_as_the_depth_limit_lets_a_query_go(
    engine: Any, settings: Any, agency: Agency, planned: list[bool]
) -> None:
    """Nine objects deep, every kind of list and look-up: one statement on PostgreSQL; on SQLite
    (whose parser stack is shallow) beyond five objects deep the resolvers answer, the same bytes."""
    compiled, first = await make_api(engine, settings, True, max_query_cost=10**9)
    resolvers, second = await make_api(engine, settings, False, max_query_cost=10**9)
    async with first, second:
        pair = Pair(compiled, resolvers)
        token = (await tokens(pair.resolvers, agency))["admin"]
        planned.clear()
        body = await pair.same(DEEP, None, token)
        five = await pair.same(FIVE_DEEP, None, token)
    assert "errors" not in body and "errors" not in five
    assert planned == [engine.dialect.name != "sqlite", True]
    alpha = body["data"]["clients"]["edges"][0]["node"]["projects"][0]
    comment = next(c for t in alpha["tasks"] for c in t["comments"])
    assert comment["body"] == "internal" and comment["task"]["project"]["client"]["name"] == "Zeta Ltd"


async def test_a_statement_the_database_refuses_falls_back_to_the_resolvers(
    pair: Pair, agency: Agency, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A compiler bug the database refuses costs the caller nothing: the resolvers answer, the
    failure is logged, and the operation is not compiled again."""
    import sqlalchemy as sa

    asked: list[str] = []

    def broken(schema: Any, field_details: Any, **kwargs: Any) -> Any:
        asked.append(field_details[0].node.name.value)
        return sa.select(sa.literal_column("no_such_column_anywhere"))

    monkeypatch.setattr("schema.enforcement.plan_root_field", broken)
    monkeypatch.setattr(enforcement, "compiled_plans", type(enforcement.compiled_plans)())
    token = (await tokens(pair.resolvers, agency))["manager"]
    for _ in range(2):
        body = await pair.same(CLIENTS_PAGE, None, token)
        assert body["data"]["clients"]["totalCount"] == 8 and "errors" not in body
    assert asked == ["clients"]
    assert "compiled statement failed" in caplog.text


CONTACTS_PUBLIC = """id fullName email phone title isPrimary roles
  reportsTo { fullName client { name } } directReports { fullName roles reportsTo { fullName } }
  client { name }"""

CONTACTS = """query($id: ID!) {{
  client(id: $id) {{ name contacts {{ {fields} }} }}
  clients(first: 10) {{ edges {{ node {{ name contacts {{ fullName isPrimary roles }} }} }} }}
  node(id: $id) {{ ... on Client {{ contacts {{ fullName directReports {{ fullName }} }} }} }}
}}"""

STAFF_CONTACT_FIELDS = CONTACTS_PUBLIC + " isDecisionMaker internalNotes marketingConsent marketingConsentAt"
STAFF_CONTACT_FIELDS += " marketingConsentSource hasPortalAccess"


@pytest.fixture
def planned_roots(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(root field, whether it compiled) for every root field the planner is asked about."""
    seen: list[tuple[str, bool]] = []
    plan = planner.plan_root_field

    def spy(schema: Any, field_details: Any, **kwargs: Any) -> Any:
        statement = plan(schema, field_details, **kwargs)
        seen.append((field_details[0].node.name.value, statement is not None))
        return statement

    monkeypatch.setattr("schema.enforcement.plan_root_field", spy)
    monkeypatch.setattr(enforcement, "compiled_plans", NoPlans())
    return seen


def _row_id(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


def _names(contacts: list[dict[str, Any]]) -> list[str]:
    return [c["fullName"] for c in contacts]


@pytest.mark.parametrize("role", ["admin", "member", "portal"])
async def test_client_contacts_compile_for_staff_and_a_portal_user(
    pair: Pair, agency: Agency, statements: Any, planned_roots: list[tuple[str, bool]], role: str
) -> None:
    """Client.contacts and the contact's fields (roles, reporting lines, consent, its client): one
    statement per root field, the resolvers' bytes, and a portal user reaches no other client's
    contact through a reporting line."""
    token = (await tokens(pair.resolvers, agency))[role]
    fields = CONTACTS_PUBLIC if role == "portal" else STAFF_CONTACT_FIELDS
    query = CONTACTS.format(fields=fields)
    own, other = gid("Client", agency.own_client_id), gid("Client", agency.other_client_id)
    planned_roots.clear()
    body = await pair.same(query, {"id": own}, token)
    theirs = await pair.same(query, {"id": other}, token)
    assert planned_roots == [("client", True), ("clients", True), ("node", True)] * 2
    assert "errors" not in body and "errors" not in theirs
    # One per root field, however many contacts.
    assert await statements_of(pair.compiled, statements, query, {"id": own}, token) == 3

    contacts = body["data"]["client"]["contacts"]
    # The primary first, then by name (the id breaks a tie); portal users are contacts too.
    assert contacts[0]["fullName"] == "Prime Person" and contacts[0]["isPrimary"] is True
    names = _names(contacts)
    first = names.index("Second Person")
    assert names.index("Crosses Over") < first and names[first + 1] == "Second Person"
    seconds = [c for c in contacts if c["fullName"] == "Second Person"]
    assert _row_id(seconds[0]["id"]) < _row_id(seconds[1]["id"])
    assert contacts[0]["roles"] == ["BILLING", "TECHNICAL", "LEGAL"]  # the enum's order, not insertion
    assert {c["client"]["name"] for c in contacts} == {"Zeta Ltd"}
    crosses = next(c for c in contacts if c["fullName"] == "Crosses Over")
    reports = _names(contacts[0]["directReports"])
    if role == "portal":
        # The other client's contact is out of reach both ways; the other client itself is null.
        assert crosses["reportsTo"] is None
        assert reports == ["Second Person", "Second Person"]
        assert theirs["data"]["client"] is None and theirs["data"]["node"] is None
        listed = [e["node"]["name"] for e in body["data"]["clients"]["edges"]]
        assert listed == ["Zeta Ltd"]
    else:
        assert crosses["reportsTo"] == {"fullName": "Other Prime", "client": {"name": "ålpha & Co <b>"}}
        assert reports == ["Other Spy", "Second Person", "Second Person"]
        second = seconds[0]
        assert second["marketingConsent"] is True and second["marketingConsentSource"] == 'Form "spring" 🌱'
        assert second["marketingConsentAt"] == "2026-05-06T07:08:09.000123+00:00"
        # Three portal users sign in as contacts of Zeta; one of them is revoked.
        assert sum(c["hasPortalAccess"] for c in contacts) == 2 and contacts[0]["hasPortalAccess"] is False
        assert _names(theirs["data"]["client"]["contacts"])[0] == "Other Prime"
        assert theirs["data"]["client"]["contacts"][0]["roles"] == ["BILLING"]


async def test_a_contact_field_refused_to_a_portal_user_takes_the_resolvers(
    pair: Pair, agency: Agency, planned_roots: list[tuple[str, bool]]
) -> None:
    token = (await tokens(pair.resolvers, agency))["portal"]
    planned_roots.clear()
    for refused in ("marketingConsent", "internalNotes", "isDecisionMaker", "hasPortalAccess"):
        query = f"query($id: ID!) {{ client(id: $id) {{ contacts {{ fullName {refused} }} }} }}"
        body = await pair.same(query, {"id": gid("Client", agency.own_client_id)}, token)
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": f"Contact.{refused}"}
        assert all(c[refused] is None for c in body["data"]["client"]["contacts"])
    assert planned_roots == [("client", False)] * 4


INVOICES = """query($id: ID!) {
  client(id: $id) { name
    invoices { id number status issueDate dueDate paidOn sentAt voidedAt notes client { name }
      payments { id receivedOn amount method reference invoice { number } }
      lines { id kind description quantity unitPrice taxRate amount taxAmount
        timeEntries { hours billableAmount task { title } } expenses { description } } }
    payments { id receivedOn amount method reference invoice { number status } } }
  node(id: $id) { ... on Client { invoices { number } } }
}"""


@pytest.mark.parametrize("role", ["admin", "manager", "portal"])
async def test_client_invoices_and_payments_compile(
    pair: Pair, agency: Agency, statements: Any, planned_roots: list[tuple[str, bool]], role: str
) -> None:
    """Client.invoices and Client.payments with their plain fields: one statement per root field, the
    resolvers' bytes; a portal user sees its own client's invoices once sent, never a draft."""
    token = (await tokens(pair.resolvers, agency))[role]
    # A portal user may not read the team's notes on an invoice: without them its query compiles.
    query = INVOICES.replace(" notes ", " ") if role == "portal" else INVOICES
    own, other = gid("Client", agency.own_client_id), gid("Client", agency.other_client_id)
    planned_roots.clear()
    body = await pair.same(query, {"id": own}, token)
    theirs = await pair.same(query, {"id": other}, token)
    assert "errors" not in body and "errors" not in theirs, body
    assert planned_roots == [("client", True), ("node", True)] * 2
    assert await statements_of(pair.compiled, statements, query, {"id": own}, token) == 2
    client = body["data"]["client"]
    invoices = client["invoices"]
    statuses = [i["status"] for i in invoices]
    # Newest issue date first, then the higher number.
    assert invoices[0]["voidedAt"] == "2026-11-02T03:04:05.600000+00:00"
    assert [i["number"] for i in invoices[1:]] == sorted((i["number"] for i in invoices[1:]), reverse=True)
    paid = [p["amount"] for p in client["payments"]]
    assert {i["client"]["name"] for i in invoices} == {"Zeta Ltd"}
    recalled = invoices[0]["payments"]
    assert [p["amount"] for p in recalled] == ["2.50", "0.01"] and recalled[0]["reference"] == "réf 😀"
    lines = invoices[0]["lines"]
    # By position, then id; the tax rate at its four places, money at two.
    assert [line["description"] for line in lines] == ["Work", "Hosting", "Same place", 'Design "v2" ✏️\n']
    assert [line["taxRate"] for line in lines] == ["0.0000", "1.0000", "0.0001", "0.0825"]
    assert lines[2]["unitPrice"] == "99999999.99" and lines[3]["quantity"] == "1.50"
    # The time the design line bills; the rest bill none.
    assert lines[3]["timeEntries"] == [{"hours": "1.15", "billableAmount": "0.35", "task": None}]
    assert [line["timeEntries"] for line in lines[:3]] == [[], [], []]
    if role == "portal":
        assert statuses == ["VOID", "SENT"] and paid == ["0.01", "2.50", "50.10"]  # the same day: newest id first
        assert theirs["data"]["client"] is None and theirs["data"]["node"] is None
    else:
        assert sorted(statuses) == ["DRAFT", "SENT", "VOID", "VOID"] and sorted(paid) == [
            "0.01",
            "1.00",
            "2.50",
            "50.10",
        ]
        assert next(i for i in invoices if i["status"] == "SENT")["notes"] == 'Net 30 "please"\n'
        draft = next(i for i in invoices if i["status"] == "DRAFT")
        assert draft["lines"][0]["expenses"] == [{"description": "Fonts ✒️"}]
        assert len(theirs["data"]["client"]["invoices"]) == 4


async def test_invoices_refused_to_a_member_take_the_resolvers(
    pair: Pair, agency: Agency, planned_roots: list[tuple[str, bool]]
) -> None:
    token = (await tokens(pair.resolvers, agency))["member"]
    planned_roots.clear()
    body = await pair.same(INVOICES, {"id": gid("Client", agency.own_client_id)}, token)
    assert body["data"]["client"]["invoices"] is None and body["data"]["client"]["payments"] is None
    assert {e["extensions"]["field"] for e in body["errors"]} == {"Client.invoices", "Client.payments"}
    assert planned_roots == [("client", False), ("node", False)]


RECORD = """query($id: ID!) {
  client(id: $id) { name
    meetings { id title startsAt endsAt status location agenda createdAt
      requestedBy { fullName } staff { fullName } client { name } }
    %s
  }
}"""

STAFF_RECORD = """
    opportunities { id title kind stage value expectedCloseOn createdAt updatedAt
      owner { fullName } client { name } project { name } }
    interactions { id kind summary occurredAt createdAt staff { fullName } contact { fullName } client { name } }
    satisfactionScores { id score comment respondedAt client { name } contact { fullName } }"""


@pytest.mark.parametrize("role", ["admin", "member", "portal"])
async def test_client_record_engagement_compiles(
    pair: Pair, agency: Agency, statements: Any, planned_roots: list[tuple[str, bool]], role: str
) -> None:
    """The client record's meetings, opportunities, interactions and satisfaction scores: one
    statement, the resolvers' bytes; a portal user sees its own client's meetings and not the other
    client's portal user who asked for one."""
    token = (await tokens(pair.resolvers, agency))[role]
    query = RECORD % ("" if role == "portal" else STAFF_RECORD)
    own, other = gid("Client", agency.own_client_id), gid("Client", agency.other_client_id)
    planned_roots.clear()
    body = await pair.same(query, {"id": own}, token)
    theirs = await pair.same(query, {"id": other}, token)
    assert "errors" not in body and "errors" not in theirs, body
    assert planned_roots == [("client", True)] * 2
    assert await statements_of(pair.compiled, statements, query, {"id": own}, token) == 1
    record = body["data"]["client"]
    meetings = record["meetings"]
    # The same start: the newer id first.
    assert [m["title"] for m in meetings] == ["Asked from elsewhere", "Kick-off ☕"]
    assert meetings[1]["requestedBy"] is not None and meetings[1]["client"] == {"name": "Zeta Ltd"}
    if role == "portal":
        # Asked by the other client's portal user: who that was is out of reach.
        assert meetings[0]["requestedBy"] is None
        assert theirs["data"]["client"] is None
        planned_roots.clear()
        refused = await pair.same(RECORD % STAFF_RECORD, {"id": own}, token)
        assert {e["extensions"]["field"] for e in refused["errors"]} >= {"Client.opportunities", "Client.interactions"}
        assert planned_roots == [("client", False)]
    else:
        assert meetings[0]["requestedBy"] is not None
        assert [o["title"] for o in record["opportunities"]] == ["Second", 'Retainer "plus" ✚ü']
        assert record["opportunities"][1]["value"] == "2500.50"
        assert record["opportunities"][1]["project"] == {"name": "Alpha"}
        across = next(i for i in record["interactions"] if i["summary"] == "Across")
        assert across["contact"] == {"fullName": "Other Prime"}
        assert [s["score"] for s in record["satisfactionScores"]] == [9, 0]


# Five objects deep (node, contacts, reporting lines down three levels) and computed values inside the
# deepest: roles (a list of values), portal access (a count); clients five deep with their computed columns.
DEEP_SHAPES = {
    "roles": """{ clients(first: 10) { edges { node { name contacts { fullName roles directReports { fullName roles
      directReports { fullName roles directReports { fullName roles } } } } } } } }""",
    "roles one level up": """{ clients(first: 10) { edges { node { name contacts { fullName roles
      directReports { fullName roles directReports { fullName roles } } } } } } }""",
    "portal access": """{ clients(first: 10) { edges { node { name contacts { fullName directReports { fullName
      directReports { fullName directReports { fullName hasPortalAccess } } } } } } } }""",
    "portal access one level up": """{ clients(first: 10) { edges { node { name contacts { fullName directReports {
      fullName directReports { fullName hasPortalAccess } } } } } } }""",
    "a client's computed columns": """{ clients(first: 10) { edges { node { name projects { name tasks { title
      project { name client { name outstandingAmount accountValue activeProjectCount lastProjectOn } } } } } } } }""",
    "a client's computed columns one level up": """{ clients(first: 10) { edges { node { name contacts {
      fullName reportsTo { fullName client { name outstandingAmount accountValue activeProjectCount lastProjectOn }
      } } } } } }""",
}

# Five objects deep, as a portal user, whose row scopes nest subqueries of their own at every level.
PORTAL_DEEP_SHAPES = {
    "comments": """{ clients(first: 10) { edges { node { name projects { name tasks { title
      comments { body author { fullName } } deliverables { title } } } } } } }""",
    "time": """{ clients(first: 10) { edges { node { name projects { name timeEntries { hours
      task { title comments { body } } invoice { number payments { amount } } } } } } } }""",
    "invoices": """{ clients(first: 10) { edges { node { name invoices { number lines { description
      timeEntries { hours task { title } } expenses { description } } payments { amount
      invoice { number client { name } } } } } } } }""",
    "contacts": """{ clients(first: 10) { edges { node { name contacts { fullName roles directReports { fullName
      roles directReports { fullName client { name } directReports { fullName } } } } } } } }""",
    "meetings": """{ clients(first: 10) { edges { node { name meetings { title requestedBy { fullName }
      client { name projects { name tasks { title } } } } } } } }""",
}

#: Computed inside the fifth object: one level too deep for SQLite's parser (the resolvers answer there).
TOO_DEEP_FOR_SQLITE = frozenset({"roles", "portal access", "a client's computed columns"})


@pytest.mark.parametrize("shape", DEEP_SHAPES)
async def test_values_and_computed_columns_at_the_deepest_level(
    engine: Any,
    settings: Any,
    agency: Agency,
    planned_roots: list[tuple[str, bool]],
    caplog: pytest.LogCaptureFixture,
    shape: str,
) -> None:
    """As deep as the compiler goes on SQLite, with lists of values and computed columns inside: one
    statement the database takes, or the resolvers (never a statement SQLite's parser refuses)."""
    compiled, first = await make_api(engine, settings, True, max_query_cost=10**9)
    resolvers, second = await make_api(engine, settings, False, max_query_cost=10**9)
    async with first, second:
        pair = Pair(compiled, resolvers)
        token = (await tokens(pair.resolvers, agency))["admin"]
        planned_roots.clear()
        body = await pair.same(DEEP_SHAPES[shape], None, token)
    assert "errors" not in body
    assert "compiled statement failed" not in caplog.text  # no statement the database refused
    too_deep = shape in TOO_DEEP_FOR_SQLITE and engine.dialect.name == "sqlite"
    assert planned_roots == [("clients", not too_deep)]
    zeta = next(e["node"] for e in body["data"]["clients"]["edges"] if e["node"]["name"] == "Zeta Ltd")
    if "roles" in shape:
        assert zeta["contacts"][0]["roles"] == ["BILLING", "TECHNICAL", "LEGAL"]


@pytest.mark.parametrize("shape", PORTAL_DEEP_SHAPES)
async def test_a_portal_users_deepest_shapes(
    engine: Any,
    settings: Any,
    agency: Agency,
    planned_roots: list[tuple[str, bool]],
    caplog: pytest.LogCaptureFixture,
    shape: str,
) -> None:
    """Five objects deep as a portal user, whose scopes nest subqueries at every level: a statement the
    database takes (or the resolvers), the resolvers' bytes."""
    compiled, first = await make_api(engine, settings, True, max_query_cost=10**9)
    resolvers, second = await make_api(engine, settings, False, max_query_cost=10**9)
    async with first, second:
        pair = Pair(compiled, resolvers)
        token = (await tokens(pair.resolvers, agency))["portal"]
        planned_roots.clear()
        body = await pair.same(PORTAL_DEEP_SHAPES[shape], None, token)
    assert "errors" not in body, body
    assert "compiled statement failed" not in caplog.text  # no statement the database refused
    # Time and invoice lines five deep nest the portal user's scopes past SQLite's parser: the planner
    # tries the text on SQLite's parser and leaves them to the resolvers there.
    too_deep = shape in ("time", "invoices") and engine.dialect.name == "sqlite"
    assert planned_roots == [("clients", not too_deep)]
    assert [e["node"]["name"] for e in body["data"]["clients"]["edges"]] == ["Zeta Ltd"]
