"""GraphQL subscriptions (issue 14) with real clients against a real server: gql's WebSocket
transport subscribes, httpx sends the mutations, and raw `websockets` speaks the protocol where
a close code is the point. One `agency serve --demo` for the module: SQLite by default, a
PostgreSQL database of its own with TEST_DATABASE_URL (events then travel by NOTIFY/LISTEN,
even within the one worker).

Every test checks the rows that arrive, and for what must not arrive, listens past a later event
that must (the server delivers each subscription's events in commit order)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError
from strawberry import relay

from server.live import MAX_SUBSCRIPTIONS, NOT_A_SUBSCRIPTION
from tests.live.support import (
    CLIENT_A,
    CLIENT_B,
    MANAGER,
    MEMBER,
    OWNER,
    QUIET_SECONDS,
    Server,
    closed_with,
    data,
    init,
    live_server,
    partner_app,
    raw_socket,
    receive,
    send,
    subscribed,
)

pytestmark = pytest.mark.browser

ADD_COMMENT = """mutation($kind: CommentKind!, $body: String!, $taskId: ID, $projectId: ID) {
  addComment(kind: $kind, body: $body, taskId: $taskId, projectId: $projectId) {
    comment { id kind body } errors { field code }
  }
}"""
CREATE_INVOICE = """mutation($clientId: ID!, $what: String!) {
  createInvoice(input: {clientId: $clientId, lines: [{description: $what, quantity: "1", unitPrice: "250.00"}]}) {
    invoice { id number status } errors { field code }
  }
}"""
SEND_INVOICE = "mutation($id: ID!) { sendInvoice(id: $id) { invoice { number status } errors { code } } }"
CREATE_TASK = """mutation($projectId: ID!, $title: String!, $visible: Boolean!) {
  createTask(input: {projectId: $projectId, title: $title, visibleToClient: $visible}) {
    task { id title } errors { field code }
  }
}"""
UPDATE_TASK = """mutation($taskId: ID!, $status: TaskStatus) {
  updateTask(input: {taskId: $taskId, status: $status}) { task { id status } errors { field code } }
}"""
UPDATE_CLIENT = """mutation($clientId: ID!, $website: String) {
  updateClient(input: {clientId: $clientId, website: $website}) { client { id website } errors { field code } }
}"""
TASK_COMMENTS = "query($id: ID!) { node(id: $id) { ... on Task { comments { kind body } } } }"

NOTIFICATIONS = "subscription { notificationAdded { kind message subjectType } }"
INVOICES = "subscription($clientId: ID!) { invoiceChanged(clientId: $clientId) { number status client { name } } }"
PROJECT_COMMENTS = "subscription($projectId: ID!) { commentAdded(projectId: $projectId) { kind body } }"
TASK_COMMENTS_LIVE = "subscription($taskId: ID!) { commentAdded(taskId: $taskId) { kind body } }"
PROJECT_TASKS = "subscription($projectId: ID!) { taskChanged(projectId: $projectId) { change task { title status } } }"


def marker(what: str) -> str:
    return f"{what} {uuid.uuid4().hex[:10]}"


def missing(type_name: str) -> str:
    return relay.to_base64(type_name, 987654)


@dataclass(frozen=True)
class Portal:
    """A portal user's client, one of its projects and a task on it the user sees."""

    email: str
    client_id: str
    client_name: str
    project_id: str
    task_id: str


@dataclass(frozen=True)
class World:
    server: Server
    a: Portal
    b: Portal


def _portal(server: Server, email: str) -> Portal:
    found = data(
        server,
        "{ portalHome { client { id name } } projects(first: 1) { edges { node { id tasks { id } } } } }",
        server.token(email),
    )
    project = found["projects"]["edges"][0]["node"]
    client = found["portalHome"]["client"]
    return Portal(email, client["id"], client["name"], project["id"], project["tasks"][0]["id"])


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with live_server() as server:
        a, b = _portal(server, CLIENT_A), _portal(server, CLIENT_B)
        assert a.client_name == "Northwind Coffee" and b.client_name == "Bluebird Health"
        yield World(server, a, b)


def comment(world: World, email: str, kind: str, body: str, **where: str) -> dict[str, Any]:
    answer = data(world.server, ADD_COMMENT, world.server.token(email), kind=kind, body=body, **where)["addComment"]
    assert answer["errors"] == [], answer
    return answer["comment"]


def sent_invoice(world: World, client_id: str, what: str) -> int:
    """A draft invoice created and then sent by the owner; its number."""
    token = world.server.token(OWNER)
    created = data(world.server, CREATE_INVOICE, token, clientId=client_id, what=what)["createInvoice"]
    assert created["errors"] == [] and created["invoice"]["status"] == "DRAFT", created
    sent = data(world.server, SEND_INVOICE, token, id=created["invoice"]["id"])["sendInvoice"]
    assert sent["errors"] == [] and sent["invoice"]["status"] == "SENT", sent
    return int(sent["invoice"]["number"])


def error_codes(error: BaseException | None) -> list[str | None]:
    assert isinstance(error, TransportQueryError), repr(error)
    return [e.get("extensions", {}).get("code") for e in error.errors or []]


# --------------------------------------------------------------------------- one client's rows only


async def test_each_portal_user_receives_only_its_own_clients_invoices_and_notifications(world: World):
    server, a, b = world.server, world.a, world.b
    async with (
        subscribed(server, server.token(a.email), NOTIFICATIONS) as a_notes,
        subscribed(server, server.token(b.email), NOTIFICATIONS) as b_notes,
        subscribed(server, server.token(a.email), INVOICES, {"clientId": a.client_id}) as a_invoices,
        subscribed(server, server.token(b.email), INVOICES, {"clientId": b.client_id}) as b_invoices,
    ):
        a_number = sent_invoice(world, a.client_id, marker("Northwind work"))
        b_number = sent_invoice(world, b.client_id, marker("Bluebird work"))

        # The draft's creation is not theirs to see (a draft is the agency's), its sending is.
        assert [e["invoiceChanged"] for e in await a_invoices.next()] == [
            {"number": a_number, "status": "SENT", "client": {"name": "Northwind Coffee"}}
        ]
        assert [e["invoiceChanged"] for e in await b_invoices.next()] == [
            {"number": b_number, "status": "SENT", "client": {"name": "Bluebird Health"}}
        ]
        assert [e["notificationAdded"] for e in await a_notes.next()] == [
            {
                "kind": "INVOICE_SENT",
                "message": f"Invoice #{a_number} is ready in your portal",
                "subjectType": "Invoice",
            }
        ]
        assert [e["notificationAdded"] for e in await b_notes.next()] == [
            {
                "kind": "INVOICE_SENT",
                "message": f"Invoice #{b_number} is ready in your portal",
                "subjectType": "Invoice",
            }
        ]
        await asyncio.sleep(QUIET_SECONDS)
        for subscriber in (a_notes, b_notes, a_invoices, b_invoices):
            assert len(subscriber.events) == 1, subscriber.events
            assert subscriber.error is None


async def test_the_same_project_subscription_brings_each_portal_user_its_own_replies(world: World):
    server, a, b = world.server, world.a, world.b
    async with (
        subscribed(server, server.token(a.email), PROJECT_COMMENTS, {"projectId": a.project_id}) as a_sub,
        subscribed(server, server.token(b.email), PROJECT_COMMENTS, {"projectId": b.project_id}) as b_sub,
    ):
        to_a, to_b = marker("Reply to Northwind"), marker("Reply to Bluebird")
        comment(world, OWNER, "REPLY", to_a, taskId=a.task_id)
        comment(world, OWNER, "REPLY", to_b, taskId=b.task_id)
        assert [e["commentAdded"] for e in await a_sub.next()] == [{"kind": "REPLY", "body": to_a}]
        assert [e["commentAdded"] for e in await b_sub.next()] == [{"kind": "REPLY", "body": to_b}]
        await asyncio.sleep(QUIET_SECONDS)
        assert len(a_sub.events) == 1 and len(b_sub.events) == 1, (a_sub.events, b_sub.events)


SUBSCRIPTIONS_ABOUT = [
    ("commentAdded(taskId)", TASK_COMMENTS_LIVE, "taskId", "task_id", "Task"),
    ("commentAdded(projectId)", PROJECT_COMMENTS, "projectId", "project_id", "Project"),
    ("taskChanged", PROJECT_TASKS, "projectId", "project_id", "Project"),
    (
        "deliverableChanged",
        "subscription($taskId: ID!) { deliverableChanged(taskId: $taskId) { change } }",
        "taskId",
        "task_id",
        "Task",
    ),
    ("invoiceChanged", INVOICES, "clientId", "client_id", "Client"),
]


@pytest.mark.parametrize(
    ("document", "argument", "attribute", "type_name"),
    [case[1:] for case in SUBSCRIPTIONS_ABOUT],
    ids=[case[0] for case in SUBSCRIPTIONS_ABOUT],
)
async def test_another_clients_row_answers_not_found_like_a_missing_one(
    world: World, document: str, argument: str, attribute: str, type_name: str
):
    server, a = world.server, world.a
    b_token = server.token(CLIENT_B)
    async with subscribed(server, b_token, document, {argument: missing(type_name)}) as nowhere:
        await nowhere.ended.wait()
    async with (
        subscribed(server, b_token, document, {argument: getattr(a, attribute)}) as b_sub,
        subscribed(server, server.token(a.email), document, {argument: getattr(a, attribute)}) as a_sub,
    ):
        await asyncio.wait_for(b_sub.ended.wait(), 10)
        assert error_codes(b_sub.error) == ["NOT_FOUND"]
        assert isinstance(b_sub.error, TransportQueryError) and isinstance(nowhere.error, TransportQueryError)
        assert b_sub.error.errors == nowhere.error.errors  # the same words for hidden and missing
        assert a_sub.error is None and not a_sub.ended.is_set()  # Northwind's own user is subscribed
        if attribute != "client_id":
            body = marker("Reply on Northwind's")
            comment(world, OWNER, "REPLY", body, taskId=a.task_id)
            if "commentAdded" in document:
                assert [e["commentAdded"]["body"] for e in await a_sub.next()] == [body]
        await asyncio.sleep(QUIET_SECONDS)
        assert b_sub.events == []


# --------------------------------------------------------------------------- notes and hidden tasks


async def test_a_note_reaches_staff_and_not_the_portal_user_and_a_reply_reaches_both(world: World):
    server, a = world.server, world.a
    task = {"taskId": a.task_id}
    async with (
        subscribed(server, server.token(MANAGER), TASK_COMMENTS_LIVE, task) as staff,
        subscribed(server, server.token(a.email), TASK_COMMENTS_LIVE, task) as portal,
        subscribed(server, server.token(a.email), NOTIFICATIONS) as portal_notes,
    ):
        note, reply = marker("Internal: margin is thin"), marker("We shipped the wireframes")
        comment(world, MANAGER, "NOTE", note, taskId=a.task_id)
        comment(world, MANAGER, "REPLY", reply, taskId=a.task_id)

        assert [e["commentAdded"] for e in await staff.next(count=2)] == [
            {"kind": "NOTE", "body": note},
            {"kind": "REPLY", "body": reply},
        ]
        assert [e["commentAdded"] for e in await portal.next()] == [{"kind": "REPLY", "body": reply}]
        notes = [e["notificationAdded"] for e in await portal_notes.next()]
        assert notes[0]["kind"] == "COMMENT_REPLY" and notes[0]["subjectType"] == "Comment"
        await asyncio.sleep(QUIET_SECONDS)
        assert len(portal.events) == 1 and len(portal_notes.events) == 1, (portal.events, portal_notes.events)
        assert note not in json.dumps(portal.events + portal_notes.events)


async def test_a_task_hidden_from_the_client_reaches_staff_only(world: World):
    server, a = world.server, world.a
    manager = server.token(MANAGER)
    project = {"projectId": a.project_id}
    async with (
        subscribed(server, manager, PROJECT_TASKS, project) as staff,
        subscribed(server, server.token(a.email), PROJECT_TASKS, project) as portal,
    ):
        hidden, shown = marker("Hidden: renegotiate the retainer"), marker("Shown: launch checklist")
        created = data(server, CREATE_TASK, manager, projectId=a.project_id, title=hidden, visible=False)
        hidden_id = created["createTask"]["task"]["id"]
        changed = data(server, UPDATE_TASK, manager, taskId=hidden_id, status="IN_PROGRESS")["updateTask"]
        assert changed["errors"] == [], changed
        data(server, CREATE_TASK, manager, projectId=a.project_id, title=shown, visible=True)

        assert [e["taskChanged"] for e in await staff.next(count=3)] == [
            {"change": "CREATED", "task": {"title": hidden, "status": "TODO"}},
            {"change": "UPDATED", "task": {"title": hidden, "status": "IN_PROGRESS"}},
            {"change": "CREATED", "task": {"title": shown, "status": "TODO"}},
        ]
        assert [e["taskChanged"] for e in await portal.next()] == [
            {"change": "CREATED", "task": {"title": shown, "status": "TODO"}}
        ]
        await asyncio.sleep(QUIET_SECONDS)
        assert len(portal.events) == 1, portal.events

    # The hidden task, on the portal user's own project, is as missing as one that never was.
    answers = []
    for task_id in (hidden_id, missing("Task")):
        async with subscribed(server, server.token(a.email), TASK_COMMENTS_LIVE, {"taskId": task_id}) as refused:
            await asyncio.wait_for(refused.ended.wait(), 10)
        assert error_codes(refused.error) == ["NOT_FOUND"]
        assert isinstance(refused.error, TransportQueryError)
        answers.append(refused.error.errors)
    assert answers[0] == answers[1]


async def test_a_field_outside_the_portal_users_view_is_refused_in_every_event(world: World):
    """The payload's fields pass the field policy like a query's: the portal user gets the task
    with `visibleToClient` null and a FORBIDDEN error naming it (raw protocol: gql would raise)."""
    server, a = world.server, world.a
    title = marker("Portal-visible task")
    async with raw_socket(server) as socket:
        assert (await init(socket, server.token(a.email)))["type"] == "connection_ack"
        document = "subscription($p: ID!) { taskChanged(projectId: $p) { change task { title visibleToClient } } }"
        await send(
            socket, {"id": "t", "type": "subscribe", "payload": {"query": document, "variables": {"p": a.project_id}}}
        )
        await asyncio.sleep(0.6)
        data(server, CREATE_TASK, server.token(MANAGER), projectId=a.project_id, title=title, visible=True)
        message = await receive(socket)
    assert message["type"] == "next" and message["id"] == "t", message
    assert message["payload"]["data"] == {
        "taskChanged": {"change": "CREATED", "task": {"title": title, "visibleToClient": None}}
    }
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in message["payload"]["errors"]] == [
        ("FORBIDDEN", "Task.visibleToClient")
    ]


# --------------------------------------------------------------------------- the field policy


async def test_staff_only_and_finance_subscriptions_are_refused_before_any_event(world: World):
    server, a = world.server, world.a
    client_token, member = server.token(a.email), server.token(MEMBER)
    owner = server.token(OWNER)
    activity = "subscription($c: ID!) { activityAdded(clientId: $c) { kind summary } }"
    clients = "subscription { clientChanged { name website } }"
    async with (
        subscribed(server, client_token, clients) as portal_clients,
        subscribed(server, client_token, activity, {"c": a.client_id}) as portal_activity,
        subscribed(server, member, INVOICES, {"clientId": a.client_id}) as member_invoices,
        subscribed(server, owner, clients) as owner_clients,
        subscribed(server, server.token(MANAGER), activity, {"c": a.client_id}) as manager_activity,
        subscribed(server, owner, INVOICES, {"clientId": a.client_id}) as owner_invoices,
    ):
        for refused in (portal_clients, portal_activity, member_invoices):
            await asyncio.wait_for(refused.ended.wait(), 10)
            assert error_codes(refused.error) == ["FORBIDDEN"]
        assert isinstance(portal_clients.error, TransportQueryError)
        assert portal_clients.error.errors[0]["extensions"]["field"] == "Subscription.clientChanged"  # type: ignore[index]

        website = f"https://{uuid.uuid4().hex[:8]}.northwind.example"
        updated = data(server, UPDATE_CLIENT, owner, clientId=a.client_id, website=website)["updateClient"]
        assert updated["errors"] == [], updated
        reply = marker("Reply for the activity feed")
        comment(world, MANAGER, "REPLY", reply, taskId=a.task_id)
        number = sent_invoice(world, a.client_id, marker("Finance only"))

        # The same events reach the callers whose view holds the fields.
        assert [e["clientChanged"] for e in await owner_clients.next()] == [
            {"name": "Northwind Coffee", "website": website}
        ]
        activities = [e["activityAdded"] for e in await manager_activity.next(count=2)]
        assert activities[0]["kind"] == "CLIENT_UPDATED", activities
        assert activities[1]["kind"] == "COMMENT_ADDED" and "replied on task" in activities[1]["summary"], activities
        statuses = [e["invoiceChanged"] for e in await owner_invoices.next(count=2)]
        assert [(i["number"], i["status"]) for i in statuses] == [(number, "DRAFT"), (number, "SENT")]
        await asyncio.sleep(QUIET_SECONDS)
        assert portal_clients.events == portal_activity.events == member_invoices.events == []


# --------------------------------------------------------------------------- the protocol


def _edited(token: str) -> str:
    """The token with its claims changed (role ADMIN) and the old signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "ADMIN"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{edited}.{signature}"


@pytest.mark.parametrize(
    "payload",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic b2xpdmlhOmRlbW8tcGFzc3dvcmQ="}, "edited"],
    ids=["no-token", "garbage-token", "another-scheme", "edited-token"],
)
async def test_a_socket_without_a_valid_token_is_closed_4403_and_receives_nothing(world: World, payload: Any):
    if payload == "edited":
        payload = {"Authorization": f"Bearer {_edited(world.server.token(world.a.email))}"}
    async with raw_socket(world.server) as socket:
        await send(socket, {"type": "connection_init", "payload": payload})
        await send(socket, {"id": "1", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
        code, received = await closed_with(socket)
    assert code == 4403
    assert received == []


async def test_subscribe_before_connection_init_closes_4401(world: World):
    async with raw_socket(world.server) as socket:
        await send(socket, {"id": "1", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
        code, received = await closed_with(socket)
    assert (code, received) == (4401, [])


async def test_a_second_connection_init_closes_4429_and_the_identity_stays(world: World):
    server = world.server
    async with raw_socket(server) as socket:
        assert (await init(socket, server.token(world.a.email)))["type"] == "connection_ack"
        await send(socket, {"type": "connection_init", "payload": {"Authorization": f"Bearer {server.token(OWNER)}"}})
        code, received = await closed_with(socket)
    assert (code, received) == (4429, [])


async def test_one_socket_runs_at_most_max_subscriptions_and_each_is_logged(world: World):
    server = world.server
    async with raw_socket(server) as socket:
        assert (await init(socket, server.token(MANAGER)))["type"] == "connection_ack"
        for n in range(MAX_SUBSCRIPTIONS + 1):
            query = f"subscription Limit{n} {{ notificationAdded {{ kind }} }}"
            await send(socket, {"id": f"s{n}", "type": "subscribe", "payload": {"query": query}})
        answer = await receive(socket)
        await send(socket, {"id": "p", "type": "ping"})
        assert (await receive(socket))["type"] == "pong"  # the socket stays open
    assert answer["id"] == f"s{MAX_SUBSCRIPTIONS}" and answer["type"] == "error", answer
    assert answer["payload"][0]["message"] == "Subscription limit reached"
    log = server.live.log_tail(200)
    assert "subscription Limit0 {notificationAdded}" in log and "open sockets" in log


async def test_queries_and_mutations_over_the_socket_are_refused_and_not_executed(world: World):
    server, a = world.server, world.a
    body = marker("Sent over the socket")
    mutation = ADD_COMMENT
    variables = {"kind": "REPLY", "body": body, "taskId": a.task_id}
    async with raw_socket(server) as socket:
        assert (await init(socket, server.token(MANAGER)))["type"] == "connection_ack"
        await send(socket, {"id": "q", "type": "subscribe", "payload": {"query": "{ me { email } }"}})
        query_answer = await receive(socket)
        await send(socket, {"id": "m", "type": "subscribe", "payload": {"query": mutation, "variables": variables}})
        mutation_answer = await receive(socket)
        # The socket stays usable for what it is for.
        await send(socket, {"id": "s", "type": "subscribe", "payload": {"query": NOTIFICATIONS}})
        await send(socket, {"id": "p", "type": "ping"})
        assert (await receive(socket))["type"] == "pong"
    for answer, op_id in ((query_answer, "q"), (mutation_answer, "m")):
        assert answer == {
            "id": op_id,
            "type": "error",
            "payload": [{"message": NOT_A_SUBSCRIPTION, "extensions": {"code": "BAD_REQUEST"}}],
        }
    comments = data(server, TASK_COMMENTS, server.token(MANAGER), id=a.task_id)["node"]["comments"]
    assert body not in [c["body"] for c in comments]


async def test_the_legacy_graphql_ws_protocol_and_no_protocol_are_refused(world: World):
    import websockets

    async with raw_socket(world.server, subprotocols=("graphql-ws",)) as socket:
        assert socket.subprotocol is None  # the server did not agree to it, and closes at once
        code, received = await closed_with(socket)
    assert (code, received) == (4406, [])

    with pytest.raises(websockets.InvalidStatus) as refused:
        async with raw_socket(world.server, subprotocols=()):
            pass
    assert refused.value.response.status_code == 400


async def test_a_page_on_another_origin_may_not_open_a_socket(world: World):
    """No AGENCY_CORS_ORIGINS here: a browser page elsewhere is refused at the handshake (a
    cross-site WebSocket), while GraphiQL's own origin, this server's, is let in."""
    import websockets

    with pytest.raises(websockets.InvalidStatus) as refused:
        async with raw_socket(world.server, origin="https://elsewhere.example"):
            pass
    assert refused.value.response.status_code == 403
    async with raw_socket(world.server, origin=world.server.live.url) as socket:
        assert (await init(socket, world.server.token(world.a.email)))["type"] == "connection_ack"


# --------------------------------------------------------------------------- rollbacks


async def test_a_refused_mutation_publishes_nothing_and_the_next_good_one_does(world: World):
    server, a = world.server, world.a
    task = {"taskId": a.task_id}
    async with (
        subscribed(server, server.token(MANAGER), TASK_COMMENTS_LIVE, task) as staff,
        subscribed(server, server.token(OWNER), "subscription { clientChanged { name } }") as clients,
    ):
        empty = data(server, ADD_COMMENT, server.token(MANAGER), kind="REPLY", body=" ", taskId=a.task_id)
        assert empty["addComment"]["comment"] is None
        assert [e["field"] for e in empty["addComment"]["errors"]] == ["body"], empty
        refused = data(server, UPDATE_CLIENT, server.token(OWNER), clientId=world.b.client_id, website="not a url")
        assert [e["code"] for e in refused["updateClient"]["errors"]] == ["INVALID_URL"], refused
        good = marker("After the refused one")
        comment(world, MANAGER, "REPLY", good, **task)
        assert [e["commentAdded"] for e in await staff.next()] == [{"kind": "REPLY", "body": good}]
        await asyncio.sleep(QUIET_SECONDS)
        assert len(staff.events) == 1, staff.events
        assert clients.events == []


# --------------------------------------------------------------------------- deliverables


async def test_a_deliverable_added_completed_and_removed_reaches_the_portal_user_of_that_task_only(world: World):
    server, a, b = world.server, world.a, world.b
    manager = server.token(MANAGER)
    document = """subscription($taskId: ID!) {
      deliverableChanged(taskId: $taskId) { change deliverableId deliverable { title isComplete } }
    }"""
    async with (
        subscribed(server, server.token(a.email), document, {"taskId": a.task_id}) as portal,
        subscribed(server, server.token(b.email), document, {"taskId": b.task_id}) as other,
    ):
        title = marker("Rewards flow wireframes")
        added = data(
            server,
            "mutation($t: ID!, $title: String!) { addDeliverable(input: {taskId: $t, title: $title, "
            'url: "https://files.example/wireframes.pdf"}) { deliverable { id } errors { code } } }',
            manager,
            t=a.task_id,
            title=title,
        )["addDeliverable"]
        assert added["errors"] == [], added
        deliverable_id = added["deliverable"]["id"]
        done = data(
            server,
            "mutation($id: ID!) { completeDeliverable(id: $id) { errors { code } } }",
            manager,
            id=deliverable_id,
        )
        assert done["completeDeliverable"]["errors"] == [], done
        removed = data(
            server,
            "mutation($id: ID!) { removeDeliverable(id: $id) { removedId errors { code } } }",
            manager,
            id=deliverable_id,
        )
        assert removed["removeDeliverable"]["errors"] == [], removed

        assert [e["deliverableChanged"] for e in await portal.next(count=3)] == [
            {
                "change": "CREATED",
                "deliverableId": deliverable_id,
                "deliverable": {"title": title, "isComplete": False},
            },
            {"change": "UPDATED", "deliverableId": deliverable_id, "deliverable": {"title": title, "isComplete": True}},
            {"change": "DELETED", "deliverableId": deliverable_id, "deliverable": None},
        ]
        await asyncio.sleep(QUIET_SECONDS)
        assert len(portal.events) == 3 and other.events == [], (portal.events, other.events)


# --------------------------------------------------------------------------- partner apps


async def test_a_partner_app_is_refused_every_subscription_and_hears_no_event(world: World):
    """No partner scope names the Subscription root (apps sync with `changes` and webhooks):
    invoiceChanged, clientChanged and notificationAdded are FORBIDDEN before any event, even with
    invoices:read and clients:read, while a portal user on the same server hears its invoice."""
    server, a = world.server, world.a
    _, token = partner_app(server, ["clients:read", "invoices:read"])
    async with (
        subscribed(server, token, INVOICES, {"clientId": a.client_id}) as invoices,
        subscribed(server, token, "subscription { clientChanged { name } }") as clients,
        subscribed(server, token, NOTIFICATIONS) as notifications,
        subscribed(server, server.token(a.email), NOTIFICATIONS) as portal,
    ):
        for refused in (invoices, clients, notifications):
            await asyncio.wait_for(refused.ended.wait(), 10)
            assert error_codes(refused.error) == ["FORBIDDEN"]
        number = sent_invoice(world, a.client_id, marker("Partner must not hear"))
        assert [e["notificationAdded"]["message"] for e in await portal.next()] == [
            f"Invoice #{number} is ready in your portal"
        ]
        await asyncio.sleep(QUIET_SECONDS)
        assert invoices.events == clients.events == notifications.events == []
