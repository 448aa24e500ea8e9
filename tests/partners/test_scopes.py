"""Partner scopes (auth.policy_table.SCOPES): a partner app reads what its scopes open and the rows
of the clients it is limited to, by every path, and nothing else.

Partner Principals are built here directly: the app's identify step (bearer token -> Principal) is
patched to answer a test token with the Principal the test made, and everything after it (the
policy decided once per request, row scopes, loaders, schema views) is the real app's. The world
holds three clients; every value no partner scope opens is a canary that must not appear in any
response body.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum
from itertools import count

import pytest
import sqlalchemy as sa
from sqlmodel import col
from strawberry.relay import GlobalID

import models
from auth.policy import FIELD_CLASSES, MUTATION_ROLES, SCOPES, decide, decide_mutation, partner_access
from auth.policy_table import Sensitivity
from auth.principal import PolicyKey, Principal
from auth.scopes import SCOPES as ROW_SCOPES
from models import CommentKind, InvoiceStatus, Role
from schema.build import build_schema
from server.app import AgencyGraphQL
from server.cli import main
from tests.test_roles import _leaf_fields, _node_types, _plant, _snake
from tests.utils import gid

PartnerToken = Callable[..., str]
_tokens = count(1)

EVERY_SCOPE = tuple(SCOPES)

# Values no scope opens to a partner: their appearance anywhere in a response is a leak.
NEVER = (
    "CANARY-NOTE",  # a NOTE comment
    "CANARY-REPLY",  # any comment: no scope reads comments
    "CANARY-HIDDEN-TASK",  # a task not marked visible to the client
    "CANARY-TEAM",  # staff phone, title (TEAM)
    "777.77",  # a staff member's hourly cost rate (PAYROLL)
    "555.55",  # a time entry's cost rate (COST; time is no partner's)
    "CANARY-TIME",  # a time entry's description
    "333.33",  # an expense (COST)
    "CANARY-DRAFT",  # a draft invoice's notes: drafts are no partner's
    "CANARY-LEAD",
    "CANARY-ACTIVITY",
    "CANARY-MEETING",
)
INTERNAL = ("CANARY-INTERNAL", "CANARY-CONTACT-NOTE", "CANARY-INVOICE-NOTE")


@pytest.fixture
def partner(monkeypatch) -> PartnerToken:
    """partner(*scopes, clients=[...]) -> a bearer token the app resolves to that partner's Principal."""
    principals: dict[str, Principal] = {}
    identify = AgencyGraphQL.identify

    async def identify_partner(self, request, db):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in principals:
            return principals[token]
        return await identify(self, request, db)

    monkeypatch.setattr(AgencyGraphQL, "identify", identify_partner)

    def token(*scopes: str, clients: Iterable[models.Client] = ()) -> str:
        name = f"test-partner-{next(_tokens)}"
        principals[name] = partner_principal(scopes, clients)
        return name

    return token


def partner_principal(scopes: Iterable[str], clients: Iterable[models.Client] = ()) -> Principal:
    return Principal(
        user_id=None,
        role=Role.PARTNER,
        scopes=frozenset(scopes),
        grants=frozenset(c.id for c in clients if c.id is not None),
    )


class World:
    """Three clients, each with everything a partner might or might not see."""

    def __init__(self) -> None:
        self.clients: dict[str, models.Client] = {}
        self.rows: dict[tuple[str, str], object] = {}

    def __getitem__(self, key: tuple[str, str]):
        return self.rows[key]


async def _world(factory) -> World:
    world = World()
    manager = await factory.user(
        Role.MANAGER, phone="CANARY-TEAM-PHONE", job_title="CANARY-TEAM-TITLE", hourly_cost_rate=Decimal("777.77")
    )
    world.rows[("staff", "")] = manager
    for x in ("A", "B", "C"):
        client = await factory.client(
            f"{x} Company", internal_notes=f"CANARY-INTERNAL-{x}", account_manager_id=manager.id
        )
        world.clients[x] = client
        contact = await factory.contact(client, primary=True, internal_notes=f"CANARY-CONTACT-NOTE-{x}")
        project = await factory.project(client, name=f"{x} Website", budget=Decimal("4000.00"))
        task = await factory.task(project, title=f"{x} visible task", assignee_id=manager.id)
        hidden = await factory.task(project, title=f"CANARY-HIDDEN-TASK-{x}", visible_to_client=False)
        note = await factory.comment(task, CommentKind.NOTE, f"CANARY-NOTE-{x}", author_id=manager.id)
        reply = await factory.comment(task, CommentKind.REPLY, f"CANARY-REPLY-{x}", author_id=manager.id)
        sent = await factory.invoice(client, notes=f"CANARY-INVOICE-NOTE-{x}")
        draft = await factory.invoice(client, status=InvoiceStatus.DRAFT, notes=f"CANARY-DRAFT-{x}")
        payment = await factory.payment(sent, "40.00", reference=f"ref {x}")
        deliverable, time, expense, meeting, activity = await factory.add(
            models.Deliverable(task_id=task.id, title=f"{x} mockups", url="https://files.example/m"),
            models.TimeEntry(
                user_id=manager.id,
                project_id=project.id,
                task_id=task.id,
                work_date=dt.date(2026, 11, 2),
                hours=Decimal("2.00"),
                cost_rate=Decimal("555.55"),
                bill_rate=Decimal("150.00"),
                description=f"CANARY-TIME-{x}",
            ),
            models.Expense(
                project_id=project.id, description="Fonts", amount=Decimal("333.33"), incurred_on=dt.date(2026, 11, 2)
            ),
            models.Meeting(
                client_id=client.id,
                title=f"CANARY-MEETING-{x}",
                starts_at=dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC),
                ends_at=dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC),
            ),
            models.Activity(
                client_id=client.id,
                actor_id=manager.id,
                kind=models.ActivityKind.PROJECT_UPDATED,
                summary=f"CANARY-ACTIVITY-{x}",
                client_visible=True,
            ),
        )
        for name, row in {
            "client": client,
            "contact": contact,
            "project": project,
            "task": task,
            "hidden": hidden,
            "note": note,
            "reply": reply,
            "sent": sent,
            "draft": draft,
            "payment": payment,
            "deliverable": deliverable,
            "time": time,
            "expense": expense,
            "meeting": meeting,
            "activity": activity,
        }.items():
            world.rows[(x, name)] = row
    await factory.add(models.Lead(company_name="CANARY-LEAD"))
    return world


def _leaks(body: dict, *also: str) -> list[str]:
    text = json.dumps(body)
    return [canary for canary in (*NEVER, *also) if canary in text]


def _forbidden(body: dict) -> set[str]:
    return {e["extensions"]["field"] for e in body.get("errors", ()) if e["extensions"]["code"] == "FORBIDDEN"}


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
INVOICES = """query($filter: InvoiceFilterInput) { invoices(first: 100, filter: $filter) { totalCount
  edges { node { id number status total amountDue client { id name }
    lines { description amount } payments { id amount reference invoice { number } } } } } }"""


# ---------------------------------------------------------------- invoices:read limited to one client


async def test_invoices_read_for_one_client_sees_that_clients_invoices_and_nothing_else(api, factory, partner):
    world = await _world(factory)
    token = partner("invoices:read", clients=[world.clients["A"]])

    body = await api.post(INVOICES, token=token)
    assert "errors" not in body, body["errors"]
    page = body["data"]["invoices"]
    # Its client's sent invoice; not the draft, nothing of B or C.
    assert page["totalCount"] == 1
    [invoice] = [edge["node"] for edge in page["edges"]]
    assert invoice["number"] == world["A", "sent"].number and invoice["status"] == "SENT"
    assert Decimal(invoice["total"]) == Decimal("1000.00") and Decimal(invoice["amountDue"]) == Decimal("960.00")
    assert [Decimal(p["amount"]) for p in invoice["payments"]] == [Decimal("40.00")]
    assert invoice["payments"][0]["invoice"]["number"] == invoice["number"]
    assert [Decimal(line["amount"]) for line in invoice["lines"]] == [Decimal("1000.00")]
    # The invoice's client is a Client row: clients:read is not granted, so it is absent, not refused.
    assert invoice["client"] is None
    assert _leaks(body, *INTERNAL) == []

    for x in ("B", "C"):
        other = await api.post(INVOICES, {"filter": {"clientId": gid("Client", world.clients[x])}}, token=token)
        assert other["data"]["invoices"] == {"totalCount": 0, "edges": []}
    drafts = await api.post(INVOICES, {"filter": {"status": "DRAFT"}}, token=token)
    assert drafts["data"]["invoices"]["totalCount"] == 0

    # node() and invoice() of anything else answer like a missing id.
    own = {("A", "sent"): "Invoice", ("A", "payment"): "Payment"}
    for (x, name), type_name in own.items():
        found = await api.post(NODE, {"id": gid(type_name, world[x, name])}, token=token)
        assert found["data"]["node"] == {"__typename": type_name, "id": gid(type_name, world[x, name])}
    hidden = [
        ("A", "draft", "Invoice"),
        ("B", "sent", "Invoice"),
        ("C", "sent", "Invoice"),
        ("B", "payment", "Payment"),
    ]
    hidden += [("A", name, type_name) for name, type_name in _NON_INVOICE_TYPES.items()]
    hidden += [("staff", "", "User")]
    for x, name, type_name in hidden:
        body = await api.post(NODE, {"id": gid(type_name, world[x, name])}, token=token)
        assert body == {"data": {"node": None}}, (x, name, body)
    for x in ("B", "C"):
        body = await api.post(
            "query($id: ID!) { invoice(id: $id) { number } }", {"id": gid("Invoice", world[x, "sent"])}, token=token
        )
        assert body == {"data": {"invoice": None}}

    # Invoice notes are INTERNAL: refused without internal:read.
    notes = await api.post("{ invoices { edges { node { number notes } } } }", token=token)
    assert notes["data"]["invoices"]["edges"] == [{"node": {"number": world["A", "sent"].number, "notes": None}}]
    assert _forbidden(notes) == {"Invoice.notes"} and _leaks(notes, *INTERNAL) == []


_NON_INVOICE_TYPES = {
    "client": "Client",
    "contact": "Contact",
    "project": "Project",
    "task": "Task",
    "note": "Comment",
    "reply": "Comment",
    "time": "TimeEntry",
    "expense": "Expense",
    "meeting": "Meeting",
    "activity": "Activity",
}

REFUSED_ROOTS = {
    "clients": "{ clients { totalCount } }",
    "client": "query($c: ID!) { client(id: $c) { name } }",
    "clientsDashboard": "{ clientsDashboard { asOf } }",
    "clientReport": "query($c: ID!) { clientReport(clientId: $c) { from } }",
    "leads": "{ leads { totalCount } }",
    "clientStatuses": "{ clientStatuses { name } }",
    "portalHome": "{ portalHome { canBookMeetings } }",
}


@pytest.mark.parametrize("root", sorted(REFUSED_ROOTS))
async def test_roots_no_scope_names_are_refused(api, factory, partner, root):
    world = await _world(factory)
    token = partner("invoices:read", "internal:read", clients=[world.clients["A"]])
    query = REFUSED_ROOTS[root]
    variables = {"c": gid("Client", world.clients["A"])} if "$c" in query else None
    body = await api.post(query, variables, token=token)
    assert body["data"] == {root: None} or body["data"] is None
    assert _forbidden(body) == {f"Query.{root}"}
    assert _leaks(body, *INTERNAL) == []


async def test_a_partner_may_call_only_what_a_write_scope_names(api, factory, partner, db):
    world = await _world(factory)
    record = """mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: "10.00", reference: "Xero 1"}) {
      payment { amount reference } invoice { number amountDue } errors { field code } } }"""

    async def payments() -> int:
        async with db() as session:
            return int(await session.scalar(sa.select(sa.func.count()).select_from(models.Payment)) or 0)

    before = await payments()
    reader = partner("invoices:read", clients=[world.clients["A"]])
    refused = await api.post(record, {"id": gid("Invoice", world["A", "sent"])}, token=reader)
    assert refused["data"] is None or refused["data"]["recordPayment"] is None
    assert _forbidden(refused) == {"Mutation.recordPayment"}
    assert await payments() == before

    writer = partner("invoices:read", "payments:write", clients=[world.clients["A"]])
    # Another client's invoice is not found: the app records only on invoices it can read.
    other = await api.post(record, {"id": gid("Invoice", world["B", "sent"])}, token=writer)
    assert other["data"]["recordPayment"]["errors"] == [{"field": "input.invoiceId", "code": "NOT_FOUND"}]
    assert await payments() == before
    done = await api.post(record, {"id": gid("Invoice", world["A", "sent"])}, token=writer)
    assert "errors" not in done, done["errors"]
    assert done["data"]["recordPayment"]["payment"] == {"amount": "10.00", "reference": "Xero 1"}
    assert Decimal(done["data"]["recordPayment"]["invoice"]["amountDue"]) == Decimal("950.00")
    assert await payments() == before + 1

    # Nothing else, whatever it holds.
    everything = partner(*EVERY_SCOPE)
    create = """mutation { createClient(input: {name: "X", primaryContact: {fullName: "P", email: "p@x.example"}}) {
      client { id } errors { code } } }"""
    body = await api.post(create, token=everything)
    assert _forbidden(body) == {"Mutation.createClient"}


# ---------------------------------------------------------------- clients, contacts, projects


CLIENTS = """{ clients(first: 100) { totalCount edges { node { id name website internalNotes status { name }
  tier accountValue projects { name } contacts { fullName } primaryContact { fullName }
  accountManager { fullName } invoices { number } outstandingAmount meetings { title }
  activity { totalCount edges { node { summary } } } } } } }"""


async def test_clients_read_sees_its_clients_and_internal_read_opens_their_internal_notes(api, factory, partner):
    world = await _world(factory)
    a = world.clients["A"]

    plain = await api.post(CLIENTS, token=partner("clients:read", clients=[a]))
    page = plain["data"]["clients"]
    assert page["totalCount"] == 1
    [client] = [edge["node"] for edge in page["edges"]]
    assert client["id"] == gid("Client", a) and client["name"] == "A Company"
    # INTERNAL and FINANCE fields are refused; rows of entities no scope names are simply absent.
    assert client["internalNotes"] is None and client["status"] is None and client["tier"] is None
    assert client["invoices"] is None and client["outstandingAmount"] is None
    assert _forbidden(plain) == {
        "Client.internalNotes",
        "Client.status",
        "Client.tier",
        "Client.accountValue",
        "Client.invoices",
        "Client.outstandingAmount",
    }
    assert client["projects"] == [] and client["contacts"] == [] and client["primaryContact"] is None
    assert client["accountManager"] is None and client["meetings"] == []
    assert client["activity"] == {"totalCount": 0, "edges": []}
    assert _leaks(plain, *INTERNAL) == []

    internal = await api.post(CLIENTS, token=partner("clients:read", "internal:read", clients=[a]))
    [client] = [edge["node"] for edge in internal["data"]["clients"]["edges"]]
    assert client["internalNotes"] == "CANARY-INTERNAL-A" and client["status"] == {"name": "Active"}
    assert _forbidden(internal) == {"Client.invoices", "Client.outstandingAmount"}
    assert _leaks(internal, "CANARY-INTERNAL-B", "CANARY-INTERNAL-C") == []

    # Not limited to clients: every client.
    unlimited = await api.post("{ clients { totalCount } }", token=partner("clients:read"))
    assert unlimited["data"]["clients"]["totalCount"] == 3

    # Another client by id, or through node(), answers like a missing one.
    limited = partner("clients:read", "internal:read", clients=[a])
    for x in ("B", "C"):
        other = gid("Client", world.clients[x])
        body = await api.post("query($id: ID!) { client(id: $id) { name } }", {"id": other}, token=limited)
        assert body == {"data": {"client": None}}
        assert await api.post(NODE, {"id": other}, token=limited) == {"data": {"node": None}}


async def test_contacts_and_projects_follow_the_client_limit_without_clients_read(api, factory, partner):
    world = await _world(factory)
    token = partner("contacts:read", "projects:read", clients=[world.clients["A"]])
    contact = (
        """query($id: ID!) { node(id: $id) { ... on Contact { fullName email internalNotes client { name } } } }"""
    )
    body = await api.post(contact, {"id": gid("Contact", world["A", "contact"])}, token=token)
    node = body["data"]["node"]
    assert node["fullName"] == world["A", "contact"].full_name and node["email"] == world["A", "contact"].email
    assert node["internalNotes"] is None and node["client"] is None
    assert _forbidden(body) == {"Contact.internalNotes"}

    project = """query($id: ID!) { node(id: $id) { ... on Project { name budget health client { name }
      comments { body } timeEntries { hours } expenses { description }
      tasks { title estimateHours assignee { fullName } comments { body kind } deliverables { title } } } } }"""
    body = await api.post(project, {"id": gid("Project", world["A", "project"])}, token=token)
    node = body["data"]["node"]
    assert node["name"] == "A Website" and node["client"] is None
    assert node["budget"] is None and node["health"] is None
    assert _forbidden(body) >= {"Project.budget", "Project.health"}
    # Only the task marked visible to the client, with its deliverable; no comment, time or expense.
    assert node["tasks"] == [
        {
            "title": "A visible task",
            "estimateHours": None,
            "assignee": None,
            "comments": [],
            "deliverables": [{"title": "A mockups"}],
        }
    ]
    assert node["comments"] == [] and node["timeEntries"] == [] and node["expenses"] == []
    assert _leaks(body, *INTERNAL) == []

    for x, name, type_name in [
        ("B", "contact", "Contact"),
        ("B", "project", "Project"),
        ("A", "hidden", "Task"),
        ("B", "task", "Task"),
    ]:
        assert await api.post(NODE, {"id": gid(type_name, world[x, name])}, token=token) == {"data": {"node": None}}

    # invoices:read opens FINANCE on what the app reads: the budget.
    money = partner("projects:read", "invoices:read", clients=[world.clients["A"]])
    body = await api.post(project, {"id": gid("Project", world["A", "project"])}, token=money)
    assert Decimal(body["data"]["node"]["budget"]) == Decimal("4000.00")


async def test_a_partner_never_sees_a_comment_team_payroll_time_or_costs_whatever_its_scopes(api, factory, partner):
    world = await _world(factory)
    token = partner(*EVERY_SCOPE)
    clients = """{ clients(first: 5) { edges { node { name internalNotes
      accountManager { fullName email phone jobTitle hourlyCostRate hourlyBillRate }
      meetings { title } activity { edges { node { summary } } }
      invoices { number notes lines { timeEntries { hours costRate } expenses { amount } } } } } } }"""
    projects = """{ clients(first: 5) { edges { node { name projects { name comments { body kind }
      timeEntries { hours costRate description } expenses { amount }
      tasks { title comments { body kind author { fullName } } } } } } } }"""
    for query in (clients, projects):
        body = await api.post(query, token=token)
        assert "errors" not in body, body["errors"]
        names = sorted(edge["node"]["name"] for edge in body["data"]["clients"]["edges"])
        assert names == ["A Company", "B Company", "C Company"]
        assert _leaks(body) == []
    # Internal notes are opened by internal:read; no user is reached, so no TEAM or PAYROLL field.
    first = await api.post(clients, token=token)
    assert "CANARY-INTERNAL-A" in json.dumps(first)
    assert all(edge["node"]["accountManager"] is None for edge in first["data"]["clients"]["edges"])
    for x in ("A", "B", "C"):
        for name, type_name in (("note", "Comment"), ("reply", "Comment"), ("time", "TimeEntry")):
            assert await api.post(NODE, {"id": gid(type_name, world[x, name])}, token=token) == {"data": {"node": None}}
    team = await api.post(
        "query($id: ID!) { node(id: $id) { ... on User { fullName email phone hourlyCostRate } } }",
        {"id": gid("User", world["staff", ""])},
        token=token,
    )
    assert team == {"data": {"node": None}}
    dashboard = await api.post("{ clientsDashboard { asOf financial { totalRevenue } } }", token=token)
    assert dashboard["data"]["clientsDashboard"] is None and _forbidden(dashboard) == {"Query.clientsDashboard"}


# ---------------------------------------------------------------- every node type, as in tests/test_roles.py

PARTNER_KEYS = {
    "bare": ((), False),
    "invoices-one-client": (("invoices:read",), True),
    "clients-internal": (("clients:read", "internal:read"), False),
    "everything-one-client": (EVERY_SCOPE, True),
}


@pytest.mark.parametrize("label", sorted(PARTNER_KEYS))
async def test_every_node_type_answers_a_partner_what_its_scopes_say(api, factory, db, partner, label):
    """Each node type's rows through node(id:) with every leaf field: a row the partner's row scope
    hides is null, a visible one has exactly the fields its scopes open (the others null + FORBIDDEN)."""
    scopes, limited = PARTNER_KEYS[label]
    _, client, _ = await _plant(factory)
    principal = partner_principal(scopes, [client] if limited else [])
    token = partner(*scopes, clients=[client] if limited else [])
    seen: set[str] = set()
    for type_name, model in sorted(_node_types().items()):
        async with db() as session:
            rows = (await session.scalars(sa.select(model).order_by(model.id))).all()
            visible = set((await session.scalars(sa.select(model.id).where(ROW_SCOPES[model](principal)))).all())
        fields = _leaf_fields(type_name)
        for row in rows:
            node_id = GlobalID(type_name, str(row.id))
            query = f'{{ node(id: "{node_id}") {{ ... on {type_name} {{ {" ".join(fields)} }} }} }}'
            body = await api.post(query, token=token)
            node = body["data"]["node"]
            if row.id not in visible:
                assert node is None, f"{label} sees a {type_name} its scope hides"
                continue
            assert node is not None, f"{label} cannot see a visible {type_name}: {body}"
            seen.add(type_name)
            refused = _forbidden(body)
            for field in fields:
                coordinate = f"{type_name}.{field}"
                if decide(type_name, field, principal.policy_key).allowed:
                    assert coordinate not in refused, f"{label} refused {coordinate}"
                    stored = getattr(row, _snake(field), None)
                    if stored is not None and field != "id" and not isinstance(stored, (dt.date, Decimal)):
                        assert node[field] == (stored.value if isinstance(stored, Enum) else stored), coordinate
                else:
                    assert node[field] is None and coordinate in refused, f"{label} read refused {coordinate}"
    expected = {
        "bare": set(),
        "invoices-one-client": {"Invoice", "Payment"},
        "clients-internal": {"Client"},
        "everything-one-client": {"Client", "Contact", "Project", "Task", "Invoice", "Payment"},
    }[label]
    assert seen == expected


async def test_row_scopes_open_only_the_entities_the_scopes_name_within_the_client_limit(factory, db):
    world = await _world(factory)
    a = world.clients["A"]
    client_of = {
        models.Client: col(models.Client.id),
        models.Contact: col(models.Contact.client_id),
        models.Project: col(models.Project.client_id),
        models.Invoice: col(models.Invoice.client_id),
    }
    project_client = sa.select(col(models.Project.client_id)).where(
        col(models.Project.id) == col(models.Task.project_id)
    )
    invoice_client = sa.select(col(models.Invoice.client_id)).where(
        col(models.Invoice.id) == col(models.Payment.invoice_id)
    )
    client_of[models.Task] = project_client.scalar_subquery()
    client_of[models.Payment] = invoice_client.scalar_subquery()
    client_of[models.Deliverable] = (
        sa.select(col(models.Project.client_id))
        .join(models.Task, col(models.Task.project_id) == col(models.Project.id))
        .where(col(models.Task.id) == col(models.Deliverable.task_id))
        .scalar_subquery()
    )

    async def visible(principal: Principal) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        async with db() as session:
            for model, scope in ROW_SCOPES.items():
                if model in client_of:
                    statement = sa.select(client_of[model]).where(scope(principal))
                else:
                    statement = sa.select(sa.literal(0)).select_from(model).where(scope(principal))
                clients = set((await session.scalars(statement)).all())
                if clients:
                    found[model.__name__] = clients
        return found

    assert await visible(partner_principal(())) == {}
    assert await visible(partner_principal(("read:public", "read:finance", "clients:write"))) == {}
    assert await visible(partner_principal(("internal:read", "costs:read", "payments:write", "marketing:read"))) == {}
    assert await visible(partner_principal(EVERY_SCOPE, [a])) == {
        name: {a.id} for name in ("Client", "Contact", "Project", "Task", "Deliverable", "Invoice", "Payment")
    }
    everyone = {c.id for c in world.clients.values()}
    assert await visible(partner_principal(("invoices:read",))) == {"Invoice": everyone, "Payment": everyone}
    assert await visible(partner_principal(("contacts:read",), [world.clients["B"]])) == {
        "Contact": {world.clients["B"].id}
    }


# ---------------------------------------------------------------- the schema view


TYPE = "query($name: String!) { __type(name: $name) { name fields { name } } }"


async def test_a_partners_schema_view_holds_only_what_its_scopes_open(api, factory, partner):
    world = await _world(factory)
    a = world.clients["A"]

    async def fields(token: str, name: str) -> set[str] | None:
        body = await api.post(TYPE, {"name": name}, token=token)
        found = body["data"]["__type"]
        return None if found is None else {f["name"] for f in found["fields"]}

    invoices = partner("invoices:read", clients=[a])
    invoice_fields = await fields(invoices, "Invoice")
    assert invoice_fields is not None and {"number", "total", "lines", "payments"} <= invoice_fields
    assert "notes" not in invoice_fields and "client" not in invoice_fields  # Client is not in its view
    for hidden in ("Client", "Contact", "Project", "Comment", "User", "TimeEntry", "Lead", "ClientsDashboard"):
        assert await fields(invoices, hidden) is None, hidden
    query = await fields(invoices, "Query")
    assert query is not None and {"invoices", "invoice", "node"} <= query
    assert not query & {"clients", "client", "clientsDashboard", "clientReport", "leads", "portalHome"}
    mutations = await fields(invoices, "Mutation")
    assert mutations == {m for m, roles in MUTATION_ROLES.items() if roles is None}

    internal = partner("invoices:read", "clients:read", "internal:read", "payments:write", clients=[a])
    assert "notes" in (await fields(internal, "Invoice") or set())
    client_fields = await fields(internal, "Client")
    assert client_fields is not None and {"internalNotes", "status", "invoices", "outstandingAmount"} <= client_fields
    # Relations to what no scope reads are not in the view (the activity connection is, always empty).
    assert not client_fields & {"accountManager", "meetings", "opportunities", "satisfactionScores", "interactions"}
    assert "recordPayment" in (await fields(internal, "Mutation") or set())
    for hidden in ("Comment", "User", "TimeEntry", "Expense", "Meeting", "Activity", "Opportunity", "Lead"):
        assert await fields(internal, hidden) is None, hidden

    # The SDL it downloads for codegen is the same view.
    response = await api.client.get("/graphql/schema.graphql", headers={"Authorization": f"Bearer {invoices}"})
    assert response.status_code == 200
    assert "type Invoice implements Node" in response.text and "type Client " not in response.text


# ---------------------------------------------------------------- the table itself


def test_every_scope_names_types_roots_and_mutations_of_the_schema():
    schema = build_schema()._schema
    assert schema.query_type is not None and schema.mutation_type is not None
    rows = {"client", "contact", "project", "task", "deliverable", "invoice", "payment", "marketing_contact"}
    for name, scope in SCOPES.items():
        assert name.endswith((":read", ":write")), name
        assert bool(scope.mutations) == name.endswith(":write"), name
        for type_name, classes in scope.types.items():
            assert type_name in schema.type_map, f"{name}: no type {type_name}"
            assert not classes & {Sensitivity.TEAM, Sensitivity.PAYROLL}, name
        assert not scope.opens & {Sensitivity.TEAM, Sensitivity.PAYROLL}, name
        assert scope.roots <= set(schema.query_type.fields), name
        assert scope.mutations <= set(schema.mutation_type.fields) & set(MUTATION_ROLES), name
        assert scope.rows <= rows, name


def test_no_scope_opens_team_or_payroll_and_unknown_names_open_nothing():
    every = PolicyKey(Role.PARTNER, scopes=frozenset(EVERY_SCOPE))
    bare = PolicyKey(Role.PARTNER)
    unknown = PolicyKey(Role.PARTNER, scopes=frozenset({"read:public", "read:finance", "read:team", "admin"}))
    for coordinate, sensitivity in FIELD_CLASSES.items():
        type_name, field_name = coordinate.split(".", 1)
        if sensitivity in (Sensitivity.TEAM, Sensitivity.PAYROLL):
            assert not decide(type_name, field_name, every).allowed, coordinate
        assert decide(type_name, field_name, unknown).allowed == decide(type_name, field_name, bare).allowed
    assert partner_access(unknown.scopes).rows == frozenset()
    # A field needs its type listed by one scope and its class opened: FINANCE on Client is
    # clients:read + invoices:read, never payments:write.
    for scopes, allowed in [
        ({"clients:read"}, False),
        ({"invoices:read"}, False),
        ({"clients:read", "invoices:read"}, True),
        ({"clients:read", "payments:write"}, False),
    ]:
        key = PolicyKey(Role.PARTNER, scopes=frozenset(scopes))
        assert decide("Client", "outstandingAmount", key).allowed is allowed, scopes
    assert decide_mutation("recordPayment", PolicyKey(Role.PARTNER, scopes=frozenset({"payments:write"}))).allowed
    assert not decide_mutation("recordPayment", PolicyKey(Role.PARTNER, scopes=frozenset({"invoices:read"}))).allowed
    assert not decide_mutation("createInvoice", every).allowed


def test_agency_schema_prints_a_partner_keys_view_and_policy_prints_the_scopes(capsys):
    assert main(["schema", "--role", "PARTNER", "--scope", "invoices:read", "--client", "1"]) == 0
    sdl = capsys.readouterr().out
    assert "type Invoice implements Node" in sdl and "type Client " not in sdl and "notes:" not in sdl
    assert main(["schema", "--role", "PARTNER", "--scope", "invoices:read", "--scope", "internal:read"]) == 0
    assert "notes: String" in capsys.readouterr().out
    assert main(["schema", "--role", "PARTNER", "--scope", "read:finance"]) == 2
    assert "unknown scope read:finance" in capsys.readouterr().err
    assert main(["schema", "--role", "CLIENT", "--scope", "clients:read"]) == 2
    capsys.readouterr()
    assert main(["policy", "--scopes"]) == 0
    table = capsys.readouterr().out
    assert all(f"| {name} |" in table for name in SCOPES)
