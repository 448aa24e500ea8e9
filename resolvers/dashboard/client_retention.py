"""Retention and client lifetime value over the window.

- Retention rate over the window: of the clients who had become clients before the
  window started, the share not churned today.
- Client lifetime value = annual revenue per paying client x expected lifetime in years,
  where annual revenue per client = payments received in the window / clients who paid in
  it, annualised; expected lifetime = 1 / annual churn, annual churn = 1 - retention^(12 /
  window months), capped at 10 years (and 10 years when nobody churned).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Invoice, Payment
from models.base import money
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import as_int, became, not_churned, revenue_rows
from resolvers.db import RequestDb

LIFETIME_CAP_YEARS = 10.0


@dataclass
class Retention:
    period_start: dt.date
    months: int
    clients_at_start: int
    retained_clients: int
    revenue_in_period: Decimal
    paying_clients_in_period: int

    @property
    def retention_rate(self) -> float | None:
        return round(self.retained_clients / self.clients_at_start, 4) if self.clients_at_start else None

    @property
    def annual_churn_rate(self) -> float | None:
        rate = self.retention_rate
        if rate is None:
            return None
        return round(1 - rate ** (12 / self.months), 4)

    @property
    def annual_revenue_per_client(self) -> Decimal | None:
        if not self.paying_clients_in_period:
            return None
        return money(self.revenue_in_period / self.paying_clients_in_period * Decimal(12) / Decimal(self.months))

    @property
    def expected_lifetime_years(self) -> float | None:
        churn = self.annual_churn_rate
        if churn is None:
            return None
        return LIFETIME_CAP_YEARS if churn <= 1 / LIFETIME_CAP_YEARS else round(1 / churn, 2)

    @property
    def client_lifetime_value(self) -> Decimal | None:
        annual, years = self.annual_revenue_per_client, self.expected_lifetime_years
        if annual is None or years is None:
            return None
        return money(annual * Decimal(str(years)))


async def retention(db: RequestDb, principal: Principal, params: DashboardParams) -> Retention:
    start = params.window_start
    existed = became(start)
    revenue = (
        revenue_rows(principal)
        .where(col(Payment.received_on) >= start, params.in_view(col(Invoice.client_id)))
        .subquery()
    )
    statement = sa.select(
        sa.select(sa.func.count())
        .where(scopes.client_scope(principal), *params.client_filter_where(), existed)
        .scalar_subquery(),
        sa.select(sa.func.count())
        .where(scopes.client_scope(principal), *params.client_filter_where(), existed, not_churned())
        .scalar_subquery(),
        sa.select(sa.func.sum(revenue.c.amount)).scalar_subquery(),
        sa.select(sa.func.count(sa.distinct(revenue.c.client_id))).scalar_subquery(),
    )
    at_start, retained, received, paying = (await db.rows(statement))[0]
    return Retention(start, params.months, as_int(at_start), as_int(retained), money(received), as_int(paying))
