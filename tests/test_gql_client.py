"""The `gql` Python client (HTTPX transport) against the live demo server, as a portal user
(issue 9): with fetch_schema_from_transport=True it introspects on connect, gets the portal
user's own schema, and validates every query locally against it.

The first test proves the harness (server, transport, sign-in, Authorization header) without a
schema, so a broken harness is told apart from a broken schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError

from tests.browser_support import LOGIN, WAIT_SECONDS, LiveServer, SchemaNotLoaded, demo_server

pytestmark = pytest.mark.browser

PORTAL_EMAIL = "olivia@northwind.example"
PASSWORD = "demo-password"
PORTAL_HOME = gql("{ me { email role } portalHome { client { name } } }")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with demo_server() as live:
        yield live


def transport(server: LiveServer, token: str | None = None, requests: list | None = None) -> HTTPXTransport:
    hooks = {"request": [requests.append]} if requests is not None else {}
    return HTTPXTransport(
        url=server.graphql_url,
        headers={"Authorization": f"Bearer {token}"} if token else None,
        timeout=WAIT_SECONDS,
        event_hooks=hooks,
    )


def sign_in_with_gql(server: LiveServer) -> str:
    with Client(transport=transport(server)) as session:
        result = session.execute(gql(LOGIN % (f'"{PORTAL_EMAIL}"', f'"{PASSWORD}"')))
    assert result["login"]["errors"] == [], result
    return result["login"]["tokens"]["accessToken"]


def test_gql_client_signs_in_and_queries_as_a_portal_user(server: LiveServer):
    token = sign_in_with_gql(server)

    with Client(transport=transport(server, token)) as session:
        result = session.execute(PORTAL_HOME)

    assert result == {
        "me": {"email": PORTAL_EMAIL, "role": "CLIENT"},
        "portalHome": {"client": {"name": "Northwind Coffee"}},
    }


def test_gql_client_fetches_the_schema_and_validates_locally_as_a_portal_user(server: LiveServer):
    token = sign_in_with_gql(server)
    requests: list[httpx.Request] = []
    client = Client(transport=transport(server, token, requests), fetch_schema_from_transport=True)

    try:
        session = client.connect_sync()  # introspects now
    except TransportQueryError as error:
        raise SchemaNotLoaded(f"gql could not fetch the schema: {error}") from error
    try:
        assert client.schema is not None
        query_type = client.schema.query_type
        assert query_type is not None, "the fetched schema has no Query type"
        assert "portalHome" in query_type.fields
        assert len(requests) == 1  # the introspection query

        result = session.execute(PORTAL_HOME)  # validated against the fetched schema, then sent
        assert result["portalHome"] == {"client": {"name": "Northwind Coffee"}}
        assert len(requests) == 2

        # The dashboard is the team's: not in a portal user's schema, so refused locally, never sent.
        assert "clientsDashboard" not in query_type.fields
        with pytest.raises(GraphQLError, match="clientsDashboard"):
            session.execute(gql("{ clientsDashboard { breakdown { total } } }"))
        with pytest.raises(GraphQLError, match="noSuchField"):
            session.execute(gql("{ portalHome { noSuchField } }"))
        assert len(requests) == 2
    finally:
        client.close_sync()
