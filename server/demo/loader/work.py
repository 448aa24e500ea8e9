"""Loading the work: projects with their tasks, deliverables and comments, then three months of
generated time entries (from the seeded generator) and the projects' expenses."""

from __future__ import annotations

import datetime as dt

from models import (
    ActivityKind,
    Comment,
    CommentKind,
    Deliverable,
    Expense,
    Project,
    ProjectHealth,
    ProjectStatus,
    Role,
    Task,
    TaskStatus,
    TimeEntry,
)
from models.base import money
from server.demo.data.projects import PROJECTS
from server.demo.loader.state import DemoLoad, known

# How the time entries are generated: on a weekday, each person on a project logs time with
# these odds; a manager's entry is mostly project management, anyone else's is on a task.
MANAGER_LOGS_A_DAY = 0.12
MEMBER_LOGS_A_DAY = 0.24
MANAGEMENT_HOURS = (0.5, 0.75, 1.0, 1.5)
MANAGEMENT_WORK = ("Project management", "Client check-in and planning", "Weekly status report")
TASK_HOURS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
TASK_WORK = ("", " (continued)", ": revisions after feedback", ": pairing session", ": QA and fixes")


async def add_projects(load: DemoLoad) -> None:
    for spec in PROJECTS:
        client = load.clients[spec.client]
        start = known(client.became_client_on) if spec.start is None else load.day(-spec.start)
        created = load.at(load.ago(start), 11)
        project = Project(
            client_id=known(client.id),
            name=spec.name,
            description=spec.description,
            start_date=start,
            end_date=load.day(spec.end),
            budget=money(spec.budget),
            status=spec.status,
            health=spec.health,
            created_at=created,
            updated_at=max(created, load.at(min(load.ago(start), 5), 12)),
        )
        load.projects.append((spec, project, []))
    load.session.add_all(p for _, p, _ in load.projects)
    await load.session.flush()

    for spec, project, tasks in load.projects:
        for position, t in enumerate(spec.tasks):
            due = load.day(t.due)
            completed = None
            if t.status is TaskStatus.DONE:
                completed = load.at(max(1, load.ago(due) + 1), 16) if t.due < 0 else load.at(1, 16)
                completed = max(completed, project.created_at)
            tasks.append(
                (
                    t,
                    Task(
                        project_id=known(project.id),
                        title=t.title,
                        status=t.status,
                        assignee_id=load.staff[t.assignee].id,
                        due_date=due,
                        estimate_hours=money(t.estimate),
                        visible_to_client=t.visible,
                        position=position,
                        completed_at=completed,
                        created_at=project.created_at,
                    ),
                )
            )
        load.session.add_all(task for _, task in tasks)
        if project.status is ProjectStatus.COMPLETED:
            # As migration 0012 backfills it: the last task's completion, else the last update.
            done = [task.completed_at for _, task in tasks if task.completed_at is not None]
            project.completed_at = max(done, default=project.updated_at)
    await load.session.flush()

    deliverables = []
    for _, _, tasks in load.projects:
        for t, task in tasks:
            for d in t.deliverables:
                deliverables.append(
                    Deliverable(
                        task_id=known(task.id),
                        title=d.title,
                        url=d.url,
                        kind=d.kind,
                        is_complete=d.complete,
                        created_at=task.completed_at or load.at(max(load.ago(known(task.due_date)) + 3, 1), 15),
                    )
                )
    load.session.add_all(deliverables)

    comments: list[tuple[Comment, Project]] = []
    for spec, project, tasks in load.projects:
        by_title = {t.title: task for t, task in tasks}
        for c in spec.comments:
            on_task = by_title[c.task] if c.task else None
            comments.append(
                (
                    Comment(
                        project_id=known(project.id),
                        task_id=on_task.id if on_task else None,
                        kind=c.kind,
                        author_id=load.user(c.author).id,
                        body=c.body,
                        created_at=max(load.at(c.days_ago, 15, 20), project.created_at),
                    ),
                    project,
                )
            )
    load.session.add_all(c for c, _ in comments)
    await load.session.flush()

    for spec, project, tasks in load.projects:
        client = load.clients[spec.client]
        manager = load.staff[load.client_specs[spec.client].manager]
        load.log(
            ActivityKind.PROJECT_CREATED,
            client,
            project.created_at,
            f"Project {project.name} created",
            actor=manager,
            subject=project,
            visible=True,
        )
        if spec.status is not ProjectStatus.ACTIVE:
            when = load.at(spec.paused if spec.paused is not None else max(1, -spec.end), 17)
            label = spec.status.value.replace("_", " ").lower()
            load.log(
                ActivityKind.PROJECT_UPDATED,
                client,
                max(when, project.created_at),
                f"Project {project.name} is now {label}",
                actor=manager,
                subject=project,
                visible=True,
            )
        elif spec.health is not ProjectHealth.ON_TRACK:
            load.log(
                ActivityKind.PROJECT_UPDATED,
                client,
                load.at(5, 9),
                f"Project {project.name} health set to {spec.health.value.replace('_', ' ').lower()}",
                actor=manager,
                subject=project,
                visible=False,
            )
        for t, task in tasks:
            if task.completed_at is not None:
                load.log(
                    ActivityKind.TASK_UPDATED,
                    client,
                    task.completed_at,
                    f"Task done: {task.title}",
                    actor=load.staff[t.assignee],
                    subject=task,
                    visible=task.visible_to_client,
                )
    for comment, project in comments:
        client = load.client_by_id(project.client_id)
        author = next(u for u in [*load.staff.values(), *load.portal.values()] if u.id == comment.author_id)
        word = "Reply" if comment.kind is CommentKind.REPLY else "Note"
        load.log(
            ActivityKind.COMMENT_ADDED,
            client,
            comment.created_at,
            f"{author.full_name} added a {word} on {project.name}",
            actor=author,
            subject=comment,
            visible=comment.kind is CommentKind.REPLY,
        )


async def add_time_and_expenses(load: DemoLoad) -> None:
    horizon = load.day(-90)
    for spec, project, tasks in load.projects:
        client_spec = load.client_specs[spec.client]
        if spec.paused is not None:
            last = load.day(-spec.paused)
        elif spec.status is ProjectStatus.ACTIVE:
            last = load.day(-1)
        else:
            last = min(known(project.end_date), load.day(-1))
        first = max(known(project.start_date), horizon)
        workers = sorted({t.assignee for t, _ in tasks} | {client_spec.manager})
        day = first
        while day <= last:
            if day.weekday() < 5:
                for key in workers:
                    user = load.staff[key]
                    is_manager = user.role is not Role.MEMBER
                    if load.rng.random() >= (MANAGER_LOGS_A_DAY if is_manager else MEMBER_LOGS_A_DAY):
                        continue
                    mine = [(t, task) for t, task in tasks if t.assignee == key]
                    active = [(t, task) for t, task in mine if t.status is not TaskStatus.TODO] or mine
                    if is_manager and (not active or load.rng.random() < 0.6):
                        task, hours = None, load.rng.choice(MANAGEMENT_HOURS)
                        billable = not spec.fixed_fee and load.rng.random() < 0.5
                        description = load.rng.choice(MANAGEMENT_WORK)
                    else:
                        t, task = load.rng.choice(active)
                        hours = load.rng.choice(TASK_HOURS)
                        billable = t.visible and not spec.fixed_fee and load.rng.random() > 0.12
                        description = task.title + load.rng.choice(TASK_WORK)
                    load.time_entries.append(
                        TimeEntry(
                            user_id=known(user.id),
                            project_id=known(project.id),
                            task_id=task.id if task else None,
                            work_date=day,
                            hours=money(hours),
                            billable=billable,
                            cost_rate=known(user.hourly_cost_rate),
                            bill_rate=known(user.hourly_bill_rate),
                            description=description,
                            created_at=load.at(load.ago(day), 18, 5),
                        )
                    )
            day += dt.timedelta(days=1)
        for e in spec.expenses:
            load.expenses.append(
                (
                    Expense(
                        project_id=known(project.id),
                        description=e.description,
                        amount=money(e.amount),
                        billable=e.billable,
                        incurred_on=load.day(-e.days_ago),
                        created_by_id=load.staff[e.by].id,
                        created_at=load.at(e.days_ago, 17, 30),
                    ),
                    spec.client,
                )
            )
    load.session.add_all(load.time_entries)
    load.session.add_all(e for e, _ in load.expenses)
    await load.session.flush()

    # A handful of feed entries; the rest of the time is visible through the time reports.
    for entry in sorted(load.time_entries, key=lambda e: e.work_date)[-4:]:
        project = next(p for _, p, _ in load.projects if p.id == entry.project_id)
        client = load.client_by_id(project.client_id)
        user = next(u for u in load.staff.values() if u.id == entry.user_id)
        load.log(
            ActivityKind.TIME_LOGGED,
            client,
            entry.created_at,
            f"{user.full_name} logged {entry.hours} h on {project.name}",
            actor=user,
            subject=entry,
        )
    for expense, key in load.expenses[-3:]:
        load.log(
            ActivityKind.EXPENSE_LOGGED,
            load.clients[key],
            expense.created_at,
            f"Expense logged: {expense.description}",
            actor=load.staff_by_id(expense.created_by_id),
            subject=expense,
        )
