"""A synthetic agency of any size, written with bulk inserts (one executemany per table).

Used by bench/run.py and by the statement-count tests. Everything is deterministic: client i
gets the same status, projects, invoices and history whatever the size, so a small and a
large agency have the same mix of healthy, quiet, overdue and at-risk clients.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from models import (
    Activity,
    ActivityKind,
    Client,
    ClientCategory,
    ClientStatus,
    ClientTier,
    Comment,
    CommentKind,
    Contact,
    Deliverable,
    Expense,
    Interaction,
    InteractionKind,
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    LoginEvent,
    Meeting,
    MeetingStatus,
    Opportunity,
    OpportunityStage,
    Payment,
    Project,
    ProjectHealth,
    ProjectStatus,
    Role,
    SatisfactionSurvey,
    ScopeChange,
    ScopeChangeKind,
    Task,
    TaskStatus,
    TimeEntry,
    User,
)
from models.clients import STATUS_ACTIVE, STATUS_CHURNED, STATUS_ON_HOLD

UTC = dt.UTC
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Shape:
    clients: int = 500
    projects_per_client: int = 5
    tasks_per_project: int = 20
    comments_per_task: int = 2
    time_entries_per_task: int = 2
    invoices_per_client: int = 4
    members: int = 8


@dataclass
class Agency:
    owner_email: str
    manager_email: str
    member_email: str
    portal_emails: list[str]
    client_ids: list[int]
    rows: dict[str, int] = field(default_factory=dict)


def _defaults(model: Any) -> dict[str, Any]:
    """The model's Python-side defaults (a core insert does not apply them)."""
    found = {}
    for name, info in model.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            found[name] = info.default_factory()
        elif info.default is not PydanticUndefined:
            found[name] = info.default
    return found


async def _insert(conn: AsyncConnection, model: Any, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    if not rows:
        return []
    base = _defaults(model)
    rows = [{**base, **row} for row in rows]
    table = model.__table__
    if ids:
        result = await conn.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return [row[0] for row in result]
    await conn.execute(sa.insert(table), rows)
    return []


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), UTC)


async def build_agency(
    engine: AsyncEngine,
    shape: Shape = Shape(),
    *,
    password_hash: str,
    tag: str = "a",
    now: dt.datetime | None = None,
) -> Agency:
    """Add one synthetic agency (its own staff and clients, e-mails tagged `tag`) to a migrated database."""
    now = now or dt.datetime.now(UTC)
    today = now.date()
    counts: dict[str, int] = {}
    async with engine.begin() as conn:
        statuses = {
            name: sid
            for sid, name in (await conn.execute(sa.select(col(ClientStatus.id), col(ClientStatus.name)))).all()
        }
        for name in ("VIP", "At Risk"):
            if name not in statuses:
                (sid,) = await _insert(
                    conn, ClientStatus, [{"name": name, "category": ClientCategory.ACTIVE, "position": 10}], ids=True
                )
                statuses[name] = sid
        next_number = int((await conn.scalar(sa.select(sa.func.max(Invoice.number)))) or 1000) + 1

        # ---- staff
        staff_rows: list[dict[str, Any]] = [
            {
                "email": f"owner.{tag}@agency.example",
                "full_name": f"Owner {tag}",
                "role": Role.ADMIN,
                "hourly_cost_rate": Decimal("90.00"),
                "hourly_bill_rate": Decimal("200.00"),
            },
            *(
                {
                    "email": f"manager{m}.{tag}@agency.example",
                    "full_name": f"Manager {m} {tag}",
                    "role": Role.MANAGER,
                    "hourly_cost_rate": Decimal("60.00"),
                    "hourly_bill_rate": Decimal("160.00"),
                }
                for m in range(2)
            ),
            *(
                {
                    "email": f"member{m}.{tag}@agency.example",
                    "full_name": f"Member {m} {tag}",
                    "role": Role.MEMBER,
                    "job_title": "Developer",
                    "hourly_cost_rate": Decimal(40 + 5 * (m % 4)),
                    "hourly_bill_rate": Decimal(120 + 10 * (m % 4)),
                }
                for m in range(shape.members)
            ),
        ]
        for row in staff_rows:
            row.update(password_hash=password_hash, created_at=now - dt.timedelta(days=900))
        staff_ids = await _insert(conn, User, staff_rows, ids=True)
        managers, members = staff_ids[1:3], staff_ids[3:]
        rates = {
            uid: (row["hourly_cost_rate"], row["hourly_bill_rate"])
            for uid, row in zip(staff_ids, staff_rows, strict=True)
        }

        # ---- clients and contacts
        pattern = ["Active", "Active", "VIP", "On Hold", "At Risk", "Active", "Churned", "Active", "On Hold", "Active"]
        status_ids = {"Active": STATUS_ACTIVE, "On Hold": STATUS_ON_HOLD, "Churned": STATUS_CHURNED, **statuses}
        tiers = list(ClientTier)
        client_rows: list[dict[str, Any]] = []
        for i in range(shape.clients):
            became = today.replace(day=1) if i % 20 == 0 else today - dt.timedelta(days=30 + (i * 37) % 900)
            last = None if i % 3 == 0 else now - dt.timedelta(days=i % 60, hours=2)
            created = min(_at(became, 9), now)
            client_rows.append(
                {
                    "name": f"{tag.upper()} Client {i:04d}",
                    "logo_url": f"https://cdn.example/{tag}/{i}.png",
                    "website": f"https://client{i}.{tag}.example",
                    "industry": ["Retail", "Health", "SaaS", "Legal"][i % 4],
                    "status_id": status_ids[pattern[i % len(pattern)]],
                    "tier": tiers[i % len(tiers)],
                    "account_manager_id": managers[i % 2],
                    "became_client_on": became,
                    "internal_notes": f"Notes about client {i}",
                    "show_costs_in_portal": i % 4 == 0,
                    "portal_booking_enabled": i % 2 == 0,
                    "last_interaction_at": last,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        client_ids = await _insert(conn, Client, client_rows, ids=True)
        contact_rows = [
            {
                "client_id": cid,
                "full_name": f"Person {j} of {i}",
                "email": f"p{j}.{tag}{i}@client{i}.example",
                "title": ["CEO", "Marketing Lead", "Office Manager"][j],
                "is_primary": j == 0,
                "is_decision_maker": j < 2,
                "created_at": client_rows[i]["created_at"],
            }
            for i, cid in enumerate(client_ids)
            for j in range(3)
        ]
        contact_ids = await _insert(conn, Contact, contact_rows, ids=True)
        primary_contact = {cid: contact_ids[3 * i] for i, cid in enumerate(client_ids)}

        # ---- portal users: every other client
        portal_rows: list[dict[str, Any]] = [
            {
                "email": contact_rows[3 * i]["email"],
                "full_name": contact_rows[3 * i]["full_name"],
                "role": Role.CLIENT,
                "password_hash": password_hash,
                "client_id": cid,
                "contact_id": primary_contact[cid],
                "created_at": client_rows[i]["created_at"],
            }
            for i, cid in enumerate(client_ids)
            if i % 2 == 0
        ]
        portal_ids = await _insert(conn, User, portal_rows, ids=True)
        portal_of = {row["client_id"]: uid for row, uid in zip(portal_rows, portal_ids, strict=True)}

        # ---- projects and tasks
        statuses_cycle = [
            ProjectStatus.ACTIVE,
            ProjectStatus.COMPLETED,
            ProjectStatus.ACTIVE,
            ProjectStatus.ON_HOLD,
            ProjectStatus.CANCELLED,
        ]
        health_cycle = [ProjectHealth.ON_TRACK] * 5 + [ProjectHealth.AT_RISK, ProjectHealth.OFF_TRACK]
        project_rows, project_meta = [], []
        for i, cid in enumerate(client_ids):
            became = client_rows[i]["became_client_on"]
            for j in range(shape.projects_per_client):
                start = min(became + dt.timedelta(days=45 * j), today)
                created = min(_at(start, 11), now)
                project_rows.append(
                    {
                        "client_id": cid,
                        "name": f"Project {j} of {tag}{i}",
                        "description": "Synthetic work",
                        "start_date": start,
                        "end_date": start + dt.timedelta(days=90),
                        "budget": Decimal(10000 + 1000 * j),
                        "status": statuses_cycle[(i + j) % 5],
                        "health": health_cycle[(3 * i + j) % 7],
                        # Completed ones record when: 10 days early, on the day or 12 days late.
                        "completed_at": (
                            min(_at(start + dt.timedelta(days=80 + 11 * ((i + j) % 3)), 17), now)
                            if statuses_cycle[(i + j) % 5] is ProjectStatus.COMPLETED
                            else None
                        ),
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                project_meta.append((i, cid, start))
        project_ids = await _insert(conn, Project, project_rows, ids=True)

        task_statuses = list(TaskStatus)
        task_rows: list[dict[str, Any]] = []
        task_meta = []
        for pid, (i, cid, start), prow in zip(project_ids, project_meta, project_rows, strict=True):
            for k in range(shape.tasks_per_project):
                status = task_statuses[(i + k) % 4]
                due = start + dt.timedelta(days=k + 1)
                task_rows.append(
                    {
                        "project_id": pid,
                        "title": f"Task {k} of project {pid}",
                        "status": status,
                        "assignee_id": members[(i + k) % len(members)],
                        "due_date": due,
                        "estimate_hours": Decimal(2 + k % 5),
                        "visible_to_client": k % 5 != 4,
                        "position": k,
                        "completed_at": min(_at(due, 16), now) if status is TaskStatus.DONE else None,
                        "created_at": prow["created_at"],
                    }
                )
                task_meta.append((i, cid, pid, k, start))
        task_ids = await _insert(conn, Task, task_rows, ids=True)

        # ---- comments, deliverables, time, expenses
        comment_rows, deliverable_rows, time_rows = [], [], []
        for tid, (i, cid, pid, k, start), trow in zip(task_ids, task_meta, task_rows, strict=True):
            base = min(
                _at(start, 9) + dt.timedelta(hours=6 * k), now - dt.timedelta(hours=shape.comments_per_task * 3 + 1)
            )
            for c in range(shape.comments_per_task):
                portal = portal_of.get(cid)
                if c % 3 == 0 and portal is not None:
                    kind, author = CommentKind.REPLY, portal
                elif c % 3 == 2:
                    kind, author = CommentKind.NOTE, trow["assignee_id"]
                else:
                    kind, author = CommentKind.REPLY, trow["assignee_id"]
                comment_rows.append(
                    {
                        "project_id": pid,
                        "task_id": tid,
                        "kind": kind,
                        "author_id": author,
                        "body": f"{kind.value.title()} {c} on task {tid}",
                        "created_at": base + dt.timedelta(hours=3 * c),
                    }
                )
            if k % 4 == 0:
                deliverable_rows.append(
                    {
                        "task_id": tid,
                        "title": f"Draft for task {tid}",
                        "url": f"https://files.example/{tid}",
                        "is_complete": k % 8 == 0,
                        "created_at": trow["created_at"],
                    }
                )
            for e in range(shape.time_entries_per_task):
                user = trow["assignee_id"] if e % 2 == 0 else managers[i % 2]
                cost, bill = rates[user]
                time_rows.append(
                    {
                        "user_id": user,
                        "project_id": pid,
                        "task_id": tid,
                        "work_date": min(start + dt.timedelta(days=k + e), today),
                        "hours": Decimal(1 + (k + e) % 4),
                        "billable": e % 3 != 2,
                        "cost_rate": cost,
                        "bill_rate": bill,
                        "description": f"Work on task {tid}",
                        "created_at": trow["created_at"],
                    }
                )
        # Recent reply threads on tasks shown to the client (the response-time sections look 90 days
        # back): on a client with a portal user, the team asks and the client answers hours later,
        # and the client asks and the team answers; every seventh question is not answered yet.
        first_task: dict[int, tuple[int, int, int, int]] = {}
        for tid, (i, cid, pid, _, _), trow in zip(task_ids, task_meta, task_rows, strict=True):
            if trow["visible_to_client"] and cid in portal_of:
                first_task.setdefault(cid, (i, pid, tid, trow["assignee_id"]))
        for cid, (i, pid, tid, assignee) in first_task.items():
            portal = portal_of[cid]
            for t in range(3):
                asked = now - dt.timedelta(days=5 + 17 * t + i % 11, hours=i % 7)
                client_side = (i + t) % 2 == 0
                asker, answerer = (portal, assignee) if client_side else (assignee, portal)
                wait = dt.timedelta(hours=2 + (5 * i + 13 * t) % 150)
                comment_rows.append(
                    {
                        "project_id": pid,
                        "task_id": tid,
                        "kind": CommentKind.REPLY,
                        "author_id": asker,
                        "body": f"Question {t} on task {tid}",
                        "created_at": asked,
                    }
                )
                if (i + t) % 7 != 6 and asked + wait < now:
                    comment_rows.append(
                        {
                            "project_id": pid,
                            "task_id": tid,
                            "kind": CommentKind.REPLY,
                            "author_id": answerer,
                            "body": f"Answer {t} on task {tid}",
                            "created_at": asked + wait,
                        }
                    )
        await _insert(conn, Comment, comment_rows)
        await _insert(conn, Deliverable, deliverable_rows)
        await _insert(conn, TimeEntry, time_rows)
        await _insert(
            conn,
            Expense,
            [
                {
                    "project_id": pid,
                    "description": "Stock photos",
                    "amount": Decimal(100 + 10 * (pid % 7)),
                    "billable": pid % 2 == 0,
                    "incurred_on": start,
                    "created_by_id": managers[0],
                    "created_at": _at(start),
                }
                for pid, (_, _, start) in zip(project_ids, project_meta, strict=True)
            ],
        )

        # ---- the scope change log: budget changes (every other one a cut), end-date moves, tasks added
        # after the start, and each cancelled project's cancellation, spread over the last year
        scope_rows: list[dict[str, Any]] = []
        for n, (pid, (i, _, start), prow) in enumerate(zip(project_ids, project_meta, project_rows, strict=True)):
            j = n % shape.projects_per_client
            when = max(min(now - dt.timedelta(days=(7 * i + 31 * j) % 365, hours=i % 9), now), _at(start, 12))
            common = {"project_id": pid, "changed_by_id": managers[i % 2], "occurred_at": min(when, now)}
            if (i + j) % 3 == 0:
                cut = i % 2 == 0
                old_budget = prow["budget"] + (2000 if cut else -2000)
                scope_rows.append(
                    {
                        **common,
                        "kind": ScopeChangeKind.BUDGET_CHANGED,
                        "is_reduction": cut,
                        "old_budget": old_budget,
                        "new_budget": prow["budget"],
                    }
                )
            if (i + j) % 4 == 1:
                scope_rows.append(
                    {
                        **common,
                        "kind": ScopeChangeKind.END_DATE_MOVED,
                        "old_end_date": prow["end_date"] - dt.timedelta(days=14),
                        "new_end_date": prow["end_date"],
                    }
                )
            if j % 2 == 0 and shape.tasks_per_project:
                last_task = task_ids[(n + 1) * shape.tasks_per_project - 1]
                scope_rows.append({**common, "kind": ScopeChangeKind.TASK_ADDED, "task_id": last_task})
            if prow["status"] is ProjectStatus.CANCELLED:
                scope_rows.append({**common, "kind": ScopeChangeKind.PROJECT_CANCELLED, "is_reduction": True})
        await _insert(conn, ScopeChange, scope_rows)

        # ---- invoices, lines, payments
        invoice_cycle = [
            InvoiceStatus.PAID,
            InvoiceStatus.SENT,
            InvoiceStatus.SENT,
            InvoiceStatus.DRAFT,
            InvoiceStatus.VOID,
        ]
        numbers = itertools.count(next_number)
        invoice_rows: list[dict[str, Any]] = []
        for i, cid in enumerate(client_ids):
            for m in range(shape.invoices_per_client):
                invoice_status = invoice_cycle[(i + m) % 5]
                issue = today - dt.timedelta(days=5 + 30 * m + i % 20)
                invoice_rows.append(
                    {
                        "client_id": cid,
                        "number": next(numbers),
                        "status": invoice_status,
                        "issue_date": issue,
                        "due_date": issue + dt.timedelta(days=30),
                        "sent_at": _at(issue) if invoice_status in (InvoiceStatus.SENT, InvoiceStatus.PAID) else None,
                        "voided_at": _at(issue, 12) if invoice_status is InvoiceStatus.VOID else None,
                        "paid_on": (
                            min(issue + dt.timedelta(days=10), today) if invoice_status is InvoiceStatus.PAID else None
                        ),
                        "created_by_id": managers[i % 2],
                        "created_at": _at(issue, 8),
                    }
                )
        invoice_ids = await _insert(conn, Invoice, invoice_rows, ids=True)
        line_rows, payment_rows = [], []
        for (n, iid), row in zip(enumerate(invoice_ids), invoice_rows, strict=True):
            fixed = Decimal(1000 + 100 * (n % 7))
            time_amount = Decimal("1500.00")
            line_rows += [
                {
                    "invoice_id": iid,
                    "kind": InvoiceLineKind.FIXED,
                    "description": "Milestone",
                    "quantity": Decimal(1),
                    "unit_price": fixed,
                    "tax_rate": Decimal("0"),
                    "amount": fixed,
                    "tax_amount": Decimal("0"),
                    "position": 0,
                },
                {
                    "invoice_id": iid,
                    "kind": InvoiceLineKind.TIME,
                    "description": "Development",
                    "quantity": Decimal(10),
                    "unit_price": Decimal("150.00"),
                    "tax_rate": Decimal("0"),
                    "amount": time_amount,
                    "tax_amount": Decimal("0"),
                    "position": 1,
                },
            ]
            received = min(row["issue_date"] + dt.timedelta(days=10), today)
            if row["status"] is InvoiceStatus.PAID:
                payment_rows.append(
                    {
                        "invoice_id": iid,
                        "received_on": received,
                        "amount": fixed + time_amount,
                        "reference": f"PAY-{row['number']}",
                        "created_at": _at(received, 11),
                    }
                )
            elif row["status"] is InvoiceStatus.SENT and n % 2 == 1:
                payment_rows.append(
                    {
                        "invoice_id": iid,
                        "received_on": received,
                        "amount": Decimal("500.00"),
                        "reference": f"PART-{row['number']}",
                        "created_at": _at(received, 11),
                    }
                )
        await _insert(conn, InvoiceLine, line_rows)
        await _insert(conn, Payment, payment_rows)

        # ---- the relationship: opportunities, interactions, meetings, activity, logins, surveys
        stages = list(OpportunityStage)
        await _insert(
            conn,
            Opportunity,
            [
                {
                    "client_id": cid,
                    "title": f"Expansion for client {i}",
                    "stage": stages[i % len(stages)],
                    "value": Decimal(5000 + 10 * i),
                    "owner_id": managers[i % 2],
                    "created_at": now - dt.timedelta(days=i % 40),
                    "updated_at": now - dt.timedelta(days=i % 40),
                }
                for i, cid in enumerate(client_ids)
            ],
        )
        interaction_rows = []
        for i, cid in enumerate(client_ids):
            last = client_rows[i]["last_interaction_at"]
            if last is None:
                continue
            for q in range(2):
                when = last - dt.timedelta(days=20 * q)
                interaction_rows.append(
                    {
                        "client_id": cid,
                        "kind": list(InteractionKind)[(i + q) % 4],
                        "summary": f"Check-in {q}",
                        "occurred_at": when,
                        "staff_id": managers[i % 2],
                        "contact_id": primary_contact[cid],
                        "created_at": when,
                    }
                )
        await _insert(conn, Interaction, interaction_rows)
        await _insert(
            conn,
            Meeting,
            [
                {
                    "client_id": cid,
                    "title": f"Review with client {i}",
                    "starts_at": now + dt.timedelta(days=1 + i % 10),
                    "ends_at": now + dt.timedelta(days=1 + i % 10, minutes=45),
                    "status": MeetingStatus.CONFIRMED,
                    "requested_by_id": managers[i % 2],
                    "staff_id": managers[i % 2],
                    "created_at": now - dt.timedelta(days=2),
                }
                for i, cid in enumerate(client_ids)
                if i % 5 == 0
            ],
        )
        activity_rows = []
        for i, cid in enumerate(client_ids):
            for q, activity_kind in enumerate(
                (ActivityKind.PROJECT_CREATED, ActivityKind.INVOICE_SENT, ActivityKind.COMMENT_ADDED)
            ):
                activity_rows.append(
                    {
                        "client_id": cid,
                        "actor_id": managers[i % 2],
                        "kind": activity_kind,
                        "summary": f"{activity_kind.value} for {i}",
                        "client_visible": q != 2,
                        "occurred_at": now - dt.timedelta(days=(i * 7) % 90 + 25 * q),
                    }
                )
        await _insert(conn, Activity, activity_rows)
        await _insert(
            conn,
            LoginEvent,
            [
                {"user_id": uid, "client_id": cid, "occurred_at": now - dt.timedelta(days=(i % 50) + 9 * q, hours=3)}
                for i, cid in enumerate(client_ids)
                if (uid := portal_of.get(cid)) is not None
                for q in range(4)
            ],
        )
        await _insert(
            conn,
            SatisfactionSurvey,
            [
                {
                    "client_id": cid,
                    "contact_id": primary_contact[cid],
                    "score": (i * 7) % 11,
                    "responded_at": now - dt.timedelta(days=i % 300),
                }
                for i, cid in enumerate(client_ids)
                if i % 2 == 0
            ],
        )
        counts = {
            "clients": len(client_ids),
            "contacts": len(contact_rows),
            "projects": len(project_ids),
            "tasks": len(task_ids),
            "comments": len(comment_rows),
            "time_entries": len(time_rows),
            "scope_changes": len(scope_rows),
            "invoices": len(invoice_ids),
            "payments": len(payment_rows),
            "activity": len(activity_rows),
        }
    member_email = staff_rows[3]["email"] if members else staff_rows[1]["email"]
    return Agency(
        owner_email=staff_rows[0]["email"],
        manager_email=staff_rows[1]["email"],
        member_email=member_email,
        portal_emails=[row["email"] for row in portal_rows],
        client_ids=client_ids,
        rows=counts,
    )
