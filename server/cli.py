"""The `agency` command: serve, migrate, create-user, policy, send-outbox, run-jobs, schema, partner."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from models import Role
from server.cli_args import client_id_arg
from server.jobs import add_job_commands
from server.partner_cli import add_partner_commands
from server.webhooks import add_webhook_commands

if TYPE_CHECKING:
    import strawberry
    from starlette.applications import Starlette

    from auth.principal import Principal
    from resolvers.partners.apps import AppRecord
    from server.demo import DemoSignIn
    from server.settings import Settings

log = logging.getLogger("agency")


def _settings() -> Settings:
    from server.settings import Settings

    return Settings()


def _migrate(url: str) -> None:
    from models.migrate import upgrade

    upgrade(url)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = _settings()
    if args.workers > 1 and settings.database_url.startswith("sqlite"):
        print("error: --workers needs PostgreSQL (DATABASE_URL); SQLite is served by one worker", file=sys.stderr)
        return 2
    _migrate(settings.database_url)
    if settings.portal_accept_url is None:
        # Invitations link to the accept page of this server, at the address it serves.
        settings.portal_accept_url = os.environ["AGENCY_PORTAL_ACCEPT_URL"] = served_url(args.host, args.port)
    if args.demo:
        sign_ins = asyncio.run(_load_demo(settings.database_url))
        print(f"\nThe demo agency is loaded. Sign in with any of these (password for all: {sign_ins[0].password}):")
        for s in sign_ins:
            print(f"  {s.role:<8} {s.email:<36} {s.note}")
        print(f"\nOpen http://{args.host}:{args.port}/graphql and follow the steps in the editor.\n")
    if args.workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
        return 0
    if not settings.secret_key:
        # Every worker must sign and verify tokens with the same key: one random key for this run.
        os.environ["AGENCY_SECRET_KEY"] = settings.signing_key()
    uvicorn.run(
        "server.cli:worker_app", factory=True, workers=args.workers, host=args.host, port=args.port, log_level="info"
    )
    return 0


def served_url(host: str, port: int, path: str = "/portal/accept") -> str:
    """The address a browser reaches this server at: the host it listens on, or this machine's
    name when it listens on every interface."""
    import socket

    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


def worker_app() -> Starlette:
    """The app of one worker process of `agency serve --workers N` (settings from the environment).
    A worker is a fresh interpreter (spawned): it configures logging as `main` does, else the
    application's INFO lines (the sockets' opens, subscriptions and closes) would be dropped."""
    from server.app import create_app

    configure_logging()
    return create_app(_settings())


async def _load_demo(url: str) -> list[DemoSignIn]:
    from models.db import make_engine, make_session_factory
    from server.demo import load_demo

    engine = make_engine(url)
    try:
        return await load_demo(make_session_factory(engine))
    finally:
        await engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    _migrate(settings.database_url)
    print("migrated", _redact(settings.database_url))
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_create_user(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    from resolvers.errors import InputError
    from resolvers.people.users import create_user_checked

    settings = _settings()
    _migrate(settings.database_url)

    async def run() -> int:
        from models.db import make_engine, make_session_factory

        engine = make_engine(settings.database_url)
        try:
            async with make_session_factory(engine)() as session, session.begin():
                user = await create_user_checked(
                    session,
                    email=args.email,
                    role=Role(args.role),
                    password=args.password,
                    full_name=args.name,
                    client_id=args.client,
                )
            print(f"created {user.role.value} user {user.email} (id {user.id})")
            return 0
        except InputError as error:
            print(f"error: {error.field}: {error.message}", file=sys.stderr)
            return 2
        except IntegrityError as error:
            # The checks above name every cause they can see; this is a race with another writer.
            print(f"error: {_integrity_cause(error)}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _integrity_cause(error: Exception) -> str:
    """What a refused insert of a user broke, from the constraint the database names."""
    text = str(getattr(error, "orig", error)).lower()
    if "contact_id" in text:
        return "that contact already has a portal user (another command just linked one)"
    if "email" in text:
        return "a user with that e-mail already exists"
    if "contact_of_own_client" in text or "foreign key" in text:
        return "the client or its contact changed while the user was being created; try again"
    return f"the database refused the user: {text.splitlines()[0] if text else 'constraint violated'}"


def cmd_send_outbox(args: argparse.Namespace) -> int:
    from models.db import make_engine, make_session_factory
    from resolvers.outbox import LogSender, drain_outbox

    settings = _settings()

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            return await drain_outbox(make_session_factory(engine), LogSender(), batch=args.batch)
        finally:
            await engine.dispose()

    print(f"sent {asyncio.run(run())} e-mail(s)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from schema.build import build_schema

    if (args.scope or args.client) and args.role != Role.PARTNER.value:
        print("error: --scope and --client go with --role PARTNER", file=sys.stderr)
        return 2
    if args.partner:
        if args.role or args.scope or args.client:
            print("error: --partner takes the app's own scopes and clients; give it alone", file=sys.stderr)
            return 2
        app = asyncio.run(_partner_app(_settings().database_url, args.partner))
        if app is None:
            print(f"error: no partner app with client id {args.partner}", file=sys.stderr)
            return 2
        if app.revoked:
            print(f"error: partner app {args.partner} is revoked: it sees nothing", file=sys.stderr)
            return 2
        sys.stdout.write(partner_sdl(sorted(app.scopes), sorted(app.client_ids)))
        return 0
    if args.role == Role.PARTNER.value:
        from auth.policy_table import SCOPES

        unknown = sorted(set(args.scope) - set(SCOPES))
        if unknown:
            print(f"error: unknown scope {', '.join(unknown)} (scopes: {', '.join(SCOPES)})", file=sys.stderr)
            return 2
        sys.stdout.write(partner_sdl(args.scope, args.client))
        return 0
    if args.role is not None:
        from schema.views import key_for_role, sdl_for

        role = None if args.role == "ANONYMOUS" else Role(args.role)
        key = key_for_role(role, costs_shown=args.costs_shown, read_only=args.view_as)
        sys.stdout.write(sdl_for(build_schema()._schema, key).rstrip() + "\n")
        return 0
    sdl = build_schema().as_str().rstrip() + "\n"
    if args.check:
        path = Path(args.path)
        if not path.exists():
            print(f"{path} is missing: run `agency schema > {path}`", file=sys.stderr)
            return 1
        if path.read_text() != sdl:
            print(f"{path} is stale: run `agency schema > {path}`", file=sys.stderr)
            return 1
        print(f"{path} is current")
        return 0
    sys.stdout.write(sdl)
    return 0


def partner_sdl(scopes: list[str], client_ids: list[int]) -> str:
    """What a partner app granted these scopes, limited to these clients, sees of the schema."""
    from schema.build import build_schema
    from schema.views import sdl_for_partner

    return sdl_for_partner(build_schema()._schema, scopes, client_ids).rstrip() + "\n"


def cmd_policy(args: argparse.Namespace) -> int:
    from auth.policy import explain, policy_markdown
    from schema.build import build_schema

    if args.scopes:
        from auth.policy import scope_markdown

        print(scope_markdown())
        return 0
    coordinates = _coordinates(build_schema())
    if not args.explain:
        print(policy_markdown(coordinates))
        return 0
    email, coordinate = args.explain
    if coordinate.partition("(")[0] not in coordinates:
        print(
            f"error: {coordinate} is not a field of the schema (Type.field or Type.field(argument.path))",
            file=sys.stderr,
        )
        return 2
    principal = asyncio.run(_principal_of(_settings().database_url, email))
    if principal is None:
        print(f"error: no active user {email}", file=sys.stderr)
        return 2
    print(explain(coordinate, principal.policy_key))
    return 0


def _coordinates(schema: strawberry.Schema) -> list[str]:
    from graphql import GraphQLInterfaceType, GraphQLObjectType

    return [
        f"{name}.{field}"
        for name, graphql_type in schema._schema.type_map.items()
        if not name.startswith("__") and isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType))
        for field in graphql_type.fields
    ]


async def _principal_of(url: str, email: str) -> Principal | None:
    """The active user's Principal, built by the server's own code (server.principal)."""
    from models.db import make_engine, make_session_factory
    from resolvers.db import RequestDb
    from server.principal import principal_for_email

    engine = make_engine(url)
    db = RequestDb(make_session_factory(engine))
    try:
        return await principal_for_email(email, db)
    finally:
        await db.close()
        await engine.dispose()


async def _partner_app(url: str, client_id: str) -> AppRecord | None:
    """The partner app an OAuth client id names, as the server reads it for a token."""
    from models.db import make_engine, make_session_factory
    from resolvers.db import RequestDb
    from resolvers.partners.apps import app_record

    engine = make_engine(url)
    db = RequestDb(make_session_factory(engine))
    try:
        return await app_record(db, client_id)
    finally:
        await db.close()
        await engine.dispose()


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agency", description="Agency OS API")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve the API (GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    serve.add_argument("--demo", action="store_true", help="load the demo agency and print its sign-ins")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes (PostgreSQL only); each serves every request, sharing the database",
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(func=cmd_migrate)

    create = sub.add_parser("create-user", help="create a staff or portal user")
    create.add_argument("email", help="the user's e-mail, used to sign in")
    create.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role if r is not Role.PARTNER],
        help="ADMIN, MANAGER, MEMBER (staff) or CLIENT (a portal user; needs --client)",
    )
    create.add_argument("--password", required=True, help=f"at least {10} characters")
    create.add_argument("--name", help="display name (defaults to the part of the e-mail before @)")
    create.add_argument(
        "--client",
        type=client_id_arg,
        metavar="CLIENT",
        help="CLIENT users: the client (its number or its API id), linked to its contact with the same"
        " e-mail, else its primary contact",
    )
    create.set_defaults(func=cmd_create_user)

    policy = sub.add_parser("policy", help="print the field policy table, or explain one decision")
    policy.add_argument(
        "--explain",
        nargs=2,
        metavar=("EMAIL", "COORDINATE"),
        help="why this user may or may not read Type.field, call Mutation.name, or use Type.field(argument.path)",
    )
    policy.add_argument("--scopes", action="store_true", help="print only the partner scopes and what each opens")
    policy.set_defaults(func=cmd_policy)

    outbox = sub.add_parser("send-outbox", help="send queued e-mail now (the server also does it every few seconds)")
    outbox.add_argument("--batch", type=_positive, default=500, help="send at most this many (default: %(default)s)")
    outbox.set_defaults(func=cmd_send_outbox)

    schema = sub.add_parser("schema", help="print the GraphQL SDL")
    schema.add_argument(
        "--check", action="store_true", help="exit 1 when the schema file is missing or stale, 0 when current"
    )
    schema.add_argument("--path", default="schema.graphql", help="the file --check compares (default: %(default)s)")
    schema.add_argument(
        "--role",
        choices=[r.value for r in Role] + ["ANONYMOUS"],
        help="print only what this role may see (its own view, as introspection shows it)",
    )
    schema.add_argument("--costs-shown", action="store_true", help="with --role CLIENT: a client that shows costs")
    schema.add_argument("--view-as", action="store_true", help="with --role CLIENT: a read-only view-as token")
    schema.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="with --role PARTNER: a granted scope (repeat; `agency policy --scopes` lists them)",
    )
    schema.add_argument(
        "--client",
        action="append",
        type=client_id_arg,
        default=[],
        metavar="CLIENT",
        help="with --role PARTNER: a client the app is limited to, its number or API id (repeat)",
    )
    schema.add_argument(
        "--partner",
        metavar="CLIENT_ID",
        help="print what this partner app sees (its granted scopes and client limit, from the database)",
    )
    schema.set_defaults(func=cmd_schema)

    add_partner_commands(sub)
    add_webhook_commands(sub)
    add_job_commands(sub)
    return parser


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic says "Context impl ..." and "Will assume transactional DDL" at INFO before every
    # command: only its warnings are worth a line.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # `agency policy | head`: the reader left; end quietly, without a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
