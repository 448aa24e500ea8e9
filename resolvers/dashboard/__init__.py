"""The Clients Dashboard: agency-wide figures, each one SQL aggregate over the caller's rows.

Every section function issues exactly one statement (GROUP BY, window counts), whatever the
number of clients, and composes the row scope of every table it reads. The lists of
clients (top clients, health indicators) select the Client rows in the same statement,
so showing a client's name costs nothing more.

One module per dashboard section, each with the definitions behind its figures in its
docstring:

- `params`: what the dashboard was asked for (now, the N-day cutoff, the month window, top N).
- `breakdown`: clients by status and category, new clients, growth.
- `projects`: projects by status and health, projects per client.
- `financial`: outstanding, revenue to date, top clients by revenue, the revenue trend.
- `health`: overdue, quiet, no portal login, at-risk and ready-for-upsell clients.
- `engagement`: portal sign-ins, last interactions, response times, satisfaction (NPS).
- `client_retention`: retention rate and client lifetime value.
- `rows`: what the sections share: client predicates, row-scoped base selects, value readers.

Every public name is re-exported here, so `from resolvers import dashboard` keeps working.
"""

from __future__ import annotations

from resolvers.dashboard.breakdown import (
    CategoryCount,
    GrowthPoint,
    NewClients,
    StatusCount,
    category_counts,
    client_growth,
    client_status_counts,
    new_clients,
)
from resolvers.dashboard.client_retention import (
    LIFETIME_CAP_YEARS,
    Retention,
    retention,
)
from resolvers.dashboard.engagement import (
    STAFF_ROLES,
    ClientLastInteraction,
    ClientPortalLogins,
    ClientResponseTime,
    ClientSatisfaction,
    LastInteractions,
    PortalLogins,
    ResponseTimes,
    Satisfaction,
    last_interactions,
    portal_logins,
    response_times,
    satisfaction,
)
from resolvers.dashboard.financial import (
    ClientRevenue,
    RevenuePoint,
    RevenueTotals,
    revenue_totals,
    revenue_trend,
    top_clients_by_revenue,
    total_outstanding,
)
from resolvers.dashboard.health import (
    OPEN_PROJECT,
    OPEN_STAGES,
    RISKY_HEALTH,
    AtRiskClient,
    ClientList,
    OverdueClient,
    PortalLoginGap,
    QuietClient,
    UpsellClient,
    UpsellReason,
    at_risk_clients,
    overdue_clients,
    portal_login_gaps,
    quiet_clients,
    upsell_clients,
)
from resolvers.dashboard.params import (
    MAX_DAYS,
    MAX_MONTHS,
    MAX_TOP,
    DashboardParams,
    dashboard_params,
)
from resolvers.dashboard.projects import (
    ProjectBucket,
    ProjectCounts,
    project_counts,
    projects_per_client,
)

__all__ = [
    "LIFETIME_CAP_YEARS",
    "MAX_DAYS",
    "MAX_MONTHS",
    "MAX_TOP",
    "OPEN_PROJECT",
    "OPEN_STAGES",
    "RISKY_HEALTH",
    "STAFF_ROLES",
    "AtRiskClient",
    "CategoryCount",
    "ClientLastInteraction",
    "ClientList",
    "ClientPortalLogins",
    "ClientResponseTime",
    "ClientRevenue",
    "ClientSatisfaction",
    "DashboardParams",
    "GrowthPoint",
    "LastInteractions",
    "NewClients",
    "OverdueClient",
    "PortalLoginGap",
    "PortalLogins",
    "ProjectBucket",
    "ProjectCounts",
    "QuietClient",
    "ResponseTimes",
    "Retention",
    "RevenuePoint",
    "RevenueTotals",
    "Satisfaction",
    "StatusCount",
    "UpsellClient",
    "UpsellReason",
    "at_risk_clients",
    "category_counts",
    "client_growth",
    "client_status_counts",
    "dashboard_params",
    "last_interactions",
    "new_clients",
    "overdue_clients",
    "portal_login_gaps",
    "portal_logins",
    "project_counts",
    "projects_per_client",
    "quiet_clients",
    "response_times",
    "retention",
    "revenue_totals",
    "revenue_trend",
    "satisfaction",
    "top_clients_by_revenue",
    "total_outstanding",
    "upsell_clients",
]
