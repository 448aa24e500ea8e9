"""The webhook worker: fans the change log out to partner apps' endpoints and delivers what is due
(resolvers/partners/webhooks.py), every AGENCY_WEBHOOK_INTERVAL seconds in the server, or once
with `agency webhooks deliver`."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.settings import Settings

if TYPE_CHECKING:
    from schema.build import AgencySchema
    from schema.context import Services

log = logging.getLogger("agency.webhooks")


def configure_webhooks(settings: Settings) -> None:
    """Delivery as the settings say: the retry schedule, the timeout, insecure receivers or not."""
    from resolvers.partners import webhooks

    webhooks.configure(
        retry_schedule=tuple(settings.webhook_retry_schedule),
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_insecure=settings.webhook_allow_insecure,
    )


async def deliver_webhooks_forever(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    schema: AgencySchema,
    services: Services | None = None,
) -> None:
    from resolvers.partners import webhooks
    from schema.partners.webhook_render import NodeRenderer

    render = NodeRenderer(schema, session_factory, services)
    async with webhooks.http_client() as client:
        while True:
            try:
                await webhooks.run_once(session_factory, render, client)
            except Exception:
                log.exception("delivering webhooks failed")
            await asyncio.sleep(settings.webhook_interval_seconds)


async def deliver_once(settings: Settings) -> tuple[int, int]:
    """One pass at the console: (deliveries made, attempts made)."""
    from models.db import make_engine, make_session_factory
    from resolvers.partners import webhooks
    from schema.build import build_schema
    from schema.partners.webhook_render import NodeRenderer

    configure_webhooks(settings)
    engine = make_engine(settings.database_url)
    try:
        session_factory = make_session_factory(engine)
        render = NodeRenderer(build_schema(), session_factory)
        async with webhooks.http_client() as client:
            return await webhooks.run_once(session_factory, render, client)
    finally:
        await engine.dispose()


def add_webhook_commands(sub: Any) -> None:
    command = sub.add_parser("webhooks", help="partner webhooks")
    actions = command.add_subparsers(dest="webhooks_action", required=True)
    deliver = actions.add_parser(
        "deliver", help="fan the change log out to webhook endpoints and deliver everything due, once"
    )
    deliver.set_defaults(func=_deliver)


def _deliver(args: argparse.Namespace) -> int:
    made, attempted = asyncio.run(deliver_once(Settings()))
    print(f"{made} new deliveries, {attempted} attempts")
    return 0
