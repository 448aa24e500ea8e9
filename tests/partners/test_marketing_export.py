"""GET /exports/marketing-contacts.csv: only consenting contacts of the clients the caller may see,
the columns its policy key reads, filters checked before a byte is streamed, formula-safe cells, and
statements that grow with batches, not rows. Partners get real tokens from POST /oauth/token."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from models import ClientCategory, ClientStatus, ClientTier, Contact, Role
from server import exports
from tests.partners.support import access_token, register
from tests.test_database_faults import dropper  # noqa: F401  (a fixture)
from tests.utils import gid, portal, staff

URL = "/exports/marketing-contacts.csv"
ALL_COLUMNS = [
    "contact_id",
    "email",
    "full_name",
    "title",
    "client_id",
    "client_name",
    "client_status",
    "client_category",
    "client_tier",
    "consent_at",
    "consent_source",
]
PUBLIC_COLUMNS = ["contact_id", "email", "full_name", "title", "client_id", "client_name"]
AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
ON_HOLD, CHURNED = 2, 3  # built-in status ids (models.clients.BUILTIN_STATUSES)


class World:
    def __init__(self) -> None:
        self.clients: dict[str, object] = {}
        self.contacts: dict[str, Contact] = {}
        self.vip: ClientStatus | None = None


async def _world(factory) -> World:
    """A (Active, GOLD), B (On Hold, STANDARD), C (VIP, a custom Active status, PLATINUM), D (Churned,
    SILVER). Each has a consenting contact; A also one who did not consent and one who withdrew; a
    contact with no client consented."""
    world = World()
    vip = await factory.add(ClientStatus(name="VIP", category=ClientCategory.ACTIVE, position=5))
    world.vip = vip
    for name, status, tier in (
        ("A", 1, ClientTier.GOLD),
        ("B", ON_HOLD, ClientTier.STANDARD),
        ("C", vip.id, ClientTier.PLATINUM),
        ("D", CHURNED, ClientTier.SILVER),
    ):
        client = await factory.client(f"{name} Company", status_id=status, tier=tier)
        world.clients[name] = client
        world.contacts[name] = await factory.contact(
            client,
            full_name=f"{name} Yes",
            email=f"yes@{name.lower()}.example",
            title=f"{name} title",
            marketing_consent=True,
            marketing_consent_at=AT,
            marketing_consent_source=f"Form {name}",
        )
    world.contacts["A-no"] = await factory.contact(world.clients["A"], full_name="CANARY-NO-CONSENT")
    world.contacts["A-withdrawn"] = await factory.contact(
        world.clients["A"], full_name="CANARY-WITHDRAWN", marketing_consent=False
    )
    world.contacts["unlinked"] = await factory.add(
        Contact(
            full_name="CANARY-UNLINKED", marketing_consent=True, marketing_consent_at=AT, marketing_consent_source="x"
        )
    )
    return world


def _table(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


def _by_column(response) -> list[dict[str, str]]:
    header, *rows = _table(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _names(response) -> list[str]:
    return [row["full_name"] for row in _by_column(response)]


async def _get(api, token: str | None, params=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(URL, params=params, headers=headers)


async def _partner(api, db, scopes, clients=()) -> str:
    app = await register(db, scopes=scopes, clients=clients)
    return await access_token(api.client, app)


def _assert_error(response, status: int, code: str, **extensions) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": code, **extensions}, error
    assert set(response.json()) == {"errors"}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
async def test_leaders_get_every_consenting_contact_with_every_column(api, factory, db, role):
    world = await _world(factory)
    _, token = await staff(api, factory, role)
    response = await _get(api, token)
    assert response.headers["content-disposition"].startswith('attachment; filename="marketing-contacts-')
    assert response.headers["content-disposition"].endswith('.csv"')
    assert response.headers["cache-control"] == "private, no-store"
    header, *rows = _table(response)
    assert header == ALL_COLUMNS
    a, b, c, d = (world.contacts[x] for x in "ABCD")
    assert rows == [
        [
            gid("Contact", a),
            "yes@a.example",
            "A Yes",
            "A title",
            gid("Client", world.clients["A"]),
            "A Company",
            "Active",
            "ACTIVE",
            "GOLD",
            "2026-03-04T05:06:07+00:00",
            "Form A",
        ],
        [
            gid("Contact", b),
            "yes@b.example",
            "B Yes",
            "B title",
            gid("Client", world.clients["B"]),
            "B Company",
            "On Hold",
            "ON_HOLD",
            "STANDARD",
            "2026-03-04T05:06:07+00:00",
            "Form B",
        ],
        [
            gid("Contact", c),
            "yes@c.example",
            "C Yes",
            "C title",
            gid("Client", world.clients["C"]),
            "C Company",
            "VIP",
            "ACTIVE",
            "PLATINUM",
            "2026-03-04T05:06:07+00:00",
            "Form C",
        ],
        [
            gid("Contact", d),
            "yes@d.example",
            "D Yes",
            "D title",
            gid("Client", world.clients["D"]),
            "D Company",
            "Churned",
            "CHURNED",
            "SILVER",
            "2026-03-04T05:06:07+00:00",
            "Form D",
        ],
    ]
    assert "CANARY" not in response.text


async def test_consent_set_through_the_api_puts_a_contact_in_the_export_and_withdrawal_takes_it_out(api, factory, db):
    client = await factory.client("Acme")
    contact = await factory.contact(client, full_name="Sam")
    _, token = await staff(api, factory)
    assert _names(await _get(api, token)) == []
    mutation = """mutation($input: SetContactMarketingConsentInput!) {
      setContactMarketingConsent(input: $input) { contact { marketingConsentAt } errors { code } } }"""
    given = await api.data(
        mutation, {"input": {"contactId": gid("Contact", contact), "consent": True, "source": "Webinar"}}, token
    )
    [row] = _by_column(await _get(api, token))
    assert (row["full_name"], row["consent_source"]) == ("Sam", "Webinar")
    at = given["setContactMarketingConsent"]["contact"]["marketingConsentAt"]
    assert dt.datetime.fromisoformat(row["consent_at"]) == dt.datetime.fromisoformat(at)
    await api.data(mutation, {"input": {"contactId": gid("Contact", contact), "consent": False}}, token)
    assert _names(await _get(api, token)) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "Active"}, ["A Yes"]),
        ({"status": "on hold"}, ["B Yes"]),
        ({"status": str(CHURNED)}, ["D Yes"]),
        ({"status": ["VIP", "Churned"]}, ["C Yes", "D Yes"]),
        ({"category": "ACTIVE"}, ["A Yes", "C Yes"]),
        ({"category": ["on_hold", "CHURNED"]}, ["B Yes", "D Yes"]),
        ({"tier": ["GOLD", "platinum"]}, ["A Yes", "C Yes"]),
        ({"category": "ACTIVE", "tier": "PLATINUM"}, ["C Yes"]),
        ({"status": "Active", "tier": "SILVER"}, []),
    ],
)
async def test_filters_segment_by_status_category_and_tier(api, factory, db, params, expected):
    await _world(factory)
    _, token = await staff(api, factory)
    assert _names(await _get(api, token, params)) == expected


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"status": "Nope"}, "status", "UNKNOWN_STATUS"),
        ({"status": "999"}, "status", "UNKNOWN_STATUS"),
        ({"status": "0"}, "status", "UNKNOWN_STATUS"),
        ({"status": ""}, "status", "REQUIRED"),
        ({"category": "ARCHIVED"}, "category", "UNKNOWN_CATEGORY"),
        ({"tier": "DIAMOND"}, "tier", "UNKNOWN_TIER"),
        ({"tier": ["GOLD", "  "]}, "tier", "REQUIRED"),
        ({"tier": "G" * 101}, "tier", "TOO_LONG"),
        ({"tier": ["GOLD"] * 51}, "tier", "TOO_MANY_VALUES"),
        ({"status": "Active\x00"}, "status", "NUL_CHARACTER"),
        ({"tiers": "GOLD"}, "tiers", "UNKNOWN_PARAMETER"),
    ],
)
async def test_bad_filter_values_are_typed_400s_and_nothing_is_streamed(api, factory, db, params, field, reason):
    await _world(factory)
    _, token = await staff(api, factory)
    response = await _get(api, token, params)
    _assert_error(response, 400, "BAD_USER_INPUT", field=field, reason=reason)
    assert "content-disposition" not in response.headers


async def test_a_partner_limited_to_client_a_gets_a_s_public_columns_only(api, factory, db):
    world = await _world(factory)
    token = await _partner(api, db, ["marketing:read"], clients=[world.clients["A"]])
    response = await _get(api, token)
    header, *rows = _table(response)
    assert header == PUBLIC_COLUMNS
    assert rows == [
        [
            gid("Contact", world.contacts["A"]),
            "yes@a.example",
            "A Yes",
            "A title",
            gid("Client", world.clients["A"]),
            "A Company",
        ]
    ]
    for leak in ("B Yes", "C Yes", "D Yes", "B Company", "Form A", "GOLD", "Active", "CANARY"):
        assert leak not in response.text
    # Filters on fields it may not read would be oracles for them: refused, whatever the value.
    for params, field in (
        ({"tier": "GOLD"}, "tier"),
        ({"status": "Active"}, "status"),
        ({"category": "X"}, "category"),
    ):
        refused = await _get(api, token, params)
        _assert_error(refused, 403, "FORBIDDEN", field=field)


async def test_a_partner_with_internal_read_gets_every_column_and_filter_of_its_clients_only(api, factory, db):
    world = await _world(factory)
    token = await _partner(
        api, db, ["marketing:read", "internal:read"], clients=[world.clients["A"], world.clients["C"]]
    )
    response = await _get(api, token)
    assert _table(response)[0] == ALL_COLUMNS
    assert [(r["full_name"], r["client_tier"], r["consent_source"]) for r in _by_column(response)] == [
        ("A Yes", "GOLD", "Form A"),
        ("C Yes", "PLATINUM", "Form C"),
    ]
    assert _names(await _get(api, token, {"tier": "PLATINUM"})) == ["C Yes"]
    # B is not its client: filtering for B's status finds nothing of B.
    assert _names(await _get(api, token, {"status": "On Hold"})) == []


async def test_an_unlimited_partner_gets_every_client_s_consenting_contacts(api, factory, db):
    await _world(factory)
    token = await _partner(api, db, ["marketing:read"])
    assert _names(await _get(api, token)) == ["A Yes", "B Yes", "C Yes", "D Yes"]


FORBIDDEN_BODY = {
    "errors": [{"message": "You may not take the marketing export.", "extensions": {"code": "FORBIDDEN"}}]
}


async def test_a_partner_without_marketing_read_is_refused(api, factory, db):
    world = await _world(factory)
    token = await _partner(api, db, ["clients:read", "contacts:read", "internal:read"], clients=[world.clients["A"]])
    response = await _get(api, token)
    assert response.status_code == 403 and response.json() == FORBIDDEN_BODY


async def test_a_member_and_portal_users_are_refused(api, factory, db):
    world = await _world(factory)
    _, member = await staff(api, factory, Role.MEMBER)
    _, own = await portal(api, factory, world.clients["A"])
    _, other = await portal(api, factory, world.clients["B"])
    for token in (member, own, other):
        response = await _get(api, token)
        assert response.status_code == 403 and response.json() == FORBIDDEN_BODY
        assert "Yes" not in response.text
        # Refused before parameters are looked at: a filter is no oracle either.
        assert (await _get(api, token, {"status": "Nope"})).status_code == 403


async def test_anonymous_and_refused_tokens_get_401s_like_the_rest_of_the_api(api, factory, db):
    await _world(factory)
    anonymous = await api.client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.headers["cache-control"] == "no-store"
    assert anonymous.json() == {
        "errors": [
            {
                "message": "The marketing export needs an access token (Authorization: Bearer ...).",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
    for authorization in ("Bearer not-a-token", "Basic dXNlcjpwYXNz"):
        ours = await api.client.get(URL, headers={"Authorization": authorization})
        theirs = await api.client.get("/graphql/schema.graphql", headers={"Authorization": authorization})
        assert ours.status_code == theirs.status_code == 401
        assert ours.content == theirs.content
        assert ours.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
        assert ours.headers["www-authenticate"] == theirs.headers["www-authenticate"]
    assert (await api.client.get(URL, headers={"Authorization": "Bearer x"})).headers["www-authenticate"] == (
        'Bearer error="invalid_token"'
    )


async def test_a_revoked_partner_token_is_refused_on_the_next_request(api, factory, db):
    from auth.principal import Principal
    from resolvers.partners.apps import revoke_partner_app

    world = await _world(factory)
    app = await register(db, scopes=["marketing:read"], clients=[world.clients["A"]])
    token = await access_token(api.client, app)
    assert _names(await _get(api, token)) == ["A Yes"]
    async with db() as session, session.begin():
        await revoke_partner_app(session, Principal(user_id=None, role=Role.ADMIN), client_id=app.client_id)
    refused = await _get(api, token)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(1)", "=cmd|' /C calc'!A0", "\tTAB", "%0A"]
)
async def test_cells_that_look_like_formulas_come_out_as_text(api, factory, db, name):
    client = await factory.client(name)
    await factory.contact(
        client,
        full_name=name,
        title=name,
        email="x@y.example",
        marketing_consent=True,
        marketing_consent_at=AT,
        marketing_consent_source=name,
    )
    _, token = await staff(api, factory)
    [row] = _by_column(await _get(api, token))
    for column in ("full_name", "title", "client_name", "consent_source"):
        assert row[column].startswith("'"), (column, row[column])
        assert row[column][1:].replace("\\|", "|") == name


async def test_a_large_export_arrives_whole_with_statements_per_batch_not_per_row(
    api, factory, db, statements, monkeypatch
):
    client = await factory.client("Big", tier=ClientTier.GOLD)
    other = await factory.client("Other")
    async with db() as session, session.begin():
        await session.execute(
            sa.insert(Contact),
            [
                {
                    "client_id": client.id if n % 7 else other.id,
                    "full_name": f"Person {n:05d}",
                    "email": f"p{n}@big.example",
                    "marketing_consent": n % 10 != 0,
                    "marketing_consent_at": AT,
                    "marketing_consent_source": "Import",
                }
                for n in range(1, 1334)
            ],
        )
    consenting = [n for n in range(1, 1334) if n % 10 != 0]
    assert len(consenting) == 1200
    _, token = await staff(api, factory)

    async def export(params=None) -> tuple[list[str], int, int]:
        statements.reset()
        response = await _get(api, token, params)
        batches = sum("FROM contact JOIN client" in statement for statement in statements.statements)
        return _names(response), batches, statements.count

    names, batches, batched = await export()
    assert names == [f"Person {n:05d}" for n in consenting]  # all of them, once each, by contact id
    few, one, baseline = await export({"tier": "STANDARD"})  # the Other client's 1 in 7: one batch
    assert len(few) == len([n for n in consenting if n % 7 == 0]) < exports.BATCH_SIZE
    # 1,200 contacts at 500 a batch: three reads where 171 take one.
    assert (batches, one) == (3, 1)

    monkeypatch.setattr(exports, "BATCH_SIZE", 100)
    names, batches, smaller = await export()
    assert len(names) == 1200 and len(set(names)) == 1200
    assert batches == 13  # 12 full batches and one that finds the end
    # Every statement beyond the one-batch export is a batch's: 12 more batches cost 6 times what 2 do.
    assert batched > baseline and smaller - baseline == 6 * (batched - baseline)


async def test_the_database_away_before_the_first_byte_answers_503(api, factory, db, dropper):  # noqa: F811
    await _world(factory)
    _, token = await staff(api, factory)
    dropper.arm("marketing_consent_source")
    response = await _get(api, token)
    assert dropper.dropped == 1
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert _names(await _get(api, token)) == ["A Yes", "B Yes", "C Yes", "D Yes"]


async def test_the_database_away_mid_download_breaks_the_transfer_instead_of_ending_it(api, factory, db, monkeypatch):
    from resolvers.errors import DatabaseUnavailable

    client = await factory.client("Big")
    for n in range(3):
        await factory.contact(client, marketing_consent=True, full_name=f"P{n}")
    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    real = exports._read
    calls = 0

    async def flaky(session_factory, statement):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise DatabaseUnavailable()
        return await real(session_factory, statement)

    monkeypatch.setattr(exports, "_read", flaky)
    _, token = await staff(api, factory)
    # The server drops the connection (ASGI: the exception escapes after the response started).
    with pytest.raises(exports.ExportBrokenOff):
        await _get(api, token)
    assert calls == 2


async def test_the_export_is_sent_one_chunk_per_batch(api, factory, db, monkeypatch):
    """Streamed, not buffered: the header, then each batch as its own body message, as it is read."""
    client = await factory.client("Big")
    async with db() as session, session.begin():
        await session.execute(
            sa.insert(Contact),
            [
                {
                    "client_id": client.id,
                    "full_name": f"P{n:04d}",
                    "marketing_consent": True,
                    "marketing_consent_at": AT,
                }
                for n in range(250)
            ],
        )
    monkeypatch.setattr(exports, "BATCH_SIZE", 100)
    _, token = await staff(api, factory)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages: list[dict] = []
    requested, done = False, asyncio.Event()

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays connected until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await api.app(scope, receive, send)
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 200
    chunks = [m["body"].decode() for m in messages[1:] if m["body"]]
    assert [chunk.count("\r\n") for chunk in chunks] == [1, 100, 100, 50]
    assert chunks[0].startswith("contact_id,email,") and messages[-1]["more_body"] is False
