"""Client reports the guide lists that were missing: timeline adherence and scope change frequency per
client; and the portal's profitability, which is the staff figure (hours on hidden tasks included)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from models import Client, ProjectStatus, ScopeChange, ScopeChangeKind, TimeEntry
from models.base import utcnow
from tests.factories import PASSWORD
from tests.reports.support import forbidden, report_agency
from tests.utils import gid, portal, staff

ADHERENCE = """query($id: ID!, $from: Date, $to: Date) { clientReport(clientId: $id, from: $from, to: $to) {
  portfolio { timelineAdherence { onTime late overdue rate }
              timeline { project { name } status completedAt onTime isLate } }
  scopeChanges { changes reductions budgetChanges endDateMoves tasksAdded cancellations projectsChanged perProject }
} }"""
PROFIT = """query($id: ID!) { clientReport(clientId: $id) {
  time { totalHours }
  profitability { revenue hours hiddenTaskHours laborCost expenses totalCost profit margin }
} }"""


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


async def test_timeline_adherence_and_scope_change_frequency_per_client(api, factory):
    _, token = await staff(api, factory)
    acme, other = await factory.client("Acme"), await factory.client("Other")
    _, acme_token = await portal(api, factory, acme)
    _, other_token = await portal(api, factory, other)
    today = utcnow().date()
    end = today - dt.timedelta(days=30)
    specs = [
        # name, status, end date, completed at
        ("On time", ProjectStatus.COMPLETED, end, at(end, 22)),
        ("Late", ProjectStatus.COMPLETED, end, at(end + dt.timedelta(days=3), 9)),
        ("Overdue", ProjectStatus.ACTIVE, end, None),
        ("Open", ProjectStatus.ACTIVE, today + dt.timedelta(days=9), None),
        ("Dropped", ProjectStatus.CANCELLED, end, None),
    ]
    made = {}
    for i, (name, status, end_date, completed_at) in enumerate(specs):
        made[name] = await factory.project(
            acme,
            name=name,
            status=status,
            end_date=end_date,
            completed_at=completed_at,
            start_date=end - dt.timedelta(days=100 - i),
        )
    theirs = await factory.project(other, name="Theirs", status=ProjectStatus.ACTIVE, end_date=end)
    log = [
        (made["On time"], ScopeChangeKind.TASK_ADDED, False, 80),
        (made["Late"], ScopeChangeKind.END_DATE_MOVED, False, 60),
        (made["Late"], ScopeChangeKind.BUDGET_CHANGED, True, 50),
        (made["Dropped"], ScopeChangeKind.PROJECT_CANCELLED, True, 10),
        (theirs, ScopeChangeKind.TASK_ADDED, False, 5),
    ]
    await factory.add(
        *[
            ScopeChange(project_id=p.id, kind=k, is_reduction=r, occurred_at=utcnow() - dt.timedelta(days=d))
            for p, k, r, d in log
        ]
    )

    # Worked out from the specs: completed by the end date's last hour, or not; open past it.
    on_time = sum(1 for _, s, e, c in specs if s is ProjectStatus.COMPLETED and c.date() <= e)
    late = sum(1 for _, s, e, c in specs if s is ProjectStatus.COMPLETED and c.date() > e)
    overdue = sum(1 for _, s, e, _ in specs if s is ProjectStatus.ACTIVE and e < today)
    adherence = {
        "onTime": on_time,
        "late": late,
        "overdue": overdue,
        "rate": round(on_time / (on_time + late + overdue), 4),
    }
    assert adherence == {"onTime": 1, "late": 1, "overdue": 1, "rate": 0.3333}
    acme_log = [e for e in log if e[0].client_id == acme.id]
    frequency = {
        "changes": len(acme_log),
        "reductions": sum(1 for e in acme_log if e[2]),
        "budgetChanges": 1,
        "endDateMoves": 1,
        "tasksAdded": 1,
        "cancellations": 1,
        "projectsChanged": len({e[0].id for e in acme_log}),
        "perProject": round(len(acme_log) / len(specs), 4),
    }
    assert (frequency["changes"], frequency["projectsChanged"], frequency["perProject"]) == (4, 3, 0.8)

    variables = {"id": gid("Client", acme)}
    report = (await api.data(ADHERENCE, variables, token))["clientReport"]
    assert report["portfolio"]["timelineAdherence"] == adherence
    timeline = {entry["project"]["name"]: entry for entry in report["portfolio"]["timeline"]}
    assert (timeline["On time"]["onTime"], timeline["On time"]["isLate"]) == (True, False)
    assert (timeline["Late"]["onTime"], timeline["Late"]["isLate"]) == (False, True)
    assert dt.datetime.fromisoformat(timeline["Late"]["completedAt"]) == specs[1][3]
    assert (timeline["Overdue"]["onTime"], timeline["Overdue"]["isLate"]) == (None, True)
    assert (timeline["Open"]["onTime"], timeline["Open"]["isLate"]) == (None, False)
    assert report["scopeChanges"] == frequency

    # The date range narrows the scope changes by when they were made: the last 55 days.
    narrowed = {**variables, "from": (today - dt.timedelta(days=55)).isoformat(), "to": today.isoformat()}
    in_range = (await api.data(ADHERENCE, narrowed, token))["clientReport"]
    assert (in_range["scopeChanges"]["changes"], in_range["scopeChanges"]["reductions"]) == (2, 2)
    assert in_range["portfolio"]["timelineAdherence"] == adherence  # lifetime, like the portfolio

    # The portal user of Acme: its timeline adherence, no scope log (the agency's reading).
    body = await api.post(ADHERENCE, variables, acme_token)
    assert forbidden(body) == {"ClientReport.scopeChanges"}
    assert body["data"]["clientReport"]["portfolio"]["timelineAdherence"] == adherence
    assert body["data"]["clientReport"]["scopeChanges"] is None
    # A portal user of another company: no report of Acme; its own counts its own project only.
    assert await api.post(ADHERENCE, variables, other_token) == {"data": {"clientReport": None}}
    own = await api.post(ADHERENCE, {"id": gid("Client", other)}, other_token)
    assert own["data"]["clientReport"]["portfolio"]["timelineAdherence"] == {
        "onTime": 0,
        "late": 0,
        "overdue": 1,
        "rate": 0.0,
    }


async def test_the_portals_profitability_is_the_staff_figure_hidden_task_hours_included(api, factory, db):
    agency = await report_agency(factory)
    acme = agency.clients["acme"]
    async with db() as session, session.begin():
        await session.execute(sa.update(Client).where(Client.id == acme.id).values(show_costs_in_portal=True))
        build = (await session.execute(sa.text("SELECT id FROM project WHERE name = 'Build'"))).scalar_one()
    dev_rate = Decimal("50.00")
    hidden = await factory.task(await _project(db, build), title="Refactor", visible_to_client=False)
    dev = await _user(db, "Dev Dana")
    await factory.add(
        TimeEntry(
            user_id=dev,
            project_id=build,
            task_id=hidden.id,
            work_date=utcnow().date() - dt.timedelta(days=7),
            hours=Decimal("13"),
            billable=True,
            cost_rate=dev_rate,
            bill_rate=Decimal("150.00"),
        )
    )
    # The report agency's own figures (tests/reports/support.py): 21 hours costing 960.00, expenses
    # 250.00, revenue 3500.00; plus the 13 hidden hours at 50.00.
    labor = Decimal("960.00") + 13 * dev_rate
    profit = Decimal("3500.00") - labor - Decimal("250.00")
    expected = {
        "revenue": "3500.00",
        "hours": "34.00",
        "hiddenTaskHours": "13.00",
        "laborCost": f"{labor:.2f}",
        "expenses": "250.00",
        "totalCost": f"{labor + Decimal('250.00'):.2f}",
        "profit": f"{profit:.2f}",
        "margin": round(float(profit / Decimal("3500.00")), 4),
    }
    variables = {"id": gid("Client", acme)}
    manager = await api.login(agency.manager.email, PASSWORD)
    staff_report = (await api.data(PROFIT, variables, manager))["clientReport"]
    assert staff_report["profitability"] == expected and staff_report["time"]["totalHours"] == "34.00"

    portal_token = await api.login(agency.portal["acme"].email, PASSWORD)
    portal_report = (await api.data(PROFIT, variables, portal_token))["clientReport"]
    assert portal_report["profitability"] == staff_report["profitability"]
    # What the portal sees adds up: its time investment (tasks it sees) + the hidden tasks' hours.
    seen = Decimal(portal_report["time"]["totalHours"])
    assert seen == Decimal("21.00")
    assert seen + Decimal(portal_report["profitability"]["hiddenTaskHours"]) == Decimal(
        portal_report["profitability"]["hours"]
    )
    # Another company's portal user: null, and its own report holds none of Acme's hours.
    other = await api.login(agency.portal["other"].email, PASSWORD)
    assert await api.post(PROFIT, variables, other) == {"data": {"clientReport": None}}


async def _project(db, project_id: int):
    from models import Project

    async with db() as session:
        return await session.get(Project, project_id)


async def _user(db, full_name: str) -> int:
    from models import User

    async with db() as session:
        return (await session.execute(sa.select(col(User.id)).where(col(User.full_name) == full_name))).scalar_one()


async def test_on_the_demo_olivias_profitability_is_the_owners(api, demo):
    """The demo's Northwind has time on tasks hidden from the portal (the issue's 13 hours): the
    portal's profit is the owner's, and its hidden hours are exactly the difference between the two
    time investments."""
    from server.demo import DEMO_PASSWORD

    variables = {"id": "Q2xpZW50OjE="}  # Northwind Coffee, which shows costs in its portal
    owner = await api.data(PROFIT, variables, await api.login("owner@agency.example", DEMO_PASSWORD))
    olivia = await api.data(PROFIT, variables, await api.login("olivia@northwind.example", DEMO_PASSWORD))
    staff_report, portal_report = owner["clientReport"], olivia["clientReport"]
    assert portal_report["profitability"] == staff_report["profitability"]
    hidden = Decimal(portal_report["profitability"]["hiddenTaskHours"])
    assert hidden > 0
    assert Decimal(staff_report["time"]["totalHours"]) - Decimal(portal_report["time"]["totalHours"]) == hidden
