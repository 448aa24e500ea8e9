"""What the billing tests share: global ids, the operations, row counts and a small agency."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import col

from models import (
    Activity,
    Client,
    Expense,
    Invoice,
    InvoiceLine,
    Notification,
    OutboxEmail,
    Payment,
    Project,
    Role,
    TimeEntry,
    User,
)
from tests.factories import PASSWORD, row_id
from tests.utils import count

ERRORS = "errors { field code message }"

LOG_TIME = f"""mutation($input: LogTimeInput!) {{ logTime(input: $input) {{
  timeEntry {{ id hours billable workDate description costRate billRate costAmount billableAmount invoiced
              user {{ fullName }} project {{ name }} task {{ title }} }}
  {ERRORS} }} }}"""

LOG_TIME_NO_MONEY = f"""mutation($input: LogTimeInput!) {{ logTime(input: $input) {{
  timeEntry {{ id hours billable workDate user {{ fullName }} }} {ERRORS} }} }}"""

LOG_EXPENSE = f"""mutation($input: LogExpenseInput!) {{ logExpense(input: $input) {{
  expense {{ id description amount billable billableAmount incurredOn invoiced createdBy {{ fullName }} }}
  {ERRORS} }} }}"""

INVOICE_FIELDS = """id number status issueDate dueDate paidOn sentAt voidedAt isOverdue
  subtotal tax total amountPaid amountDue
  lines { kind description quantity unitPrice taxRate amount taxAmount timeEntries { id hours } expenses { id } }
  payments { amount receivedOn method reference }"""

CREATE_INVOICE = f"""mutation($input: CreateInvoiceInput!) {{ createInvoice(input: $input) {{
  invoice {{ {INVOICE_FIELDS} }} {ERRORS} }} }}"""

SEND_INVOICE = f"""mutation($id: ID!) {{ sendInvoice(id: $id) {{ invoice {{ id status sentAt }} {ERRORS} }} }}"""

RECORD_PAYMENT = f"""mutation($input: RecordPaymentInput!) {{ recordPayment(input: $input) {{
  payment {{ id amount receivedOn method reference }}
  invoice {{ id status paidOn amountPaid amountDue }} {ERRORS} }} }}"""

VOID_INVOICE = f"""mutation($id: ID!, $reason: String) {{ voidInvoice(id: $id, reason: $reason) {{
  invoice {{ id status voidedAt notes }} {ERRORS} }} }}"""


async def counts(db) -> dict[str, int]:
    """Rows of every table a billing mutation writes, and how many time entries / expenses are claimed."""
    return {
        "invoice": await count(db, Invoice),
        "invoice_line": await count(db, InvoiceLine),
        "payment": await count(db, Payment),
        "time_entry": await count(db, TimeEntry),
        "expense": await count(db, Expense),
        "claimed_time": await count(db, TimeEntry, col(TimeEntry.invoice_line_id).is_not(None)),
        "claimed_expenses": await count(db, Expense, col(Expense.invoice_line_id).is_not(None)),
        "activity": await count(db, Activity),
        "notification": await count(db, Notification),
        "outbox": await count(db, OutboxEmail),
    }


@dataclass
class Agency:
    """Two clients with a project each; a manager, a member with rates, portal users of both clients."""

    manager: User
    member: User
    client: Client
    other: Client
    project: Project
    other_project: Project
    portal: User
    other_portal: User


async def agency(factory) -> Agency:
    manager = await factory.user(
        Role.MANAGER, full_name="Maria Manager", hourly_cost_rate=Decimal("60.00"), hourly_bill_rate=Decimal("150.00")
    )
    member = await factory.user(
        Role.MEMBER, full_name="Dev Member", hourly_cost_rate=Decimal("40.00"), hourly_bill_rate=Decimal("120.00")
    )
    client = await factory.client("Northwind Coffee", account_manager_id=manager.id, payment_terms_days=14)
    other = await factory.client("Other Co", payment_terms_days=30)
    await factory.contact(client, primary=True, email="owner@northwind.example")
    project = await factory.project(client, name="Loyalty app")
    other_project = await factory.project(other, name="Other site")
    portal = await factory.portal_user(client)
    other_portal = await factory.portal_user(other)
    return Agency(manager, member, client, other, project, other_project, portal, other_portal)


async def login(api, user: User) -> str:
    return await api.login(user.email, PASSWORD)


def days_ago(n: int) -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=n)


async def time_entry(
    factory,
    user: User,
    project: Project,
    hours: str,
    *,
    bill_rate: str | None = None,
    billable: bool = True,
    days: int = 3,
    **kw,
) -> TimeEntry:
    return await factory.add(
        TimeEntry(
            user_id=row_id(user),
            project_id=row_id(project),
            work_date=days_ago(days),
            hours=Decimal(hours),
            billable=billable,
            cost_rate=user.hourly_cost_rate or Decimal("0"),
            bill_rate=Decimal(bill_rate) if bill_rate else (user.hourly_bill_rate or Decimal("0")),
            **kw,
        )
    )


async def expense(
    factory,
    project: Project,
    amount: str,
    *,
    billable: bool = True,
    days: int = 3,
    description: str = "Stock photos",
    **kw,
) -> Expense:
    return await factory.add(
        Expense(
            project_id=row_id(project),
            description=description,
            amount=Decimal(amount),
            billable=billable,
            incurred_on=days_ago(days),
            **kw,
        )
    )
