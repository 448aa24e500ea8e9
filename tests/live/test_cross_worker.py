"""Two workers over PostgreSQL (`agency serve --workers 2`): an event committed by whichever
worker answered the mutation reaches the subscribers on both, through NOTIFY/LISTEN, each
re-read under its own subscriber's row scope. PostgreSQL only: SQLite is served by one worker.

Which worker takes a connection is the kernel's choice: subscribers are opened one at a time
until the server's log proves both workers hold one (each worker counts its own open sockets, so
two "1 open sockets" lines before any close are two workers)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid

import pytest

from tests.live.support import (
    CLIENT_A,
    MANAGER,
    QUIET_SECONDS,
    Subscriber,
    data,
    live_server,
    postgres_url,
    subscribed,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        postgres_url() is None,
        reason="several workers need PostgreSQL (set TEST_DATABASE_URL): SQLite is served by one worker",
    ),
]

MAX_SOCKETS = 16
COMMENTS = "subscription($taskId: ID!) { commentAdded(taskId: $taskId) { kind body } }"
ADD_COMMENT = """mutation($kind: CommentKind!, $body: String!, $taskId: ID!) {
  addComment(kind: $kind, body: $body, taskId: $taskId) { comment { id } errors { code } }
}"""


def _first_sockets(log: str) -> int:
    """How many workers opened their first socket (before any socket closed)."""
    opened = log.split("websocket closed", 1)[0]
    return len(re.findall(r"websocket open: .*; 1 open sockets", opened))


async def test_an_event_reaches_subscribers_on_both_workers():
    with live_server(workers=2, postgres=True) as server:
        log = server.live.log_path
        assert len(set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))) == 2
        manager, portal = server.token(MANAGER), server.token(CLIENT_A)
        task_id = data(server, "{ projects(first: 1) { edges { node { tasks { id } } } } }", portal)["projects"][
            "edges"
        ][0]["node"]["tasks"][0]["id"]

        async with contextlib.AsyncExitStack() as stack:
            staff: list[Subscriber] = []
            clients: list[Subscriber] = []
            while len(staff) + len(clients) < MAX_SOCKETS:
                mine = staff if len(staff) <= len(clients) else clients
                token = manager if mine is staff else portal
                mine.append(
                    await stack.enter_async_context(
                        subscribed(server, token, COMMENTS, {"taskId": task_id}, settle=False)
                    )
                )
                await asyncio.sleep(0.1)  # its open is logged
                if len(staff) + len(clients) >= 6 and _first_sockets(log.read_text()) == 2:
                    break
            assert _first_sockets(log.read_text()) == 2, f"every socket went to one worker:\n{server.live.log_tail()}"
            await asyncio.sleep(0.6)  # the last subscriptions open their inboxes

            run = uuid.uuid4().hex[:8]
            sent = [("REPLY", f"First reply {run}"), ("NOTE", f"Internal note {run}"), ("REPLY", f"Second reply {run}")]
            for kind, body in sent:  # each over a new HTTP connection: either worker may commit it
                answer = data(server, ADD_COMMENT, manager, kind=kind, body=body, taskId=task_id)
                assert answer["addComment"]["errors"] == [], answer

            everything = [{"kind": kind, "body": body} for kind, body in sent]
            replies = [c for c in everything if c["kind"] == "REPLY"]
            for subscriber in staff:
                assert [e["commentAdded"] for e in await subscriber.next(count=3)] == everything
            for subscriber in clients:
                assert [e["commentAdded"] for e in await subscriber.next(count=2)] == replies
            await asyncio.sleep(QUIET_SECONDS)
            assert all(len(s.events) == 3 for s in staff) and all(len(s.events) == 2 for s in clients)
            assert all(s.error is None for s in staff + clients)
