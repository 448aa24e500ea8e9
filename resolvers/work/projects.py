"""Projects and tasks: create a project from a client (with its first tasks), update
status and health, create and update tasks.

Decisions the guide leaves open (also in the README):
- Project status moves ACTIVE -> ON_HOLD | COMPLETED | CANCELLED, ON_HOLD -> ACTIVE |
  CANCELLED, COMPLETED -> ACTIVE (reopened). CANCELLED is final: a cancelled project
  takes no more edits or tasks (PROJECT_CANCELLED). A new project starts ACTIVE.
- Task status moves freely between TODO, IN_PROGRESS, IN_REVIEW and DONE; DONE stamps
  completedAt, leaving DONE clears it. Assignees are active team members only.
- Only ADMIN and MANAGER set a budget (a MEMBER may not read it, so may not write it).
- One mutation may write two feed entries: a client-visible one naming only what the
  client can read (name, dates, status, assignee), and an internal one for the rest
  (health, budget, estimates, visibility). The budget's amount is never in a summary.
- Completing a project stamps completedAt; reopening it (COMPLETED -> ACTIVE) clears it.
- Scope changes are logged (models.work.ScopeChange, staff only) by the mutation that makes them:
  a budget change or an end-date move once the project has started, a task added once it has
  started, and a cancellation (at any time). A project has started on its start date; one with no
  start date on the day after it was created (tasks added on its first day are its plan). A lower
  budget and a cancellation are reductions (the guide's warning sign).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from models import (
    ActivityKind,
    Project,
    ProjectHealth,
    ProjectStatus,
    ScopeChange,
    ScopeChangeKind,
    Task,
    TaskStatus,
    User,
)
from models.base import utcnow
from resolvers.activity import notify, record_activity
from resolvers.clients.contacts import locked_client
from resolvers.errors import InputError
from resolvers.lookup import visible_row
from resolvers.validation import amount, date_range, hours, optional_text, required_text, staff_member

MAX_INITIAL_TASKS = 100


PROJECT_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.ACTIVE: frozenset({ProjectStatus.ON_HOLD, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}),
    ProjectStatus.ON_HOLD: frozenset({ProjectStatus.ACTIVE, ProjectStatus.CANCELLED}),
    ProjectStatus.COMPLETED: frozenset({ProjectStatus.ACTIVE}),
    ProjectStatus.CANCELLED: frozenset(),
}


def _words(value: Any) -> str:
    return value.value.replace("_", " ").lower() if hasattr(value, "value") else str(value)


def log_changes(
    session: AsyncSession,
    principal: Principal,
    kind: ActivityKind,
    *,
    client_id: int,
    subject_type: str,
    subject_id: int,
    title: str,
    public: list[str],
    internal: list[str],
    client_sees_subject: bool,
) -> None:
    """At least one entry: the client-visible part, and an internal one for everything else."""
    shown = public if client_sees_subject else []
    if shown:
        record_activity(
            session,
            principal,
            kind,
            f"{title}: {', '.join(shown)}",
            client_id=client_id,
            subject_type=subject_type,
            subject_id=subject_id,
            client_visible=True,
        )
    rest = internal + ([] if client_sees_subject else public)
    if rest or not shown:
        record_activity(
            session,
            principal,
            kind,
            f"{title}: {', '.join(rest) or 'no change'}",
            client_id=client_id,
            subject_type=subject_type,
            subject_id=subject_id,
            client_visible=False,
        )


async def _assignee(session: AsyncSession, user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    return staff_member(field, await session.get(User, user_id))


async def _clean_task(session: AsyncSession, prefix: str, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not partial or "title" in data:
        out["title"] = required_text(f"{prefix}.title", data.get("title"), 300)
    if not partial or "description" in data:
        out["description"] = optional_text(f"{prefix}.description", data.get("description"), 20000)
    if not partial or "due_date" in data:
        out["due_date"] = data.get("due_date")
    if not partial or "estimate_hours" in data:
        out["estimate_hours"] = hours(f"{prefix}.estimateHours", data.get("estimate_hours"))
    if not partial or "assignee_id" in data:
        assignee = await _assignee(session, data.get("assignee_id"), f"{prefix}.assigneeId")
        out["assignee_id"] = assignee.id if assignee else None
    for key, default, label in (("status", TaskStatus.TODO, "status"), ("visible_to_client", True, "visibleToClient")):
        if partial and key in data and data[key] is None:
            raise InputError(f"{prefix}.{label}", "REQUIRED", f"{label} cannot be empty.")
        if not partial or key in data:
            out[key] = default if data.get(key) is None else data[key]
    return out


async def _next_position(session: AsyncSession, project_id: int) -> int:
    current = await session.scalar(sa.select(sa.func.max(col(Task.position))).where(col(Task.project_id) == project_id))
    return -1 if current is None else int(current)


def _notify_assignee(session: AsyncSession, principal: Principal, task: Task) -> None:
    if task.assignee_id is not None and task.assignee_id != principal.user_id:
        notify(
            session,
            [task.assignee_id],
            "TASK_ASSIGNED",
            f"You were assigned: {task.title}",
            subject_type="Task",
            subject_id=task.id,
        )


async def create_project(
    session: AsyncSession, principal: Principal, *, client_id: int, data: dict[str, Any], tasks: list[dict[str, Any]]
) -> tuple[Project, list[Task]]:
    """A project for a client (the client comes from the record: pre-filled), with its first tasks."""
    name = required_text("input.name", data.get("name"), 200)
    description = optional_text("input.description", data.get("description"), 20000)
    start, end = data.get("start_date"), data.get("end_date")
    date_range(start, end)
    budget = amount("input.budget", data.get("budget"))
    health = data.get("health") or ProjectHealth.ON_TRACK
    if len(tasks) > MAX_INITIAL_TASKS:
        raise InputError("input.tasks", "TOO_MANY", f"At most {MAX_INITIAL_TASKS} initial tasks.")
    task_values = [await _clean_task(session, f"input.tasks[{i}]", t, partial=False) for i, t in enumerate(tasks)]
    client = await locked_client(session, principal, client_id)
    assert client.id is not None
    project = Project(
        client_id=client.id,
        name=name,
        description=description,
        start_date=start,
        end_date=end,
        budget=budget,
        status=ProjectStatus.ACTIVE,
        health=health,
    )
    session.add(project)
    await session.flush()
    assert project.id is not None
    created = []
    for position, values in enumerate(task_values):
        task = Task(project_id=project.id, position=position, **values)
        if task.status is TaskStatus.DONE:
            task.completed_at = utcnow()
        created.append(task)
    session.add_all(created)
    await session.flush()
    for task in created:
        _notify_assignee(session, principal, task)
    record_activity(
        session,
        principal,
        ActivityKind.PROJECT_CREATED,
        f"Project {project.name} created",
        client_id=client.id,
        subject_type="Project",
        subject_id=project.id,
        client_visible=True,
    )
    return project, created


def has_started(project: Project, start_date: dt.date | None, now: dt.datetime) -> bool:
    """Whether changes to the project now are scope changes (see the module's docstring)."""
    if start_date is not None:
        return start_date <= now.date()
    return project.created_at.date() < now.date()


def _scope_changes(
    principal: Principal, project: Project, values: dict[str, Any], now: dt.datetime
) -> list[ScopeChange]:
    """The scope changes an update makes, before it is applied to `project`."""
    project_id = project.id
    assert project_id is not None
    found: list[ScopeChange] = []
    started = has_started(project, values.get("start_date", project.start_date), now)

    def log(kind: ScopeChangeKind, **details: Any) -> ScopeChange:
        return ScopeChange(
            project_id=project_id, kind=kind, changed_by_id=principal.user_id, occurred_at=now, **details
        )

    if started and "budget" in values and values["budget"] != project.budget:
        old, new = project.budget, values["budget"]
        reduced = old is not None and new is not None and new < old
        found.append(log(ScopeChangeKind.BUDGET_CHANGED, is_reduction=reduced, old_budget=old, new_budget=new))
    if started and "end_date" in values and values["end_date"] != project.end_date:
        found.append(
            log(ScopeChangeKind.END_DATE_MOVED, old_end_date=project.end_date, new_end_date=values["end_date"])
        )
    if values.get("status") is ProjectStatus.CANCELLED and project.status is not ProjectStatus.CANCELLED:
        found.append(log(ScopeChangeKind.PROJECT_CANCELLED, is_reduction=True))
    return found


async def _project(session: AsyncSession, principal: Principal, project_id: int, field: str) -> Project:
    project = await visible_row(session, principal, Project, project_id, what="project", field=field, lock=True)
    return project


def _refuse_cancelled(project: Project, field: str) -> None:
    if project.status is ProjectStatus.CANCELLED:
        raise InputError(field, "PROJECT_CANCELLED", "The project is cancelled; a cancelled project is final.")


async def update_project(
    session: AsyncSession, principal: Principal, *, project_id: int, changes: dict[str, Any]
) -> Project:
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = required_text("input.name", changes["name"], 200)
    if "description" in changes:
        values["description"] = optional_text("input.description", changes["description"], 20000)
    for key, label in (("status", "status"), ("health", "health")):
        if key in changes:
            if changes[key] is None:
                raise InputError(f"input.{label}", "REQUIRED", f"{label} cannot be empty.")
            values[key] = changes[key]
    if "budget" in changes:
        values["budget"] = amount("input.budget", changes["budget"])
    for key in ("start_date", "end_date"):
        if key in changes:
            values[key] = changes[key]
    project = await _project(session, principal, project_id, "input.projectId")
    assert project.id is not None
    _refuse_cancelled(project, "input.projectId")
    date_range(values.get("start_date", project.start_date), values.get("end_date", project.end_date))
    status = values.get("status")
    if status is not None and status is not project.status and status not in PROJECT_TRANSITIONS[project.status]:
        raise InputError(
            "input.status",
            "INVALID_TRANSITION",
            f"A project cannot move from {project.status.value} to {status.value}.",
        )
    now = utcnow()
    session.add_all(_scope_changes(principal, project, values, now))
    if status is ProjectStatus.COMPLETED and project.status is not ProjectStatus.COMPLETED:
        project.completed_at = now
    elif status is not None and status is not ProjectStatus.COMPLETED:
        project.completed_at = None
    public: list[str] = []
    internal: list[str] = []
    for key, value in values.items():
        if getattr(project, key) == value:
            continue
        if key == "budget":
            internal.append("budget changed")
        elif key == "health":
            internal.append(f"health {_words(project.health)} to {_words(value)}")
        elif key == "status":
            public.append(f"status {_words(project.status)} to {_words(value)}")
        elif key in ("start_date", "end_date"):
            public.append(f"{key.replace('_', ' ')} {value.isoformat() if value else 'cleared'}")
        else:
            public.append(f"{key} changed")
        setattr(project, key, value)
    project.updated_at = now
    log_changes(
        session,
        principal,
        ActivityKind.PROJECT_UPDATED,
        client_id=project.client_id,
        subject_type="Project",
        subject_id=project.id,
        title=f"Project {project.name}",
        public=public,
        internal=internal,
        client_sees_subject=True,
    )
    await session.flush()
    return project


async def _task(session: AsyncSession, principal: Principal, task_id: int, field: str) -> Task:
    task = await visible_row(session, principal, Task, task_id, what="task", field=field, lock=True)
    return task


async def create_task(session: AsyncSession, principal: Principal, *, project_id: int, data: dict[str, Any]) -> Task:
    values = await _clean_task(session, "input", data, partial=False)
    project = await _project(session, principal, project_id, "input.projectId")
    assert project.id is not None
    _refuse_cancelled(project, "input.projectId")
    task = Task(project_id=project.id, position=await _next_position(session, project.id) + 1, **values)
    if task.status is TaskStatus.DONE:
        task.completed_at = utcnow()
    session.add(task)
    await session.flush()
    now = utcnow()
    if has_started(project, project.start_date, now):
        session.add(
            ScopeChange(
                project_id=project.id,
                kind=ScopeChangeKind.TASK_ADDED,
                task_id=task.id,
                changed_by_id=principal.user_id,
                occurred_at=now,
            )
        )
    _notify_assignee(session, principal, task)
    record_activity(
        session,
        principal,
        ActivityKind.TASK_UPDATED,
        f"Task {task.title} added to {project.name}",
        client_id=project.client_id,
        subject_type="Task",
        subject_id=task.id,
        client_visible=task.visible_to_client,
    )
    return task


async def update_task(session: AsyncSession, principal: Principal, *, task_id: int, changes: dict[str, Any]) -> Task:
    """Status, assignment and details: staff only (the mutation table keeps CLIENTs out)."""
    if not changes:
        raise InputError("input", "NOTHING_TO_UPDATE", "Give at least one field to change.")
    values = await _clean_task(session, "input", changes, partial=True)
    task = await _task(session, principal, task_id, "input.taskId")
    assert task.id is not None
    project = await session.get(Project, task.project_id)
    assert project is not None  # task.project_id is a foreign key
    _refuse_cancelled(project, "input.taskId")
    public: list[str] = []
    internal: list[str] = []
    reassigned = False
    for key, value in values.items():
        if getattr(task, key) == value:
            continue
        if key == "status":
            public.append(f"status {_words(task.status)} to {_words(value)}")
            task.completed_at = utcnow() if value is TaskStatus.DONE else None
        elif key == "assignee_id":
            reassigned = value is not None
            name = None
            if value is not None:
                assignee = await session.get(User, value)
                assert assignee is not None  # _clean_task found this user
                name = assignee.full_name
            public.append(f"assigned to {name}" if name else "unassigned")
        elif key == "due_date":
            public.append(f"due {value.isoformat()}" if isinstance(value, dt.date) else "due date cleared")
        elif key in ("title", "description"):
            public.append(f"{key} changed")
        elif key == "estimate_hours":
            internal.append("estimate changed")
        elif key == "visible_to_client":
            internal.append("shown to the client" if value else "hidden from the client")
        setattr(task, key, value)
    if reassigned:
        _notify_assignee(session, principal, task)
    log_changes(
        session,
        principal,
        ActivityKind.TASK_UPDATED,
        client_id=project.client_id,
        subject_type="Task",
        subject_id=task.id,
        title=f"Task {task.title}",
        public=public,
        internal=internal,
        client_sees_subject=task.visible_to_client,
    )
    await session.flush()
    return task
