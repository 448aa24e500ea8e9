"""Overdue invoice reminders: to the client's billing contact, at the due date plus each configured
number of days (AGENCY_REMINDER_DAYS, 1, 7 and 14 by default), once per step, until it is paid.

- Due: a SENT invoice with something still to pay (its lines with tax, less its payments, more than
  half a cent). A payment in full stops the reminders (so does marking it PAID or VOID); a partial
  payment does not, and the reminder names what is left.
- The step is the latest one reached: an invoice 15 days overdue on the first run gets the 14-day
  reminder alone, never 1, 7 and 14 at once; its key is `invoice:ID:day:STEP`.
- To every contact of the client with the BILLING role and an e-mail; with none, its primary
  contact (ContactRole.BILLING says so). With no address at all it is counted as having no
  recipient and goes out once one is known.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Client, Contact, ContactRole, ContactRoleAssignment, Invoice, InvoiceLine, InvoiceStatus, Payment
from models.base import money
from resolvers.jobs.runner import JobConfig, Outgoing, Selection

NAME = "invoice_reminders"
_HALF_CENT = 0.005


def reminder_step(due_date: dt.date, today: dt.date, steps: tuple[int, ...]) -> int | None:
    """The latest step (days after the due date) reached by `today`, or None before the first."""
    reached = [days for days in steps if due_date + dt.timedelta(days=days) <= today]
    return max(reached) if reached else None


async def billing_addresses(session: AsyncSession, client_ids: set[int]) -> dict[int, list[str]]:
    """Each client's billing contacts' e-mails, else its primary contact's: one query."""
    if not client_ids:
        return {}
    is_billing = col(Contact.id).in_(
        sa.select(col(ContactRoleAssignment.contact_id)).where(col(ContactRoleAssignment.role) == ContactRole.BILLING)
    )
    rows: Any = await session.execute(
        sa.select(col(Contact.client_id), col(Contact.email), is_billing.label("billing"))
        .where(
            col(Contact.client_id).in_(client_ids),
            col(Contact.email).is_not(None),
            sa.or_(col(Contact.is_primary), is_billing),
        )
        .order_by(col(Contact.client_id), col(Contact.id))
    )
    billing: dict[int, list[str]] = defaultdict(list)
    primary: dict[int, list[str]] = defaultdict(list)
    for client_id, email, is_bill in rows:
        (billing if is_bill else primary)[client_id].append(email)
    return {client_id: billing.get(client_id) or primary.get(client_id, []) for client_id in client_ids}


async def select_reminders(session: AsyncSession, config: JobConfig, now: dt.datetime) -> Selection:
    today = now.date()
    first = min(config.reminder_days)
    billed = (
        sa.select(
            col(InvoiceLine.invoice_id).label("invoice_id"),
            sa.func.sum(col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)).label("total"),
        )
        .group_by(col(InvoiceLine.invoice_id))
        .subquery()
    )
    paid = (
        sa.select(col(Payment.invoice_id).label("invoice_id"), sa.func.sum(col(Payment.amount)).label("paid"))
        .group_by(col(Payment.invoice_id))
        .subquery()
    )
    amount_due = billed.c.total - sa.func.coalesce(paid.c.paid, 0)
    rows = await session.execute(
        sa.select(col(Invoice.id), col(Invoice.number), col(Invoice.client_id), col(Invoice.due_date), amount_due)
        .join(billed, billed.c.invoice_id == col(Invoice.id))
        .outerjoin(paid, paid.c.invoice_id == col(Invoice.id))
        .join(Client, col(Client.id) == col(Invoice.client_id))
        .where(
            col(Invoice.status) == InvoiceStatus.SENT,
            col(Invoice.due_date) <= today - dt.timedelta(days=first),
            amount_due > _HALF_CENT,
        )
        .order_by(col(Invoice.due_date), col(Invoice.id))
    )
    due = rows.all()
    addresses = await billing_addresses(session, {int(row[2]) for row in due})
    selection = Selection()
    for invoice_id, number, client_id, due_date, amount in due:
        step = reminder_step(due_date, today, config.reminder_days)
        assert step is not None  # the query asked for the first step reached
        to = tuple(addresses.get(client_id, []))
        if not to:
            selection.no_recipient += 1
            continue
        selection.outgoing.append(
            Outgoing(
                key=f"invoice:{invoice_id}:day:{step}",
                to=to,
                subject=f"Reminder: invoice {number} is overdue",
                body=_body(config, number, due_date, money(amount), (today - due_date).days),
            )
        )
    return selection


def _body(config: JobConfig, number: int, due_date: dt.date, amount: Decimal, days: int) -> str:
    return (
        f"Hello,\n\nInvoice {number} was due on {due_date.isoformat()} ({days} days ago), and"
        f" {amount} {config.currency} of it is still outstanding. If you have already paid, thank you, and"
        f" please ignore this reminder.\n\n{config.agency_name}"
    )
