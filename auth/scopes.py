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

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, aliased
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import True_
from sqlmodel import col

from auth.policy import partner_access
from auth.principal import Principal
from models import (
    Activity,
    ChangeEntity,
    ChangeEvent,
    Client,
    Comment,
    CommentKind,
    Contact,
    DashboardView,
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
    ScopeChange,
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


def time_total_scope(principal: Principal) -> ColumnElement[bool]:
    """The time entries a project's money totals count (profitability, budget burn): all the time on
    the projects the caller sees, time booked to a task hidden from a portal user included, so a
    portal user's profit and burn are the staff's figures. Only sums are built from it, never rows:
    a list of time entries composes time_entry_scope (which leaves that time out)."""
    if principal.is_staff:
        return _TRUE
    if principal.is_client:
        return col(TimeEntry.project_id).in_(_visible_project_ids(principal))
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


def scope_change_scope(principal: Principal) -> ColumnElement[bool]:
    """The scope change log is the agency's reading of a project (the guide files scope changes
    under internal notes): staff only, never a CLIENT or a partner."""
    return _staff_only(principal)


def partner_app_scope(principal: Principal) -> ColumnElement[bool]:
    """Partner apps are the agency owner's to see: every row for an ADMIN, none for anyone else
    (resolvers.partners.apps)."""
    return _TRUE if principal.role is Role.ADMIN else _FALSE


def webhook_scope(principal: Principal) -> ColumnElement[bool]:
    """Webhook endpoints and their deliveries are the agency owner's, as partner apps are: every
    row for an ADMIN, none for anyone else (the same rule: an endpoint is part of its app;
    resolvers.partners.webhooks)."""
    return partner_app_scope(principal)


def dashboard_view_scope(principal: Principal) -> ColumnElement[bool]:
    """A saved dashboard view is its own user's: a staff user sees and changes only its own views (another
    user's answers like a missing one); nobody else has any (resolvers.dashboard.views)."""
    if principal.is_staff and principal.user_id is not None:
        return col(DashboardView.user_id) == principal.user_id
    return _FALSE


def health_score_scope(principal: Principal) -> ColumnElement[bool]:
    """The health score is the team's reading of a client (resolvers.dashboard.health_score): computed
    for staff only, on the clients and signal rows their own scopes show; a portal user or a partner
    gets no score row at all."""
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
    ScopeChange: scope_change_scope,
    DashboardView: dashboard_view_scope,
}


# -- the change log (models.sync): what the sync feed lists and webhooks send ---------------------

#: The table behind each entity the change log follows.
CHANGE_RECORDS: dict[ChangeEntity, Any] = {
    ChangeEntity.CLIENT: Client,
    ChangeEntity.CONTACT: Contact,
    ChangeEntity.INVOICE: Invoice,
    ChangeEntity.PAYMENT: Payment,
}
#: The row-scope entity each one is (auth.policy_table.SCOPES `rows`: what a partner's scopes name).
_CHANGE_ROW_ENTITIES: dict[ChangeEntity, str] = {
    ChangeEntity.CLIENT: "client",
    ChangeEntity.CONTACT: "contact",
    ChangeEntity.INVOICE: "invoice",
    ChangeEntity.PAYMENT: "payment",
}
#: The event that says a record is gone (clients and invoices are never deleted).
_CHANGE_DELETED: dict[ChangeEntity, str] = {
    ChangeEntity.CONTACT: "contact.deleted",
    ChangeEntity.PAYMENT: "payment.deleted",
}
_CHANGE_LOG_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def change_event_entities(principal: Principal) -> frozenset[ChangeEntity]:
    """The entities whose change events the caller may read: all for ADMIN and MANAGER; for a
    partner, those its scopes name rows of; none for anyone else."""
    if principal.role in _CHANGE_LOG_ROLES:
        return frozenset(ChangeEntity)
    if _is_partner(principal):
        rows = partner_access(principal.scopes).rows
        return frozenset(entity for entity, name in _CHANGE_ROW_ENTITIES.items() if name in rows)
    return frozenset()


def _before_sending() -> ColumnElement[bool]:
    """An invoice event that came before the invoice was sent (while it was a draft)."""
    sent = aliased(ChangeEvent)
    return sa.exists().where(
        col(sent.entity) == ChangeEntity.INVOICE.value,
        col(sent.entity_id) == col(ChangeEvent.entity_id),
        col(sent.event) == "invoice.sent",
        sa.tuple_(col(sent.txid), col(sent.id)) > sa.tuple_(col(ChangeEvent.txid), col(ChangeEvent.id)),
    )


def change_event_scope(principal: Principal, entities: Iterable[ChangeEntity] | None = None) -> ColumnElement[bool]:
    """The change events the caller may see (of `entities` only, when given), for the sync feed
    (resolvers.partners.sync) and webhooks (resolvers.partners.webhooks) alike.

    An event is visible when its record is visible now, under that entity's own row scope above,
    and the caller may read the entity (change_event_entities). A deletion (`contact.deleted`,
    `payment.deleted`) has no record left: it is visible when the caller works with the client
    the log recorded for it (every one for a caller who sees every such row). A caller who does
    not see draft invoices never sees a draft's events: an invoice's events before its
    `invoice.sent` are left out."""
    readable = change_event_entities(principal)
    if entities is not None:
        readable &= frozenset(entities)
    clauses = []
    for entity in sorted(readable, key=lambda e: e.value):
        model = CHANGE_RECORDS[entity]
        scope = SCOPES[model](principal)
        live: ColumnElement[bool] = col(ChangeEvent.entity_id).in_(sa.select(col(model.id)).where(scope))
        if entity is ChangeEntity.INVOICE and principal.role not in _CHANGE_LOG_ROLES:
            live = sa.and_(live, sa.not_(_before_sending()))
        deleted = _CHANGE_DELETED.get(entity)
        if deleted is not None:
            gone = _TRUE if isinstance(scope, True_) else _of_clients(principal, col(ChangeEvent.client_id))
            live = sa.or_(
                sa.and_(col(ChangeEvent.event) != deleted, live),
                sa.and_(col(ChangeEvent.event) == deleted, gone),
            )
        clauses.append(sa.and_(col(ChangeEvent.entity) == entity.value, live))
    return sa.or_(*clauses) if clauses else _FALSE
