"""Root fields of the Clients Dashboard and the client-level reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import relay

from models.base import utcnow
from resolvers.dashboard import dashboard_params
from resolvers.reports import report_period
from schema.context import Info
from schema.ids import lookup_id
from schema.types.dashboard import ClientsDashboard
from schema.types.reports import ClientReport


@strawberry.type
class ReportsQuery:
    @strawberry.field(
        description="The Clients Dashboard, over every client the caller may see. Staff only: a portal user is "
        "refused, and a MEMBER gets no money figures."
    )
    def clients_dashboard(
        self,
        no_activity_days: int = 30,
        months: int = 12,
        top: int = 10,
    ) -> ClientsDashboard | None:
        params = dashboard_params(now=utcnow(), no_activity_days=no_activity_days, months=months, top=top)
        return ClientsDashboard(params=params)

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
        if await info.context.loaders.client.load(key) is None:
            return None
        return ClientReport(client_id=key, period=period)
