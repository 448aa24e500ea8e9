"""The root of the Clients Dashboard, its saved views and the health score's weights."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.base import utcnow
from resolvers.dashboard import dashboard_params
from resolvers.dashboard.params import DashboardClients
from resolvers.dashboard.views import DEFAULTS, clients_of, sections_of
from resolvers.errors import NotFound
from schema.context import Info
from schema.dashboard.health import HealthScoreMutation, HealthScoreQuery
from schema.dashboard.types import ClientsDashboard
from schema.dashboard.views import DashboardClientFilterInput, DashboardViewsMutation, DashboardViewsQuery
from schema.ids import decode_id, plain_row_id


def _clients(filter: DashboardClientFilterInput) -> DashboardClients:
    return DashboardClients(
        categories=tuple(filter.categories or ()),
        status_ids=tuple(plain_row_id(s, "clients.statusIds", "Status") for s in filter.status_ids or ()),
        tiers=tuple(filter.tiers or ()),
        account_manager_ids=tuple(
            user_id
            for g in filter.account_manager_ids or ()
            if (user_id := decode_id(g, "User", "clients.accountManagerIds")) is not None
        ),
    )


@strawberry.type
class DashboardQuery:
    @strawberry.field(
        description="The Clients Dashboard, over every client the caller may see. Staff only: a portal user is "
        "refused, and a MEMBER gets no money figures. With `viewId`, one of your saved views (its sections, "
        "windows and clients); arguments given beside it override the view's values."
    )
    async def clients_dashboard(
        self,
        info: Info,
        no_activity_days: int | None = None,
        months: int | None = None,
        top: int | None = None,
        view_id: relay.GlobalID | None = None,
        retention_months: int | None = None,
        clients: DashboardClientFilterInput | None = None,
    ) -> ClientsDashboard | None:
        windows = dict(DEFAULTS)
        sections, covered, retention, row_id = None, DashboardClients(), None, None
        if view_id is not None:
            row_id = decode_id(view_id, "DashboardView", "viewId")
            view = await info.context.loaders.dashboard.view.load(row_id)
            if view is None:
                raise NotFound("dashboard view", field="viewId")
            windows = {key: getattr(view, key) for key in DEFAULTS}
            sections, covered, retention = frozenset(sections_of(view)), clients_of(view), view.retention_months
        given = {"no_activity_days": no_activity_days, "months": months, "top": top}
        windows.update({key: value for key, value in given.items() if value is not None})
        params = dashboard_params(
            now=utcnow(),
            **windows,
            sections=sections,
            clients=covered if clients is None else _clients(clients),
            view_id=row_id,
            retention_months=retention if retention_months is None else retention_months,
        )
        return ClientsDashboard(params=params)


__all__ = [
    "DashboardQuery",
    "DashboardViewsMutation",
    "DashboardViewsQuery",
    "HealthScoreMutation",
    "HealthScoreQuery",
]
