"""The Clients Dashboard's own settings: each staff user's saved views, and the agency's weights of the
health score signals.

- `dashboard_view`: one saved view of the dashboard, its user's alone (auth.scopes.dashboard_view_scope):
  which sections it shows, the window, the quiet-days threshold, how many clients each list shows, the
  retention window and the clients it covers. Names are unique per user.
- `health_score_weight`: the weight the agency gives one signal of the health score
  (resolvers/dashboard/health_score.py), 0 to 100. A signal with no row has its default weight.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class DashboardSection(str, Enum):
    """A section of the Clients Dashboard a saved view may show."""

    BREAKDOWN = "BREAKDOWN"
    PROJECTS = "PROJECTS"
    FINANCIAL = "FINANCIAL"
    HEALTH = "HEALTH"
    ENGAGEMENT = "ENGAGEMENT"
    RETENTION = "RETENTION"
    HEALTH_SCORES = "HEALTH_SCORES"
    CAPACITY = "CAPACITY"


class HealthSignal(str, Enum):
    """A warning sign the health score weighs (resolvers/dashboard/health_score.py)."""

    OVERDUE_PAYMENTS = "OVERDUE_PAYMENTS"
    QUIET_DAYS = "QUIET_DAYS"
    PORTAL_LOGINS = "PORTAL_LOGINS"
    AT_RISK_PROJECTS = "AT_RISK_PROJECTS"
    RESPONSE_DELAYS = "RESPONSE_DELAYS"
    NPS = "NPS"
    SCOPE_CUTS = "SCOPE_CUTS"


class HealthBand(str, Enum):
    """Where a 0-100 health score falls: HEALTHY 75-100, WATCH 50-74, AT_RISK 0-49."""

    HEALTHY = "HEALTHY"
    WATCH = "WATCH"
    AT_RISK = "AT_RISK"


class DashboardView(SQLModel, table=True):
    """A staff user's saved dashboard view. `sections` is a JSON list of DashboardSection names;
    `client_filter` a JSON object of the clients the view covers (categories, statusIds, tiers,
    accountManagerIds: lists, each optional, combined with AND)."""

    __tablename__ = "dashboard_view"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "name", name="uq_dashboard_view_user_name"),
        sa.CheckConstraint("no_activity_days >= 1 AND months >= 1 AND top >= 1", name="positive_windows"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(sa_type=sa.String(100))
    sections: list[str] = Field(sa_type=sa.JSON)
    no_activity_days: int
    months: int
    top: int
    retention_months: int | None = Field(default=None)
    client_filter: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HealthScoreWeight(SQLModel, table=True):
    """The agency's weight for one health signal; an ADMIN sets it (setHealthScoreWeights)."""

    __tablename__ = "health_score_weight"
    __table_args__ = (sa.CheckConstraint("weight >= 0 AND weight <= 100", name="weight_range"),)

    signal: str = Field(sa_type=sa.String(40), primary_key=True)
    weight: int
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
