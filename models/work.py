"""Delivery: projects, tasks, deliverables, comments, time and expenses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Money, UTCDateTime, enum_column, utcnow
from models.enums import CommentKind, DeliverableKind, ProjectHealth, ProjectStatus, ScopeChangeKind, TaskStatus


class Project(SQLModel, table=True):
    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    name: str = Field(sa_type=sa.String(200))
    description: str | None = Field(default=None, sa_type=sa.Text)
    start_date: dt.date | None = Field(default=None)
    end_date: dt.date | None = Field(default=None)
    budget: Decimal | None = Field(default=None, sa_type=Money)
    status: ProjectStatus = Field(default=ProjectStatus.ACTIVE, sa_type=enum_column(ProjectStatus), index=True)
    health: ProjectHealth = Field(default=ProjectHealth.ON_TRACK, sa_type=enum_column(ProjectHealth))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the project became COMPLETED (set with the status, cleared when it is reopened), so
    # timeline adherence can compare it with end_date for finished projects too.
    completed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScopeChange(SQLModel, table=True):
    """One change to a project's scope, written by the mutation that made it: a budget change, an
    end-date move or a task added once the project had started, or the project's cancellation.

    The agency's own record (the guide files scope changes under internal notes): staff only
    (auth.scopes.scope_change_scope). `is_reduction` marks the warning sign the guide names,
    "scope reduction or project cancellations": a lower budget, or a cancellation."""

    __tablename__ = "scope_change"
    __table_args__ = (sa.Index("ix_scope_change_project_id_occurred_at", "project_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    kind: ScopeChangeKind = Field(sa_type=enum_column(ScopeChangeKind))
    is_reduction: bool = Field(default=False)
    old_budget: Decimal | None = Field(default=None, sa_type=Money)
    new_budget: Decimal | None = Field(default=None, sa_type=Money)
    old_end_date: dt.date | None = Field(default=None)
    new_end_date: dt.date | None = Field(default=None)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    changed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Task(SQLModel, table=True):
    __tablename__ = "task"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    title: str = Field(sa_type=sa.String(300))
    description: str | None = Field(default=None, sa_type=sa.Text)
    status: TaskStatus = Field(default=TaskStatus.TODO, sa_type=enum_column(TaskStatus))
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    due_date: dt.date | None = Field(default=None)
    estimate_hours: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    # A task can be internal to the team; only tasks marked here reach the portal.
    visible_to_client: bool = Field(default=True)
    position: int = Field(default=0)
    completed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Deliverable(SQLModel, table=True):
    """A file or link attached to a task."""

    __tablename__ = "deliverable"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    title: str = Field(sa_type=sa.String(300))
    url: str = Field(sa_type=sa.String(1000))
    kind: DeliverableKind = Field(default=DeliverableKind.LINK, sa_type=enum_column(DeliverableKind))
    is_complete: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set with is_complete when a deliverable is marked complete; cleared when it is reopened.
    completed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # An uploaded file (kind FILE, url empty): where the file store keeps it (a key the server
    # made, never the client's file name), the sanitised original name, size, type and digest.
    file_key: str | None = Field(default=None, sa_type=sa.String(100))
    file_name: str | None = Field(default=None, sa_type=sa.String(255))
    file_size: int | None = Field(default=None, sa_type=sa.BigInteger)
    content_type: str | None = Field(default=None, sa_type=sa.String(100))
    sha256: str | None = Field(default=None, sa_type=sa.String(64))


class Comment(SQLModel, table=True):
    """A REPLY (the client sees it) or a NOTE (internal) on a task or a project.

    project_id is always set, task_id only for a task comment, so a comment's scope
    follows its project's without a join through the task.
    """

    __tablename__ = "comment"
    # The dashboard's response times walk each thread (project, task) in time order.
    __table_args__ = (sa.Index("ix_comment_project_id_task_id_created_at", "project_id", "task_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    kind: CommentKind = Field(sa_type=enum_column(CommentKind))
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    body: str = Field(sa_type=sa.Text)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class TimeEntry(SQLModel, table=True):
    """Hours worked, with the cost and bill rates captured at the time."""

    __tablename__ = "time_entry"
    __table_args__ = (sa.CheckConstraint("hours > 0", name="hours_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    work_date: dt.date = Field(index=True)
    hours: Decimal = Field(sa_type=sa.Numeric(6, 2))
    billable: bool = Field(default=True)
    cost_rate: Decimal = Field(sa_type=Money)
    bill_rate: Decimal = Field(sa_type=Money)
    description: str | None = Field(default=None, sa_type=sa.Text)
    invoice_line_id: int | None = Field(default=None, foreign_key="invoice_line.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Expense(SQLModel, table=True):
    __tablename__ = "expense"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    description: str = Field(sa_type=sa.String(300))
    amount: Decimal = Field(sa_type=Money)
    billable: bool = Field(default=True)
    incurred_on: dt.date
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    invoice_line_id: int | None = Field(default=None, foreign_key="invoice_line.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
