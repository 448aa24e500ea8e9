"""`agency partner`: register, list, rotate the secret of and revoke partner apps from the console.

The console acts as the agency's ADMIN (whoever runs it holds the database anyway) through the same
business functions as the GraphQL mutations (resolvers/partners/apps.py); an app registered here
has no `createdBy`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from server.cli_args import client_id_arg

T = TypeVar("T")


def add_partner_commands(sub: Any) -> None:
    """The `partner` command and its subcommands, on the `agency` parser's subparsers."""
    partner = sub.add_parser("partner", help="register and manage partner apps (OAuth 2 client credentials)")
    commands = partner.add_subparsers(dest="partner_command", required=True)

    create = commands.add_parser("create", help="register an app; prints its client_id and its secret, once")
    create.add_argument("name", help="what the app is, e.g. 'Xero sync'")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        metavar="SCOPE",
        help="a scope to grant (repeat for more), e.g. clients:read, invoices:read",
    )
    create.add_argument(
        "--client",
        type=client_id_arg,
        action="append",
        default=[],
        metavar="CLIENT",
        help="limit the app to this client, its number or its API id (repeat)",
    )
    create.set_defaults(func=cmd_partner_create)

    listing = commands.add_parser("list", help="every app: client_id, name, scopes, clients, last use, revocation")
    listing.set_defaults(func=cmd_partner_list)

    rotate = commands.add_parser("rotate", help="give an app a new secret (printed once); its tokens stop working")
    rotate.add_argument("client_id", metavar="CLIENT_ID", help="the app's OAuth client_id (agp_...)")
    rotate.set_defaults(func=cmd_partner_rotate)

    revoke = commands.add_parser("revoke", help="revoke an app for good; its tokens stop working")
    revoke.add_argument("client_id", metavar="CLIENT_ID", help="the app's OAuth client_id (agp_...)")
    revoke.set_defaults(func=cmd_partner_revoke)


_FLAGS = {"name": "NAME", "scopes": "--scope", "clientIds": "--client", "clientId": "CLIENT_ID"}


def _run(work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """`work(session_factory, console)` on the configured database, migrated first."""
    from auth.principal import Principal
    from models import Role
    from models.db import make_engine, make_session_factory
    from models.migrate import upgrade
    from server.settings import Settings

    settings = Settings()
    upgrade(settings.database_url)

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            return await work(make_session_factory(engine), Principal(user_id=None, role=Role.ADMIN))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _write(work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """`work(session, console)` in one transaction."""

    async def in_transaction(session_factory: Any, console: Any) -> T:
        async with session_factory() as session, session.begin():
            return await work(session, console)

    return _run(in_transaction)


def _refused(error: Exception, args: argparse.Namespace) -> int:
    """An InputError or NotFound as the console says it, naming the flag or argument at fault."""
    from resolvers.errors import InputError

    field = getattr(error, "field", None) or ""
    name, _, index = field.partition(".")
    where = _FLAGS.get(name, field)
    if name == "clientIds" and index.isdigit():
        where = f"--client {args.client[int(index)]}"
    message = error.message if isinstance(error, InputError) else str(error)
    print(f"error: {where}: {message}" if where else f"error: {message}", file=sys.stderr)
    return 2


def _describe(app: Any) -> list[str]:
    clients = ", ".join(str(c) for c in app.client_ids) or "all (not limited)"
    return [f"scopes:        {' '.join(app.scopes)}", f"clients:       {clients}"]


def cmd_partner_create(args: argparse.Namespace) -> int:
    from resolvers.errors import InputError, NotFound
    from resolvers.partners.apps import create_partner_app

    try:
        app, secret = _write(
            lambda session, console: create_partner_app(
                session, console, name=args.name, scopes=args.scope, client_ids=args.client
            )
        )
    except (InputError, NotFound) as error:
        return _refused(error, args)
    print(f"registered partner app {app.name!r}")
    print(f"client_id:     {app.client_id}")
    print(f"client_secret: {secret}")
    print(*_describe(app), sep="\n")
    print("The secret is shown this once: store it now. POST /oauth/token exchanges both for an access token.")
    return 0


def cmd_partner_list(args: argparse.Namespace) -> int:
    from resolvers.db import RequestDb
    from resolvers.partners.apps import list_partner_apps

    async def listed(session_factory: Any, console: Any) -> Any:
        db = RequestDb(session_factory)
        try:
            return await list_partner_apps(db, console)
        finally:
            await db.close()

    apps = _run(listed)
    if not apps:
        print("no partner apps")
        return 0
    for app in apps:
        state = f"revoked {app.revoked_at:%Y-%m-%d %H:%M} UTC" if app.revoked_at else "active"
        used = f"{app.last_used_at:%Y-%m-%d %H:%M} UTC" if app.last_used_at else "never"
        print(f"{app.client_id}  {app.name!r}  {state}, last used {used}")
        print(*(f"  {line}" for line in _describe(app)), sep="\n")
    return 0


def cmd_partner_rotate(args: argparse.Namespace) -> int:
    from resolvers.errors import InputError, NotFound
    from resolvers.partners.apps import rotate_partner_app_secret

    try:
        app, secret = _write(
            lambda session, console: rotate_partner_app_secret(session, console, client_id=args.client_id)
        )
    except (InputError, NotFound) as error:
        return _refused(error, args)
    print(f"new secret for {app.client_id} ({app.name!r}); the old one and its tokens no longer work")
    print(f"client_secret: {secret}")
    print("The secret is shown this once: store it now.")
    return 0


def cmd_partner_revoke(args: argparse.Namespace) -> int:
    from resolvers.errors import InputError, NotFound
    from resolvers.partners.apps import revoke_partner_app

    try:
        app = _write(lambda session, console: revoke_partner_app(session, console, client_id=args.client_id))
    except (InputError, NotFound) as error:
        return _refused(error, args)
    print(f"revoked {app.client_id} ({app.name!r}) at {app.revoked_at:%Y-%m-%d %H:%M} UTC; its tokens no longer work")
    return 0
