"""node(id): any object by its global id, null when hidden, malformed or of no such type."""

from __future__ import annotations

import base64

from models import Role
from tests.factories import PASSWORD

NODE = "query($id: ID!) { node(id: $id) { id ... on Client { name } } }"


def _raw(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_malformed_and_unknown_global_ids_answer_null_not_an_error(api, factory):
    client = await factory.client("Acme")
    token = await api.login((await factory.user(Role.MANAGER)).email, PASSWORD)
    found = await api.data(NODE, {"id": _raw(f"Client:{client.id}")}, token)
    assert found["node"] == {"id": _raw(f"Client:{client.id}"), "name": "Acme"}
    missing = await api.post(NODE, {"id": _raw("Client:999999")}, token)
    assert missing == {"data": {"node": None}}
    # Whatever the id (malformed, of no type, of a type with no rows, too large), the whole
    # answer is the missing row's: null and no error.
    for bad in (_raw("Client:abc"), _raw("Nope:1"), _raw("Node:1"), _raw("Client:99999999999999999999"), "not base64!"):
        assert await api.post(NODE, {"id": bad}, token) == missing, bad
