"""DataLoaders: one set per request, built with the Principal, each composing its row scope.

The number of SQL statements a request issues depends on the query's shape, not on
how many rows it returns: every relation and aggregate below is one statement per
batch of keys.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from strawberry.dataloader import DataLoader

from auth import scopes
from auth.principal import Principal
from models import (
    Client,
    ClientStatus,
    Comment,
    Contact,
    Deliverable,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Notification,
    Payment,
    Project,
    ProjectStatus,
    Task,
    User,
)
from models.base import money
from resolvers.batching import aggregate, by_id, grouped
from resolvers.db import RequestDb
from resolvers.records import columns_of, read_records


class Loaders:
    """Every loader a request may use, bound to one caller's row scopes."""

    def __init__(self, db: RequestDb, principal: Principal) -> None:
        self.db = db
        self.principal = principal
        p = principal
        self.client = by_id(db, Client, scopes.client_scope(p))
        self.project = by_id(db, Project, scopes.project_scope(p))
        self.task = by_id(db, Task, scopes.task_scope(p))
        self.contact = by_id(db, Contact, scopes.contact_scope(p))
        self.comment = by_id(db, Comment, scopes.comment_scope(p))
        self.user = by_id(db, User, scopes.user_scope(p))
        self.invoice = by_id(db, Invoice, scopes.invoice_scope(p))
        self.payment = by_id(db, Payment, scopes.payment_scope(p))
        self.notification = by_id(db, Notification, scopes.notification_scope(p))
        # Statuses are the agency's configuration, not client data: no row scope.
        self.status = by_id(db, ClientStatus, sa.true())

        self.contacts_by_client = grouped(
            db,
            Contact,
            col(Contact.client_id),
            scopes.contact_scope(p),
            (col(Contact.is_primary).desc(), col(Contact.full_name), col(Contact.id)),
        )
        self.primary_contact_by_client = aggregate(
            db,
            lambda keys: sa.select(col(Contact.client_id), Contact).where(
                col(Contact.client_id).in_(keys), col(Contact.is_primary).is_(True), scopes.contact_scope(p)
            ),
            None,
        )

        async def projects_by_client(keys: Sequence[tuple[int, tuple[ProjectStatus, ...]]]) -> list[list[Project]]:
            """Keyed by (client id, statuses wanted); one statement per distinct status filter."""
            by_filter: dict[tuple[ProjectStatus, ...], list[int]] = defaultdict(list)
            for client_id, statuses in keys:
                by_filter[statuses].append(client_id)
            groups: dict[tuple[int, tuple[ProjectStatus, ...]], list[Project]] = defaultdict(list)
            for statuses, client_ids in by_filter.items():
                statement = (
                    sa.select(*columns_of(Project))
                    .where(col(Project.client_id).in_(client_ids), scopes.project_scope(p))
                    .order_by(col(Project.start_date).desc(), col(Project.id).desc())
                )
                if statuses:
                    statement = statement.where(col(Project.status).in_(statuses))
                for project in await read_records(db, Project, statement):
                    groups[(project.client_id, statuses)].append(project)
            return [groups.get(key, []) for key in keys]

        self.projects_by_client = DataLoader(load_fn=projects_by_client)
        self.tasks_by_project = grouped(
            db, Task, col(Task.project_id), scopes.task_scope(p), (col(Task.position), col(Task.id))
        )
        self.task_comments = grouped(
            db, Comment, col(Comment.task_id), scopes.comment_scope(p), (col(Comment.created_at), col(Comment.id))
        )
        self.project_comments = grouped(
            db,
            Comment,
            col(Comment.project_id),
            scopes.comment_scope(p),
            (col(Comment.created_at), col(Comment.id)),
            col(Comment.task_id).is_(None),
        )
        self.deliverables_by_task = grouped(
            db,
            Deliverable,
            col(Deliverable.task_id),
            scopes.deliverable_scope(p),
            (col(Deliverable.created_at), col(Deliverable.id)),
        )
        self.invoices_by_client = grouped(
            db,
            Invoice,
            col(Invoice.client_id),
            scopes.invoice_scope(p),
            (col(Invoice.issue_date).desc(), col(Invoice.number).desc()),
        )
        self.payments_by_invoice = grouped(
            db, Payment, col(Payment.invoice_id), scopes.payment_scope(p), (col(Payment.received_on), col(Payment.id))
        )
        self.lines_by_invoice = grouped(
            db,
            InvoiceLine,
            col(InvoiceLine.invoice_id),
            col(InvoiceLine.invoice_id).in_(sa.select(col(Invoice.id)).where(scopes.invoice_scope(p))),
            (col(InvoiceLine.position), col(InvoiceLine.id)),
        )

        async def payments_by_client(keys: Sequence[int]) -> list[list[Payment]]:
            statement = (
                sa.select(col(Invoice.client_id), Payment)
                .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
                .where(col(Invoice.client_id).in_(keys), scopes.payment_scope(p))
                .order_by(col(Payment.received_on).desc(), col(Payment.id).desc())
            )
            groups: dict[int, list[Payment]] = defaultdict(list)
            for client_id, payment in await db.rows(statement):
                groups[client_id].append(payment)
            return [groups.get(key, []) for key in keys]

        self.payments_by_client = DataLoader(load_fn=payments_by_client)

        self.active_project_count = aggregate(
            db,
            lambda keys: (
                sa.select(col(Project.client_id), sa.func.count())
                .where(
                    col(Project.client_id).in_(keys),
                    col(Project.status) == ProjectStatus.ACTIVE,
                    scopes.project_scope(p),
                )
                .group_by(col(Project.client_id))
            ),
            0,
            int,
        )
        self.last_project_on = aggregate(
            db,
            lambda keys: (
                sa.select(col(Project.client_id), sa.func.max(col(Project.start_date)))
                .where(col(Project.client_id).in_(keys), scopes.project_scope(p))
                .group_by(col(Project.client_id))
            ),
            None,
            _as_date,
        )
        visible_invoices = sa.select(col(Invoice.id)).where(scopes.invoice_scope(p))
        self.invoice_subtotal = aggregate(
            db,
            lambda keys: (
                sa.select(col(InvoiceLine.invoice_id), sa.func.sum(col(InvoiceLine.amount)))
                .where(col(InvoiceLine.invoice_id).in_(keys), col(InvoiceLine.invoice_id).in_(visible_invoices))
                .group_by(col(InvoiceLine.invoice_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.invoice_tax = aggregate(
            db,
            lambda keys: (
                sa.select(col(InvoiceLine.invoice_id), sa.func.sum(col(InvoiceLine.tax_amount)))
                .where(col(InvoiceLine.invoice_id).in_(keys), col(InvoiceLine.invoice_id).in_(visible_invoices))
                .group_by(col(InvoiceLine.invoice_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.invoice_paid = aggregate(
            db,
            lambda keys: (
                sa.select(col(Payment.invoice_id), sa.func.sum(col(Payment.amount)))
                .where(col(Payment.invoice_id).in_(keys), scopes.payment_scope(p))
                .group_by(col(Payment.invoice_id))
            ),
            Decimal("0.00"),
            money,
        )
        self.outstanding_by_client = aggregate(db, lambda keys: _outstanding(keys, p), Decimal("0.00"), money)
        self.revenue_by_client = aggregate(
            db,
            lambda keys: (
                sa.select(col(Invoice.client_id), sa.func.sum(col(Payment.amount)))
                .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
                .where(
                    col(Invoice.client_id).in_(keys), scopes.payment_scope(p), col(Invoice.status) != InvoiceStatus.VOID
                )
                .group_by(col(Invoice.client_id))
            ),
            Decimal("0.00"),
            money,
        )
        # Domain loader sets, each in its own module, built here so they share the request's scope:
        # Client workflows
        from resolvers.loaders_workflow import WorkflowLoaders  # here: that module builds on this one's helpers

        self.workflow = WorkflowLoaders(db, principal)
        # Billing workflows
        from resolvers.loaders_billing import BillingLoaders  # here: that module builds on this one's helpers

        self.billing = BillingLoaders(db, principal)
        # Dashboard and reports
        from resolvers.loaders_surveys import SurveyLoaders  # here: that module builds on this one's helpers

        self.surveys = SurveyLoaders(db, principal)
        from resolvers.loaders_reports import ReportLoaders

        self.reports = ReportLoaders(db, principal)


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _outstanding(keys: Sequence[int], principal: Principal) -> sa.Select:
    """Billed and not yet paid: totals of sent invoices less what was received on them."""
    # Annotated: mypy reads `.label()` of a `col()` column as Label[Never] and cannot infer the Select.
    billed: sa.Select[int, Decimal] = (
        sa.select(
            col(Invoice.client_id).label("client_id"),
            (col(InvoiceLine.amount) + col(InvoiceLine.tax_amount)).label("amount"),
        )
        .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
        .where(
            col(Invoice.client_id).in_(keys), col(Invoice.status) == InvoiceStatus.SENT, scopes.invoice_scope(principal)
        )
    )
    received: sa.Select[int, Decimal] = (
        sa.select(col(Invoice.client_id).label("client_id"), (-col(Payment.amount)).label("amount"))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(
            col(Invoice.client_id).in_(keys), col(Invoice.status) == InvoiceStatus.SENT, scopes.invoice_scope(principal)
        )
    )
    both = sa.union_all(billed, received).subquery()
    return sa.select(both.c.client_id, sa.func.sum(both.c.amount)).group_by(both.c.client_id)
