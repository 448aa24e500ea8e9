"""Logging time and expenses: rates captured at the time, who sees which money, and bad input."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from models import Activity, ActivityKind, ProjectStatus, TimeEntry, User
from tests.billing.support import (
    LOG_EXPENSE,
    LOG_TIME,
    LOG_TIME_NO_MONEY,
    agency,
    count,
    counts,
    days_ago,
    expense,
    login,
    time_entry,
)
from tests.utils import gid, raw_id

PROJECT_TIME = """query($id: ID!) { node(id: $id) { ... on Project { name
  timeEntries { hours billable workDate description costRate costAmount billRate billableAmount invoiced
                user { fullName } }
  expenses { description billable amount billableAmount invoiced }
} } }"""


def _time(project, **kw) -> dict:
    value = {
        "projectId": gid("Project", project.id),
        "workDate": str(days_ago(1)),
        "hours": "2.5",
        "billable": True,
        "description": "Built the rewards screen",
    }
    value.update(kw)
    return value


async def test_logging_time_captures_the_rates_of_that_moment(api, factory, db):
    a = await agency(factory)
    task = await factory.task(a.project, title="Rewards screen")
    token = await login(api, a.manager)
    data = await api.data(LOG_TIME, {"input": _time(a.project, taskId=gid("Task", task.id))}, token)
    entry = data["logTime"]["timeEntry"]
    assert data["logTime"]["errors"] == []
    assert entry["hours"] == "2.50" and entry["billable"] is True and entry["invoiced"] is False
    assert (entry["costRate"], entry["billRate"]) == ("60.00", "150.00")
    assert (entry["costAmount"], entry["billableAmount"]) == ("150.00", "375.00")
    assert entry["task"] == {"title": "Rewards screen"} and entry["user"] == {"fullName": "Maria Manager"}

    # A later raise does not re-price work already logged.
    async with db() as session, session.begin():
        await session.execute(sa.update(User).where(User.id == a.manager.id).values(hourly_bill_rate=Decimal("200.00")))
    async with db() as session:
        row = await session.get(TimeEntry, raw_id(entry["id"]))
        assert (row.cost_rate, row.bill_rate, row.hours) == (Decimal("60.00"), Decimal("150.00"), Decimal("2.50"))
        activity = (await session.scalars(sa.select(Activity))).one()
    assert activity.kind is ActivityKind.TIME_LOGGED and activity.client_visible is False
    assert activity.client_id == a.client.id and activity.subject_type == "TimeEntry" and activity.subject_id == row.id
    assert "150" not in activity.summary and "375" not in activity.summary  # no money in the feed


async def test_a_member_logs_time_but_never_sees_money(api, factory):
    a = await agency(factory)
    token = await login(api, a.member)
    data = await api.data(LOG_TIME_NO_MONEY, {"input": _time(a.project, billable=False)}, token)
    assert data["logTime"]["timeEntry"]["hours"] == "2.50"
    await expense(factory, a.project, "80.00")

    body = await api.post(PROJECT_TIME, {"id": gid("Project", a.project.id)}, token)
    node = body["data"]["node"]
    assert [e["hours"] for e in node["timeEntries"]] == ["2.50"]
    assert node["timeEntries"][0]["description"] == "Built the rewards screen"
    for field in ("costRate", "costAmount", "billRate", "billableAmount", "invoiced"):
        assert node["timeEntries"][0][field] is None
    assert node["expenses"][0]["description"] == "Stock photos"
    assert node["expenses"][0]["amount"] is None and node["expenses"][0]["billableAmount"] is None
    refused = {e["extensions"]["field"] for e in body["errors"]}
    assert refused == {
        "TimeEntry.costRate",
        "TimeEntry.costAmount",
        "TimeEntry.billRate",
        "TimeEntry.billableAmount",
        "TimeEntry.invoiced",
        "Expense.amount",
        "Expense.billableAmount",
        "Expense.invoiced",
    }
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}

    # The payload obeys the same table: asking for money in logTime's answer is refused too.
    money = await api.post(LOG_TIME, {"input": _time(a.project, hours="1")}, token)
    assert money["data"]["logTime"]["timeEntry"]["costRate"] is None
    assert "TimeEntry.costRate" in {e["extensions"]["field"] for e in money["errors"]}


async def test_a_client_may_not_log_time_or_expenses(api, factory, db):
    a = await agency(factory)
    token = await login(api, a.portal)
    body = await api.post(LOG_TIME_NO_MONEY, {"input": _time(a.project)}, token)
    assert body["data"] is None or body["data"]["logTime"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.post(
        LOG_EXPENSE,
        {
            "input": {
                "projectId": gid("Project", a.project.id),
                "description": "x",
                "amount": "1",
                "billable": True,
                "incurredOn": str(days_ago(1)),
            }
        },
        token,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await counts(db))["time_entry"] == 0 and (await counts(db))["expense"] == 0


async def test_bad_time_input_is_a_typed_error_and_writes_nothing(api, factory, db):
    a = await agency(factory)
    other_task = await factory.task(a.other_project)
    cancelled = await factory.project(a.client, status=ProjectStatus.CANCELLED)
    await time_entry(factory, a.member, a.project, "20", days=1)
    token = await login(api, a.member)
    before = await counts(db)
    cases = [
        (dict(projectId=gid("Project", 999999)), "input.projectId", "NOT_FOUND"),
        (dict(projectId=gid("Task", a.project.id)), "input.projectId", "NOT_FOUND"),
        (dict(taskId=gid("Task", other_task.id)), "input.taskId", "TASK_NOT_IN_PROJECT"),
        (dict(taskId=gid("Task", 999999)), "input.taskId", "NOT_FOUND"),
        (dict(projectId=gid("Project", cancelled.id)), "input.projectId", "PROJECT_CANCELLED"),
        (dict(hours="0"), "input.hours", "MUST_BE_POSITIVE"),
        (dict(hours="-1.5"), "input.hours", "MUST_BE_POSITIVE"),
        (dict(hours="24.01"), "input.hours", "TOO_LARGE"),
        (dict(hours="1.333"), "input.hours", "TOO_MANY_DECIMAL_PLACES"),
        (dict(hours="NaN"), "input.hours", "INVALID_NUMBER"),
        (dict(hours="4.5"), "input.hours", "DAY_OVER_24_HOURS"),  # 20 h already logged that day
        (dict(workDate=str(days_ago(-5))), "input.workDate", "IN_FUTURE"),
        (dict(description="x" * 2001), "input.description", "TOO_LONG"),
    ]
    for override, field, code in cases:
        data = await api.data(LOG_TIME_NO_MONEY, {"input": _time(a.project, **override)}, token)
        assert data["logTime"]["timeEntry"] is None, override
        assert [(e["field"], e["code"]) for e in data["logTime"]["errors"]] == [(field, code)], override
    # A project id of another type answers exactly as a missing project does.
    assert await api.post(LOG_TIME_NO_MONEY, {"input": _time(a.project, **cases[1][0])}, token) == await api.post(
        LOG_TIME_NO_MONEY, {"input": _time(a.project, **cases[0][0])}, token
    )
    assert await counts(db) == before
    # 4 more hours fit in the day exactly.
    ok = await api.data(LOG_TIME_NO_MONEY, {"input": _time(a.project, hours="4")}, token)
    assert ok["logTime"]["errors"] == []


async def test_logging_an_expense_and_its_bad_input(api, factory, db):
    a = await agency(factory)
    token = await login(api, a.member)
    base = {
        "projectId": gid("Project", a.project.id),
        "description": "  Stock photography  ",
        "amount": "249.99",
        "billable": True,
        "incurredOn": str(days_ago(2)),
    }
    before = await counts(db)
    cases = [
        (dict(projectId=gid("Project", 999999)), "input.projectId", "NOT_FOUND"),
        (dict(amount="0"), "input.amount", "MUST_BE_POSITIVE"),
        (dict(amount="-10"), "input.amount", "MUST_BE_POSITIVE"),
        (dict(amount="10.001"), "input.amount", "TOO_MANY_DECIMAL_PLACES"),
        (dict(amount="1000000000000"), "input.amount", "TOO_LARGE"),
        (dict(description="   "), "input.description", "REQUIRED"),
        (dict(description="x" * 301), "input.description", "TOO_LONG"),
        (dict(incurredOn=str(days_ago(-3))), "input.incurredOn", "IN_FUTURE"),
    ]
    query = LOG_EXPENSE.replace("amount billable billableAmount incurredOn invoiced", "billable incurredOn")
    for override, field, code in cases:
        data = await api.data(query, {"input": {**base, **override}}, token)
        assert data["logExpense"]["expense"] is None
        assert [(e["field"], e["code"]) for e in data["logExpense"]["errors"]] == [(field, code)], override
    assert await counts(db) == before

    manager = await login(api, a.manager)
    data = await api.data(LOG_EXPENSE, {"input": base}, manager)
    logged = data["logExpense"]["expense"]
    assert logged["description"] == "Stock photography"
    assert (logged["amount"], logged["billableAmount"], logged["invoiced"]) == ("249.99", "249.99", False)
    assert logged["createdBy"] == {"fullName": "Maria Manager"}
    assert (
        await count(db, Activity, Activity.kind == ActivityKind.EXPENSE_LOGGED, Activity.client_visible.is_(False)) == 1
    )


async def test_a_client_sees_time_on_its_projects_without_costs_and_nothing_of_another_client(api, factory):
    a = await agency(factory)
    await time_entry(factory, a.member, a.project, "3", description="Fixed the flaky login test")
    await time_entry(factory, a.member, a.other_project, "5")
    await expense(factory, a.project, "80.00", description="Stock photos")
    await expense(factory, a.project, "15.00", billable=False, description="Team lunch")
    await expense(factory, a.other_project, "999.00")

    token = await login(api, a.portal)
    body = await api.post(PROJECT_TIME, {"id": gid("Project", a.project.id)}, token)
    node = body["data"]["node"]
    assert [(e["hours"], e["billRate"], e["billableAmount"]) for e in node["timeEntries"]] == [
        ("3.00", "120.00", "360.00")
    ]
    assert node["timeEntries"][0]["costRate"] is None and node["timeEntries"][0]["description"] is None
    assert sorted((e["description"], e["billableAmount"]) for e in node["expenses"]) == [
        ("Stock photos", None),
        ("Team lunch", None),
    ]
    # What the agency paid is a cost, and so is what a billable expense passes on at cost.
    assert all(e["amount"] is None for e in node["expenses"])
    refused = {e["extensions"]["field"] for e in body["errors"]}
    assert refused == {
        "TimeEntry.costRate",
        "TimeEntry.costAmount",
        "TimeEntry.description",
        "Expense.amount",
        "Expense.billableAmount",
    }

    other = await login(api, a.other_portal)
    body = await api.post(PROJECT_TIME, {"id": gid("Project", a.project.id)}, other)
    assert body["data"]["node"] is None


async def test_a_client_that_shows_costs_sees_cost_rates(api, factory):
    a = await agency(factory)
    shows = await factory.client("Open Books", show_costs_in_portal=True)
    project = await factory.project(shows)
    await time_entry(factory, a.member, project, "2")
    portal = await factory.portal_user(shows)
    token = await login(api, portal)
    data = await api.data(
        """query($id: ID!) { node(id: $id) { ... on Project {
        timeEntries { costRate costAmount } } } }""",
        {"id": gid("Project", project.id)},
        token,
    )
    assert data["node"]["timeEntries"] == [{"costRate": "40.00", "costAmount": "80.00"}]


async def test_project_time_and_expenses_are_batched(api, factory, statements):
    a = await agency(factory)
    query = """{ clients(first: 50) { edges { node { projects { timeEntries { hours user { fullName } task { title } }
                 expenses { description createdBy { fullName } } } } } } }"""
    token = await login(api, a.manager)

    async def measure() -> int:
        await api.data("{ me { id } }", token=token)
        statements.reset()
        await api.data(query, token=token)
        return statements.count

    # The same shape both times: every relation is reached once with a few rows, then with many.
    first_task = await factory.task(a.project)
    await time_entry(factory, a.member, a.project, "1", task_id=first_task.id)
    await expense(factory, a.project, "5.00", created_by_id=a.manager.id)
    small = await measure()
    for i in range(6):
        client = await factory.client(f"More {i}")
        project = await factory.project(client)
        task = await factory.task(project)
        for _ in range(3):
            await time_entry(factory, a.member, project, "1", task_id=task.id)
            await expense(factory, project, "5.00", created_by_id=a.manager.id)
    assert await measure() == small
