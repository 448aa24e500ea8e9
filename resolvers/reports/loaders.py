"""DataLoaders of the client reports, keyed by client id (and the report's period), so any number of reports in
one request cost one statement per aggregate.

Each loader is one SQL statement per batch of keys, with the caller's row scope composed in;
built on first use in a request (resolvers.batching.loader), as `loaders.reports`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from auth.principal import Principal
from resolvers.batching import DomainLoaders, loader
from resolvers.db import RequestDb
from resolvers.reports import client_reports
from resolvers.reports.client_reports import ReportPeriod

K = TypeVar("K", bound=Hashable)


def _by_client(
    compute: Callable[[RequestDb, Principal, Sequence[int]], Awaitable[dict[int, Any]]],
    default: Callable[[], Any],
) -> loader[DataLoader]:
    def build(db: RequestDb, principal: Principal) -> DataLoader:
        async def load(keys: Sequence[int]) -> list[Any]:
            found = await compute(db, principal, list(keys))
            return [found[key] if key in found else default() for key in keys]

        return DataLoader(load_fn=load)

    return loader(build)


def _by_client_and_period(
    compute: Callable[[RequestDb, Principal, Sequence[int], ReportPeriod], Awaitable[dict[int, Any]]],
    default: Callable[[], Any],
) -> loader[DataLoader]:
    """Keyed by (client id, period); one statement per distinct period in the batch."""

    def build(db: RequestDb, principal: Principal) -> DataLoader:
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

    return loader(build)


class ReportLoaders(DomainLoaders):
    # Client reports, batched by client id (and period).
    portfolio = _by_client(client_reports.portfolios, client_reports.Portfolio.empty)
    invoiced = _by_client(client_reports.invoiced, client_reports.Invoiced)
    time = _by_client_and_period(client_reports.time_by_project, client_reports.TimeInvestment)
    utilization = _by_client_and_period(client_reports.time_by_member, list)
    expenses = _by_client_and_period(client_reports.expenses, lambda: client_reports.money(0))
    revenue = _by_client_and_period(client_reports.revenue, lambda: client_reports.money(0))
    # Account health in the reports (resolvers/dashboard/signals.py).
    labor = _by_client_and_period(client_reports.labor_totals, client_reports.Labor)
    timeline_adherence = _by_client(client_reports.timeline_adherence, client_reports.TimelineAdherence)
    scope_changes = _by_client_and_period(client_reports.scope_change_counts, client_reports.ScopeChangeCounts)
