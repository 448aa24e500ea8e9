"""The root of the client-level reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import relay

from resolvers.reports.client_reports import report_period
from schema.context import Info
from schema.ids import lookup_id
from schema.reports.types import ClientReport


@strawberry.type
class ReportsQuery:
    @strawberry.field(
        description="Reports on one client, optionally narrowed to a date range (time, utilization, "
        "profitability). Null when there is no such client the caller may see."
    )
    async def client_report(
        self,
        info: Info,
        client_id: relay.GlobalID,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
    ) -> ClientReport | None:
        period = report_period(from_, to)
        key = lookup_id(client_id, "Client")
        if key is None:
            return None
        # The scoped lookup: another client's id is simply not found.
        if await info.context.loaders.clients.client.load(key) is None:
            return None
        return ClientReport(client_id=key, period=period)
