"""Cursors are opaque but anyone can hand-make one: a cursor this API could not have written is a
typed INVALID_CURSOR on `after`, never "Unexpected error.", on both stores."""

from __future__ import annotations

import base64
import json

import pytest

from models import Role
from tests.factories import PASSWORD


def _cursor(value: object, row_id: object = 1) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode()


ANY_KEY = {
    "row id out of range": _cursor("a", 99_999_999_999_999_999_999),
    "row id a float": _cursor("a", 1.5),
    "row id a bool": _cursor("a", True),
    "row id zero": _cursor("a", 0),
    "not base64 json": "%%%not-a-cursor",
    "too long": _cursor("x" * 5000),
}
BY_KIND = {
    "str": {"NUL in text": _cursor("a\u0000b"), "null for text": _cursor(None), "number for text": _cursor(7)},
    "datetime": {
        "date-time with an extreme offset": _cursor("9999-12-31T23:59:59-23:59"),
        "date-time of year 1": _cursor("0001-01-01T00:00:00+23:59"),
        "date-time not a string": _cursor(12),
        "not a date-time": _cursor("yesterday"),
    },
    "int": {
        "huge integer": _cursor(10**40),
        "float for an integer": _cursor(1e308),
        "text for an integer": _cursor("1"),
    },
}
LISTS = {
    "clients by name": ("str", "query($after: String) { clients(after: $after) { totalCount } }"),
    "clients by creation": (
        "datetime",
        "query($after: String) { clients(after: $after, orderBy: {field: CREATED_AT}) { totalCount } }",
    ),
    "invoices by number": ("int", "query($after: String) { invoices(after: $after) { totalCount } }"),
    "notifications by time": ("datetime", "query($after: String) { notifications(after: $after) { totalCount } }"),
}


@pytest.mark.parametrize("list_name", sorted(LISTS))
async def test_hand_made_cursors_are_typed_input_errors(api, factory, list_name):
    admin = await factory.user(Role.ADMIN)
    token = await api.login(admin.email, PASSWORD)
    kind, query = LISTS[list_name]
    for case, cursor in {**ANY_KEY, **BY_KIND[kind]}.items():
        body = await api.post(query, {"after": cursor}, token=token)
        errors = body.get("errors") or []
        assert [e["extensions"].get("reason") for e in errors] == ["INVALID_CURSOR"], (case, body)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (case, body)
        assert "Unexpected" not in str(body), (case, body)


async def test_a_cursor_the_api_gave_out_still_pages(api, factory):
    admin = await factory.user(Role.ADMIN)
    for name in ("Alpha", "Beta", "Gamma"):
        await factory.client(name)
    token = await api.login(admin.email, PASSWORD)
    query = "query($after: String) { clients(first: 2, after: $after) { edges { cursor node { name } } } }"
    first = await api.data(query, {"after": None}, token)
    after = first["clients"]["edges"][-1]["cursor"]
    second = await api.data(query, {"after": after}, token)
    assert [e["node"]["name"] for e in second["clients"]["edges"]] == ["Gamma"]
