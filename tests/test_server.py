"""The HTTP surface: GraphiQL served offline, /healthz, limits and error masking."""

from __future__ import annotations

from models import Role
from tests.factories import PASSWORD


async def test_healthz(api):
    response = await api.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_graphiql_is_served_from_the_package(api):
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "/static/graphiql/graphiql.min.js" in page.text
    assert "https://" not in page.text.split("<body")[0]  # no CDN in the head
    script = await api.client.get("/static/graphiql/graphiql.min.js")
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_query_depth_is_bounded(api, factory):
    user = await factory.user(Role.ADMIN)
    token = await api.login(user.email, PASSWORD)
    nested = "name"
    for _ in range(6):
        nested = f"projects {{ client {{ {nested} }} }}"
    deep = f"{{ clients {{ edges {{ node {{ {nested} }} }} }} }}"
    body = await api.post(deep, token=token)
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_aliases_are_bounded(api, factory):
    user = await factory.user(Role.ADMIN)
    token = await api.login(user.email, PASSWORD)
    many = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    body = await api.post(many, token=token)
    assert body.get("data") is None
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_field_suggestions_are_hidden_from_clients_but_not_staff(api, factory):
    client = await factory.client()
    portal = await factory.portal_user(client)
    staff = await factory.user(Role.MANAGER)
    query = "{ clients { edges { node { internalNote } } } }"
    as_client = await api.post(query, token=await api.login(portal.email, PASSWORD))
    as_staff = await api.post(query, token=await api.login(staff.email, PASSWORD))
    assert "Did you mean" not in as_client["errors"][0]["message"]
    assert "Did you mean" in as_staff["errors"][0]["message"]


async def test_unexpected_errors_are_masked_and_carry_a_request_id(api, factory, monkeypatch, caplog):
    async def explode(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr("schema.clients.roots.list_clients", explode)
    # The resolvers answer (the compiled read path would never call list_clients).
    monkeypatch.setattr("schema.enforcement.plan_root_field", lambda *args, **kwargs: None)
    user = await factory.user(Role.ADMIN)
    token = await api.login(user.email, PASSWORD)
    body = await api.post("{ clients { totalCount } }", token=token)
    error = body["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in str(body)
    assert error["extensions"]["requestId"] in caplog.text
    assert "hunter2" in caplog.text
    from resolvers.clients import clients

    assert clients.list_clients is not explode
