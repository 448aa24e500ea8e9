"""The `agency` command: migrate, create-user, schema --check, serve --workers."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from models import Role, User
from models.db import make_engine
from server.cli import main
from server.demo import DEMO_PASSWORD as PASSWORD
from tests.browser_support import LOGIN, demo_server

PORTAL_EMAIL = "olivia@northwind.example"


def _users(url: str) -> list[tuple[str, Role, int | None]]:
    async def read():
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(User.email, User.role, User.client_id).order_by(User.id))).all()
        await engine.dispose()
        return [tuple(r) for r in rows]

    return asyncio.run(read())


def test_migrate_and_create_user(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert main(["create-user", "Boss@Agency.example", "--role", "ADMIN", "--password", "long-enough-password"]) == 0
    assert "created ADMIN user boss@agency.example" in capsys.readouterr().out
    assert _users(url) == [("boss@agency.example", Role.ADMIN, None)]


def test_create_user_refuses_bad_input_and_writes_nothing(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["create-user", "not-an-email", "--role", "MEMBER", "--password", "long-enough-password"]) == 2
    assert main(["create-user", "a@agency.example", "--role", "MEMBER", "--password", "short"]) == 2
    assert main(["create-user", "c@client.example", "--role", "CLIENT", "--password", "long-enough-password"]) == 2
    assert (
        main(
            [
                "create-user",
                "c@client.example",
                "--role",
                "CLIENT",
                "--password",
                "long-enough-password",
                "--client",
                "99",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "INVALID" not in err and "e-mail address" in err and "--client" in err and "No client has id 99" in err
    assert _users(url) == []


def test_schema_check_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    assert main(["schema", "--check", "--path", str(stale)]) == 1
    assert main(["schema"]) == 0
    stale.write_text(capsys.readouterr().out)
    assert main(["schema", "--check", "--path", str(stale)]) == 0


def test_policy_prints_every_field_with_its_class_and_readers(capsys):
    assert main(["policy"]) == 0
    out = capsys.readouterr().out
    assert "| Client | internalNotes | INTERNAL | yes | yes | yes | no | clients:read + internal:read |" in out
    assert "| recordPayment | yes | yes | no | no | payments:write |" in out
    assert "| invoices:read | invoices once sent" in out
    assert "| User | hourlyCostRate | PAYROLL | yes | yes | no | no | no |" in out
    assert "| viewAs | yes | yes | no | no | no |" in out
    assert "| Client.showCostsInPortal | COST |" in out


def test_policy_explain_answers_why_for_a_user(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["create-user", "member@agency.example", "--role", "MEMBER", "--password", "long-enough-password"]) == 0
    capsys.readouterr()
    assert main(["policy", "--explain", "member@agency.example", "Invoice.total"]) == 0
    refused = capsys.readouterr().out
    assert refused.startswith("REFUSED (FORBIDDEN): Invoice.total is FINANCE") and "MEMBER" in refused
    assert main(["policy", "--explain", "member@agency.example", "Client.name"]) == 0
    assert capsys.readouterr().out.startswith("ALLOWED: Client.name is PUBLIC")
    assert main(["policy", "--explain", "nobody@agency.example", "Client.name"]) == 2
    assert main(["policy", "--explain", "member@agency.example", "Client.nope"]) == 2


def test_policy_prints_the_argument_rules_and_explains_mutations_and_arguments(tmp_path, monkeypatch, capsys):
    assert main(["policy"]) == 0
    out = capsys.readouterr().out
    # Rules of role and argument are rows of the table, printed with who may use them.
    assert "| Mutation.addComment | kind = NOTE | role ADMIN/MANAGER/MEMBER | yes | yes | yes | no | no |" in out
    assert "| Mutation.createProject | input.budget | writes Project.budget | yes | yes | no |" in out
    assert "| Query.clients | filter.tiers | reads Client.tier | yes | yes | yes | no |" in out
    assert "(resolver)" not in out

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["create-user", "member@agency.example", "--role", "MEMBER", "--password", "long-enough-password"]) == 0
    capsys.readouterr()
    assert main(["policy", "--explain", "member@agency.example", "Mutation.createInvoice"]) == 0
    assert capsys.readouterr().out.startswith("REFUSED (FORBIDDEN): MEMBER calling Mutation.createInvoice")
    assert main(["policy", "--explain", "member@agency.example", "Mutation.createProject(input.budget)"]) == 0
    budget = capsys.readouterr().out
    assert "REFUSED (FORBIDDEN)" in budget and "Project.budget" in budget and "FINANCE" in budget
    assert main(["policy", "--explain", "member@agency.example", "Mutation.addComment(kind)"]) == 0
    assert "ALLOWED" in capsys.readouterr().out
    assert main(["policy", "--explain", "member@agency.example", "Mutation.createProject"]) == 0
    whole = capsys.readouterr().out
    assert whole.startswith("ALLOWED: MEMBER calling Mutation.createProject") and "input.budget: REFUSED" in whole


def test_schema_role_prints_that_roles_view(capsys):
    assert main(["schema", "--role", "ANONYMOUS"]) == 0
    anonymous = capsys.readouterr().out
    assert "login(" in anonymous and "apiVersion" in anonymous and "clients(" not in anonymous
    assert main(["schema", "--role", "CLIENT", "--view-as"]) == 0
    assert "type Mutation" not in capsys.readouterr().out
    assert main(["schema", "--role", "CLIENT"]) == 0
    hidden = capsys.readouterr().out
    assert main(["schema", "--role", "CLIENT", "--costs-shown"]) == 0
    shown = capsys.readouterr().out
    assert "costRate" in shown and "costRate" not in hidden and "internalNotes" not in shown


def test_serve_with_workers_needs_postgresql(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    assert main(["serve", "--workers", "2"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
    assert not (tmp_path / "one.db").exists(), "refused before migrating anything"


async def test_workers_share_one_signing_key_and_one_database(database_url):
    """`agency serve --workers 2` without AGENCY_SECRET_KEY: a token signed by one worker is
    accepted by the other (one key for the run), on a database of its own."""
    if not database_url.startswith("postgresql"):
        pytest.skip("workers need PostgreSQL: the suite's PostgreSQL run covers this")
    url = make_url(database_url)
    name = f"{url.database}_workers"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")

    async def run(statement: str) -> None:
        async with admin.connect() as connection:
            await connection.execute(sa.text(statement))

    try:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await run(f'CREATE DATABASE "{name}"')
        with demo_server(url.set(database=name).render_as_string(hide_password=False), workers=2) as server:
            async with httpx.AsyncClient(timeout=30) as http:
                body = (
                    await http.post(server.graphql_url, json={"query": LOGIN % (f'"{PORTAL_EMAIL}"', f'"{PASSWORD}"')})
                ).json()
                token = body["data"]["login"]["tokens"]["accessToken"]
            emails = set()
            for _ in range(24):  # a new connection each time, so both workers take some
                async with httpx.AsyncClient(timeout=30) as http:
                    response = await http.post(
                        server.graphql_url,
                        json={"query": "{ me { email } }"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                assert response.status_code == 200, response.text
                emails.add(response.json()["data"]["me"]["email"])
            assert emails == {PORTAL_EMAIL}
            async with httpx.AsyncClient(timeout=30) as http:
                refused = await http.post(
                    server.graphql_url, json={"query": "{ me { email } }"}, headers={"Authorization": "Bearer nope"}
                )
            assert refused.status_code == 401
            log = server.log_path.read_text()
            assert len(set(re.findall(r"Started server process \[(\d+)\]", log))) >= 2, server.log_tail()
            # A worker logs the application's INFO lines too (it configures logging itself).
            assert "agency.http: access token refused" in log, server.log_tail()
    finally:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


def test_client_options_take_a_number_or_the_apis_global_id():
    import argparse

    from server.cli_args import client_id_arg
    from tests.utils import gid

    assert client_id_arg("7") == 7
    assert client_id_arg(gid("Client", 7)) == 7
    for bad in ("0", "-3", "x", gid("Invoice", 7), gid("Client", "07")):
        with pytest.raises(argparse.ArgumentTypeError):
            client_id_arg(bad)


def test_create_user_names_the_real_cause_when_the_contact_already_has_a_portal_user(tmp_path, monkeypatch, capsys):
    from tests.utils import gid

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0

    async def seed() -> int:
        from models import Client, Contact

        engine = make_engine(url)
        async with engine.begin() as conn:
            inserted = await conn.execute(sa.insert(Client).values(name="Acme", status_id=1))
            assert inserted.inserted_primary_key is not None
            client_id = inserted.inserted_primary_key[0]
            await conn.execute(
                sa.insert(Contact).values(
                    client_id=client_id, full_name="Ada", email="ada@acme.example", is_primary=True
                )
            )
        await engine.dispose()
        return int(client_id)

    client_id = asyncio.run(seed())
    password = ["--password", "long-enough-password"]
    assert (
        main(["create-user", "ada@acme.example", "--role", "CLIENT", "--client", gid("Client", client_id), *password])
        == 0
    )
    capsys.readouterr()
    # No contact has this e-mail: the primary contact would be taken, and it already has a user.
    assert main(["create-user", "bob@acme.example", "--role", "CLIENT", "--client", str(client_id), *password]) == 2
    err = capsys.readouterr().err
    assert "already has a portal user (ada@acme.example)" in err and "e-mail already exists" not in err
    assert main(["create-user", "ADA@acme.example", "--role", "MEMBER", *password]) == 2
    assert "A user with that e-mail already exists." in capsys.readouterr().err
    assert [email for email, _, _ in _users(url)] == ["ada@acme.example"]


def test_schema_check_says_when_the_file_is_missing(tmp_path, capsys):
    assert main(["schema", "--check", "--path", str(tmp_path / "nowhere.graphql")]) == 1
    assert "is missing" in capsys.readouterr().err


def test_every_option_of_every_command_has_help():
    import argparse

    from server.cli import build_parser

    def walk(parser: argparse.ArgumentParser, path: str):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from walk(child, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction):
                yield path, action

    missing = [f"{path} {action.dest}" for path, action in walk(build_parser(), "agency") if not action.help]
    assert missing == []


def test_a_closed_pipe_ends_quietly_and_alembic_keeps_its_info_lines(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pipe.db'}"}
    piped = subprocess.run(
        f"{sys.executable} -m server.cli policy | head -1", shell=True, capture_output=True, text=True, env=env
    )
    assert piped.stdout.strip() and "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr
    migrated = subprocess.run([sys.executable, "-m", "server.cli", "migrate"], capture_output=True, text=True, env=env)
    assert migrated.returncode == 0
    assert "alembic" not in migrated.stderr and "Context impl" not in migrated.stderr
