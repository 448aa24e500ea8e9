"""What the dashboard was asked for: the time windows every section reads, checked once; the sections
it shows and the clients it covers (from a saved view, resolvers/dashboard/views.py, or arguments)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from models import Client, ClientCategory, ClientStatus, ClientTier, DashboardSection
from resolvers.errors import InputError
from resolvers.sql_functions import month_starts

MAX_MONTHS = 36
MAX_TOP = 100
MAX_DAYS = 3650


@dataclass(frozen=True)
class DashboardClients:
    """The clients a dashboard covers: those matching every list given (each: any of its values).
    Empty lists filter nothing. Within the caller's row scope, always."""

    categories: tuple[ClientCategory, ...] = ()
    status_ids: tuple[int, ...] = ()
    tiers: tuple[ClientTier, ...] = ()
    account_manager_ids: tuple[int, ...] = ()

    def where(self) -> list[ColumnElement[bool]]:
        """Conditions on the `client` table."""
        conditions: list[ColumnElement[bool]] = []
        if self.categories:
            conditions.append(
                col(Client.status_id).in_(
                    sa.select(col(ClientStatus.id)).where(col(ClientStatus.category).in_(self.categories))
                )
            )
        if self.status_ids:
            conditions.append(col(Client.status_id).in_(self.status_ids))
        if self.tiers:
            conditions.append(col(Client.tier).in_(self.tiers))
        if self.account_manager_ids:
            conditions.append(col(Client.account_manager_id).in_(self.account_manager_ids))
        return conditions


@dataclass(frozen=True)
class DashboardParams:
    """What the dashboard was asked for; hashable, so each section is computed once per request."""

    now: dt.datetime
    no_activity_days: int = 30
    months: int = 12
    top: int = 10
    # The sections a saved view shows (None: every section); the others answer null, not computed.
    sections: frozenset[DashboardSection] | None = None
    clients: DashboardClients = field(default_factory=DashboardClients)
    view_id: int | None = None
    # The window of retention and lifetime value (months); None: `months`.
    retention_months: int | None = None

    def shows(self, section: DashboardSection) -> bool:
        return self.sections is None or section in self.sections

    def client_filter_where(self) -> list[ColumnElement[bool]]:
        """The view's clients filter as conditions on the `client` table (none when it has none)."""
        return self.clients.where()

    def in_view(self, client_id: Any) -> ColumnElement[bool]:
        """A client id column within the view's clients (true when the view covers every client)."""
        where = self.clients.where()
        return col(client_id).in_(sa.select(col(Client.id)).where(*where)) if where else sa.true()

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def cutoff(self) -> dt.datetime:
        return self.now - dt.timedelta(days=self.no_activity_days)

    @property
    def months_list(self) -> list[dt.date]:
        return month_starts(self.today, self.months)

    @property
    def window_start(self) -> dt.date:
        return self.months_list[0]


def dashboard_params(
    *,
    now: dt.datetime,
    no_activity_days: int,
    months: int,
    top: int,
    sections: frozenset[DashboardSection] | None = None,
    clients: DashboardClients | None = None,
    view_id: int | None = None,
    retention_months: int | None = None,
) -> DashboardParams:
    check_windows(no_activity_days=no_activity_days, months=months, top=top)
    if retention_months is not None:
        check_windows(no_activity_days=1, months=retention_months, top=1, field_names={"months": "retentionMonths"})
    return DashboardParams(
        now=now,
        no_activity_days=no_activity_days,
        months=months,
        top=top,
        sections=sections,
        clients=clients or DashboardClients(),
        view_id=view_id,
        retention_months=retention_months,
    )


def check_windows(
    *, no_activity_days: int, months: int, top: int, prefix: str = "", field_names: dict[str, str] | None = None
) -> None:
    """The dashboard's numbers in range, else an OUT_OF_RANGE error on the one at fault (`prefix`: where
    they sit in the request, `input.` in a saved view's input)."""
    if not 1 <= no_activity_days <= MAX_DAYS:
        raise InputError(prefix + "noActivityDays", "OUT_OF_RANGE", f"noActivityDays is between 1 and {MAX_DAYS}.")
    if not 1 <= months <= MAX_MONTHS:
        name = (field_names or {}).get("months", "months")
        raise InputError(prefix + name, "OUT_OF_RANGE", f"{name} is between 1 and {MAX_MONTHS}.")
    if not 1 <= top <= MAX_TOP:
        raise InputError(prefix + "top", "OUT_OF_RANGE", f"top is between 1 and {MAX_TOP}.")
