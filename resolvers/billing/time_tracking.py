"""Logging time and expenses against a project: the delivery side of billing.

Decisions where the brief was silent:
- Time is always logged by, and for, the caller. Its cost and bill rates are copied from the
  caller's own hourly rates at that moment, so a later rate change never re-prices logged
  work; a rate the admin has not set yet is captured as 0.00 (the entry still counts as hours,
  and a draft invoice shows the 0.00 line before anyone sends it).
- `billable` is required, not defaulted: whether the client pays for it is never an accident.
- Hours are more than 0 and at most 24 per entry, and a person's entries for one day add up
  to at most 24. Amounts and hours are refused (not rounded) beyond 2 decimal places.
- A work or expense date may not be in the future (one day of slack for time zones).
- Nothing is logged on a CANCELLED project; completed and on-hold projects still take late time.
- Activity summaries carry hours and names but never money: every staff role reads the feed,
  and a MEMBER may not see costs or billed amounts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import time_entry_scope, user_scope
from models import ActivityKind, Expense, Project, ProjectStatus, Task, TimeEntry, User
from models.base import money
from resolvers.activity import record_activity
from resolvers.errors import InputError, NotFound
from resolvers.lookup import visible_row
from resolvers.validation import decimal_input, not_in_future, text_input

MAX_HOURS = Decimal("24")


MAX_TIME_DESCRIPTION = 2000


MAX_EXPENSE_DESCRIPTION = 300  # the column's length


async def _open_project(session: AsyncSession, principal: Principal, project_id: int) -> Project:
    project = await visible_row(session, principal, Project, project_id, what="project", field="projectId")
    if project.status is ProjectStatus.CANCELLED:
        raise InputError(
            "projectId", "PROJECT_CANCELLED", "The project is cancelled: nothing more can be logged on it."
        )
    return project


async def log_time(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    task_id: int | None,
    work_date: dt.date,
    hours: Decimal,
    billable: bool,
    description: str | None,
) -> TimeEntry:
    """The caller's hours on a project (and optionally one of its tasks), rates captured now."""
    hours = decimal_input("hours", hours, maximum=MAX_HOURS, what="hours")
    not_in_future("workDate", work_date, "work date")
    text = text_input("description", description, max_length=MAX_TIME_DESCRIPTION, what="description")
    project = await _open_project(session, principal, project_id)
    assert project.id is not None
    if task_id is not None:
        task = await visible_row(session, principal, Task, task_id, what="task", field="taskId")
        if task.project_id != project.id:
            raise InputError("taskId", "TASK_NOT_IN_PROJECT", "That task belongs to another project.")
    user = await session.scalar(sa.select(User).where(col(User.id) == principal.user_id, user_scope(principal)))
    if user is None:
        raise NotFound("user")
    assert user.id is not None
    logged = money(
        await session.scalar(
            sa.select(sa.func.sum(col(TimeEntry.hours))).where(
                col(TimeEntry.user_id) == user.id, col(TimeEntry.work_date) == work_date, time_entry_scope(principal)
            )
        )
    )
    if logged + hours > MAX_HOURS:
        raise InputError(
            "hours", "DAY_OVER_24_HOURS", f"{logged} hours are already logged on {work_date.isoformat()}; a day has 24."
        )
    entry = TimeEntry(
        user_id=user.id,
        project_id=project.id,
        task_id=task_id,
        work_date=work_date,
        hours=hours,
        billable=billable,
        cost_rate=money(user.hourly_cost_rate),
        bill_rate=money(user.hourly_bill_rate),
        description=text,
    )
    session.add(entry)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.TIME_LOGGED,
        f"{user.full_name} logged {hours} h on {project.name}",
        client_id=project.client_id,
        subject_type="TimeEntry",
        subject_id=entry.id,
    )
    return entry


async def log_expense(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    description: str,
    amount: Decimal,
    billable: bool,
    incurred_on: dt.date,
) -> Expense:
    """An expense the agency paid for a project; a billable one is passed on at cost."""
    text = text_input("description", description, max_length=MAX_EXPENSE_DESCRIPTION, required=True, what="description")
    amount = decimal_input("amount", amount)
    not_in_future("incurredOn", incurred_on, "expense date")
    project = await _open_project(session, principal, project_id)
    assert project.id is not None
    expense = Expense(
        project_id=project.id,
        description=text,
        amount=amount,
        billable=billable,
        incurred_on=incurred_on,
        created_by_id=principal.user_id,
    )
    session.add(expense)
    await session.flush()
    record_activity(
        session,
        principal,
        ActivityKind.EXPENSE_LOGGED,
        f"Expense logged on {project.name}: {text}",
        client_id=project.client_id,
        subject_type="Expense",
        subject_id=expense.id,
    )
    return expense
