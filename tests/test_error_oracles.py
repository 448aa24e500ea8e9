"""No oracles in errors (issue 9): a global id that names no row the caller may see answers
exactly like a missing row, whatever it names instead; and every error carries a code.

The id cases, compared as whole JSON answers by a Northwind portal user:
- missing: a well-formed id of the right type, no such row;
- hidden: another client's row of the right type (it exists);
- hidden type: a row of a type the portal never sees (a Lead);
- unknown type: a type this schema does not have;
- wrong type: a row of another type the caller *can* see (its own client, its own task);
- malformed: a right-type id whose number is not a number;
- huge: a number no INTEGER column holds (must not reach the database: no 500, on SQLite and
  PostgreSQL alike).
"""

from __future__ import annotations

import base64
import json

import pytest

from models import Comment, Lead, Meeting
from tests.factories import PASSWORD
from tests.utils import SIDE_TABLES, counts

NODE = """query($id: ID!) { node(id: $id) { id __typename ... on Task { title } ... on Client { name } } }"""
ADD_COMMENT = """mutation($task: ID) { addComment(kind: REPLY, body: "Hello", taskId: $task) {
  comment { id body } errors { field code message } } }"""
BOOK_MEETING = """mutation($input: BookMeetingInput!) { bookMeeting(input: $input) {
  meeting { id title status } errors { field code message } } }"""
WRITES = (Comment, Meeting, *SIDE_TABLES)


def _gid(type_name: str, node_id: object) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


async def _world(factory):
    """Northwind (booking enabled) with a portal user and a visible task; Globex with a task
    Northwind may not see; a lead (a type the portal never sees)."""
    northwind = await factory.client("Northwind", portal_booking_enabled=True)
    globex = await factory.client("Globex", portal_booking_enabled=True)
    task = await factory.task(
        await factory.project(northwind, name="Website"), title="Homepage", visible_to_client=True
    )
    hidden = await factory.task(await factory.project(globex, name="Rebrand"), title="Logo", visible_to_client=True)
    lead = await factory.add(Lead(company_name="Initech"))
    olivia = await factory.portal_user(northwind)
    return northwind, globex, task, hidden, lead, olivia


def _cases(type_name: str, *, hidden: int, hidden_type: str, wrong_type: str) -> dict[str, str]:
    return {
        "missing": _gid(type_name, 999999),
        "hidden": _gid(type_name, hidden),
        "hidden type": hidden_type,
        "unknown type": _gid("Nope", 1),
        "wrong type": wrong_type,
        "malformed": _gid(type_name, "abc"),
        "huge": _gid(type_name, 99999999999999999999),
        "negative": _gid(type_name, -1),
    }


async def test_node_answers_every_id_that_names_no_visible_row_with_the_missing_rows_null(api, factory):
    northwind, globex, task, hidden, lead, olivia = await _world(factory)
    token = await api.login(olivia.email, PASSWORD)
    # The query is live: the portal user's own task and client come back.
    own = await api.post(NODE, {"id": _gid("Task", task.id)}, token)
    assert own == {"data": {"node": {"id": _gid("Task", task.id), "__typename": "Task", "title": "Homepage"}}}
    assert (await api.post(NODE, {"id": _gid("Client", northwind.id)}, token))["data"]["node"]["name"] == "Northwind"

    cases = _cases("Task", hidden=hidden.id, hidden_type=_gid("Lead", lead.id), wrong_type=_gid("Client", globex.id))
    # node takes any type, so "wrong type" here is a hidden row of another type; and node also
    # answers ids Strawberry cannot resolve to a node type alike.
    cases |= {
        "interface": _gid("Node", 1),
        "not a node type": _gid("Query", 1),
        "no colon": base64.b64encode(b"Task").decode(),
        "not base64": "not base64!",
        "empty": "",
    }
    missing = await api.post(NODE, {"id": cases["missing"]}, token)
    assert missing == {"data": {"node": None}}
    answers = {name: await api.post(NODE, {"id": value}, token) for name, value in cases.items()}
    assert answers == dict.fromkeys(cases, missing)
    # Inline in the document instead of a variable: the same.
    for value in (cases["not base64"], cases["hidden type"], cases["huge"]):
        assert await api.post(f"{{ node(id: {json.dumps(value)}) {{ id }} }}", token=token) == missing


async def test_add_comment_answers_every_task_id_that_names_no_visible_task_like_a_missing_task(api, factory, db):
    northwind, _, task, hidden, lead, olivia = await _world(factory)
    token = await api.login(olivia.email, PASSWORD)
    cases = _cases("Task", hidden=hidden.id, hidden_type=_gid("Lead", lead.id), wrong_type=_gid("Client", northwind.id))
    before = await counts(db, *WRITES)
    missing = await api.post(ADD_COMMENT, {"task": cases["missing"]}, token)
    assert missing == {
        "data": {
            "addComment": {
                "comment": None,
                "errors": [{"field": "taskId", "code": "NOT_FOUND", "message": "No such task."}],
            }
        }
    }
    answers = {name: await api.post(ADD_COMMENT, {"task": value}, token) for name, value in cases.items()}
    assert answers == dict.fromkeys(cases, missing)
    assert await counts(db, *WRITES) == before
    # The mutation is live: on its own task the same reply is written.
    ok = await api.post(ADD_COMMENT, {"task": _gid("Task", task.id)}, token)
    assert ok["data"]["addComment"]["errors"] == [] and ok["data"]["addComment"]["comment"]["body"] == "Hello"


async def test_book_meeting_answers_every_client_id_that_names_no_visible_client_like_a_missing_client(
    api, factory, db
):
    northwind, globex, task, _, lead, olivia = await _world(factory)
    token = await api.login(olivia.email, PASSWORD)
    cases = _cases("Client", hidden=globex.id, hidden_type=_gid("Lead", lead.id), wrong_type=_gid("Task", task.id))

    def booking(client_id: str) -> dict:
        return {
            "input": {
                "title": "Kick-off",
                "startsAt": "2099-01-05T10:00:00+00:00",
                "endsAt": "2099-01-05T11:00:00+00:00",
                "clientId": client_id,
            }
        }

    before = await counts(db, *WRITES)
    missing = await api.post(BOOK_MEETING, booking(cases["missing"]), token)
    assert missing == {
        "data": {
            "bookMeeting": {
                "meeting": None,
                "errors": [{"field": "input.clientId", "code": "NOT_FOUND", "message": "No such client."}],
            }
        }
    }
    answers = {name: await api.post(BOOK_MEETING, booking(value), token) for name, value in cases.items()}
    assert answers == dict.fromkeys(cases, missing)
    assert await counts(db, *WRITES) == before
    # The mutation is live: for its own client the same booking is made.
    ok = await api.post(BOOK_MEETING, booking(_gid("Client", northwind.id)), token)
    assert ok["data"]["bookMeeting"]["errors"] == [] and ok["data"]["bookMeeting"]["meeting"]["status"] == "REQUESTED"


async def test_a_string_that_is_no_global_id_at_all_is_bad_input_whatever_exists(api, factory, db):
    """Not base64 of "Type:id" says nothing about what exists (the caller can tell it alone), so
    a mutation answers it before running: one BAD_USER_INPUT error, the same for every such string."""
    *_, olivia = await _world(factory)
    token = await api.login(olivia.email, PASSWORD)
    before = await counts(db, *WRITES)
    answers = [
        await api.post(ADD_COMMENT, {"task": value}, token)
        for value in ("not base64!", base64.b64encode(b"Task").decode(), "")
    ]
    assert answers[0] == {
        "data": None,
        "errors": [
            {
                "message": "That is not a global id this API gave out.",
                "locations": [{"line": 1, "column": 23}],
                "path": ["addComment"],
                "extensions": {"code": "BAD_USER_INPUT", "reason": "INVALID_ID"},
            }
        ],
    }
    assert answers == [answers[0]] * 3
    assert await counts(db, *WRITES) == before


# ---- every error carries extensions.code, by POST and by GET


async def _send(api, method: str, token: str, body: dict):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if method == "POST":
        return await api.client.post("/graphql", json=body, headers=headers)
    params = {key: json.dumps(value) if key == "variables" else value for key, value in body.items()}
    return await api.client.get("/graphql", params=params, headers=headers)


CLIENTS = "query($n: Int!) { clients(first: $n) { totalCount } }"
REQUEST_ERRORS = [
    ("syntax", {"query": "{ clients { totalCount "}, "GRAPHQL_PARSE_FAILED"),
    ("too many tokens", {"query": "{ " + "me { id } " * 1500 + "}"}, "GRAPHQL_PARSE_FAILED"),
    # The specification's SelectionSet holds one selection at least (graphql-core 3.3 parses `{ }`).
    ("empty selection set", {"query": "{ clients { edges { node { contacts { } } } } }"}, "GRAPHQL_PARSE_FAILED"),
    ("empty operation", {"query": "{ }"}, "GRAPHQL_PARSE_FAILED"),
    ("unknown field", {"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unused variable", {"query": "query($x: Int) { me { id } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("variable of the wrong type", {"query": CLIENTS, "variables": {"n": "ten"}}, "BAD_USER_INPUT"),
    ("missing required variable", {"query": CLIENTS}, "BAD_USER_INPUT"),
    (
        "variable a scalar cannot parse",
        {
            "query": "query($c: ID!, $d: Date) { clientReport(clientId: $c, from: $d) { __typename } }",
            "variables": {"c": _gid("Client", 1), "d": "yesterday"},
        },
        "BAD_USER_INPUT",
    ),
]


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("body, code", [(b, c) for _, b, c in REQUEST_ERRORS], ids=[n for n, _, _ in REQUEST_ERRORS])
async def test_a_document_or_its_variables_that_cannot_run_answer_one_coded_error(api, factory, method, body, code):
    *_, olivia = await _world(factory)
    response = await _send(api, method, await api.login(olivia.email, PASSWORD), body)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code], answer


TWO_OPERATIONS = "query Mine { me { email } } query Count { clients { totalCount } }"
UNRUNNABLE = [
    (
        "unknown operationName",
        {"query": "query Mine { me { email } }", "operationName": "Theirs"},
        'Unknown operation named "Theirs".',
        "OPERATION_RESOLUTION_FAILURE",
    ),
    (
        "unknown operationName of several",
        {"query": TWO_OPERATIONS, "operationName": "Theirs"},
        'Unknown operation named "Theirs".',
        "OPERATION_RESOLUTION_FAILURE",
    ),
    (
        "several operations, none named",
        {"query": TWO_OPERATIONS},
        "Must provide operation name if query contains multiple operations.",
        "OPERATION_RESOLUTION_FAILURE",
    ),
    ("no query", {"variables": {"n": 1}}, "No GraphQL query found in the request", "BAD_REQUEST"),
    ("empty query", {"query": ""}, "No GraphQL query found in the request", "BAD_REQUEST"),
]


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("body, message, code", [u[1:] for u in UNRUNNABLE], ids=[u[0] for u in UNRUNNABLE])
async def test_a_request_with_no_operation_to_run_answers_a_json_error_with_a_code(
    api, factory, method, body, message, code
):
    *_, olivia = await _world(factory)
    response = await _send(api, method, await api.login(olivia.email, PASSWORD), body)
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": code}}]}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_of_several_operations_the_named_one_runs(api, factory, method):
    *_, olivia = await _world(factory)
    response = await _send(
        api, method, await api.login(olivia.email, PASSWORD), {"query": TWO_OPERATIONS, "operationName": "Mine"}
    )
    assert response.status_code == 200 and response.json() == {"data": {"me": {"email": olivia.email}}}


async def test_a_mutation_by_get_and_a_body_that_is_not_json_answer_json_errors_with_a_code(api, factory, db):
    *_, olivia = await _world(factory)
    token = await api.login(olivia.email, PASSWORD)
    before = await counts(db, *WRITES)
    by_get = await _send(api, "GET", token, {"query": ADD_COMMENT, "variables": {"task": _gid("Task", 1)}})
    assert by_get.status_code == 400 and by_get.headers["content-type"] == "application/json"
    assert by_get.json() == {
        "errors": [{"message": "mutations are not allowed when using GET", "extensions": {"code": "BAD_REQUEST"}}]
    }
    not_json = await api.client.post(
        "/graphql",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    assert not_json.json() == {
        "errors": [{"message": "Unable to parse request body as JSON", "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert await counts(db, *WRITES) == before


@pytest.mark.parametrize(
    "root, argument, type_name",
    [
        ("client", "id", "Client"),
        ("invoice", "id", "Invoice"),
        ("clientReport", "clientId", "Client"),
    ],
)
async def test_root_lookups_answer_every_id_that_names_no_visible_row_with_the_missing_rows_null(
    api, factory, root, argument, type_name
):
    _, globex, _, _, lead, olivia = await _world(factory)
    token = await api.login(olivia.email, PASSWORD)
    cases = _cases(type_name, hidden=globex.id, hidden_type=_gid("Lead", lead.id), wrong_type=_gid("Task", 1))
    answers = {}
    for name, value in cases.items():
        answers[name] = await api.post(
            f"query($i: ID!) {{ {root}({argument}: $i) {{ __typename }} }}", {"i": value}, token
        )
    assert all(answer == {"data": {root: None}} for answer in answers.values()), answers


async def test_a_status_id_that_no_row_can_have_is_a_typed_input_error(api, factory):
    from models import Role
    from tests.utils import staff

    client = await factory.client("Northwind")
    _, token = await staff(api, factory, Role.MANAGER)
    query = """mutation($c: ID!, $s: ID!) {
  setClientStatus(clientId: $c, statusId: $s) { client { name } errors { field code } } }"""
    for status in ("abc", "99999999999999999999", "-1"):
        body = await api.data(query, {"c": _gid("Client", client.id), "s": status}, token)
        assert body["setClientStatus"] == {"client": None, "errors": [{"field": "statusId", "code": "INVALID_ID"}]}, (
            status
        )
    listed = await api.post('{ clients(filter: {statusIds: ["99999999999999999999"]}) { totalCount } }', token=token)
    assert listed["data"] == {"clients": None} and listed["errors"][0]["extensions"]["reason"] == "INVALID_ID"
