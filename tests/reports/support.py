"""What the dashboard and report tests share: the operations and two small hand-built agencies
whose every figure is worked out by hand in the docstrings below."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from models import (
    Activity,
    ActivityKind,
    ClientCategory,
    ClientStatus,
    CommentKind,
    Expense,
    Interaction,
    InteractionKind,
    InvoiceStatus,
    LoginEvent,
    Opportunity,
    OpportunityStage,
    ProjectHealth,
    ProjectStatus,
    Role,
    SatisfactionSurvey,
    TimeEntry,
)
from models.base import utcnow
from models.clients import STATUS_ACTIVE, STATUS_CHURNED, STATUS_ON_HOLD

DASHBOARD = """
query($days: Int) { clientsDashboard(noActivityDays: $days) {
  noActivityDays months
  breakdown { total byStatus { status { name category } count } byCategory { category count }
              newThisMonth newThisQuarter growth { month newClients totalClients } }
  projects { totalProjects activeProjects averagePerClient distribution { projects clients }
             byStatus { status count } byHealth { health count } }
  financial { totalOutstanding totalRevenue payingClients averageClientValue
              topClients { client { name } revenue } revenueTrend { month invoiced received } }
  health {
    overduePayments { count clients { client { name } amountOverdue overdueInvoices oldestDueDate daysOverdue } }
    noRecentActivity { count clients { client { name } daysSinceActivity } }
    noRecentPortalLogin { count clients { client { name } portalUsers daysSinceLogin } }
    atRiskProjects { count clients { client { name } atRiskProjects offTrackProjects } }
    readyForUpsell {
      count clients { client { name } reasons openOpportunities openOpportunityValue completedProjects } }
  }
  engagement {
    portalLogins { windowDays totalLogins clientsWithPortalUsers clientsWithLogins averagePerClient
                   clients { client { name } portalUsers logins } }
    lastInteractions { clientsContacted clientsNotContacted clients { client { name } daysSince } }
    responseTimes { answeredReplies unansweredReplies averageHours
                    clients { client { name } answeredReplies unansweredReplies averageHours } }
    satisfaction { responses promoters passives detractors averageScore nps clients { client { name } responses nps } }
  }
  retention { clientsAtStart retainedClients retentionRate annualChurnRate expectedLifetimeYears
              annualRevenuePerClient clientLifetimeValue }
} }
"""

# Every money figure of the dashboard: what a MEMBER is refused.
DASHBOARD_MONEY = {
    "FinancialSnapshot.totalOutstanding",
    "FinancialSnapshot.totalRevenue",
    "FinancialSnapshot.averageClientValue",
    "FinancialSnapshot.topClients",
    "FinancialSnapshot.payingClients",
    "FinancialSnapshot.revenueTrend",
    "HealthIndicators.overduePayments",
    "HealthIndicators.readyForUpsell",
    "RetentionMetrics.annualRevenuePerClient",
    "RetentionMetrics.clientLifetimeValue",
}

REPORT = """
query($id: ID!, $from: Date, $to: Date) { clientReport(clientId: $id, from: $from, to: $to) {
  client { name } from to
  portfolio { total completed cancelled successRate byStatus { status count } projects { name }
              timeline { project { name } startDate endDate status durationDays isLate } }
  financial { totalInvoiced invoiceCount totalRevenue outstanding averageProjectValue paymentHistory { amount } }
  time { totalHours billableHours nonBillableHours billableShare
         byProject { project { name } hours billableHours nonBillableHours } }
  profitability { revenue laborCost expenses totalCost profit margin }
  utilization { user { fullName } hours billableHours share laborCost }
} }
"""


def forbidden(body: dict) -> set[str]:
    return {e["extensions"]["field"] for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"}


@dataclass
class SmallAgency:
    now: dt.datetime
    manager: object
    member: object
    clients: dict[str, object]
    portal: dict[str, object]


async def dashboard_agency(factory) -> SmallAgency:
    """Five clients; the figures the dashboard must show:

    - acme  (Active, 400 days)  ACTIVE on-track + COMPLETED project; SENT 1000.00 due in 20 days,
            400.00 paid 5 days ago; open opportunity 5000.00; interaction 3 days ago; portal
            logins 5 and 50 days ago; surveys 10 and 9; a client reply answered in 4 h, one unanswered.
    - birch (VIP, 500 days)     COMPLETED + CANCELLED; PAID 2000.00, paid 30 days ago; feed entry
            10 days ago; a portal user who never signed in; a client reply answered in 6 h;
            a survey of 0 long before the window.
    - cedar (On Hold, 450 days) ON_HOLD AT_RISK project; SENT 500.00 due 15 days ago, unpaid;
            feed entry 60 days ago; portal login 45 days ago; survey 3.
    - dune  (Churned, 420 days) CANCELLED project.
    - elm   (Active, since the 1st of this month) ACTIVE OFF_TRACK project; DRAFT invoice;
            open opportunity 3000.00; survey 7.
    """
    now = utcnow()
    today = now.date()
    ago = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    manager = await factory.user(Role.MANAGER)
    member = await factory.user(Role.MEMBER)
    vip = await factory.add(ClientStatus(name="VIP", category=ClientCategory.ACTIVE, position=3))
    clients = {
        "acme": await factory.client("Acme", became_client_on=ago(400), last_interaction_at=now - dt.timedelta(days=3)),
        "birch": await factory.client("Birch", status_id=vip.id, became_client_on=ago(500)),
        "cedar": await factory.client("Cedar", status_id=STATUS_ON_HOLD, became_client_on=ago(450)),
        "dune": await factory.client("Dune", status_id=STATUS_CHURNED, became_client_on=ago(420)),
        "elm": await factory.client("Elm", status_id=STATUS_ACTIVE, became_client_on=today.replace(day=1)),
    }
    acme, birch, cedar, dune, elm = clients.values()
    portal = {key: await factory.portal_user(clients[key]) for key in ("acme", "birch", "cedar")}

    p1 = await factory.project(acme, status=ProjectStatus.ACTIVE, health=ProjectHealth.ON_TRACK)
    await factory.project(acme, status=ProjectStatus.COMPLETED)
    p3 = await factory.project(birch, status=ProjectStatus.COMPLETED)
    await factory.project(birch, status=ProjectStatus.CANCELLED)
    await factory.project(cedar, status=ProjectStatus.ON_HOLD, health=ProjectHealth.AT_RISK)
    await factory.project(dune, status=ProjectStatus.CANCELLED)
    await factory.project(elm, status=ProjectStatus.ACTIVE, health=ProjectHealth.OFF_TRACK)

    sent = await factory.invoice(acme, [("1", "1000.00")], issue_date=ago(10), due_date=ago(-20))
    await factory.payment(sent, "400.00", received_on=ago(5))
    paid = await factory.invoice(
        birch, [("2", "1000.00")], status=InvoiceStatus.PAID, issue_date=ago(40), due_date=ago(10)
    )
    await factory.payment(paid, "2000.00", received_on=ago(30))
    await factory.invoice(cedar, [("1", "500.00")], issue_date=ago(45), due_date=ago(15))
    await factory.invoice(elm, [("1", "700.00")], status=InvoiceStatus.DRAFT, issue_date=ago(2), due_date=ago(-28))

    await factory.add(
        Opportunity(client_id=acme.id, title="Phase 2", stage=OpportunityStage.IDENTIFIED, value=Decimal("5000.00")),
        Opportunity(client_id=elm.id, title="Retainer", stage=OpportunityStage.PROPOSED, value=Decimal("3000.00")),
        Opportunity(client_id=birch.id, title="Lost one", stage=OpportunityStage.LOST, value=Decimal("1000.00")),
        Interaction(
            client_id=acme.id, kind=InteractionKind.CALL, summary="Call", occurred_at=now - dt.timedelta(days=3)
        ),
        Activity(
            client_id=birch.id,
            kind=ActivityKind.PROJECT_UPDATED,
            summary="Update",
            occurred_at=now - dt.timedelta(days=10),
        ),
        Activity(
            client_id=cedar.id,
            kind=ActivityKind.PROJECT_UPDATED,
            summary="Paused",
            occurred_at=now - dt.timedelta(days=60),
        ),
        LoginEvent(user_id=portal["acme"].id, client_id=acme.id, occurred_at=now - dt.timedelta(days=5)),
        LoginEvent(user_id=portal["acme"].id, client_id=acme.id, occurred_at=now - dt.timedelta(days=50)),
        LoginEvent(user_id=portal["cedar"].id, client_id=cedar.id, occurred_at=now - dt.timedelta(days=45)),
        SatisfactionSurvey(client_id=acme.id, score=10, responded_at=now - dt.timedelta(days=20)),
        SatisfactionSurvey(client_id=acme.id, score=9, responded_at=now - dt.timedelta(days=40)),
        SatisfactionSurvey(client_id=cedar.id, score=3, responded_at=now - dt.timedelta(days=15)),
        SatisfactionSurvey(client_id=elm.id, score=7, responded_at=now - dt.timedelta(days=2)),
        SatisfactionSurvey(client_id=birch.id, score=0, responded_at=now - dt.timedelta(days=400)),
    )
    hours = lambda h: now - dt.timedelta(hours=h)  # noqa: E731
    t1 = await factory.task(p1)
    await factory.comment(t1, CommentKind.REPLY, "Question?", author_id=portal["acme"].id, created_at=hours(10))
    await factory.comment(t1, CommentKind.NOTE, "Internal", author_id=manager.id, created_at=hours(8))
    await factory.comment(t1, CommentKind.REPLY, "Answer", author_id=manager.id, created_at=hours(6))
    await factory.comment(t1, CommentKind.REPLY, "Another?", author_id=portal["acme"].id, created_at=hours(2))
    t3 = await factory.task(p3)
    await factory.comment(t3, CommentKind.REPLY, "Question?", author_id=portal["birch"].id, created_at=hours(30))
    await factory.comment(t3, CommentKind.REPLY, "Answer", author_id=member.id, created_at=hours(24))
    return SmallAgency(now, manager, member, clients, portal)


async def report_agency(factory) -> SmallAgency:
    """Acme, and Other (whose figures must never show up in Acme's report).

    Acme's projects: P1 ACTIVE, ended 20 days ago (late); P2 COMPLETED; P3 CANCELLED.
    Time: P1 dev 10 h billable (30 days ago) + dev 2 h non-billable (10 days ago) + des 5 h billable
    (100 days ago); P2 des 4 h billable (350 days ago). dev costs 50.00 an hour, des 40.00.
    Expenses: P1 200.00 (30 days ago), P3 50.00 (80 days ago).
    Invoices: PAID 3000.00 (paid 290 days ago), SENT 1500.00 with 500.00 paid 5 days ago, VOID 999.00, DRAFT 100.00.
    """
    now = utcnow()
    today = now.date()
    ago = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    manager = await factory.user(Role.MANAGER)
    member = await factory.user(Role.MEMBER, full_name="Member Mo")
    dev = await factory.user(Role.MEMBER, full_name="Dev Dana", hourly_cost_rate=Decimal("50.00"))
    des = await factory.user(Role.MEMBER, full_name="Des Dee", hourly_cost_rate=Decimal("40.00"))
    acme = await factory.client("Acme")
    other = await factory.client("Other")
    portal = {"acme": await factory.portal_user(acme), "other": await factory.portal_user(other)}

    p1 = await factory.project(acme, name="Build", status=ProjectStatus.ACTIVE, start_date=ago(200), end_date=ago(20))
    p2 = await factory.project(
        acme, name="Discovery", status=ProjectStatus.COMPLETED, start_date=ago(400), end_date=ago(300)
    )
    p3 = await factory.project(
        acme, name="Dropped", status=ProjectStatus.CANCELLED, start_date=ago(100), end_date=ago(50)
    )
    theirs = await factory.project(other, name="Theirs")

    def entry(user, project, hours, billable, days):
        return TimeEntry(
            user_id=user.id,
            project_id=project.id,
            work_date=ago(days),
            hours=Decimal(hours),
            billable=billable,
            cost_rate=user.hourly_cost_rate,
            bill_rate=Decimal("150.00"),
        )

    await factory.add(
        entry(dev, p1, "10", True, 30),
        entry(dev, p1, "2", False, 10),
        entry(des, p1, "5", True, 100),
        entry(des, p2, "4", True, 350),
        entry(dev, theirs, "99", True, 5),
        Expense(project_id=p1.id, description="Fonts", amount=Decimal("200.00"), incurred_on=ago(30)),
        Expense(project_id=p3.id, description="Stock", amount=Decimal("50.00"), incurred_on=ago(80)),
        Expense(project_id=theirs.id, description="Theirs", amount=Decimal("777.00"), incurred_on=ago(5)),
    )
    paid = await factory.invoice(
        acme, [("1", "3000.00")], status=InvoiceStatus.PAID, issue_date=ago(300), due_date=ago(270)
    )
    await factory.payment(paid, "3000.00", received_on=ago(290))
    sent = await factory.invoice(acme, [("1", "1500.00")], issue_date=ago(20), due_date=ago(-10))
    await factory.payment(sent, "500.00", received_on=ago(5))
    await factory.invoice(acme, [("1", "999.00")], status=InvoiceStatus.VOID, issue_date=ago(60), due_date=ago(30))
    await factory.invoice(acme, [("1", "100.00")], status=InvoiceStatus.DRAFT, issue_date=ago(1), due_date=ago(-29))
    their_invoice = await factory.invoice(other, [("1", "8888.00")])
    await factory.payment(their_invoice, "8888.00", received_on=ago(3))
    return SmallAgency(now, manager, member, {"acme": acme, "other": other}, portal)
