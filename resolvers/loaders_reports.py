"""DataLoaders of the Clients Dashboard and the client reports, one set per request.

Dashboard sections are keyed by their DashboardParams: each is one statement, run once per
request however many fields read it. Report aggregates are keyed by client id (and the
report's period), so any number of reports in one request cost one statement per aggregate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from auth.principal import Principal
from resolvers import dashboard, reports
from resolvers.db import RequestDb
from resolvers.reports import ReportPeriod

K = TypeVar("K", bound=Hashable)


def _section(
    db: RequestDb, principal: Principal, compute: Callable[[RequestDb, Principal, Any], Awaitable[Any]]
) -> DataLoader:
    """A dashboard section, memoised per request by its parameters."""

    async def load(keys: Sequence[Any]) -> list[Any]:
        return [await compute(db, principal, key) for key in keys]

    return DataLoader(load_fn=load)


def _by_client(
    db: RequestDb,
    principal: Principal,
    compute: Callable[[RequestDb, Principal, Sequence[int]], Awaitable[dict[int, Any]]],
    default: Callable[[], Any],
) -> DataLoader:
    async def load(keys: Sequence[int]) -> list[Any]:
        found = await compute(db, principal, list(keys))
        return [found[key] if key in found else default() for key in keys]

    return DataLoader(load_fn=load)


def _by_client_and_period(
    db: RequestDb,
    principal: Principal,
    compute: Callable[[RequestDb, Principal, Sequence[int], ReportPeriod], Awaitable[dict[int, Any]]],
    default: Callable[[], Any],
) -> DataLoader:
    """Keyed by (client id, period); one statement per distinct period in the batch."""

    async def load(keys: Sequence[tuple[int, ReportPeriod]]) -> list[Any]:
        by_period: dict[ReportPeriod, list[int]] = defaultdict(list)
        for client_id, period in keys:
            by_period[period].append(client_id)
        found: dict[tuple[int, ReportPeriod], Any] = {}
        for period, client_ids in by_period.items():
            for client_id, value in (await compute(db, principal, client_ids, period)).items():
                found[(client_id, period)] = value
        return [found[key] if key in found else default() for key in keys]

    return DataLoader(load_fn=load)


class ReportLoaders:
    """Attached to the request's Loaders as `loaders.reports`."""

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

        # Client reports, batched by client id (and period).
        self.portfolio = _by_client(db, p, reports.portfolios, reports.Portfolio.empty)
        self.invoiced = _by_client(db, p, reports.invoiced, reports.Invoiced)
        self.time = _by_client_and_period(db, p, reports.time_by_project, reports.TimeInvestment)
        self.utilization = _by_client_and_period(db, p, reports.time_by_member, list)
        self.expenses = _by_client_and_period(db, p, reports.expenses, lambda: reports.money(0))
        self.revenue = _by_client_and_period(db, p, reports.revenue, lambda: reports.money(0))
