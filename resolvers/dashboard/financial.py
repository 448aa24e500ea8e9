"""Financial overview: outstanding, revenue to date, top clients by revenue, and the monthly trend.

- Outstanding: lines (with tax) of SENT invoices less the payments on them. Revenue: payments
  received on invoices that are not VOID. Average client value: revenue to date / clients
  that have paid anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Client, Invoice, InvoiceLine, InvoiceStatus, Payment
from models.base import money
from resolvers.dashboard.params import DashboardParams
from resolvers.dashboard.rows import as_int, revenue_rows
from resolvers.db import RequestDb
from resolvers.sql_functions import month_bucket, next_month


@dataclass
class RevenueTotals:
    revenue: Decimal
    paying_clients: int

    @property
    def average_client_value(self) -> Decimal | None:
        return money(self.revenue / self.paying_clients) if self.paying_clients else None


@dataclass
class ClientRevenue:
    client: Client
    revenue: Decimal


@dataclass
class RevenuePoint:
    month: dt.date
    invoiced: Decimal
    received: Decimal


async def total_outstanding(db: RequestDb, principal: Principal, params: DashboardParams) -> Decimal:
    sent = sa.and_(
        col(Invoice.status) == InvoiceStatus.SENT,
        scopes.invoice_scope(principal),
        params.in_view(col(Invoice.client_id)),
    )
    billed = (
        sa.select((col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)).label("amount"))
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(sent)
    )
    received = (
        sa.select(-col(Payment.amount))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(sent, scopes.payment_scope(principal))
    )
    both = sa.union_all(billed, received).subquery()
    return money(await db.scalar(sa.select(sa.func.sum(both.c.amount))))


async def revenue_totals(db: RequestDb, principal: Principal, params: DashboardParams) -> RevenueTotals:
    rows = revenue_rows(principal).where(params.in_view(col(Invoice.client_id))).subquery()
    statement = sa.select(sa.func.sum(rows.c.amount), sa.func.count(sa.distinct(rows.c.client_id)))
    revenue, paying = (await db.rows(statement))[0]
    return RevenueTotals(money(revenue), as_int(paying))


async def top_clients_by_revenue(db: RequestDb, principal: Principal, params: DashboardParams) -> list[ClientRevenue]:
    rows = revenue_rows(principal).where(params.in_view(col(Invoice.client_id))).subquery()
    per_client = (
        sa.select(rows.c.client_id, sa.func.sum(rows.c.amount).label("revenue")).group_by(rows.c.client_id).subquery()
    )
    statement = (
        sa.select(Client, per_client.c.revenue)
        .join(per_client, per_client.c.client_id == col(Client.id))
        .where(scopes.client_scope(principal), *params.client_filter_where())
        .order_by(per_client.c.revenue.desc(), col(Client.id))
        .limit(params.top)
    )
    return [ClientRevenue(client, money(revenue)) for client, revenue in await db.rows(statement)]


async def revenue_trend(db: RequestDb, principal: Principal, params: DashboardParams) -> list[RevenuePoint]:
    """Per month of the window: invoiced (lines with tax of SENT and PAID invoices, by issue date)
    and received (payments on invoices that are not VOID, by the day received)."""
    starts = params.months_list
    bounds = [*starts, next_month(starts[-1])]
    received = revenue_rows(principal).where(params.in_view(col(Invoice.client_id))).subquery()
    received_rows = sa.select(
        sa.literal("received").label("kind"),
        month_bucket(received.c.received_on, bounds).label("bucket"),
        received.c.amount,
    ).where(received.c.received_on >= bounds[0], received.c.received_on < bounds[-1])
    invoiced_rows = (
        sa.select(
            sa.literal("invoiced"),
            month_bucket(col(Invoice.issue_date), bounds),
            col(InvoiceLine.amount) + col(InvoiceLine.tax_amount),
        )
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(
            col(Invoice.status).in_((InvoiceStatus.SENT, InvoiceStatus.PAID)),
            col(Invoice.issue_date) >= bounds[0],
            col(Invoice.issue_date) < bounds[-1],
            scopes.invoice_scope(principal),
            params.in_view(col(Invoice.client_id)),
        )
    )
    both = sa.union_all(received_rows, invoiced_rows).subquery()
    statement = sa.select(both.c.kind, both.c.bucket, sa.func.sum(both.c.amount)).group_by(both.c.kind, both.c.bucket)
    sums = {(kind, int(bucket)): money(total) for kind, bucket, total in await db.rows(statement)}
    return [
        RevenuePoint(month, sums.get(("invoiced", i), money(0)), sums.get(("received", i), money(0)))
        for i, month in enumerate(starts)
    ]
