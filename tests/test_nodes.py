"""node(id): any object by its global id, null when hidden, malformed or of no such type."""
from __future__ import annotations

import base64

from models import Role
from tests.factories import PASSWORD

NODE = 'query($id: ID!) { node(id: $id) { id ... on Client { name } } }'


def _raw(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_malformed_and_unknown_global_ids_answer_null_not_an_error(api, factory):
    client = await factory.client("Acme")
    token = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    found = await api.data(NODE, {"id": _raw(f"Client:{client.id}")}, token)
    assert found["node"] == {"id": _raw(f"Client:{client.id}"), "name": "Acme"}
    for bad in (_raw("Client:abc"), _raw("Client:999999")):
        assert (await api.data(NODE, {"id": bad}, token))["node"] is None
    unknown_type = await api.post(NODE, {"id": _raw("Nope:1")}, token)
    assert unknown_type["data"]["node"] is None
    assert unknown_type["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_ID"}
    assert "Traceback" not in str(unknown_type) and "Unexpected error" not in str(unknown_type)
