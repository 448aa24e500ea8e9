"""The portal home page: a portal user's open tasks, latest replies and open invoices."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from auth.principal import Principal

PORTAL_LIST_SIZE = 20


async def open_tasks(db, principal: Principal) -> list:
    """Tasks the client can see that are not done, soonest due first."""
    from auth.scopes import task_scope
    from models import Task, TaskStatus

    return await db.scalars(
        sa.select(Task)
        .where(task_scope(principal), col(Task.status) != TaskStatus.DONE)
        .order_by(col(Task.due_date).is_(None), col(Task.due_date), col(Task.id))
        .limit(PORTAL_LIST_SIZE)
    )


async def recent_replies(db, principal: Principal) -> list:
    from auth.scopes import comment_scope
    from models import Comment

    return await db.scalars(
        sa.select(Comment)
        .where(comment_scope(principal))
        .order_by(col(Comment.created_at).desc(), col(Comment.id).desc())
        .limit(10)
    )


async def open_invoices(db, principal: Principal) -> list:
    from auth.scopes import invoice_scope
    from models import Invoice, InvoiceStatus

    return await db.scalars(
        sa.select(Invoice)
        .where(invoice_scope(principal), col(Invoice.status) == InvoiceStatus.SENT)
        .order_by(col(Invoice.due_date), col(Invoice.number))
    )
