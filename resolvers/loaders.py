"""DataLoaders: one set per request, built with the Principal, each composing its row scope.

The number of SQL statements a request issues depends on the query's shape, not on
how many rows it returns: every relation and aggregate below is one statement per
batch of keys.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
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
from resolvers.db import RequestDb
from resolvers.records import columns_of, read_records


def _by_id(db: RequestDb, entity: Any, scope: ColumnElement[bool]) -> DataLoader:
    async def load(keys: Sequence[int]) -> list[Any]:
        rows = await db.scalars(sa.select(entity).where(entity.id.in_(keys), scope))
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _grouped(
    db: RequestDb,
    entity: Any,
    key_column: ColumnElement[Any],
    scope: ColumnElement[bool],
    order_by: Sequence[ColumnElement[Any]],
    *extra: ColumnElement[bool],
) -> DataLoader:
    key_name = key_column.key

    columns = columns_of(entity)

    async def load(keys: Sequence[Any]) -> list[list[Any]]:
        statement = sa.select(*columns).where(key_column.in_(keys), scope, *extra).order_by(*order_by)
        groups: dict[Any, list[Any]] = defaultdict(list)
        for record in await read_records(db, entity, statement):
            groups[getattr(record, key_name)].append(record)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def _aggregate(
    db: RequestDb,
    build: Callable[[Sequence[Any]], sa.Select],
    default: Any,
    convert: Callable[[Any], Any] = lambda v: v,
) -> DataLoader:
    """A loader over `build(keys)`, a statement yielding (key, value) rows."""

    async def load(keys: Sequence[Hashable]) -> list[Any]:
        found = {key: convert(value) for key, value in await db.rows(build(keys))}
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Every loader a request may use, bound to one caller's row scopes."""

    def __init__(self, db: RequestDb, principal: Principal) -> None:
        self.db = db
        self.principal = principal
        p = principal
        self.client = _by_id(db, Client, scopes.client_scope(p))
        self.project = _by_id(db, Project, scopes.project_scope(p))
        self.task = _by_id(db, Task, scopes.task_scope(p))
        self.contact = _by_id(db, Contact, scopes.contact_scope(p))
        self.comment = _by_id(db, Comment, scopes.comment_scope(p))
        self.user = _by_id(db, User, scopes.user_scope(p))
        self.invoice = _by_id(db, Invoice, scopes.invoice_scope(p))
        self.payment = _by_id(db, Payment, scopes.payment_scope(p))
        self.notification = _by_id(db, Notification, scopes.notification_scope(p))
        # Statuses are the agency's configuration, not client data: no row scope.
        self.status = _by_id(db, ClientStatus, sa.true())

        self.contacts_by_client = _grouped(
            db,
            Contact,
            Contact.client_id,
            scopes.contact_scope(p),
            (Contact.is_primary.desc(), Contact.full_name, Contact.id),
        )
        self.primary_contact_by_client = _aggregate(
            db,
            lambda keys: sa.select(Contact.client_id, Contact).where(
                Contact.client_id.in_(keys), Contact.is_primary.is_(True), scopes.contact_scope(p)
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
                    .where(Project.client_id.in_(client_ids), scopes.project_scope(p))
                    .order_by(Project.start_date.desc(), Project.id.desc())
                )
                if statuses:
                    statement = statement.where(Project.status.in_(statuses))
                for project in await read_records(db, Project, statement):
                    groups[(project.client_id, statuses)].append(project)
            return [groups.get(key, []) for key in keys]

        self.projects_by_client = DataLoader(load_fn=projects_by_client)
        self.tasks_by_project = _grouped(db, Task, Task.project_id, scopes.task_scope(p), (Task.position, Task.id))
        self.task_comments = _grouped(
            db, Comment, Comment.task_id, scopes.comment_scope(p), (Comment.created_at, Comment.id)
        )
        self.project_comments = _grouped(
            db,
            Comment,
            Comment.project_id,
            scopes.comment_scope(p),
            (Comment.created_at, Comment.id),
            Comment.task_id.is_(None),
        )
        self.deliverables_by_task = _grouped(
            db, Deliverable, Deliverable.task_id, scopes.deliverable_scope(p), (Deliverable.created_at, Deliverable.id)
        )
        self.invoices_by_client = _grouped(
            db, Invoice, Invoice.client_id, scopes.invoice_scope(p), (Invoice.issue_date.desc(), Invoice.number.desc())
        )
        self.payments_by_invoice = _grouped(
            db, Payment, Payment.invoice_id, scopes.payment_scope(p), (Payment.received_on, Payment.id)
        )
        self.lines_by_invoice = _grouped(
            db,
            InvoiceLine,
            InvoiceLine.invoice_id,
            InvoiceLine.invoice_id.in_(sa.select(Invoice.id).where(scopes.invoice_scope(p))),
            (InvoiceLine.position, InvoiceLine.id),
        )

        async def payments_by_client(keys: Sequence[int]) -> list[list[Payment]]:
            statement = (
                sa.select(Invoice.client_id, Payment)
                .join(Invoice, Invoice.id == Payment.invoice_id)
                .where(Invoice.client_id.in_(keys), scopes.payment_scope(p))
                .order_by(Payment.received_on.desc(), Payment.id.desc())
            )
            groups: dict[int, list[Payment]] = defaultdict(list)
            for client_id, payment in await db.rows(statement):
                groups[client_id].append(payment)
            return [groups.get(key, []) for key in keys]

        self.payments_by_client = DataLoader(load_fn=payments_by_client)

        self.active_project_count = _aggregate(
            db,
            lambda keys: (
                sa.select(Project.client_id, sa.func.count())
                .where(Project.client_id.in_(keys), Project.status == ProjectStatus.ACTIVE, scopes.project_scope(p))
                .group_by(Project.client_id)
            ),
            0,
            int,
        )
        self.last_project_on = _aggregate(
            db,
            lambda keys: (
                sa.select(Project.client_id, sa.func.max(Project.start_date))
                .where(Project.client_id.in_(keys), scopes.project_scope(p))
                .group_by(Project.client_id)
            ),
            None,
            _as_date,
        )
        visible_invoices = sa.select(Invoice.id).where(scopes.invoice_scope(p))
        self.invoice_subtotal = _aggregate(
            db,
            lambda keys: (
                sa.select(InvoiceLine.invoice_id, sa.func.sum(InvoiceLine.amount))
                .where(InvoiceLine.invoice_id.in_(keys), InvoiceLine.invoice_id.in_(visible_invoices))
                .group_by(InvoiceLine.invoice_id)
            ),
            Decimal("0.00"),
            money,
        )
        self.invoice_tax = _aggregate(
            db,
            lambda keys: (
                sa.select(InvoiceLine.invoice_id, sa.func.sum(InvoiceLine.tax_amount))
                .where(InvoiceLine.invoice_id.in_(keys), InvoiceLine.invoice_id.in_(visible_invoices))
                .group_by(InvoiceLine.invoice_id)
            ),
            Decimal("0.00"),
            money,
        )
        self.invoice_paid = _aggregate(
            db,
            lambda keys: (
                sa.select(Payment.invoice_id, sa.func.sum(Payment.amount))
                .where(Payment.invoice_id.in_(keys), scopes.payment_scope(p))
                .group_by(Payment.invoice_id)
            ),
            Decimal("0.00"),
            money,
        )
        self.outstanding_by_client = _aggregate(db, lambda keys: _outstanding(keys, p), Decimal("0.00"), money)
        self.revenue_by_client = _aggregate(
            db,
            lambda keys: (
                sa.select(Invoice.client_id, sa.func.sum(Payment.amount))
                .join(Invoice, Invoice.id == Payment.invoice_id)
                .where(Invoice.client_id.in_(keys), scopes.payment_scope(p), Invoice.status != InvoiceStatus.VOID)
                .group_by(Invoice.client_id)
            ),
            Decimal("0.00"),
            money,
        )
        # Domain loader sets, each in its own module, built here so they share the request's scope:
        # -- client workflows (issue 5) --
        from resolvers.loaders_workflow import WorkflowLoaders  # here: that module builds on this one's helpers

        self.workflow = WorkflowLoaders(db, principal)
        # -- billing workflows (issue 5) --
        from resolvers.loaders_billing import BillingLoaders  # here: that module builds on this one's helpers

        self.billing = BillingLoaders(db, principal)
        # -- dashboard and reports (issue 6) --
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
    billed = (
        sa.select(Invoice.client_id.label("client_id"), (InvoiceLine.amount + InvoiceLine.tax_amount).label("amount"))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.client_id.in_(keys), Invoice.status == InvoiceStatus.SENT, scopes.invoice_scope(principal))
    )
    received = (
        sa.select(Invoice.client_id.label("client_id"), (-Payment.amount).label("amount"))
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.client_id.in_(keys), Invoice.status == InvoiceStatus.SENT, scopes.invoice_scope(principal))
    )
    both = sa.union_all(billed, received).subquery()
    return sa.select(both.c.client_id, sa.func.sum(both.c.amount)).group_by(both.c.client_id)
