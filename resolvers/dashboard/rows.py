"""What the dashboard sections share: client predicates and base selects over the caller's rows
(each one composes the row scope of every table it reads, so a section that builds on them
aggregates the caller's rows only), and reading aggregates back into Python values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import Client, ClientCategory, ClientStatus, Invoice, InvoiceStatus, Payment, Role, User
from models.people import LoginEvent
from resolvers.sql_functions import midnight, month_bucket

# --------------------------------------------------------------------------- which clients


def became(boundary: dt.date) -> sa.ColumnElement[bool]:
    """The client had become a client before `boundary` (became_client_on, else created_at)."""
    return sa.or_(
        col(Client.became_client_on) < boundary,
        sa.and_(col(Client.became_client_on).is_(None), col(Client.created_at) < midnight(boundary)),
    )


def became_bucket(boundaries: Sequence[dt.date]) -> sa.ColumnElement[int]:
    return sa.case(
        (col(Client.became_client_on).is_not(None), month_bucket(col(Client.became_client_on), boundaries)),
        else_=month_bucket(col(Client.created_at), [midnight(b) for b in boundaries]),
    )


def not_churned() -> sa.ColumnElement[bool]:
    return col(Client.status_id).in_(
        sa.select(col(ClientStatus.id)).where(col(ClientStatus.category) != ClientCategory.CHURNED)
    )


def in_category(category: ClientCategory) -> sa.ColumnElement[bool]:
    return col(Client.status_id).in_(sa.select(col(ClientStatus.id)).where(col(ClientStatus.category) == category))


# --------------------------------------------------------------------------- row-scoped base selects


def revenue_rows(principal: Principal) -> sa.Select:
    """(client_id, amount, received_on) of every payment received on an invoice that is not VOID."""
    return (
        sa.select(
            col(Invoice.client_id).label("client_id"),
            col(Payment.amount).label("amount"),
            col(Payment.received_on).label("received_on"),
        )
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(
            col(Invoice.status) != InvoiceStatus.VOID,
            scopes.payment_scope(principal),
            scopes.invoice_scope(principal),
        )
    )


def portal_users_by_client(principal: Principal) -> sa.Subquery:
    """(client_id, users): how many active portal users each client has."""
    return (
        sa.select(col(User.client_id).label("client_id"), sa.func.count().label("users"))
        .where(col(User.role) == Role.CLIENT, col(User.is_active).is_(True), scopes.user_scope(principal))
        .group_by(col(User.client_id))
        .subquery()
    )


def portal_logins_by_client(principal: Principal, since: dt.datetime, *where: sa.ColumnElement[bool]) -> sa.Subquery:
    """(client_id, recent, last_at): each client's portal sign-ins since `since`, and the latest ever
    (`where`: conditions on `login_event`, e.g. narrowing to some clients before grouping)."""
    return (
        sa.select(
            col(LoginEvent.client_id).label("client_id"),
            sa.func.sum(sa.case((col(LoginEvent.occurred_at) >= since, 1), else_=0)).label("recent"),
            sa.func.max(col(LoginEvent.occurred_at)).label("last_at"),
        )
        .where(col(LoginEvent.client_id).is_not(None), scopes.login_event_scope(principal), *where)
        .group_by(col(LoginEvent.client_id))
        .subquery()
    )


# --------------------------------------------------------------------------- counts and values read back


def count_all() -> sa.ColumnElement[int]:
    """How many rows the statement yields before LIMIT: the indicator's full count."""
    return sa.func.count().over()


def days_since(now: dt.datetime, moment: dt.datetime | None) -> int | None:
    return None if moment is None else max(0, (now - moment).days)


def as_int(value: Any) -> int:
    return int(value or 0)


def as_datetime(value: Any) -> dt.datetime | None:
    """A UTC datetime from whatever an aggregate over a union handed back (SQLite: text)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
