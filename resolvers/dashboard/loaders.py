"""DataLoaders of the Clients Dashboard: one per section, keyed by its DashboardParams, so a section is one
statement run once per request however many fields read it.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built once per request by resolvers.loaders.Loaders (as `loaders.dashboard`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from auth.principal import Principal
from resolvers import dashboard
from resolvers.db import RequestDb


class DashboardLoaders:
    def __init__(self, db: RequestDb, principal: Principal) -> None:
        p = principal
        # The Clients Dashboard, one loader (one statement) per section.
        self.client_status_counts = _section(db, p, dashboard.client_status_counts)
        self.new_clients = _section(db, p, dashboard.new_clients)
        self.client_growth = _section(db, p, dashboard.client_growth)
        self.project_counts = _section(db, p, dashboard.project_counts)
        self.projects_per_client = _section(db, p, dashboard.projects_per_client)
        self.total_outstanding = _section(db, p, dashboard.total_outstanding)
        self.revenue_totals = _section(db, p, dashboard.revenue_totals)
        self.top_clients_by_revenue = _section(db, p, dashboard.top_clients_by_revenue)
        self.revenue_trend = _section(db, p, dashboard.revenue_trend)
        self.overdue_clients = _section(db, p, dashboard.overdue_clients)
        self.quiet_clients = _section(db, p, dashboard.quiet_clients)
        self.portal_login_gaps = _section(db, p, dashboard.portal_login_gaps)
        self.at_risk_clients = _section(db, p, dashboard.at_risk_clients)
        self.upsell_clients = _section(db, p, dashboard.upsell_clients)
        self.portal_logins = _section(db, p, dashboard.portal_logins)
        self.last_interactions = _section(db, p, dashboard.last_interactions)
        self.response_times = _section(db, p, dashboard.response_times)
        self.satisfaction = _section(db, p, dashboard.satisfaction)
        self.retention = _section(db, p, dashboard.retention)


def _section(
    db: RequestDb, principal: Principal, compute: Callable[[RequestDb, Principal, Any], Awaitable[Any]]
) -> DataLoader:
    """A dashboard section, memoised per request by its parameters."""

    async def load(keys: Sequence[Any]) -> list[Any]:
        return [await compute(db, principal, key) for key in keys]

    return DataLoader(load_fn=load)
