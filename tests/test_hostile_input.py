"""Hostile values in every kind of input answer a typed error, the same on SQLite and
PostgreSQL, never "Unexpected error." nor a 5xx, and write nothing:

- NaN, sNaN and the infinities as any Decimal input: the payload's INVALID_NUMBER or
  INVALID_AMOUNT on that field;
- a 60-digit or `1e308` Decimal: TOO_LARGE on that field (each Decimal input has a maximum);
- a Date or DateTime outside 1900-01-01..2999-12-31 (UTC), offsets that overflow included:
  BAD_USER_INPUT, reason OUT_OF_RANGE, as a variable or a literal;
- a global id naming a row id out of range (20 digits, past int4, past int8, negative): the
  same NOT_FOUND / null as a missing row; a plain status id out of range: INVALID_ID;
- a NUL character in any string, variable or literal, at any depth: BAD_USER_INPUT, reason
  NUL_CHARACTER, naming the value's path, before anything runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from models import Comment, Meeting, Opportunity, Role
from models.base import metadata
from tests.factories import row_id
from tests.utils import count, gid, staff

ERRORS = "errors { field code message }"
TOMORROW = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


@dataclass
class World:
    token: str
    client: Any
    contact: Any
    project: Any
    task: Any
    invoice: Any
    opportunity: Any
    meeting: Any


@pytest.fixture
async def world(api, factory) -> World:
    admin, token = await staff(
        api, factory, Role.ADMIN, hourly_cost_rate=Decimal("50.00"), hourly_bill_rate=Decimal("100.00")
    )
    client = await factory.client()
    contact = await factory.contact(client, primary=True)
    project = await factory.project(client)
    task = await factory.task(project)
    invoice = await factory.invoice(client)
    opportunity = await factory.add(Opportunity(client_id=row_id(client), title="Upsell"))
    meeting = await factory.add(
        Meeting(
            client_id=row_id(client),
            title="Kick-off",
            starts_at=TOMORROW,
            ends_at=TOMORROW + dt.timedelta(hours=1),
            staff_id=admin.id,
        )
    )
    return World(token, client, contact, project, task, invoice, opportunity, meeting)


async def all_rows(db) -> dict[str, int]:
    """Rows in every table (one statement): a refused request leaves each as it was."""
    tables = metadata.sorted_tables
    statement = sa.select(*(sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables))
    async with db() as session:
        return dict((await session.execute(statement)).one()._mapping)


async def refused(api, db, world: World, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The answer to a request that must be refused: HTTP 200 (Api.post checks it), no
    unexpected error, no row written."""
    before = await all_rows(db)
    body = await api.post(query, variables, world.token)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes and "Unexpected error." not in str(body), body
    assert await all_rows(db) == before
    return body


def payload_errors(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    assert "errors" not in body, body["errors"]
    [payload] = body["data"].values()
    return [(e["field"], e["code"]) for e in payload["errors"]]


# ---- Decimal inputs: every one, with the code its validator answers


Build = Callable[[World, Any], tuple[str, dict[str, Any]]]


def _m(signature: str, call: str) -> str:
    return f"mutation({signature}) {{ {call} {{ {ERRORS} }} }}"


def _log_time(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: LogTimeInput!", "logTime(input: $i)"), {
        "i": {"projectId": gid("Project", w.project), "workDate": "2026-01-05", "hours": v, "billable": True}
    }


def _log_expense(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: LogExpenseInput!", "logExpense(input: $i)"), {
        "i": {
            "projectId": gid("Project", w.project),
            "description": "Fonts",
            "amount": v,
            "billable": True,
            "incurredOn": "2026-01-05",
        }
    }


def _invoice(w: World, line: dict[str, Any], **extra: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: CreateInvoiceInput!", "createInvoice(input: $i)"), {
        "i": {
            "clientId": gid("Client", w.client),
            "lines": [{"description": "Work", "quantity": "1", "unitPrice": "10", **line}],
            **extra,
        }
    }


def _payment(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: RecordPaymentInput!", "recordPayment(input: $i)"), {
        "i": {"invoiceId": gid("Invoice", w.invoice), "amount": v}
    }


def _create_project(w: World, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _m("$c: ID!, $i: CreateProjectInput!", "createProject(clientId: $c, input: $i)"), {
        "c": gid("Client", w.client),
        "i": {"name": "Launch", **fields},
    }


def _update_project(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: UpdateProjectInput!", "updateProject(input: $i)"), {
        "i": {"projectId": gid("Project", w.project), "budget": v}
    }


def _create_task(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: CreateTaskInput!", "createTask(input: $i)"), {
        "i": {"projectId": gid("Project", w.project), "title": "Copy", "estimateHours": v}
    }


def _update_task(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: UpdateTaskInput!", "updateTask(input: $i)"), {
        "i": {"taskId": gid("Task", w.task), "estimateHours": v}
    }


def _create_lead(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: CreateLeadInput!", "createLead(input: $i)"), {"i": {"companyName": "Acme", "estimatedValue": v}}


def _create_opportunity(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$c: ID!, $i: CreateOpportunityInput!", "createOpportunity(clientId: $c, input: $i)"), {
        "c": gid("Client", w.client),
        "i": {"title": "Retainer", "value": v},
    }


def _update_opportunity(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: UpdateOpportunityInput!", "updateOpportunity(input: $i)"), {
        "i": {"opportunityId": gid("Opportunity", w.opportunity), "value": v}
    }


def _convert_opportunity(w: World, v: Any) -> tuple[str, dict[str, Any]]:
    return _m("$i: ConvertOpportunityInput!", "convertOpportunity(input: $i)"), {
        "i": {"opportunityId": gid("Opportunity", w.opportunity), "budget": v}
    }


# (name, build, field at fault, code for a value that is no number)
DECIMAL_INPUTS: list[tuple[str, Build, str, str]] = [
    ("LogTimeInput.hours", _log_time, "input.hours", "INVALID_NUMBER"),
    ("LogExpenseInput.amount", _log_expense, "input.amount", "INVALID_NUMBER"),
    ("RecordPaymentInput.amount", _payment, "input.amount", "INVALID_NUMBER"),
    ("CreateInvoiceInput.taxRate", lambda w, v: _invoice(w, {}, taxRate=v), "input.taxRate", "INVALID_NUMBER"),
    (
        "InvoiceLineInput.quantity",
        lambda w, v: _invoice(w, {"quantity": v}),
        "input.lines[0].quantity",
        "INVALID_NUMBER",
    ),
    (
        "InvoiceLineInput.unitPrice",
        lambda w, v: _invoice(w, {"unitPrice": v}),
        "input.lines[0].unitPrice",
        "INVALID_NUMBER",
    ),
    (
        "InvoiceLineInput.taxRate",
        lambda w, v: _invoice(w, {"taxRate": v}),
        "input.lines[0].taxRate",
        "INVALID_NUMBER",
    ),
    ("CreateProjectInput.budget", lambda w, v: _create_project(w, {"budget": v}), "input.budget", "INVALID_AMOUNT"),
    (
        "TaskInput.estimateHours",
        lambda w, v: _create_project(w, {"tasks": [{"title": "Copy", "estimateHours": v}]}),
        "input.tasks[0].estimateHours",
        "INVALID_AMOUNT",
    ),
    ("UpdateProjectInput.budget", _update_project, "input.budget", "INVALID_AMOUNT"),
    ("CreateTaskInput.estimateHours", _create_task, "input.estimateHours", "INVALID_AMOUNT"),
    ("UpdateTaskInput.estimateHours", _update_task, "input.estimateHours", "INVALID_AMOUNT"),
    ("CreateLeadInput.estimatedValue", _create_lead, "input.estimatedValue", "INVALID_AMOUNT"),
    ("CreateOpportunityInput.value", _create_opportunity, "input.value", "INVALID_AMOUNT"),
    ("UpdateOpportunityInput.value", _update_opportunity, "input.value", "INVALID_AMOUNT"),
    ("ConvertOpportunityInput.budget", _convert_opportunity, "input.budget", "INVALID_AMOUNT"),
]
NOT_NUMBERS = ["NaN", "sNaN", "Infinity", "-Infinity", "nan", "inf"]
HUGE = ["9" * 60, "1e308", "1E+999999999", "123456789012345678901234567890.5", 1e300]


def test_every_decimal_input_of_the_schema_is_covered():
    from graphql import GraphQLInputObjectType, get_named_type

    from schema.build import build_schema

    schema = build_schema()._schema
    decimal_fields = {
        f"{t.name}.{name}"
        for t in schema.type_map.values()
        if isinstance(t, GraphQLInputObjectType)
        for name, field in t.fields.items()
        if get_named_type(field.type).name == "Decimal"
    }
    decimal_arguments = {
        f"{root.name}.{name}({arg})"
        for root in (schema.query_type, schema.mutation_type)
        if root is not None
        for name, field in root.fields.items()
        for arg, argument in field.args.items()
        if get_named_type(argument.type).name == "Decimal"
    }
    assert decimal_fields == {name for name, *_ in DECIMAL_INPUTS} and not decimal_arguments


@pytest.mark.parametrize("name, build, field, code", DECIMAL_INPUTS, ids=[d[0] for d in DECIMAL_INPUTS])
async def test_a_decimal_that_is_not_a_number_is_refused_on_its_field(api, db, world, name, build, field, code):
    for value in NOT_NUMBERS:
        body = await refused(api, db, world, *build(world, value))
        assert payload_errors(body) == [(field, code)], (value, body)


@pytest.mark.parametrize("name, build, field, code", DECIMAL_INPUTS, ids=[d[0] for d in DECIMAL_INPUTS])
async def test_a_decimal_past_its_maximum_is_too_large_however_many_digits(api, db, world, name, build, field, code):
    for value in HUGE:
        body = await refused(api, db, world, *build(world, value))
        assert payload_errors(body) == [(field, "TOO_LARGE")], (value, body)


async def test_a_decimal_in_a_literal_is_checked_the_same(api, db, world):
    for literal in ['"NaN"', '"1e308"', "1e308", '"' + "9" * 60 + '"']:
        query = f'mutation {{ createLead(input: {{companyName: "Acme", estimatedValue: {literal}}}) {{ {ERRORS} }} }}'
        body = await refused(api, db, world, query, {})
        assert payload_errors(body)[0][0] == "input.estimatedValue", (literal, body)
    body = await refused(
        api,
        db,
        world,
        f'mutation {{ createLead(input: {{companyName: "A", estimatedValue: "x"}}) {{ {ERRORS} }} }}',
        {},
    )
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "INVALID_NUMBER")
    ]


# ---- Dates and times: every Date and DateTime input, variables and literals


def _date_input(path: str) -> Build:
    """A build that puts `value` at `path` of a working request."""

    def build(w: World, v: Any) -> tuple[str, dict[str, Any]]:
        kind, _, key = path.partition(":")
        if kind == "logTime":
            query, variables = _log_time(w, "1")
            variables["i"]["workDate"] = v
        elif kind == "logExpense":
            query, variables = _log_expense(w, "1")
            variables["i"]["incurredOn"] = v
        elif kind == "recordPayment":
            query, variables = _payment(w, "1")
            variables["i"]["receivedOn"] = v
        elif kind == "createInvoice":
            query, variables = _invoice(w, {}, **{key: v})
        elif kind == "createProject":
            query, variables = _create_project(
                w, {"tasks": [{"title": "T", "dueDate": v}]} if key == "task" else {key: v}
            )
        elif kind == "createTask":
            query, variables = _create_task(w, None)
            variables["i"]["dueDate"] = v
        elif kind == "createOpportunity":
            query, variables = _create_opportunity(w, None)
            variables["i"]["expectedCloseOn"] = v
        elif kind == "bookMeeting":
            start, end = TOMORROW.isoformat(), (TOMORROW + dt.timedelta(hours=1)).isoformat()
            query = _m("$i: BookMeetingInput!", "bookMeeting(input: $i)")
            variables = {
                "i": {"title": "Review", "clientId": gid("Client", w.client), "startsAt": start, "endsAt": end}
            }
            variables["i"][key] = v
        elif kind == "updateMeeting":
            query = _m("$i: UpdateMeetingInput!", "updateMeeting(input: $i)")
            variables = {"i": {"meetingId": gid("Meeting", w.meeting), key: v}}
        elif kind == "logInteraction":
            query = _m(
                "$c: ID!, $at: DateTime!", 'logInteraction(clientId: $c, kind: CALL, summary: "Call", occurredAt: $at)'
            )
            variables = {"c": gid("Client", w.client), "at": v}
        elif kind == "recordSatisfactionScore":
            query = _m("$i: RecordSatisfactionScoreInput!", "recordSatisfactionScore(input: $i)")
            variables = {"i": {"score": 9, "clientId": gid("Client", w.client), "respondedAt": v}}
        elif kind == "clientReport":
            query = f"query($c: ID!, $d: Date) {{ clientReport(clientId: $c, {key}: $d) {{ time {{ totalHours }} }} }}"
            variables = {"c": gid("Client", w.client), "d": v}
        else:  # pragma: no cover
            raise AssertionError(path)
        return query, variables

    return build


DATES = [
    "logTime:workDate",
    "logExpense:incurredOn",
    "recordPayment:receivedOn",
    "createInvoice:issueDate",
    "createInvoice:dueDate",
    "createInvoice:unbilledThrough",
    "createProject:startDate",
    "createProject:endDate",
    "createProject:task",
    "createTask:dueDate",
    "createOpportunity:expectedCloseOn",
    "clientReport:from",
    "clientReport:to",
]
DATE_TIMES = [
    "bookMeeting:startsAt",
    "bookMeeting:endsAt",
    "updateMeeting:startsAt",
    "updateMeeting:endsAt",
    "logInteraction:occurredAt",
    "recordSatisfactionScore:respondedAt",
]
EXTREME_DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]
EXTREME_DATE_TIMES = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2999-12-31T23:59:59-00:01",
    "1900-01-01T00:00:00+00:01",
    "9999-12-31T23:59:59",
]


def _assert_out_of_range(body: dict[str, Any]) -> None:
    assert body["data"] is None, body
    assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "OUT_OF_RANGE")
    ], body


@pytest.mark.parametrize(
    "path, values",
    [(p, EXTREME_DATES) for p in DATES] + [(p, EXTREME_DATE_TIMES) for p in DATE_TIMES],
    ids=DATES + DATE_TIMES,
)
async def test_a_date_or_time_out_of_range_is_bad_user_input(api, db, world, path, values):
    build = _date_input(path)
    for value in values:
        _assert_out_of_range(await refused(api, db, world, *build(world, value)))


@pytest.mark.parametrize(
    "query",
    [
        'mutation($c: ID!) { logInteraction(clientId: $c, kind: CALL, summary: "Call", '
        'occurredAt: "9999-12-31T23:59:59-23:59") { errors { code } } }',
        'mutation($c: ID!) { createInvoice(input: {clientId: $c, issueDate: "9999-12-31", '
        'lines: [{description: "Work", quantity: "1", unitPrice: "1"}]}) { errors { code } } }',
        'query($c: ID!) { clientReport(clientId: $c, from: "0001-01-01") { time { totalHours } } }',
        'mutation($c: ID!) { createProject(clientId: $c, input: {name: "P", tasks: [{title: "T", '
        'dueDate: "3000-01-01"}]}) { errors { code } } }',
    ],
    ids=["DateTime argument", "Date in an input", "Date argument of a query", "Date in a list"],
)
async def test_a_date_literal_out_of_range_is_the_same_error_with_its_location(api, db, world, query):
    body = await refused(api, db, world, query, {"c": gid("Client", world.client)})
    _assert_out_of_range(body)
    assert body["errors"][0]["locations"], body


async def test_the_edges_of_the_range_are_taken(api, db, world):
    query, variables = _create_project(world, {"startDate": "1900-01-01", "endDate": "2999-12-31"})
    assert payload_errors(await api.post(query, variables, world.token)) == []
    body = await api.post(*_date_input("clientReport:to")(world, "2999-12-31"), world.token)
    assert "errors" not in body and body["data"]["clientReport"] is not None, body


# ---- Global ids and plain ids out of range


OUT_OF_RANGE_ROW_IDS = ["99999999999999999999", str(2**31), str(2**63), "-1", "0", "00000000001", "1e3"]


def _far(type_name: str) -> list[str]:
    return [gid(type_name, row) for row in OUT_OF_RANGE_ROW_IDS]


ID_MUTATIONS: list[tuple[str, str, Callable[[World, str], dict[str, Any]], str, str]] = [
    (
        "reactivateClient(clientId)",
        _m("$id: ID!", "reactivateClient(clientId: $id)"),
        lambda w, i: {"id": i},
        "clientId",
        "Client",
    ),
    (
        "createProject(clientId)",
        _m("$id: ID!", 'createProject(clientId: $id, input: {name: "P"})'),
        lambda w, i: {"id": i},
        "clientId",
        "Client",
    ),
    (
        "logTime(input.projectId)",
        _m("$i: LogTimeInput!", "logTime(input: $i)"),
        lambda w, i: {"i": {"projectId": i, "workDate": "2026-01-05", "hours": "1", "billable": True}},
        "input.projectId",
        "Project",
    ),
    (
        "updateTask(input.taskId)",
        _m("$i: UpdateTaskInput!", "updateTask(input: $i)"),
        lambda w, i: {"i": {"taskId": i, "title": "T"}},
        "input.taskId",
        "Task",
    ),
    (
        "createInvoice(input.clientId)",
        _m("$i: CreateInvoiceInput!", "createInvoice(input: $i)"),
        lambda w, i: {"i": {"clientId": i, "lines": [{"description": "W", "quantity": "1", "unitPrice": "1"}]}},
        "input.clientId",
        "Client",
    ),
    ("sendInvoice(id)", _m("$id: ID!", "sendInvoice(id: $id)"), lambda w, i: {"id": i}, "id", "Invoice"),
    (
        "addComment(taskId)",
        _m("$id: ID!", 'addComment(kind: NOTE, body: "Hi", taskId: $id)'),
        lambda w, i: {"id": i},
        "taskId",
        "Task",
    ),
    (
        "addContact(clientId)",
        _m("$id: ID!", 'addContact(clientId: $id, input: {fullName: "Ann"}, makePrimary: false)'),
        lambda w, i: {"id": i},
        "clientId",
        "Client",
    ),
    (
        "bookMeeting(input.staffId)",
        _m("$i: BookMeetingInput!", "bookMeeting(input: $i)"),
        lambda w, i: {
            "i": {
                "title": "M",
                "clientId": gid("Client", w.client),
                "staffId": i,
                "startsAt": TOMORROW.isoformat(),
                "endsAt": (TOMORROW + dt.timedelta(hours=1)).isoformat(),
            }
        },
        "input.staffId",
        "User",
    ),
]


@pytest.mark.parametrize("name, query, variables, field, type_name", ID_MUTATIONS, ids=[m[0] for m in ID_MUTATIONS])
async def test_a_mutation_given_an_id_out_of_range_answers_not_found(
    api, db, world, name, query, variables, field, type_name
):
    for global_id in _far(type_name):
        body = await refused(api, db, world, query, variables(world, global_id))
        errors = payload_errors(body)
        assert len(errors) == 1 and errors[0][1] in {"NOT_FOUND", "NOT_STAFF"}, (global_id, body)
        assert errors[0][0] == field, (global_id, body)


async def test_a_list_of_ids_with_one_out_of_range_marks_nothing_and_fails_nothing(api, db, world):
    query = _m("$ids: [ID!]", "markNotificationsRead(ids: $ids)")
    body = await refused(api, db, world, query, {"ids": _far("Notification")})
    assert payload_errors(body) == []


@pytest.mark.parametrize(
    "query, key",
    [
        ("query($id: ID!) { node(id: $id) { id } }", "node"),
        ("query($id: ID!) { client(id: $id) { name } }", "client"),
        ("query($id: ID!) { invoice(id: $id) { number } }", "invoice"),
        ("query($id: ID!) { clientReport(clientId: $id) { time { totalHours } } }", "clientReport"),
    ],
    ids=["node", "client", "invoice", "clientReport"],
)
async def test_a_lookup_by_an_id_out_of_range_answers_null(api, db, world, query, key):
    type_name = {"invoice": "Invoice"}.get(key, "Client")
    for global_id in _far(type_name):
        body = await refused(api, db, world, query, {"id": global_id})
        assert body == {"data": {key: None}}, (global_id, body)


async def test_filters_by_ids_out_of_range_match_nothing_or_say_invalid_id(api, db, world):
    for global_id in _far("Client"):
        body = await refused(
            api, db, world, "query($c: ID) { invoices(filter: {clientId: $c}) { totalCount } }", {"c": global_id}
        )
        assert body == {"data": {"invoices": {"totalCount": 0}}}, body
    for status_id in OUT_OF_RANGE_ROW_IDS:
        body = await refused(
            api, db, world, "query($s: [ID!]) { clients(filter: {statusIds: $s}) { totalCount } }", {"s": [status_id]}
        )
        assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in body["errors"]] == [
            ("BAD_USER_INPUT", "INVALID_ID")
        ], body
        body = await refused(
            api,
            db,
            world,
            _m("$c: ID!, $s: ID!", "setClientStatus(clientId: $c, statusId: $s)"),
            {"c": gid("Client", world.client), "s": status_id},
        )
        assert payload_errors(body) == [("statusId", "INVALID_ID")], body


# ---- NUL characters, anywhere


NUL = "\x00"
NUL_CASES: list[tuple[str, str, Callable[[World], dict[str, Any]], list[str]]] = [
    (
        "variable: input field",
        "mutation($i: CreateClientInput!) { createClient(input: $i) { errors { code } } }",
        lambda w: {"i": {"name": f"Acme{NUL}", "primaryContact": {"fullName": "Ann"}}},
        ["input.name"],
    ),
    (
        "variable: nested input object",
        "mutation($i: CreateClientInput!) { createClient(input: $i) { errors { code } } }",
        lambda w: {"i": {"name": "Acme", "primaryContact": {"fullName": "Ann", "email": f"a{NUL}@b.example"}}},
        ["input.primaryContact.email"],
    ),
    (
        "variable: list of input objects",
        "mutation($c: ID!, $i: CreateProjectInput!) { createProject(clientId: $c, input: $i) { errors { code } } }",
        lambda w: {"c": gid("Client", w.client), "i": {"name": "P", "tasks": [{"title": "A"}, {"title": NUL}]}},
        ["input.tasks[1].title"],
    ),
    (
        "variable: inside a list literal",
        'mutation($c: ID!, $t: TaskInput!) { createProject(clientId: $c, input: {name: "P", tasks: [$t]}) '
        "{ errors { code } } }",
        lambda w: {"c": gid("Client", w.client), "t": {"title": "T", "description": f"{NUL}{NUL}"}},
        ["input.tasks[0].description"],
    ),
    (
        "variable: top-level argument",
        "mutation($b: String!, $t: ID) { addComment(kind: NOTE, body: $b, taskId: $t) { errors { code } } }",
        lambda w: {"b": f"Hello{NUL}", "t": gid("Task", w.task)},
        ["body"],
    ),
    (
        "variable: list of ids",
        "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) { errors { code } } }",
        lambda w: {"ids": [gid("Notification", 1), f"1{NUL}"]},
        ["ids[1]"],
    ),
    (
        "variable: an ID",
        "mutation($c: ID!) { reactivateClient(clientId: $c) { errors { code } } }",
        lambda w: {"c": gid("Client", w.client) + NUL},
        ["clientId"],
    ),
    (
        "variable: a Decimal and a Date",
        "mutation($i: LogTimeInput!) { logTime(input: $i) { errors { code } } }",
        lambda w: {
            "i": {
                "projectId": gid("Project", w.project),
                "workDate": f"2026-01-05{NUL}",
                "hours": f"1{NUL}",
                "billable": True,
            }
        },
        ["input.workDate", "input.hours"],
    ),
    (
        "variable: sign-in",
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { errors { code } } }",
        lambda w: {"e": f"owner@agency.example{NUL}", "p": "x"},
        ["email"],
    ),
    (
        "variable: a query's filter and cursor",
        "query($s: String, $a: String) { clients(filter: {search: $s}, after: $a) { totalCount } }",
        lambda w: {"s": f"a{NUL}", "a": NUL},
        ["filter.search", "after"],
    ),
    (
        "variable: sent but not declared",
        "query { clients { totalCount } }",
        lambda w: {"s": NUL},
        ["$s"],
    ),
    (
        "literal: argument",
        'mutation { createClientStatus(name: "Paused\\u0000", category: ACTIVE) { errors { code } } }',
        lambda w: {},
        ["name"],
    ),
    (
        "literal: nested in a list of input objects",
        'mutation($c: ID!) { createProject(clientId: $c, input: {name: "P", tasks: [{title: "A"}, '
        '{title: "B", description: "\\u0000"}]}) { errors { code } } }',
        lambda w: {"c": gid("Client", w.client)},
        ["input.tasks[1].description"],
    ),
    (
        "literal: block string",
        'mutation($t: ID) { addComment(kind: NOTE, body: """a\u0000b""", taskId: $t) { errors { code } } }',
        lambda w: {"t": gid("Task", w.task)},
        ["body"],
    ),
    (
        "literal: a variable's default",
        'query($s: String = "\\u0000") { clients(filter: {search: $s}) { totalCount } }',
        lambda w: {},
        ["$s"],
    ),
    (
        "literal: a query argument",
        'query { clients(filter: {search: "x\\u0000"}) { totalCount } }',
        lambda w: {},
        ["filter.search"],
    ),
]


@pytest.mark.parametrize("name, query, variables, fields", NUL_CASES, ids=[c[0] for c in NUL_CASES])
async def test_a_nul_character_anywhere_is_refused_before_anything_runs(api, db, world, name, query, variables, fields):
    body = await refused(api, db, world, query, variables(world))
    assert body["data"] is None, body
    assert [(e["extensions"]["code"], e["extensions"]["reason"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "NUL_CHARACTER", field) for field in fields
    ], body


async def test_text_without_nul_still_goes_through(api, db, world):
    """Other control characters and every other code point are the caller's business."""
    query = (
        "mutation($b: String!, $t: ID) { addComment(kind: NOTE, body: $b, taskId: $t) "
        "{ comment { body } errors { code } } }"
    )
    text = "tab\there \u0001 \u007f \u200b \U0001f600 ê"
    body = await api.post(query, {"b": text, "t": gid("Task", world.task)}, world.token)
    assert body["data"]["addComment"] == {"comment": {"body": text}, "errors": []}, body
    assert await count(db, Comment) == 1
