"""GraphiQL in a real browser (issue 9): headless Debian Chromium opens /graphql on the demo
server, signs in the way the README says (the login mutation in the editor, the token in the
Headers tab), then finds a field of the caller's own schema in the docs and in autocompletion,
and does not find there what the caller's role may not use.

The sign-in test proves the harness (server, browser, page, editors, sign-in) on its own, so a
broken harness is told apart from a broken schema. When GraphiQL cannot load the schema the
tests fail with SchemaNotLoaded, which quotes the response pane (the introspection's errors).

A screenshot of the page at the end of each test is written to $AGENCY_SCREENSHOT_DIR (default:
the temp directory) as agency-graphiql-<test>.png.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.browser_support import GraphiQLPage, LiveServer, chromium, demo_server

pytestmark = pytest.mark.browser

PASSWORD = "demo-password"


class Caller(NamedTuple):
    email: str
    role: str
    field: str  # a Query field this caller reads, to find in the docs
    typed: str  # what is typed in the query editor to be offered `field`
    also_shown: tuple[str, ...]  # more Query fields of this caller's schema
    hidden: tuple[str, ...]  # Query fields of the whole schema this caller's role may not use


OWNER = Caller(
    "owner@agency.example",
    "ADMIN",
    "clients",
    "{ cli",
    also_shown=("clientsDashboard", "leads", "clientStatuses", "portalHome"),
    hidden=(),
)
PORTAL = Caller(
    "olivia@northwind.example",
    "CLIENT",
    "portalHome",
    "{ portal",
    also_shown=("clients", "me"),
    hidden=("clientsDashboard", "leads", "clientStatuses"),
)
CALLERS = pytest.mark.parametrize("caller", [OWNER, PORTAL], ids=["owner", "portal"])


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with demo_server() as live:
        yield live


@pytest.fixture
def page(server: LiveServer, request: pytest.FixtureRequest) -> Iterator[GraphiQLPage]:
    """A fresh browser (empty localStorage: no headers kept from another test) on /graphql."""
    with chromium() as driver:
        graphiql = GraphiQLPage(driver, server)
        try:
            yield graphiql.open()
        finally:
            with contextlib.suppress(Exception):  # never hide the test's own failure
                graphiql.screenshot(request.node.name)


def signed_in(page: GraphiQLPage, caller: Caller) -> GraphiQLPage:
    page.sign_in(caller.email, PASSWORD)
    me = page.whoami()
    assert me == {"data": {"me": {"email": caller.email, "role": caller.role}}}, me
    return page


@CALLERS
def test_graphiql_signs_in_through_the_editor(page: GraphiQLPage, caller: Caller):
    assert page.driver.title == "GraphiQL"
    anonymous = page.whoami()
    assert anonymous.get("data") in (None, {"me": None}), anonymous
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", anonymous

    token = page.sign_in(caller.email, PASSWORD)

    assert token.count(".") == 2  # a JWT
    assert f"Bearer {token}" in page.editor_value(page.TOOL_EDITOR)
    assert page.whoami() == {"data": {"me": {"email": caller.email, "role": caller.role}}}


@CALLERS
def test_docs_explorer_finds_a_field_of_the_callers_schema(page: GraphiQLPage, caller: Caller):
    signed_in(page, caller)
    page.wait_for_signed_in_schema()  # no re-fetch button: the new Authorization header is enough

    fields = page.docs_fields_of("Query")

    assert caller.field in fields, fields
    assert set(caller.also_shown) <= set(fields), fields
    assert not set(caller.hidden) & set(fields), fields
    assert caller.field in page.open_docs_field(caller.field)


@CALLERS
def test_autocompletion_offers_a_field_of_the_callers_schema(page: GraphiQLPage, caller: Caller):
    signed_in(page, caller)
    page.wait_for_signed_in_schema()  # autocompletion uses the same schema; without one it offers nothing

    page.type_in_query_editor(caller.typed)

    offered = page.completions(caller.field)  # waits until the list is open and offers it
    assert caller.field in offered, offered


def test_a_portal_user_sees_a_staff_reply_arrive_and_never_a_note(
    page: GraphiQLPage, server: LiveServer, request: pytest.FixtureRequest
):
    """Issue 14's done-when: GraphiQL open as the portal user, subscribed to comments on one of
    its tasks; staff add a NOTE, then a REPLY, over HTTP. The REPLY appears in the response pane
    without a refresh; the NOTE never does."""
    import json
    import time

    import httpx

    signed_in(page, PORTAL)
    olivia = page.run("{ portalHome { openTasks { id title } } }", lambda b: "portalHome" in (b.get("data") or {}))
    task = olivia["data"]["portalHome"]["openTasks"][0]

    page.start("subscription { commentAdded(taskId: %s) { kind body task { title } } }" % json.dumps(task["id"]))  # noqa: UP031
    time.sleep(1.0)  # the socket is open and subscribed

    login = "mutation { login(email: %s, password: %s) { tokens { accessToken } } }"
    staff = httpx.post(
        server.graphql_url, json={"query": login % (json.dumps("maria.manager@agency.example"), json.dumps(PASSWORD))}
    ).json()["data"]["login"]["tokens"]["accessToken"]
    add = (
        "mutation($t: ID!, $k: CommentKind!, $b: String!) "
        "{ addComment(taskId: $t, kind: $k, body: $b) { errors { code } } }"
    )
    for kind, body in (("NOTE", "Internal: margin is thin"), ("REPLY", "The beta feedback is summarised")):
        answer = httpx.post(
            server.graphql_url,
            json={"query": add, "variables": {"t": task["id"], "k": kind, "b": body}},
            headers={"Authorization": f"Bearer {staff}"},
        ).json()
        assert answer == {"data": {"addComment": {"errors": []}}}, answer

    def the_reply() -> dict | None:
        try:
            shown = json.loads(page.editor_value(page.RESPONSE))
        except ValueError:
            return None
        return shown if (shown.get("data") or {}).get("commentAdded") else None

    shown = page.until(the_reply, "the REPLY never appeared in the response pane")
    page.screenshot(request.node.name + "-reply")
    assert shown == {
        "data": {
            "commentAdded": {
                "kind": "REPLY",
                "body": "The beta feedback is summarised",
                "task": {"title": task["title"]},
            }
        }
    }, shown
    time.sleep(1.0)
    assert "margin is thin" not in page.editor_value(page.RESPONSE)
