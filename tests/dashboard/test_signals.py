"""The health signals of resolvers/dashboard/signals.py, each on hand-made data, with the expected
value worked out here from the events themselves (not from the SQL), as staff and as a portal user
of another company."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from auth.principal import Principal
from models import (
    Activity,
    ActivityKind,
    Comment,
    CommentKind,
    Expense,
    Interaction,
    InteractionKind,
    Meeting,
    MeetingStatus,
    ProjectStatus,
    Role,
    ScopeChange,
    ScopeChangeKind,
    TimeEntry,
)
from models.people import LoginEvent
from resolvers.dashboard import signals

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def ago(days: float = 0, hours: float = 0) -> dt.datetime:
    return NOW - dt.timedelta(days=days, hours=hours)


def staff(user) -> Principal:
    return Principal(user_id=user.id, role=Role.MANAGER)


def portal(user) -> Principal:
    return Principal(user_id=user.id, role=Role.CLIENT, client_id=user.client_id)


async def rows_of(db, subquery, key: str = "client_id") -> dict:
    async with db() as session:
        result = await session.execute(sa.select(subquery))
        return {row._mapping[key]: dict(row._mapping) for row in result}


def days_between(moment: dt.datetime) -> float:
    return (NOW - moment).total_seconds() / 86400


# --------------------------------------------------------------------------- touchpoints


async def _touch_agency(factory):
    manager = await factory.user(Role.MANAGER)
    acme, birch, cedar, dune, elm = [await factory.client(n) for n in ("Acme", "Birch", "Cedar", "Dune", "Elm")]
    # Acme: a call 10 days ago is its latest touchpoint; everything newer is internal or not held.
    await factory.add(
        Interaction(client_id=acme.id, kind=InteractionKind.CALL, summary="QBR", occurred_at=ago(10)),
        Activity(client_id=acme.id, kind=ActivityKind.CLIENT_UPDATED, summary="Notes changed", occurred_at=ago(1)),
        Meeting(
            client_id=acme.id,
            title="x",
            starts_at=ago(1),
            ends_at=ago(1) + dt.timedelta(hours=1),
            status=MeetingStatus.CANCELLED,
        ),
        Meeting(
            client_id=acme.id,
            title="y",
            starts_at=NOW + dt.timedelta(days=2),
            ends_at=NOW + dt.timedelta(days=2, hours=1),
            status=MeetingStatus.CONFIRMED,
        ),
    )
    project = await factory.project(acme)
    hidden = await factory.task(project, visible_to_client=False)
    await factory.comment(hidden, CommentKind.REPLY, "On a hidden task", author_id=manager.id, created_at=ago(2))
    shown = await factory.task(project)
    await factory.comment(shown, CommentKind.NOTE, "Internal", author_id=manager.id, created_at=ago(1))
    # Birch: a payment received 3 days ago (counted from 00:00 UTC of that day).
    invoice = await factory.invoice(birch)
    await factory.payment(invoice, "100.00", received_on=TODAY - dt.timedelta(days=3))
    # Cedar: a portal sign-in 5 days ago and a staff REPLY on a shown task 4 days ago.
    cedar_user = await factory.portal_user(cedar)
    await factory.add(LoginEvent(user_id=cedar_user.id, client_id=cedar.id, occurred_at=ago(5)))
    cedar_task = await factory.task(await factory.project(cedar))
    await factory.comment(cedar_task, CommentKind.REPLY, "Ready", author_id=manager.id, created_at=ago(4))
    # Dune: never in touch. Elm: a meeting held 7 days ago.
    await factory.add(
        Meeting(
            client_id=elm.id,
            title="Kick-off",
            starts_at=ago(7),
            ends_at=ago(7) + dt.timedelta(hours=1),
            status=MeetingStatus.COMPLETED,
        )
    )
    expected = {
        acme.id: ago(10),
        birch.id: dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(0), dt.UTC),
        cedar.id: ago(4),
        dune.id: None,
        elm.id: ago(7),
    }
    return manager, cedar_user, expected


async def test_quiet_days_count_client_facing_touchpoints_only(db, factory):
    manager, _, expected = await _touch_agency(factory)
    found = await rows_of(db, signals.quiet_days_by_client(staff(manager), NOW))
    assert set(found) == set(expected)
    for client_id, last in expected.items():
        row = found[client_id]
        if last is None:
            assert row["last_at"] is None and row["quiet_days"] is None
        else:
            assert row["last_at"] == last
            assert abs(row["quiet_days"] - days_between(last)) < 1e-6
    sources = await rows_of(db, signals.touchpoints(staff(manager), NOW), key="source")
    assert set(sources) == {"interaction", "payment", "portal_login", "reply", "meeting"}


async def test_a_portal_user_of_another_company_sees_only_its_own_touchpoints(db, factory):
    _, cedar_user, expected = await _touch_agency(factory)
    found = await rows_of(db, signals.quiet_days_by_client(portal(cedar_user), NOW))
    # Its own client only; logged interactions and sign-ins are staff rows, its own REPLY thread is not.
    assert set(found) == {cedar_user.client_id}
    assert found[cedar_user.client_id]["last_at"] == expected[cedar_user.client_id]
    touches = await rows_of(db, signals.touchpoints(portal(cedar_user), NOW), key="source")
    assert {row["client_id"] for row in touches.values()} == {cedar_user.client_id}


# --------------------------------------------------------------------------- response times


def _expected_responses(events: list[tuple[str, dt.datetime]], asker: str) -> tuple[list[float], int]:
    """Walk one thread: each REPLY by `asker` is answered by the next REPLY of the other side."""
    delays, unanswered = [], 0
    for i, (who, at) in enumerate(events):
        if who != asker:
            continue
        answer = next((later for w, later in events[i + 1 :] if w != asker), None)
        if answer is None:
            unanswered += 1
        else:
            delays.append((answer - at).total_seconds() / 3600)
    return delays, unanswered


async def test_response_times_both_ways(db, factory):
    manager = await factory.user(Role.MANAGER)
    acme, other = await factory.client("Acme"), await factory.client("Other")
    acme_user, other_user = await factory.portal_user(acme), await factory.portal_user(other)
    t0 = ago(days=6)
    thread = [
        ("client", t0),
        ("staff", t0 + dt.timedelta(hours=2)),
        ("staff", t0 + dt.timedelta(hours=3)),
        ("client", t0 + dt.timedelta(hours=8)),
    ]
    project = await factory.project(acme)
    task = await factory.task(project)
    for who, at in thread:
        author = acme_user if who == "client" else manager
        await factory.comment(task, CommentKind.REPLY, who, author_id=author.id, created_at=at)
    # A NOTE answers nothing; a REPLY on a task hidden from the client asks nothing of it.
    await factory.comment(task, CommentKind.NOTE, "n", author_id=manager.id, created_at=t0 + dt.timedelta(hours=1))
    hidden = await factory.task(project, visible_to_client=False)
    await factory.comment(hidden, CommentKind.REPLY, "h", author_id=manager.id, created_at=t0)
    # A project-level approval request the client has not answered yet.
    asked = ago(days=2)
    await factory.add(
        Comment(project_id=project.id, kind=CommentKind.REPLY, body="Approve?", author_id=manager.id, created_at=asked)
    )
    # Another client's thread, answered in 1 hour.
    other_task = await factory.task(await factory.project(other))
    await factory.comment(other_task, CommentKind.REPLY, "q", author_id=other_user.id, created_at=t0)
    await factory.comment(
        other_task, CommentKind.REPLY, "a", author_id=manager.id, created_at=t0 + dt.timedelta(hours=1)
    )

    since = ago(days=30)
    agency = await rows_of(db, signals.agency_response_by_client(staff(manager), since))
    client = await rows_of(db, signals.client_response_by_client(staff(manager), since))
    delays, unanswered = _expected_responses(thread, "client")
    assert (agency[acme.id]["answered"], agency[acme.id]["unanswered"]) == (len(delays), unanswered) == (1, 1)
    assert abs(agency[acme.id]["average_hours"] - sum(delays) / len(delays)) < 1e-6
    assert agency[acme.id]["oldest_unanswered_at"] == thread[3][1]
    delays, unanswered = _expected_responses(thread, "staff")
    unanswered += 1  # the project-level request
    assert (client[acme.id]["answered"], client[acme.id]["unanswered"]) == (len(delays), unanswered) == (2, 1)
    assert abs(client[acme.id]["average_hours"] - sum(delays) / len(delays)) < 1e-6  # (6 + 5) / 2
    assert client[acme.id]["oldest_unanswered_at"] == asked
    assert agency[other.id]["answered"] == 1 and abs(agency[other.id]["average_hours"] - 1.0) < 1e-6
    both = await rows_of(db, signals.response_delay_by_client(staff(manager), since))
    assert both[acme.id]["client_unanswered"] == 1 and both[acme.id]["agency_unanswered"] == 1
    assert abs(both[acme.id]["client_hours"] - 5.5) < 1e-6 and abs(both[acme.id]["agency_hours"] - 2.0) < 1e-6
    # Only replies since `since` are asked.
    later = await rows_of(db, signals.client_response_by_client(staff(manager), ago(days=3)))
    assert later[acme.id]["answered"] == 0 and later[acme.id]["unanswered"] == 1

    # The other company's portal user sees its own thread only.
    theirs = await rows_of(db, signals.response_delay_by_client(portal(other_user), since))
    assert set(theirs) == {other.id}


# --------------------------------------------------------------------------- scope changes


async def test_scope_changes_and_cuts_per_client(db, factory):
    manager = await factory.user(Role.MANAGER)
    acme, other = await factory.client("Acme"), await factory.client("Other")
    other_user = await factory.portal_user(other)
    one, two = await factory.project(acme), await factory.project(acme)
    theirs = await factory.project(other)
    log = [
        (one, ScopeChangeKind.BUDGET_CHANGED, False, ago(40)),
        (one, ScopeChangeKind.BUDGET_CHANGED, True, ago(20)),
        (one, ScopeChangeKind.END_DATE_MOVED, False, ago(15)),
        (two, ScopeChangeKind.TASK_ADDED, False, ago(5)),
        (two, ScopeChangeKind.PROJECT_CANCELLED, True, ago(2)),
        (theirs, ScopeChangeKind.TASK_ADDED, False, ago(1)),
    ]
    await factory.add(*[ScopeChange(project_id=p.id, kind=k, is_reduction=r, occurred_at=at) for p, k, r, at in log])
    since = ago(30)
    found = await rows_of(db, signals.scope_changes_by_client(staff(manager), since))
    acme_log = [entry for entry in log if entry[0].client_id == acme.id and entry[3] >= since]
    row = found[acme.id]
    assert row["changes"] == len(acme_log) == 4
    assert row["reductions"] == sum(1 for e in acme_log if e[2]) == 2
    assert row["budget_changes"] == 1 and row["end_date_moves"] == 1
    assert row["tasks_added"] == 1 and row["cancellations"] == 1 and row["projects_changed"] == 2
    assert found[other.id]["changes"] == 1
    every = await rows_of(db, signals.scope_changes_by_client(staff(manager)))
    assert every[acme.id]["changes"] == 5
    cuts = await rows_of(db, signals.scope_cuts_by_client(staff(manager), since))
    assert set(cuts) == {acme.id} and cuts[acme.id]["cuts"] == 2 and cuts[acme.id]["last_cut_at"] == ago(2)
    # The log is the agency's: a portal user reads none of it, its own client's included.
    assert await rows_of(db, signals.scope_changes_by_client(portal(other_user))) == {}


# --------------------------------------------------------------------------- timeline adherence


async def test_timeline_adherence_counts_completed_projects_against_their_end_date(db, factory):
    manager = await factory.user(Role.MANAGER)
    acme, other = await factory.client("Acme"), await factory.client("Other")
    end = TODAY - dt.timedelta(days=10)
    late_evening = dt.datetime.combine(end, dt.time(23, 30), dt.UTC)
    projects = [
        # (status, end date, completed at): on time on its last evening, a day late, open and overdue,
        # open and not due, cancelled, completed without an end date.
        (ProjectStatus.COMPLETED, end, late_evening),
        (ProjectStatus.COMPLETED, end, late_evening + dt.timedelta(hours=1)),
        (ProjectStatus.COMPLETED, end, late_evening - dt.timedelta(days=30)),
        (ProjectStatus.ACTIVE, end, None),
        (ProjectStatus.ON_HOLD, TODAY + dt.timedelta(days=5), None),
        (ProjectStatus.CANCELLED, end, None),
        (ProjectStatus.COMPLETED, None, late_evening),
    ]
    made = [
        await factory.project(acme, status=s, end_date=e, completed_at=c, start_date=end - dt.timedelta(days=90))
        for s, e, c in projects
    ]
    await factory.project(other, status=ProjectStatus.ACTIVE, end_date=end)

    def expect(status, end_date, completed):
        done = status is ProjectStatus.COMPLETED and end_date is not None and completed is not None
        in_time = done and completed.date() <= end_date
        overdue = status in (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD) and end_date is not None and end_date < TODAY
        return int(in_time), int(done and not in_time), int(overdue)

    per_project = await rows_of(db, signals.project_timeline(staff(manager), TODAY), key="project_id")
    for project, spec in zip(made, projects, strict=True):
        row = per_project[project.id]
        assert (row["on_time"], row["late"], row["overdue"]) == expect(*spec)
    on, late, overdue = (sum(expect(*spec)[i] for spec in projects) for i in range(3))
    assert (on, late, overdue) == (2, 1, 1)
    found = await rows_of(db, signals.timeline_adherence_by_client(staff(manager), TODAY))
    assert (found[acme.id]["on_time"], found[acme.id]["late"], found[acme.id]["overdue"]) == (on, late, overdue)
    assert abs(found[acme.id]["adherence"] - on / (on + late + overdue)) < 1e-9
    assert found[other.id]["adherence"] == 0


# --------------------------------------------------------------------------- budget burn


async def test_budget_burn_counts_billable_time_at_its_bill_rate_and_billable_expenses(db, factory):
    manager = await factory.user(Role.MANAGER)
    dev = await factory.user(Role.MEMBER)
    acme, other = await factory.client("Acme"), await factory.client("Other")
    acme_user, other_user = await factory.portal_user(acme), await factory.portal_user(other)
    project = await factory.project(acme, budget=Decimal("1000.00"))
    unbudgeted = await factory.project(acme)
    hidden = await factory.task(project, visible_to_client=False)
    time = [
        # (project, task, hours, billable, bill rate)
        (project, None, "3", True, "100.00"),
        (project, None, "2", True, "150.00"),
        (project, None, "4", False, "100.00"),
        (project, hidden, "2", True, "100.00"),
        (unbudgeted, None, "1", True, "80.00"),
    ]
    for p, task, hours, billable, rate in time:
        await factory.add(
            TimeEntry(
                user_id=dev.id,
                project_id=p.id,
                task_id=task.id if task else None,
                work_date=TODAY,
                hours=Decimal(hours),
                billable=billable,
                cost_rate=Decimal("40.00"),
                bill_rate=Decimal(rate),
            )
        )
    expenses = [(project, "50.00", True), (project, "70.00", False)]
    for p, amount, billable in expenses:
        await factory.add(
            Expense(project_id=p.id, description="x", amount=Decimal(amount), billable=billable, incurred_on=TODAY)
        )
    labor = sum(Decimal(h) * Decimal(r) for p, _, h, b, r in time if p is project and b)
    spent = sum(Decimal(a) for p, a, b in expenses if p is project and b)
    assert (labor, spent) == (Decimal("800"), Decimal("50.00"))

    for principal in (staff(manager), portal(acme_user)):
        found = await rows_of(db, signals.budget_burn_by_project(principal), key="project_id")
        row = found[project.id]
        assert Decimal(str(row["labor_value"])) == labor
        assert Decimal(str(row["billable_expenses"])) == spent
        assert Decimal(str(row["burned"])) == labor + spent
        assert Decimal(str(row["billable_hours"])) == Decimal("7")
        assert abs(float(row["burn_rate"]) - float((labor + spent) / Decimal("1000"))) < 1e-9
        assert found[unbudgeted.id]["burn_rate"] is None
    # Another company's portal user sees no project of Acme's.
    assert await rows_of(db, signals.budget_burn_by_project(portal(other_user)), key="project_id") == {}


# --------------------------------------------------------------------------- capacity


async def test_capacity_is_hours_per_member_across_clients_in_the_window(db, factory):
    manager = await factory.user(Role.MANAGER)
    dana, dee = await factory.user(Role.MEMBER), await factory.user(Role.MEMBER)
    acme, birch = await factory.client("Acme"), await factory.client("Birch")
    birch_user = await factory.portal_user(birch)
    a1, a2, b1 = await factory.project(acme), await factory.project(acme), await factory.project(birch)
    start, end = TODAY - dt.timedelta(days=13), TODAY
    entries = [
        (dana, a1, "3", True, TODAY),
        (dana, a2, "2", False, TODAY - dt.timedelta(days=13)),
        (dana, b1, "4", True, TODAY - dt.timedelta(days=5)),
        (dana, b1, "8", True, TODAY - dt.timedelta(days=14)),  # before the window
        (dee, b1, "6", True, TODAY - dt.timedelta(days=1)),
    ]
    for user, p, hours, billable, day in entries:
        await factory.add(
            TimeEntry(
                user_id=user.id,
                project_id=p.id,
                work_date=day,
                hours=Decimal(hours),
                billable=billable,
                cost_rate=Decimal("40.00"),
                bill_rate=Decimal("100.00"),
            )
        )
    found = await rows_of(db, signals.capacity_by_member(staff(manager), start, end), key="user_id")
    for user in (dana, dee):
        mine = [e for e in entries if e[0] is user and start <= e[4] <= end]
        row = found[user.id]
        assert Decimal(str(row["hours"])) == sum(Decimal(e[2]) for e in mine)
        assert Decimal(str(row["billable_hours"])) == sum(Decimal(e[2]) for e in mine if e[3])
        assert row["clients"] == len({e[1].client_id for e in mine})
        assert row["projects"] == len({e[1].id for e in mine})
    assert (Decimal(str(found[dana.id]["hours"])), found[dana.id]["clients"]) == (Decimal("9"), 2)
    split = await rows_of(db, signals.hours_by_member_and_client(staff(manager), start, end), key="client_id")
    assert set(split) == {acme.id, birch.id}
    async with db() as session:
        pairs = {
            (u, c): Decimal(str(h))
            for u, c, h in await session.execute(
                sa.select(signals.hours_by_member_and_client(staff(manager), start, end))
            )
        }
    assert pairs == {
        (dana.id, acme.id): Decimal("5"),
        (dana.id, birch.id): Decimal("4"),
        (dee.id, birch.id): Decimal("6"),
    }
    # A portal user's view is its own client's time only.
    theirs = await rows_of(db, signals.hours_by_member_and_client(portal(birch_user), start, end), key="client_id")
    assert set(theirs) == {birch.id}
