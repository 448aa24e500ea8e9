"""DataLoaders of the Clients Dashboard: one per section, keyed by its DashboardParams, so a section is one
statement run once per request however many fields read it.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.dashboard`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import DashboardView, ScopeChange
from resolvers import dashboard
from resolvers.batching import DomainLoaders, by_id, grouped, loader
from resolvers.dashboard import account_health, health_score
from resolvers.db import RequestDb


def _section(compute: Callable[[RequestDb, Principal, Any], Awaitable[Any]]) -> loader[DataLoader]:
    """A dashboard section, memoised per request by its parameters."""

    def build(db: RequestDb, principal: Principal) -> DataLoader:
        async def load(keys: Sequence[Any]) -> list[Any]:
            return [await compute(db, principal, key) for key in keys]

        return DataLoader(load_fn=load)

    return loader(build)


class DashboardLoaders(DomainLoaders):
    # The Clients Dashboard, one loader (one statement) per section.
    client_status_counts = _section(dashboard.client_status_counts)
    new_clients = _section(dashboard.new_clients)
    client_growth = _section(dashboard.client_growth)
    project_counts = _section(dashboard.project_counts)
    projects_per_client = _section(dashboard.projects_per_client)
    total_outstanding = _section(dashboard.total_outstanding)
    revenue_totals = _section(dashboard.revenue_totals)
    top_clients_by_revenue = _section(dashboard.top_clients_by_revenue)
    revenue_trend = _section(dashboard.revenue_trend)
    overdue_clients = _section(dashboard.overdue_clients)
    quiet_clients = _section(dashboard.quiet_clients)
    portal_login_gaps = _section(dashboard.portal_login_gaps)
    at_risk_clients = _section(dashboard.at_risk_clients)
    upsell_clients = _section(dashboard.upsell_clients)
    portal_logins = _section(dashboard.portal_logins)
    last_interactions = _section(dashboard.last_interactions)
    response_times = _section(dashboard.response_times)
    satisfaction = _section(dashboard.satisfaction)
    retention = _section(dashboard.retention)
    # Account health (resolvers/dashboard/account_health.py).
    client_response_times = _section(account_health.client_response_times)
    scope_reductions = _section(account_health.scope_reductions)
    capacity = _section(account_health.capacity)
    capacity_by_client = _section(account_health.capacity_by_client)

    @loader
    def budget_burn(db: RequestDb, p: Principal) -> DataLoader:
        """A project's budget burn by project id (one statement per batch)."""
        statement = account_health.budget_burn_statement(p)

        async def load(keys: Sequence[int]) -> list[account_health.BudgetBurn | None]:
            found = await account_health.budget_burns(db, statement, keys)
            return [found.get(key) for key in keys]

        return DataLoader(load_fn=load)

    @loader
    def scope_changes(db: RequestDb, p: Principal) -> DataLoader:
        """A project's scope change log by project id, oldest first."""
        return grouped(
            db,
            ScopeChange,
            col(ScopeChange.project_id),
            account_health.scope_change_scope(p),
            (col(ScopeChange.occurred_at), col(ScopeChange.id)),
        )

    # The health score (resolvers/dashboard/health_score.py): one statement for the dashboard's section.
    health_distribution = _section(health_score.score_distribution)

    @loader
    def health_score_by_client(db: RequestDb, p: Principal) -> DataLoader:
        """Client.healthScore: the scores of a batch of clients, one statement."""

        async def load(keys: Sequence[int]) -> list[Any]:
            return await health_score.scores_by_client(db, p, keys)

        return DataLoader(load_fn=load)

    # Saved views: the caller's own only (auth.scopes.dashboard_view_scope).
    @loader
    def view(db: RequestDb, p: Principal) -> DataLoader:
        return by_id(db, DashboardView, scopes.dashboard_view_scope(p))
