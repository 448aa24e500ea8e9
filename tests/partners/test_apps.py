"""Partner apps: the agency owner registers integrations, lists them, changes their scopes, rotates
their secrets and revokes them (GraphQL and `agency partner`); nobody else may."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from auth.passwords import verify_password
from models import Role
from models.partners import PartnerApp, PartnerAppClient
from server.cli import main
from tests.factories import PASSWORD
from tests.partners.support import register
from tests.utils import codes, count, gid, portal, refused_by_policy, rows, staff

APP = "app { clientId name scopes clients { name } createdAt createdBy { fullName } revokedAt lastUsedAt }"
ERRORS = "errors { field code message }"
CREATE = f"""mutation($input: CreatePartnerAppInput!) {{ createPartnerApp(input: $input) {{
  {APP} clientSecret {ERRORS} }} }}"""
LIST = "{ partnerApps { clientId name scopes clients { name } revokedAt } }"
UPDATE = f"""mutation($c: String!, $s: [String!]!) {{ updatePartnerAppScopes(clientId: $c, scopes: $s) {{
  {APP} {ERRORS} }} }}"""
ROTATE = f"""mutation($c: String!) {{ rotatePartnerAppSecret(clientId: $c) {{ {APP} clientSecret {ERRORS} }} }}"""
REVOKE = f"""mutation($c: String!) {{ revokePartnerApp(clientId: $c) {{ {APP} {ERRORS} }} }}"""


async def app_row(db, client_id: str) -> PartnerApp:
    [row] = await rows(db, PartnerApp, PartnerApp.oauth_client_id == client_id)
    return row


async def create(api, token: str, **input_fields) -> dict:
    variables = {"input": {"name": "Ledger sync", "scopes": ["clients:read"], **input_fields}}
    return (await api.data(CREATE, variables, token))["createPartnerApp"]


async def test_an_admin_registers_an_app_and_its_secret_is_shown_once_and_stored_hashed(api, factory, db):
    admin, token = await staff(api, factory, Role.ADMIN)
    acme, globex = await factory.client("Acme"), await factory.client("Globex")

    created = await create(
        api,
        token,
        name="  Ledger sync  ",
        scopes=["invoices:read", "clients:read", "invoices:read"],
        clientIds=[gid("Client", globex), gid("Client", acme)],
    )

    assert created["errors"] == []
    app, secret = created["app"], created["clientSecret"]
    assert app["clientId"].startswith("agp_") and secret.startswith("agps_") and len(secret) >= 48
    assert app["name"] == "Ledger sync"
    assert app["scopes"] == ["clients:read", "invoices:read"]
    assert sorted(c["name"] for c in app["clients"]) == ["Acme", "Globex"]
    assert app["createdBy"] == {"fullName": admin.full_name}
    assert app["revokedAt"] is None and app["lastUsedAt"] is None

    row = await app_row(db, app["clientId"])
    assert secret not in row.secret_hash and row.secret_hash.startswith("$argon2")
    assert verify_password(secret, row.secret_hash)[0]
    assert row.generation == 1
    assert await count(db, PartnerAppClient, PartnerAppClient.partner_app_id == row.id) == 2

    # Listed without its secret: no field of an app holds it, and nothing the list answers does.
    listed = await api.post(LIST, token=token)
    assert listed["data"]["partnerApps"] == [
        {
            "clientId": app["clientId"],
            "name": "Ledger sync",
            "scopes": ["clients:read", "invoices:read"],
            "clients": app["clients"],
            "revokedAt": None,
        }
    ]
    assert secret not in str(listed)
    hidden = await api.post("{ partnerApps { clientSecret } }", token=token)
    assert "Cannot query field 'clientSecret' on type 'PartnerApp'" in hidden["errors"][0]["message"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.MEMBER, Role.CLIENT])
async def test_nobody_but_an_admin_lists_or_manages_apps(api, factory, db, role):
    registered = await register(db)
    before = await app_row(db, registered.client_id)
    if role is Role.CLIENT:
        _, token = await portal(api, factory, await factory.client())
    else:
        _, token = await staff(api, factory, role)

    listed = await api.post(LIST, token=token)
    if role is Role.CLIENT:  # the list is the team's: a portal user is refused the field
        assert listed["data"]["partnerApps"] is None
        assert [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"]
    else:  # the team may ask, and sees no app
        assert listed == {"data": {"partnerApps": []}}

    variables = {"input": {"name": "Mine", "scopes": ["clients:read"]}}
    await refused_by_policy(api, CREATE, variables, token, "createPartnerApp")
    await refused_by_policy(
        api, UPDATE, {"c": registered.client_id, "s": ["contacts:read"]}, token, "updatePartnerAppScopes"
    )
    await refused_by_policy(api, ROTATE, {"c": registered.client_id}, token, "rotatePartnerAppSecret")
    await refused_by_policy(api, REVOKE, {"c": registered.client_id}, token, "revokePartnerApp")

    after = await app_row(db, registered.client_id)
    assert await count(db, PartnerApp) == 1
    assert (after.scopes, after.secret_hash, after.generation, after.revoked_at) == (
        before.scopes,
        before.secret_hash,
        before.generation,
        None,
    )


async def test_bad_input_is_a_typed_error_and_writes_nothing(api, factory, db):
    _, token = await staff(api, factory, Role.ADMIN)
    client = await factory.client()

    cases = [
        ({"scopes": ["clients:read", "clients:write"]}, "input.scopes[1]", "UNKNOWN_SCOPE"),
        ({"scopes": []}, "input.scopes", "REQUIRED"),
        ({"scopes": ["  "]}, "input.scopes[0]", "UNKNOWN_SCOPE"),
        ({"name": "   "}, "input.name", "REQUIRED"),
        ({"name": "x" * 201}, "input.name", "TOO_LONG"),
        ({"clientIds": [gid("Client", client), gid("Client", 999)]}, "input.clientIds[1]", "NOT_FOUND"),
        ({"clientIds": [gid("Project", client)]}, "input.clientIds[0]", "NOT_FOUND"),
    ]
    for fields, field, code in cases:
        payload = await create(api, token, **fields)
        assert payload["app"] is None and payload["clientSecret"] is None, fields
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], fields
    unknown = (await create(api, token, scopes=["read:everything"]))["errors"][0]["message"]
    assert "clients:read" in unknown and "invoices:read" in unknown  # the message lists the scopes
    assert await count(db, PartnerApp) == 0 and await count(db, PartnerAppClient) == 0


async def test_changing_scopes_rotating_and_revoking_bump_the_token_generation(api, factory, db):
    _, token = await staff(api, factory, Role.ADMIN)
    registered = await register(db)
    row = await app_row(db, registered.client_id)
    variables = {"c": registered.client_id}

    same = await api.data(UPDATE, {**variables, "s": ["invoices:read", "clients:read"]}, token)
    assert same["updatePartnerAppScopes"]["errors"] == []
    assert (await app_row(db, registered.client_id)).generation == 1  # no change, no bump

    changed = (await api.data(UPDATE, {**variables, "s": ["clients:read"]}, token))["updatePartnerAppScopes"]
    assert changed["errors"] == [] and changed["app"]["scopes"] == ["clients:read"]
    assert (await app_row(db, registered.client_id)).generation == 2

    bad = (await api.data(UPDATE, {**variables, "s": ["clients:read", "nope"]}, token))["updatePartnerAppScopes"]
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("scopes[1]", "UNKNOWN_SCOPE")]

    rotated = (await api.data(ROTATE, variables, token))["rotatePartnerAppSecret"]
    new_secret = rotated["clientSecret"]
    assert rotated["errors"] == [] and new_secret.startswith("agps_") and new_secret != registered.secret
    after = await app_row(db, registered.client_id)
    assert after.generation == 3 and after.secret_hash != row.secret_hash
    assert (
        verify_password(new_secret, after.secret_hash)[0]
        and not verify_password(registered.secret, after.secret_hash)[0]
    )

    revoked = (await api.data(REVOKE, variables, token))["revokePartnerApp"]
    assert revoked["errors"] == [] and revoked["app"]["revokedAt"] is not None
    assert (await app_row(db, registered.client_id)).generation == 4
    again = (await api.data(REVOKE, variables, token))["revokePartnerApp"]
    assert again["errors"] == [] and again["app"]["revokedAt"] == revoked["app"]["revokedAt"]
    assert (await app_row(db, registered.client_id)).generation == 4

    # A revoked app's scopes and secret no longer change; an unknown app is not found.
    for query, extra, name in (
        (UPDATE, {"s": ["clients:read"]}, "updatePartnerAppScopes"),
        (ROTATE, {}, "rotatePartnerAppSecret"),
    ):
        payload = (await api.data(query, {**variables, **extra}, token))[name]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("clientId", "APP_REVOKED")]
    for query, name in ((ROTATE, "rotatePartnerAppSecret"), (REVOKE, "revokePartnerApp")):
        payload = (await api.data(query, {"c": "agp_" + "0" * 24}, token))[name]
        assert codes(payload) == ["NOT_FOUND"] and payload["errors"][0]["field"] == "clientId"
    assert (await app_row(db, registered.client_id)).generation == 4


# -- the console -------------------------------------------------------------------------------------


def _apps(url: str) -> list[tuple[str, str, str, bool]]:
    from models.db import make_engine

    async def read():
        engine = make_engine(url)
        async with engine.connect() as conn:
            found = await conn.execute(
                sa.select(PartnerApp.oauth_client_id, PartnerApp.name, PartnerApp.scopes, PartnerApp.revoked_at)
            )
            result = [(c, n, s, r is not None) for c, n, s, r in found]
        await engine.dispose()
        return result

    return asyncio.run(read())


def test_the_console_registers_lists_and_revokes_apps(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["partner", "create", "Ledger sync", "--scope", "invoices:read", "--scope", "clients:read"]) == 0
    out = capsys.readouterr().out
    client_id = out.split("client_id:")[1].split()[0]
    secret = out.split("client_secret:")[1].split()[0]
    assert client_id.startswith("agp_") and secret.startswith("agps_") and "shown this once" in out
    assert _apps(url) == [(client_id, "Ledger sync", "clients:read invoices:read", False)]

    assert main(["partner", "list"]) == 0
    listed = capsys.readouterr().out
    assert client_id in listed and "active" in listed and "clients:read invoices:read" in listed
    assert secret not in listed

    assert main(["partner", "create", "Bad", "--scope", "read:everything"]) == 2
    assert "error: --scope:" in capsys.readouterr().err
    assert main(["partner", "create", "Bad", "--scope", "clients:read", "--client", "99"]) == 2
    assert "error: --client 99: No such client." in capsys.readouterr().err
    assert main(["partner", "revoke", "agp_nope"]) == 2
    assert "error: CLIENT_ID: No such partner app." in capsys.readouterr().err

    # `agency schema --partner` prints the app's own view, read from its row
    assert main(["schema", "--partner", client_id]) == 0
    view = capsys.readouterr().out
    assert "type Invoice" in view and "invoices(" in view
    assert "type TimeEntry" not in view and "clientsDashboard" not in view and "internalNotes" not in view
    assert main(["schema", "--partner", "agp_nope"]) == 2
    assert "no partner app" in capsys.readouterr().err

    assert main(["partner", "revoke", client_id]) == 0
    assert f"revoked {client_id}" in capsys.readouterr().out
    assert main(["schema", "--partner", client_id]) == 2
    assert "revoked" in capsys.readouterr().err
    assert _apps(url) == [(client_id, "Ledger sync", "clients:read invoices:read", True)]
    assert main(["partner", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_create_user_still_refuses_a_partner(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    with pytest.raises(SystemExit) as refused:
        main(["create-user", "app@partner.example", "--role", "PARTNER", "--password", PASSWORD])
    assert refused.value.code == 2
    assert "invalid choice: 'PARTNER'" in capsys.readouterr().err
