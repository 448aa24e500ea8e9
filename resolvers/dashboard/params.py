"""What the dashboard was asked for: the time windows every section reads, checked once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from resolvers.errors import InputError
from resolvers.sql_functions import month_starts

MAX_MONTHS = 36
MAX_TOP = 100
MAX_DAYS = 3650


@dataclass(frozen=True)
class DashboardParams:
    """What the dashboard was asked for; hashable, so each section is computed once per request."""

    now: dt.datetime
    no_activity_days: int = 30
    months: int = 12
    top: int = 10

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


def dashboard_params(*, now: dt.datetime, no_activity_days: int, months: int, top: int) -> DashboardParams:
    if not 1 <= no_activity_days <= MAX_DAYS:
        raise InputError("noActivityDays", "OUT_OF_RANGE", f"noActivityDays is between 1 and {MAX_DAYS}.")
    if not 1 <= months <= MAX_MONTHS:
        raise InputError("months", "OUT_OF_RANGE", f"months is between 1 and {MAX_MONTHS}.")
    if not 1 <= top <= MAX_TOP:
        raise InputError("top", "OUT_OF_RANGE", f"top is between 1 and {MAX_TOP}.")
    return DashboardParams(now=now, no_activity_days=no_activity_days, months=months, top=top)
