"""Account health through the API: quiet days that an internal edit does not reset, the scope change
log the project mutations write, completion, budget burn, and the dashboard's scope reductions,
client response times and capacity, per role (a portal user of another company included), with
statement counts that do not grow with the number of clients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from bench.agency import Shape, build_agency
from models import (
    Activity,
    ActivityKind,
    Client,
    CommentKind,
    Expense,
    Interaction,
    InteractionKind,
    Project,
    Role,
    ScopeChange,
    ScopeChangeKind,
    TimeEntry,
)
from models.base import utcnow
from tests.dashboard.test_statements import HASH, SMALL
from tests.factories import PASSWORD
from tests.reports.support import forbidden
from tests.utils import get, gid, mutate, portal, rows, staff

QUIET = """query($days: Int) { clientsDashboard(noActivityDays: $days) {
  health { noRecentActivity { count clients { client { name } lastActivityAt daysSinceActivity } } } } }"""
UPDATE_CLIENT = """mutation($input: UpdateClientInput!) { updateClient(input: $input) { errors { code } } }"""
UPDATE = """mutation($input: UpdateProjectInput!) { updateProject(input: $input) {
  project { status completedAt } errors { field code } } }"""
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } errors { code } } }"""
PROJECT = """query($id: ID!) { node(id: $id) { ... on Project { name completedAt
  budgetBurn { budget billableHours laborValue billableExpenses burned remaining burnRate }
  scopeChanges { kind isReduction oldBudget newBudget oldEndDate newEndDate task { title } changedBy { fullName } }
} } }"""
HEALTH = """query($days: Int) { clientsDashboard(noActivityDays: $days) {
  health { scopeReductions { count clients { client { name } reductions budgetCuts cancellations changes } } }
  engagement { clientResponseTimes { answeredReplies unansweredReplies averageHours
    clients { client { name } answeredReplies unansweredReplies averageHours } } }
  capacity { start end totalHours members { user { fullName } hours billableHours billableShare hoursPerWeek
    clients projects byClient { client { name } hours } } }
} }"""

SECTIONS = HEALTH.replace(
    "  capacity {",
    "  health { noRecentActivity { count clients { client { name } daysSinceActivity } } }\n  capacity {",
)


async def test_an_internal_notes_edit_does_not_make_a_quiet_client_look_active(api, factory, db):
    _, token = await staff(api, factory)
    quiet = await factory.client("Quiet Co")
    met = utcnow() - dt.timedelta(days=40)
    await factory.add(Interaction(client_id=quiet.id, kind=InteractionKind.CALL, summary="Call", occurred_at=met))
    before = (await api.data(QUIET, {"days": 30}, token))["clientsDashboard"]["health"]["noRecentActivity"]
    assert before["count"] == 1 and before["clients"][0]["client"] == {"name": "Quiet Co"}
    assert before["clients"][0]["daysSinceActivity"] == 40

    edited = await mutate(
        api,
        UPDATE_CLIENT,
        {"input": {"clientId": gid("Client", quiet), "internalNotes": "Renewal?"}},
        token,
        "updateClient",
    )
    assert edited["errors"] == []
    assert (await get(db, Client, quiet.id)).internal_notes == "Renewal?"
    # The edit wrote a feed entry just now (what used to count as activity).
    [entry] = await rows(db, Activity, Activity.client_id == quiet.id)
    assert entry.kind is ActivityKind.CLIENT_UPDATED and utcnow() - entry.occurred_at < dt.timedelta(minutes=1)
    after = (await api.data(QUIET, {"days": 30}, token))["clientsDashboard"]["health"]["noRecentActivity"]
    assert after == before
    # A real touchpoint does end the quiet spell: the client answers in the portal.
    user, portal_token = await portal(api, factory, quiet)
    task = await factory.task(await factory.project(quiet))
    await factory.comment(task, CommentKind.REPLY, "Still here", author_id=user.id)
    assert (await api.data(QUIET, {"days": 30}, token))["clientsDashboard"]["health"]["noRecentActivity"]["count"] == 0
    # The dashboard is the team's: a portal user is refused it.
    body = await api.post(QUIET, {"days": 30}, portal_token)
    assert body["data"] == {"clientsDashboard": None} and forbidden(body) == {"Query.clientsDashboard"}


async def test_project_mutations_log_scope_changes_and_completion(api, factory, db):
    _, token = await staff(api, factory, full_name="Maria Manager")
    acme = await factory.client("Acme")
    today = utcnow().date()
    started = await factory.project(
        acme,
        name="Running",
        start_date=today - dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=30),
        budget=Decimal("5000.00"),
    )
    planned = await factory.project(acme, name="Planned", start_date=today + dt.timedelta(days=10))
    pid, planned_id = gid("Project", started), gid("Project", planned)

    async def update(project_id: str, **changes) -> dict:
        payload = await mutate(api, UPDATE, {"input": {"projectId": project_id, **changes}}, token, "updateProject")
        assert payload["errors"] == [], payload
        return payload["project"]

    await update(pid, budget="4000.00")
    await update(pid, budget="4500.00")
    await update(pid, endDate=(today + dt.timedelta(days=45)).isoformat())
    await update(pid, name="Renamed", health="AT_RISK")  # not a scope change
    task = await mutate(api, CREATE_TASK, {"input": {"projectId": pid, "title": "Extra page"}}, token, "createTask")
    assert task["errors"] == []
    # Before the start date nothing is a scope change yet.
    await update(planned_id, budget="100.00", endDate=(today + dt.timedelta(days=60)).isoformat())
    await mutate(api, CREATE_TASK, {"input": {"projectId": planned_id, "title": "Plan"}}, token, "createTask")

    log = (await api.data(PROJECT, {"id": pid}, token))["node"]["scopeChanges"]
    who = {"fullName": "Maria Manager"}
    assert log == [
        {
            "kind": "BUDGET_CHANGED",
            "isReduction": True,
            "oldBudget": "5000.00",
            "newBudget": "4000.00",
            "oldEndDate": None,
            "newEndDate": None,
            "task": None,
            "changedBy": who,
        },
        {
            "kind": "BUDGET_CHANGED",
            "isReduction": False,
            "oldBudget": "4000.00",
            "newBudget": "4500.00",
            "oldEndDate": None,
            "newEndDate": None,
            "task": None,
            "changedBy": who,
        },
        {
            "kind": "END_DATE_MOVED",
            "isReduction": False,
            "oldBudget": None,
            "newBudget": None,
            "oldEndDate": (today + dt.timedelta(days=30)).isoformat(),
            "newEndDate": (today + dt.timedelta(days=45)).isoformat(),
            "task": None,
            "changedBy": who,
        },
        {
            "kind": "TASK_ADDED",
            "isReduction": False,
            "oldBudget": None,
            "newBudget": None,
            "oldEndDate": None,
            "newEndDate": None,
            "task": {"title": "Extra page"},
            "changedBy": who,
        },
    ]
    assert await rows(db, ScopeChange, ScopeChange.project_id == planned.id) == []

    # Completion is stamped, reopening clears it, completing again stamps it again.
    done = await update(pid, status="COMPLETED")
    assert done["status"] == "COMPLETED" and done["completedAt"] is not None
    stamped = dt.datetime.fromisoformat(done["completedAt"])
    assert abs((utcnow() - stamped).total_seconds()) < 60
    assert (await update(pid, status="ACTIVE"))["completedAt"] is None
    assert (await get(db, Project, started.id)).completed_at is None
    # Cancelling is a reduction whatever the start date.
    await update(planned_id, status="CANCELLED")
    [cancelled] = await rows(db, ScopeChange, ScopeChange.project_id == planned.id)
    assert (cancelled.kind, cancelled.is_reduction) == (ScopeChangeKind.PROJECT_CANCELLED, True)


async def test_budget_burn_and_the_scope_log_per_role(api, factory, db):
    _, manager_token = await staff(api, factory)
    member, member_token = await staff(api, factory, Role.MEMBER)
    acme, other = await factory.client("Acme"), await factory.client("Other")
    acme_user, acme_token = await portal(api, factory, acme)
    _, other_token = await portal(api, factory, other)
    project = await factory.project(acme, name="Site", budget=Decimal("2000.00"))
    hidden = await factory.task(project, visible_to_client=False)
    today = utcnow().date()
    entries = [(None, "4", True, "120.00"), (hidden, "3", True, "100.00"), (None, "5", False, "120.00")]
    for task, hours, billable, rate in entries:
        await factory.add(
            TimeEntry(
                user_id=member.id,
                project_id=project.id,
                task_id=task.id if task else None,
                work_date=today,
                hours=Decimal(hours),
                billable=billable,
                cost_rate=Decimal("50.00"),
                bill_rate=Decimal(rate),
            )
        )
    await factory.add(
        Expense(project_id=project.id, description="Fonts", amount=Decimal("60.00"), billable=True, incurred_on=today),
        Expense(project_id=project.id, description="Lunch", amount=Decimal("40.00"), billable=False, incurred_on=today),
        ScopeChange(project_id=project.id, kind=ScopeChangeKind.END_DATE_MOVED, new_end_date=today),
    )
    labor = sum(Decimal(h) * Decimal(r) for _, h, b, r in entries if b)
    burned = labor + Decimal("60.00")
    expected = {
        "budget": "2000.00",
        "billableHours": "7.00",
        "laborValue": f"{labor:.2f}",
        "billableExpenses": "60.00",
        "burned": f"{burned:.2f}",
        "remaining": f"{Decimal('2000.00') - burned:.2f}",
        "burnRate": round(float(burned / Decimal("2000")), 4),
    }
    assert expected["burned"] == "840.00"
    pid = gid("Project", project)

    staff_view = (await api.data(PROJECT, {"id": pid}, manager_token))["node"]
    assert staff_view["budgetBurn"] == expected and len(staff_view["scopeChanges"]) == 1

    # The portal user: the same burn (time on the hidden task counts), no scope log (INTERNAL).
    body = await api.post(PROJECT, {"id": pid}, acme_token)
    assert forbidden(body) == {"Project.scopeChanges"}
    assert body["data"]["node"]["budgetBurn"] == expected and body["data"]["node"]["scopeChanges"] is None

    # A MEMBER: no money, the log without its budgets.
    body = await api.post(PROJECT, {"id": pid}, member_token)
    assert forbidden(body) == {"Project.budgetBurn", "ScopeChange.oldBudget", "ScopeChange.newBudget"}
    assert body["data"]["node"]["budgetBurn"] is None and body["data"]["node"]["scopeChanges"][0]["kind"] == (
        "END_DATE_MOVED"
    )

    # A portal user of another company: no such project.
    assert await api.post(PROJECT, {"id": pid}, other_token) == {"data": {"node": None}}
    assert acme_user.client_id == acme.id


async def test_dashboard_scope_reductions_client_response_times_and_capacity(api, factory, db):
    manager, token = await staff(api, factory)
    dana = await factory.user(Role.MEMBER, full_name="Dev Dana")
    dee = await factory.user(Role.MEMBER, full_name="Des Dee")
    acme, birch = await factory.client("Acme"), await factory.client("Birch")
    acme_user = await factory.portal_user(acme)
    now = utcnow()
    a1, a2, b1 = await factory.project(acme), await factory.project(acme), await factory.project(birch)
    await factory.add(
        ScopeChange(
            project_id=a1.id,
            kind=ScopeChangeKind.BUDGET_CHANGED,
            is_reduction=True,
            occurred_at=now - dt.timedelta(days=20),
        ),
        ScopeChange(
            project_id=a2.id,
            kind=ScopeChangeKind.PROJECT_CANCELLED,
            is_reduction=True,
            occurred_at=now - dt.timedelta(days=3),
        ),
        ScopeChange(project_id=a2.id, kind=ScopeChangeKind.TASK_ADDED, occurred_at=now - dt.timedelta(days=30)),
        ScopeChange(project_id=b1.id, kind=ScopeChangeKind.TASK_ADDED, occurred_at=now - dt.timedelta(days=5)),
    )
    # The team asks Acme twice; Acme answers the first after 10 hours.
    task = await factory.task(a1)
    asked = now - dt.timedelta(days=2)
    await factory.comment(task, CommentKind.REPLY, "Approve the design?", author_id=manager.id, created_at=asked)
    await factory.comment(
        task, CommentKind.REPLY, "Approved", author_id=acme_user.id, created_at=asked + dt.timedelta(hours=10)
    )
    await factory.comment(
        task, CommentKind.REPLY, "And the copy?", author_id=manager.id, created_at=asked + dt.timedelta(hours=12)
    )
    today = now.date()
    time = [(dana, a1, "6", True, 1), (dana, b1, "2", False, 3), (dee, b1, "5", True, 2), (dee, b1, "9", True, 40)]
    for user, project, hours, billable, days in time:
        await factory.add(
            TimeEntry(
                user_id=user.id,
                project_id=project.id,
                work_date=today - dt.timedelta(days=days),
                hours=Decimal(hours),
                billable=billable,
                cost_rate=Decimal("50.00"),
                bill_rate=Decimal("100.00"),
            )
        )

    board = (await api.data(HEALTH, {"days": 30}, token))["clientsDashboard"]
    assert board["health"]["scopeReductions"] == {
        "count": 1,
        "clients": [{"client": {"name": "Acme"}, "reductions": 2, "budgetCuts": 1, "cancellations": 1, "changes": 3}],
    }
    responses = board["engagement"]["clientResponseTimes"]
    assert (responses["answeredReplies"], responses["unansweredReplies"], responses["averageHours"]) == (1, 1, 10.0)
    assert responses["clients"] == [
        {"client": {"name": "Acme"}, "answeredReplies": 1, "unansweredReplies": 1, "averageHours": 10.0}
    ]
    capacity = board["capacity"]
    assert (capacity["start"], capacity["end"]) == ((today - dt.timedelta(days=29)).isoformat(), today.isoformat())
    in_window = [t for t in time if t[4] < 30]
    assert capacity["totalHours"] == f"{sum(Decimal(t[2]) for t in in_window):.2f}" == "13.00"
    weeks = Decimal(30) / Decimal(7)
    assert capacity["members"] == [
        {
            "user": {"fullName": "Dev Dana"},
            "hours": "8.00",
            "billableHours": "6.00",
            "billableShare": 0.75,
            "hoursPerWeek": f"{(Decimal(8) / weeks).quantize(Decimal('0.01'))}",
            "clients": 2,
            "projects": 2,
            "byClient": [{"client": {"name": "Acme"}, "hours": "6.00"}, {"client": {"name": "Birch"}, "hours": "2.00"}],
        },
        {
            "user": {"fullName": "Des Dee"},
            "hours": "5.00",
            "billableHours": "5.00",
            "billableShare": 1.0,
            "hoursPerWeek": f"{(Decimal(5) / weeks).quantize(Decimal('0.01'))}",
            "clients": 1,
            "projects": 1,
            "byClient": [{"client": {"name": "Birch"}, "hours": "5.00"}],
        },
    ]
    # A MEMBER reads all of it (staff data, no money here).
    member_token = await api.login(dana.email, PASSWORD)
    assert (await api.data(HEALTH, {"days": 30}, member_token))["clientsDashboard"] == board


async def test_account_health_statements_do_not_grow_with_clients(api, engine, statements, db):
    """The new sections and quiet days, then the burn and scope log of 5 and of 25 projects: the same
    statements for 20 clients as for 500."""
    small = await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 20}), password_hash=HASH, tag="a")
    token = await api.login(small.manager_email, PASSWORD)

    async def measure(projects: int) -> tuple[int, int]:
        await api.data("{ me { id } }", token=token)
        statements.reset()
        data = await api.data(SECTIONS, {"days": 30}, token)
        assert data["clientsDashboard"]["capacity"]["members"]
        sections = statements.count
        async with db() as session:
            first = sa.select(col(Project.id)).order_by(col(Project.id)).limit(projects)
            ids = list((await session.scalars(first)).all())
        aliases = " ".join(
            f'p{i}: node(id: "{gid("Project", pid)}") {{ ... on Project {{ budgetBurn {{ burned }} '
            "scopeChanges { kind } } }"
            for i, pid in enumerate(ids)
        )
        statements.reset()
        data = await api.data("query { " + aliases + " }", token=token)
        assert len(data) == projects and all(p["budgetBurn"] is not None for p in data.values())
        return sections, statements.count

    few = await measure(5)
    await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 480}), password_hash=HASH, tag="b")
    many = await measure(25)
    print(f"account health: {few} statements for 20 clients, {many} for 500")
    assert few == many, f"{few} statements for 20 clients, {many} for 500"
