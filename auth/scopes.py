"""Row scope: one function per entity, returning the WHERE clause that limits it
to what a Principal may see.

Every read path composes these (lists, lookups by id, DataLoaders, connections
and their totalCount, aggregates). A child's scope is built from its parent's:
a task is visible when its project is, and, for a CLIENT, when it is marked
for the client. Nothing filters rows in Python after loading.

A PARTNER (an integration app) sees the rows of an entity only when one of its granted scopes
names it (auth.policy_table.SCOPES `rows`: clients:read names clients, invoices:read invoices
and payments, ...), and, when the app is limited to some clients (`Principal.grants`), only
those clients' rows and the rows below them. No scope names comments, users, time entries,
expenses, activity, meetings, leads, opportunities, interactions, login events or survey
answers: a partner sees none of them, so never a NOTE. Every branch below names the roles it
opens rows to; whatever it does not name sees nothing.

Columns are named through sqlmodel's `col()`: a table's class attribute is typed as the
column's Python value (`User.role: Role`), so `col(User.role)` gives the type checker the
SQL expression it is at runtime (`Mapped[Role]`, with `.in_()`, `.is_()`, `==` building SQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth.policy import partner_access
from auth.principal import Principal
from models import (
    Activity,
    Client,
    Comment,
    CommentKind,
    Contact,
    Deliverable,
    Expense,
    Interaction,
    Invoice,
    InvoiceStatus,
    Lead,
    Meeting,
    Notification,
    Opportunity,
    Payment,
    Project,
    Role,
    Task,
    TimeEntry,
    User,
)
from models.enums import STAFF_ROLES
from models.people import LoginEvent
from models.surveys import SatisfactionSurvey

_TRUE = sa.true()
_FALSE = sa.false()
ClientIdColumn = Mapped[int] | Mapped[int | None]


def _is_partner(principal: Principal) -> bool:
    return principal.role is Role.PARTNER


def _partner_may(principal: Principal, entity: str) -> bool:
    """Whether one of the partner's granted scopes names this row-scope entity."""
    return _is_partner(principal) and entity in partner_access(principal.scopes).rows


def _partner_clients(principal: Principal, client_id: ClientIdColumn) -> ColumnElement[bool]:
    """A partner app's client limit on a client id column: the granted clients, or every client."""
    if not principal.grants:
        return _TRUE
    return client_id.in_(sorted(principal.grants))


def client_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return col(Client.id) == principal.client_id
    if _partner_may(principal, "client"):
        return _partner_clients(principal, col(Client.id))
    return _FALSE


def _visible_client_ids(principal: Principal) -> sa.Select[int | None]:
    return sa.select(col(Client.id)).where(client_scope(principal))


def _of_clients(principal: Principal, client_id: ClientIdColumn) -> ColumnElement[bool]:
    """Rows under the clients the caller works with. A partner's rows below a client follow its
    client limit, not clients:read: an app may read contacts without reading the client records."""
    if _is_partner(principal):
        return _partner_clients(principal, client_id)
    return client_id.in_(_visible_client_ids(principal))


def of_clients(principal: Principal, client_id: ClientIdColumn) -> ColumnElement[bool]:
    """Rows below the clients the caller works with, by a client id column that is no followed
    table's own: the change log's `client_id` of a contact or payment that no longer exists
    (resolvers.partners.sync). The same rule every child scope here composes (_of_clients)."""
    return _of_clients(principal, client_id)


def contact_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client or _partner_may(principal, "contact"):
        return _of_clients(principal, col(Contact.client_id))
    return _FALSE


def marketing_contact_scope(principal: Principal) -> ColumnElement[bool]:
    """The contacts a marketing export may hold before its own consent filter: staff all, a
    partner with marketing:read those of its clients. Not a GraphQL read path (contact_scope is)."""
    if principal.is_staff:
        return _TRUE
    if _partner_may(principal, "marketing_contact"):
        return _partner_clients(principal, col(Contact.client_id))
    return _FALSE


def project_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client or _partner_may(principal, "project"):
        return _of_clients(principal, col(Project.client_id))
    return _FALSE


def _visible_project_ids(principal: Principal) -> sa.Select[int | None]:
    return sa.select(col(Project.id)).where(project_scope(principal))


def task_scope(principal: Principal) -> ColumnElement[bool]:
    """A CLIENT, and a partner with projects:read, see the tasks of their projects marked visible
    to the client."""
    if principal.is_staff:
        return _TRUE
    if principal.is_client or _partner_may(principal, "task"):
        return sa.and_(col(Task.project_id).in_(_visible_project_ids(principal)), col(Task.visible_to_client).is_(True))
    return _FALSE


def _visible_task_ids(principal: Principal) -> sa.Select[int | None]:
    return sa.select(col(Task.id)).where(task_scope(principal))


def deliverable_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client or _partner_may(principal, "deliverable"):
        return col(Deliverable.task_id).in_(_visible_task_ids(principal))
    return _FALSE


def comment_scope(principal: Principal) -> ColumnElement[bool]:
    """A CLIENT sees REPLYs only, on its visible projects and visible tasks; never a NOTE.
    A partner sees no comment (no scope names them)."""
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return sa.and_(
            col(Comment.kind) == CommentKind.REPLY,
            col(Comment.project_id).in_(_visible_project_ids(principal)),
            sa.or_(col(Comment.task_id).is_(None), col(Comment.task_id).in_(_visible_task_ids(principal))),
        )
    return _FALSE


def time_entry_scope(principal: Principal) -> ColumnElement[bool]:
    """A CLIENT sees time on its visible projects, except time booked to a task hidden from it."""
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return sa.and_(
            col(TimeEntry.project_id).in_(_visible_project_ids(principal)),
            sa.or_(col(TimeEntry.task_id).is_(None), col(TimeEntry.task_id).in_(_visible_task_ids(principal))),
        )
    return _FALSE


def expense_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return col(Expense.project_id).in_(_visible_project_ids(principal))
    return _FALSE


def invoice_scope(principal: Principal) -> ColumnElement[bool]:
    """A MEMBER touches no money: no invoice rows at all, so no total can leak through one.

    A CLIENT, and a partner with invoices:read, see an invoice once it is sent: a draft is the
    agency's work in progress (and a void one only if it had been sent before it was voided),
    so an accounting sync holds only documents a client was sent."""
    if principal.role in (Role.ADMIN, Role.MANAGER):
        return _TRUE
    if principal.is_client or _partner_may(principal, "invoice"):
        return sa.and_(
            _of_clients(principal, col(Invoice.client_id)),
            sa.or_(
                col(Invoice.status).in_([InvoiceStatus.SENT, InvoiceStatus.PAID]),
                sa.and_(col(Invoice.status) == InvoiceStatus.VOID, col(Invoice.sent_at).is_not(None)),
            ),
        )
    return _FALSE


def payment_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.role in (Role.ADMIN, Role.MANAGER):
        return _TRUE
    if principal.is_client or _partner_may(principal, "payment"):
        return col(Payment.invoice_id).in_(sa.select(col(Invoice.id)).where(invoice_scope(principal)))
    return _FALSE


def user_scope(principal: Principal) -> ColumnElement[bool]:
    """Staff see every user; a CLIENT sees the team (by display name) and its own client's users."""
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return sa.or_(
            col(User.role).in_(STAFF_ROLES),
            col(User.client_id) == principal.client_id,
        )
    return _FALSE


def activity_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return sa.and_(
            col(Activity.client_visible).is_(True), col(Activity.client_id).in_(_visible_client_ids(principal))
        )
    return _FALSE


def meeting_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return col(Meeting.client_id).in_(_visible_client_ids(principal))
    return _FALSE


def notification_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.user_id is None:
        return _FALSE
    return col(Notification.user_id) == principal.user_id


def _staff_only(principal: Principal) -> ColumnElement[bool]:
    return _TRUE if principal.is_staff else _FALSE


def opportunity_scope(principal: Principal) -> ColumnElement[bool]:
    return _staff_only(principal)


def lead_scope(principal: Principal) -> ColumnElement[bool]:
    return _staff_only(principal)


def interaction_scope(principal: Principal) -> ColumnElement[bool]:
    return _staff_only(principal)


def login_event_scope(principal: Principal) -> ColumnElement[bool]:
    return _staff_only(principal)


def satisfaction_survey_scope(principal: Principal) -> ColumnElement[bool]:
    """Survey answers are the agency's reading of the relationship: staff only, never a CLIENT."""
    return _staff_only(principal)


# The entity each scope guards, so a test can prove every table has exactly one.
SCOPES = {
    Client: client_scope,
    Contact: contact_scope,
    Project: project_scope,
    Task: task_scope,
    Deliverable: deliverable_scope,
    Comment: comment_scope,
    TimeEntry: time_entry_scope,
    Expense: expense_scope,
    Invoice: invoice_scope,
    Payment: payment_scope,
    User: user_scope,
    Activity: activity_scope,
    Meeting: meeting_scope,
    Notification: notification_scope,
    Opportunity: opportunity_scope,
    Lead: lead_scope,
    Interaction: interaction_scope,
    LoginEvent: login_event_scope,
    SatisfactionSurvey: satisfaction_survey_scope,
}
