"""The Clients Dashboard: the agency's client health at a glance (staff only).

Each field reads one section loader (`info.context.loaders.dashboard`), so a section is one
SQL aggregate computed once per request, and only when the query asks for it. The
definitions behind each figure are in resolvers/dashboard/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import cast

import strawberry

from models import DashboardSection
from models.enums import ClientCategory, ProjectHealth, ProjectStatus
from resolvers import dashboard as d
from resolvers.dashboard import UpsellReason, account_health
from resolvers.dashboard.params import check_windows
from schema.clients.types import Client, ClientStatus
from schema.context import Info
from schema.dashboard.health import HealthScoreSummary
from schema.dashboard.views import DashboardView
from schema.people.types import User

# Registered in place, like schema/enums.py: the resolvers' enum class is the GraphQL enum.
strawberry.enum(UpsellReason, description="Why a client looks ready for more work.")


def _reports(info: Info):
    return info.context.loaders.dashboard


@strawberry.type
class ClientStatusCount:
    status: ClientStatus
    count: int


@strawberry.type
class ClientCategoryCount:
    category: ClientCategory
    count: int


@strawberry.type(description="One month of client growth.")
class ClientGrowthPoint:
    month: dt.date = strawberry.field(description="The first day of the month.")
    new_clients: int = strawberry.field(description="Clients who became clients that month.")
    total_clients: int = strawberry.field(description="Clients who had become clients by the month's end.")


@strawberry.type(description="How many clients, by status and category, and how the book grows.")
class ClientBreakdown:
    params: strawberry.Private[d.DashboardParams]

    @strawberry.field
    async def total(self, info: Info) -> int | None:
        return sum(s.count for s in await _reports(info).client_status_counts.load(self.params))

    @strawberry.field(description="Every status, custom ones included, zeros too.")
    async def by_status(self, info: Info) -> list[ClientStatusCount] | None:
        return await _reports(info).client_status_counts.load(self.params)

    @strawberry.field
    async def by_category(self, info: Info) -> list[ClientCategoryCount] | None:
        counts = d.category_counts(await _reports(info).client_status_counts.load(self.params))
        return [ClientCategoryCount(category=c.category, count=c.count) for c in counts]

    @strawberry.field
    async def new_this_month(self, info: Info) -> int | None:
        return (await _reports(info).new_clients.load(self.params)).this_month

    @strawberry.field
    async def new_this_quarter(self, info: Info) -> int | None:
        return (await _reports(info).new_clients.load(self.params)).this_quarter

    @strawberry.field(description="One point per month of the dashboard's window, oldest first.")
    async def growth(self, info: Info) -> list[ClientGrowthPoint] | None:
        return await _reports(info).client_growth.load(self.params)


@strawberry.type
class ProjectStatusCount:
    status: ProjectStatus
    count: int


@strawberry.type
class ProjectHealthCount:
    health: ProjectHealth | None
    count: int


@strawberry.type(description="How many clients have this many projects.")
class ProjectCountBucket:
    projects: int
    clients: int


@strawberry.type
class ProjectOverview:
    params: strawberry.Private[d.DashboardParams]

    async def _counts(self, info: Info) -> d.ProjectCounts:
        return await _reports(info).project_counts.load(self.params)

    @strawberry.field
    async def total_projects(self, info: Info) -> int | None:
        return (await self._counts(info)).total

    @strawberry.field
    async def active_projects(self, info: Info) -> int | None:
        return (await self._counts(info)).active

    @strawberry.field(description="Projects, past and present, per visible client (zero-project clients included).")
    async def average_per_client(self, info: Info) -> float | None:
        buckets = await _reports(info).projects_per_client.load(self.params)
        clients = sum(b.clients for b in buckets)
        return round(sum(b.projects * b.clients for b in buckets) / clients, 2) if clients else None

    @strawberry.field
    async def distribution(self, info: Info) -> list[ProjectCountBucket] | None:
        return await _reports(info).projects_per_client.load(self.params)

    @strawberry.field
    async def by_status(self, info: Info) -> list[ProjectStatusCount] | None:
        return [ProjectStatusCount(status=s, count=n) for s, n in (await self._counts(info)).by_status.items()]

    @strawberry.field(description="Health of the ACTIVE projects.")
    async def by_health(self, info: Info) -> list[ProjectHealthCount] | None:
        return [ProjectHealthCount(health=h, count=n) for h, n in (await self._counts(info)).by_health.items()]


@strawberry.type
class ClientRevenue:
    client: Client
    revenue: Decimal | None


@strawberry.type(description="One month of money: invoiced (by issue date) and received (by the day paid).")
class RevenuePoint:
    month: dt.date
    invoiced: Decimal | None
    received: Decimal | None


@strawberry.type
class FinancialSnapshot:
    params: strawberry.Private[d.DashboardParams]

    @strawberry.field(description="Billed on sent invoices and not yet received, over all clients.")
    async def total_outstanding(self, info: Info) -> Decimal | None:
        return await _reports(info).total_outstanding.load(self.params)

    @strawberry.field(description="Every payment received to date.")
    async def total_revenue(self, info: Info) -> Decimal | None:
        return (await _reports(info).revenue_totals.load(self.params)).revenue

    @strawberry.field(description="Clients that have paid anything.")
    async def paying_clients(self, info: Info) -> int | None:
        return (await _reports(info).revenue_totals.load(self.params)).paying_clients

    @strawberry.field(description="Revenue to date / paying clients.")
    async def average_client_value(self, info: Info) -> Decimal | None:
        return (await _reports(info).revenue_totals.load(self.params)).average_client_value

    @strawberry.field(description="The clients that paid the most, to date (at most `top`).")
    async def top_clients(self, info: Info) -> list[ClientRevenue] | None:
        return await _reports(info).top_clients_by_revenue.load(self.params)

    @strawberry.field(description="One point per month of the dashboard's window, oldest first.")
    async def revenue_trend(self, info: Info) -> list[RevenuePoint] | None:
        return await _reports(info).revenue_trend.load(self.params)


@strawberry.type
class OverdueClient:
    client: Client
    amount_overdue: Decimal | None
    overdue_invoices: int | None
    oldest_due_date: dt.date | None
    days_overdue: int | None


@strawberry.type(description="Clients with a sent invoice past its due date and not fully paid, largest first.")
class OverdueClients:
    count: int
    clients: list[OverdueClient]


@strawberry.type
class QuietClient:
    client: Client
    last_activity_at: dt.datetime | None
    days_since_activity: int | None


@strawberry.type(
    description="Clients not churned with no activity, interaction or feed entry in N days, quietest first."
)
class QuietClients:
    count: int
    clients: list[QuietClient]


@strawberry.type
class PortalLoginGap:
    client: Client
    portal_users: int | None
    last_portal_login_at: dt.datetime | None
    days_since_login: int | None


@strawberry.type(description="Clients not churned that have portal users but no portal sign-in in N days.")
class PortalLoginGaps:
    count: int
    clients: list[PortalLoginGap]


@strawberry.type
class AtRiskClient:
    client: Client
    at_risk_projects: int | None
    off_track_projects: int | None


@strawberry.type(description="Clients with an ACTIVE or ON_HOLD project that is AT_RISK or OFF_TRACK.")
class AtRiskClients:
    count: int
    clients: list[AtRiskClient]


@strawberry.type
class UpsellClient:
    client: Client
    reasons: list[UpsellReason] | None
    open_opportunities: int | None
    open_opportunity_value: Decimal | None
    completed_projects: int | None


@strawberry.type(
    description="ACTIVE clients in good standing (no overdue invoice, no at-risk project) with an open "
    "opportunity, or with completed work and no active project."
)
class UpsellClients:
    count: int
    clients: list[UpsellClient]


@strawberry.type
class ScopeCutClient:
    client: Client
    reductions: int | None = strawberry.field(description="Budget cuts and cancellations.")
    budget_cuts: int | None
    cancellations: int | None
    changes: int | None = strawberry.field(description="Every scope change in the window, reductions included.")


@strawberry.type(
    description="Clients with a scope reduction (a budget lowered, a project cancelled) since the start of the "
    "window, the most first."
)
class ScopeCutClients:
    count: int
    clients: list[ScopeCutClient]


@strawberry.type(
    description="Which clients need attention; each list holds at most `top` clients, `count` all of them."
)
class HealthIndicators:
    params: strawberry.Private[d.DashboardParams]

    @strawberry.field
    async def overdue_payments(self, info: Info) -> OverdueClients | None:
        return await _reports(info).overdue_clients.load(self.params)

    @strawberry.field
    async def no_recent_activity(self, info: Info) -> QuietClients | None:
        return await _reports(info).quiet_clients.load(self.params)

    @strawberry.field
    async def no_recent_portal_login(self, info: Info) -> PortalLoginGaps | None:
        return await _reports(info).portal_login_gaps.load(self.params)

    @strawberry.field
    async def at_risk_projects(self, info: Info) -> AtRiskClients | None:
        return await _reports(info).at_risk_clients.load(self.params)

    @strawberry.field
    async def ready_for_upsell(self, info: Info) -> UpsellClients | None:
        return await _reports(info).upsell_clients.load(self.params)

    @strawberry.field(description='The guide\'s "scope reduction or project cancellations" (the months window).')
    async def scope_reductions(self, info: Info) -> ScopeCutClients | None:
        return await _reports(info).scope_reductions.load(self.params)


@strawberry.type
class ClientPortalLogins:
    client: Client
    portal_users: int | None
    logins: int | None
    last_login_at: dt.datetime | None


@strawberry.type(description="Portal sign-ins in the last N days, over clients that have portal users.")
class PortalLoginSummary:
    window_days: int | None
    total_logins: int | None
    clients_with_portal_users: int | None
    clients_with_logins: int | None
    average_per_client: float | None = strawberry.field(description="Sign-ins per client with portal users.")
    clients: list[ClientPortalLogins] | None = strawberry.field(description="The busiest first (at most `top`).")


@strawberry.type
class ClientLastInteraction:
    client: Client
    last_interaction_at: dt.datetime | None
    days_since: int | None


@strawberry.type(description="Last logged interaction by client (clients not churned).")
class LastInteractionSummary:
    clients_contacted: int | None = strawberry.field(description="Clients with an interaction in the last N days.")
    clients_not_contacted: int | None
    clients: list[ClientLastInteraction] | None = strawberry.field(description="Longest without contact first.")


@strawberry.type
class ClientResponseTime:
    client: Client
    answered_replies: int | None
    unanswered_replies: int | None
    average_hours: float | None


@strawberry.type(
    description="Time from a REPLY to the next REPLY from the other side in the same thread (responseTimes: the "
    "team answering the client; clientResponseTimes: the client answering the team)."
)
class ResponseTimeSummary:
    answered_replies: int | None
    unanswered_replies: int | None = strawberry.field(description="Replies the other side has not answered yet.")
    average_hours: float | None
    clients: list[ClientResponseTime] | None = strawberry.field(description="The slowest answered first.")


@strawberry.type
class ClientSatisfaction:
    client: Client
    responses: int | None
    average_score: float | None
    nps: float | None
    last_responded_at: dt.datetime | None


@strawberry.type(description="Survey answers (0-10) since the start of the window; NPS = % promoters - % detractors.")
class SatisfactionSummary:
    since: dt.date | None
    responses: int | None
    promoters: int | None = strawberry.field(description="Scores of 9 or 10.")
    passives: int | None = strawberry.field(description="Scores of 7 or 8.")
    detractors: int | None = strawberry.field(description="Scores of 0 to 6.")
    average_score: float | None
    nps: float | None = strawberry.field(description="From -100 to 100; null without answers.")
    clients: list[ClientSatisfaction] | None = strawberry.field(description="The least satisfied first.")


@strawberry.type
class EngagementMetrics:
    params: strawberry.Private[d.DashboardParams]

    @strawberry.field
    async def portal_logins(self, info: Info) -> PortalLoginSummary | None:
        return await _reports(info).portal_logins.load(self.params)

    @strawberry.field
    async def last_interactions(self, info: Info) -> LastInteractionSummary | None:
        return await _reports(info).last_interactions.load(self.params)

    @strawberry.field
    async def response_times(self, info: Info) -> ResponseTimeSummary | None:
        return await _reports(info).response_times.load(self.params)

    @strawberry.field
    async def satisfaction(self, info: Info) -> SatisfactionSummary | None:
        return await _reports(info).satisfaction.load(self.params)

    @strawberry.field(
        description="The other way round: time from a staff REPLY (an update, a question, an approval request) to "
        "the client's next REPLY in the same thread, on threads the client sees; the slowest clients first."
    )
    async def client_response_times(self, info: Info) -> ResponseTimeSummary | None:
        return await _reports(info).client_response_times.load(self.params)


@strawberry.type
class MemberClientHours:
    client: Client
    hours: Decimal | None


@strawberry.type
class MemberCapacity:
    user: User | None
    hours: Decimal | None
    billable_hours: Decimal | None
    billable_share: float | None
    hours_per_week: Decimal | None = strawberry.field(description="hours / the window's weeks.")
    clients: int | None = strawberry.field(description="Clients the member logged time for.")
    projects: int | None
    params: strawberry.Private[d.DashboardParams]
    user_id: strawberry.Private[int]

    @strawberry.field(description="The member's hours by client, the most first.")
    async def by_client(self, info: Info) -> list[MemberClientHours] | None:
        split = await _reports(info).capacity_by_client.load(self.params)
        return [MemberClientHours(client=h.client, hours=h.hours) for h in split.get(self.user_id, [])]


@strawberry.type(
    description="Hours per team member across clients over the last N days (by work date), the busiest first "
    "(at most `top`): for balancing workload across accounts."
)
class TeamCapacity:
    params: strawberry.Private[d.DashboardParams]

    async def _capacity(self, info: Info) -> account_health.Capacity:
        return await _reports(info).capacity.load(self.params)

    @strawberry.field
    async def start(self, info: Info) -> dt.date | None:
        return (await self._capacity(info)).start

    @strawberry.field
    async def end(self, info: Info) -> dt.date | None:
        return (await self._capacity(info)).end

    @strawberry.field(description="Every member's hours in the window (of the members listed).")
    async def total_hours(self, info: Info) -> Decimal | None:
        return (await self._capacity(info)).total_hours

    @strawberry.field
    async def members(self, info: Info) -> list[MemberCapacity] | None:
        found = await self._capacity(info)
        return [
            MemberCapacity(
                user=cast(User, m.user),
                hours=m.hours,
                billable_hours=m.billable_hours,
                billable_share=m.billable_share,
                hours_per_week=(m.hours / Decimal(str(found.weeks))).quantize(Decimal("0.01")),
                clients=m.clients,
                projects=m.projects,
                params=self.params,
                user_id=cast(int, m.user.id),
            )
            for m in found.members
        ]


@strawberry.type(
    description="Retention over the window and client lifetime value. Lifetime value = annual revenue per paying "
    "client x expected lifetime (1 / annual churn, at most 10 years)."
)
class RetentionMetrics:
    params: strawberry.Private[d.DashboardParams]

    async def _retention(self, info: Info) -> d.Retention:
        return await _reports(info).retention.load(self.params)

    @strawberry.field(description="The window, in months.")
    def months(self) -> int | None:
        return self.params.months

    @strawberry.field(description="The first day of the window.")
    async def period_start(self, info: Info) -> dt.date | None:
        return (await self._retention(info)).period_start

    @strawberry.field(description="Clients who had become clients before the window started.")
    async def clients_at_start(self, info: Info) -> int | None:
        return (await self._retention(info)).clients_at_start

    @strawberry.field(description="Of those, the clients not churned today.")
    async def retained_clients(self, info: Info) -> int | None:
        return (await self._retention(info)).retained_clients

    @strawberry.field(description="retainedClients / clientsAtStart, from 0 to 1.")
    async def retention_rate(self, info: Info) -> float | None:
        return (await self._retention(info)).retention_rate

    @strawberry.field(description="1 - retentionRate ^ (12 / window months), from 0 to 1.")
    async def annual_churn_rate(self, info: Info) -> float | None:
        return (await self._retention(info)).annual_churn_rate

    @strawberry.field
    async def expected_lifetime_years(self, info: Info) -> float | None:
        return (await self._retention(info)).expected_lifetime_years

    @strawberry.field(description="Payments received in the window / clients who paid in it, annualised.")
    async def annual_revenue_per_client(self, info: Info) -> Decimal | None:
        return (await self._retention(info)).annual_revenue_per_client

    @strawberry.field
    async def client_lifetime_value(self, info: Info) -> Decimal | None:
        return (await self._retention(info)).client_lifetime_value


@strawberry.type(description="The Clients Dashboard: client health and metrics across the agency. Staff only.")
class ClientsDashboard:
    params: strawberry.Private[d.DashboardParams]

    @strawberry.field(description="When the figures were computed.")
    def as_of(self) -> dt.datetime | None:
        return self.params.now

    @strawberry.field(description="N: the quiet period of the health indicators and the portal-login window.")
    def no_activity_days(self) -> int | None:
        return self.params.no_activity_days

    @strawberry.field(description="The window of the monthly series, NPS and retention, in months.")
    def months(self) -> int | None:
        return self.params.months

    @strawberry.field(description="The saved view the dashboard was asked with (viewId), else null.")
    async def view(self, info: Info) -> DashboardView | None:
        if self.params.view_id is None:
            return None
        return await info.context.loaders.dashboard.view.load(self.params.view_id)  # type: ignore[no-any-return]

    @strawberry.field(description="The sections shown: the view's, else all. The others answer null.")
    def sections(self) -> list[DashboardSection] | None:
        return [s for s in DashboardSection if self.params.shows(s)]

    @strawberry.field
    def breakdown(self) -> ClientBreakdown | None:
        return ClientBreakdown(params=self.params) if self.params.shows(DashboardSection.BREAKDOWN) else None

    @strawberry.field
    def projects(self) -> ProjectOverview | None:
        return ProjectOverview(params=self.params) if self.params.shows(DashboardSection.PROJECTS) else None

    @strawberry.field
    def financial(self) -> FinancialSnapshot | None:
        return FinancialSnapshot(params=self.params) if self.params.shows(DashboardSection.FINANCIAL) else None

    @strawberry.field
    def health(self) -> HealthIndicators | None:
        return HealthIndicators(params=self.params) if self.params.shows(DashboardSection.HEALTH) else None

    @strawberry.field
    def engagement(self) -> EngagementMetrics | None:
        return EngagementMetrics(params=self.params) if self.params.shows(DashboardSection.ENGAGEMENT) else None

    @strawberry.field(
        description="Retention and lifetime value over a window of `months` months (1 to 36): the argument, else "
        "the view's retention window, else the dashboard's window."
    )
    def retention(self, months: int | None = None) -> RetentionMetrics | None:
        if not self.params.shows(DashboardSection.RETENTION):
            return None
        window = months or self.params.retention_months or self.params.months
        if months is not None:
            check_windows(no_activity_days=1, months=months, top=1)
        return RetentionMetrics(params=dataclasses.replace(self.params, months=window))

    @strawberry.field(description="The custom health score: its distribution over the clients, the lowest first.")
    def health_scores(self) -> HealthScoreSummary | None:
        return HealthScoreSummary(params=self.params) if self.params.shows(DashboardSection.HEALTH_SCORES) else None

    @strawberry.field
    def capacity(self) -> TeamCapacity | None:
        return TeamCapacity(params=self.params) if self.params.shows(DashboardSection.CAPACITY) else None
