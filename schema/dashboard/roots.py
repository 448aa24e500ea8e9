"""The root of the Clients Dashboard."""

from __future__ import annotations

import strawberry

from models.base import utcnow
from resolvers.dashboard import dashboard_params
from schema.dashboard.types import ClientsDashboard


@strawberry.type
class DashboardQuery:
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
