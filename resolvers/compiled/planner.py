"""The planner: one query root field's selection, after the policy, as one SQL statement whose
single value is the field's JSON text; or None, and the field takes the resolver path.

It walks the selection with graphql-core's own field collection (fragments, inline fragments,
@skip/@include and aliases resolved exactly as execution resolves them), and gives up on the
whole root field at the first thing it cannot express: a type or field not mapped below, an
argument it does not map or a value the resolver would refuse (that error is the resolver's to
give), a field the policy refuses this caller, @defer or @stream.

Rows come from the very statements and row-scope functions the resolvers use: the Clients list
from resolvers.clients.clients.scoped_clients, ORDER_KEYS and resolvers.pagination.after_cursor;
the Projects and Tasks lists from resolvers.work.lists (their filter read by project_filter and
task_filter, as the resolvers read it); the computed columns and the rows a loader joins for (a
contact's roles and portal access, a client's payments, the invoice behind a billed line) from the
loaders' own batch statements (`correlated`: their batch-key condition replaced by the parent row's
key); the other lists and lookups compose auth.scopes exactly as the loaders do. The differential
test holds the two paths to the same bytes.
"""

from __future__ import annotations

import enum
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import sqlalchemy as sa
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    get_nullable_type,
    is_enum_type,
    is_list_type,
    is_object_type,
    is_scalar_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetails
from graphql.execution.values import get_argument_values
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql import ColumnElement, FromClause, Select
from sqlalchemy.sql.visitors import iterate, replacement_traverse
from sqlmodel import col
from strawberry.schema.schema_converter import GraphQLCoreConverter

from auth import scopes
from auth.principal import Principal
from models import (
    ChangeEntity,
    Client,
    ClientStatus,
    Comment,
    Contact,
    ContactRole,
    ContactRoleAssignment,
    Deliverable,
    Expense,
    Interaction,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Meeting,
    Opportunity,
    Payment,
    Project,
    ProjectStatus,
    Role,
    SatisfactionSurvey,
    ScopeChange,
    Task,
    TimeEntry,
    User,
)
from resolvers.batching import _InKeys
from resolvers.billing.loaders import (
    _outstanding,
    _visible_invoices,
    client_payments,
    invoice_payments,
    invoice_subtotals,
    invoice_taxes,
    line_invoices,
    revenue,
)
from resolvers.clients.clients import ORDER_KEYS, ClientFilter, ClientOrderField, scoped_clients
from resolvers.clients.loaders import contact_roles
from resolvers.compiled.sql import (
    BOOL,
    DATE,
    DATETIME,
    DECIMAL,
    DECIMAL4,
    ENUM,
    ID_TEXT,
    INT,
    MONEY,
    TEXT,
    json_agg_text,
    json_concat,
    json_cursor,
    json_global_id,
    json_line_amount,
    json_value,
)
from resolvers.dashboard.account_health import scope_change_scope
from resolvers.errors import InputError
from resolvers.pagination import SortDirection, SortKey, after_cursor, page_size
from resolvers.partners.loaders import external_ids
from resolvers.people.loaders import portal_access
from resolvers.records import columns_of
from resolvers.work import lists
from resolvers.work.loaders import active_project_counts, last_project_starts

Denied = Mapping[str, Mapping[str, Any]]
DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
CollectSubfields = Callable[[GraphQLObjectType, list[FieldDetails]], CollectedFields]
DecodeId = Callable[[Any, str], int | None]
NodeId = Callable[[Any], tuple[str, int | None] | None]


#: How many objects deep (a connection's node is 1, its projects 2, their tasks 3...) SQLite takes
#: the nested subqueries: its parser's stack is 100 entries (3.40), each list level costs about 20.
#: Deeper selections take the resolver path there; PostgreSQL has no such limit.
SQLITE_MAX_DEPTH = 5
#: From how many levels deep a statement's text is tried on SQLite's parser before it is planned
#: (sqlite_parses: a row scope's own subqueries count too); the shallower shapes (the Clients page, the
#: nested list) are far from the parser's limit and skip the try.
SQLITE_CHECKED_DEPTH = 4


class CannotCompile(Exception):
    """The planner gives up on this root field: the resolvers answer it."""


def _null() -> ColumnElement[str]:
    return sa.literal_column("'null'")


# ---------------------------------------------------------------- what a field maps to


@dataclass(frozen=True)
class Column:
    """A column of the type's row, written as `kind`."""

    name: str
    kind: str


@dataclass(frozen=True)
class GlobalId:
    """The row's Relay id (ModelNode.id)."""


@dataclass(frozen=True)
class One:
    """At most one row of `type_name`: `rows(parent, principal)` selects its table's columns."""

    type_name: str
    rows: Callable[[FromClause, Principal], Select]


@dataclass(frozen=True)
class Many:
    """A list of `type_name` rows, `rows(parent, principal, arguments)` in `order(rows)`."""

    type_name: str
    rows: Callable[[FromClause, Principal, dict[str, Any]], Select]
    order: Callable[[], list[tuple[Any, bool]]]
    arguments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Computed:
    """One value computed from the parent row: `value(parent, principal)`, `default` when NULL
    (0: no row counted or summed; money is then written 0.00, as the loaders' default is)."""

    kind: str
    value: Callable[[FromClause, Principal], ColumnElement[Any]]
    default: int | None = None


@dataclass(frozen=True)
class Values:
    """A list of scalars written as `kind`: the first column of `rows(parent, principal)`, in `order()`."""

    kind: str
    rows: Callable[[FromClause, Principal], Select]
    order: Callable[[], list[tuple[Any, bool]]]


@dataclass(frozen=True)
class Written:
    """A value computed from the row's own columns, `json(row)` its JSON text."""

    json: Callable[[FromClause], ColumnElement[str]]


Mapped = Column | GlobalId | One | Many | Computed | Values | Written


def correlated(statement: Select, parent_id: ColumnElement[Any]) -> Select:
    """A loader's batch statement (`in_keys` on its key column) for one parent row: the batch
    condition becomes `key = parent id`, and every SELECT holding it is correlated with the
    parent (a FROM-clause subquery is not correlated by itself)."""
    made: list[ColumnElement[bool]] = []

    def replace(element: Any) -> Any:
        if isinstance(element, _InKeys):
            condition = element.column == parent_id
            made.append(condition)
            return condition
        return None

    result = cast(Select, replacement_traverse(cast(Any, statement), {}, replace))  # type: ignore[call-overload]
    parent = parent_id.table  # type: ignore[attr-defined]
    made_ids = {id(c) for c in made}
    for element in iterate(result):
        if isinstance(element, Select) and any(id(c) in made_ids for c in element._where_criteria):
            element._correlate = (*element._correlate, parent)
    return result


def _loaded(build: Callable[[Principal], Select], key: str, *columns: Any) -> Callable[..., Select]:
    """A loader's batch statement (`build`: its first column the batch key, the rest what it loads)
    for the parent row whose `key` column holds the key: `columns` of what it loads."""

    def rows(parent: FromClause, p: Principal, *_arguments: Any) -> Select:
        return correlated(build(p), parent.c[key]).with_only_columns(*columns)

    return rows


def _aggregate(build: Callable[[Principal], Select]) -> Callable[[FromClause, Principal], ColumnElement[Any]]:
    def value(parent: FromClause, principal: Principal) -> ColumnElement[Any]:
        statement = correlated(build(principal), parent.c.id)
        return statement.with_only_columns(statement.selected_columns[1]).scalar_subquery()

    return value


def _client_projects(parent: FromClause, p: Principal, arguments: dict[str, Any]) -> Select:
    statement = sa.select(*columns_of(Project)).where(col(Project.client_id) == parent.c.id, scopes.project_scope(p))
    wanted = sorted({ProjectStatus(_value(s)) for s in arguments.get("status") or ()})
    if wanted:
        statement = statement.where(col(Project.status).in_(wanted))
    return statement


def _project_tasks(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    return sa.select(*columns_of(Task)).where(col(Task.project_id) == parent.c.id, scopes.task_scope(p))


def _task_comments(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    return sa.select(*columns_of(Comment)).where(col(Comment.task_id) == parent.c.id, scopes.comment_scope(p))


def _project_comments(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    return sa.select(*columns_of(Comment)).where(
        col(Comment.project_id) == parent.c.id, scopes.comment_scope(p), col(Comment.task_id).is_(None)
    )


def _client_contacts(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.clients.contacts_by_client: the client's contacts under the contact scope."""
    return sa.select(*columns_of(Contact)).where(col(Contact.client_id) == parent.c.id, scopes.contact_scope(p))


def _contact_order() -> list[tuple[Any, bool]]:
    # loaders.clients.contacts_by_client: the primary first, then by name.
    return [(col(Contact.is_primary), True), (col(Contact.full_name), False), (col(Contact.id), False)]


def _direct_reports(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.clients.direct_reports_by_contact: who reports to the contact, under the contact scope."""
    return sa.select(*columns_of(Contact)).where(col(Contact.reports_to_id) == parent.c.id, scopes.contact_scope(p))


def _has_portal_access(parent: FromClause, p: Principal) -> ColumnElement[Any]:
    """loaders.people.portal_access_by_contact: whether its statement counts a user for the contact."""
    return correlated(portal_access(p), parent.c.id).exists()


def _role_order() -> list[tuple[Any, bool]]:
    # The loader sorts each contact's roles in the enum's order.
    position = sa.case({role: index for index, role in enumerate(ContactRole)}, value=col(ContactRoleAssignment.role))
    return [(position, False)]


def _portal_users(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.people.portal_users_by_client: the client's CLIENT users under the user scope."""
    return sa.select(*columns_of(User)).where(
        col(User.client_id) == parent.c.id, scopes.user_scope(p), col(User.role) == Role.CLIENT
    )


def _task_deliverables(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.work.deliverables_by_task: the task's deliverables under the deliverable scope."""
    return sa.select(*columns_of(Deliverable)).where(
        col(Deliverable.task_id) == parent.c.id, scopes.deliverable_scope(p)
    )


def _client_invoices(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.billing.invoices_by_client: the client's invoices under the invoice scope."""
    return sa.select(*columns_of(Invoice)).where(col(Invoice.client_id) == parent.c.id, scopes.invoice_scope(p))


def _invoice_payments(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.billing.payments_by_invoice: the invoice's payments under the payment scope."""
    return sa.select(*columns_of(Payment)).where(col(Payment.invoice_id) == parent.c.id, scopes.payment_scope(p))


def _invoice_lines(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.billing.lines_by_invoice: the invoice's lines, the invoice among the visible ones."""
    return sa.select(*columns_of(InvoiceLine)).where(
        col(InvoiceLine.invoice_id) == parent.c.id, col(InvoiceLine.invoice_id).in_(_visible_invoices(p))
    )


def _of_client(model: Any, scope: Callable[[Principal], ColumnElement[bool]]) -> Callable[..., Select]:
    """A client's rows of `model` under its scope (resolvers.batching.grouped on client_id)."""

    def rows(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
        return sa.select(*columns_of(model)).where(model.client_id == parent.c.id, scope(p))

    return rows


def _newest(moment: Any, row_id: Any) -> Callable[[], list[tuple[Any, bool]]]:
    return lambda: [(moment, True), (row_id, True)]


def _scope_changes(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
    """loaders.dashboard.scope_changes: the project's scope change log under its own scope and its project's."""
    return sa.select(*columns_of(ScopeChange)).where(col(ScopeChange.project_id) == parent.c.id, scope_change_scope(p))


def _of_project(model: Any, scope: Callable[[Principal], ColumnElement[bool]]) -> Callable[..., Select]:
    """A project's rows of `model` under its scope (resolvers.batching.grouped on project_id)."""

    def rows(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
        return sa.select(*columns_of(model)).where(model.project_id == parent.c.id, scope(p))

    return rows


def _of_line(model: Any, scope: Callable[[Principal], ColumnElement[bool]]) -> Callable[..., Select]:
    """An invoice line's rows of `model` under its scope (resolvers.batching.grouped on invoice_line_id)."""

    def rows(parent: FromClause, p: Principal, _arguments: dict[str, Any]) -> Select:
        return sa.select(*columns_of(model)).where(model.invoice_line_id == parent.c.id, scope(p))

    return rows


#: loaders.billing.invoice_by_line: the invoice whose line bills the row (a time entry, an expense).
_invoice_by_line = _loaded(line_invoices, "invoice_line_id", *columns_of(Invoice))


def _external_id(entity: ChangeEntity) -> Callable[[FromClause, Principal], ColumnElement[Any]]:
    """externalId (resolvers.partners.loaders): the calling app's own id for the row; null, without a
    statement, for a caller that is no partner app."""

    def value(parent: FromClause, p: Principal) -> ColumnElement[Any]:
        app_id = p.partner_app_id
        if app_id is None:
            return sa.cast(sa.null(), sa.String())
        return _aggregate(lambda _p: external_ids(app_id, entity))(parent, p)

    return value


def _invoice_total(parent: FromClause, p: Principal) -> ColumnElement[Any]:
    """Invoice.total: its subtotal and tax, each 0 without a line (the loaders' default)."""
    zero: ColumnElement[Any] = sa.literal_column("0")
    subtotal, tax = _aggregate(invoice_subtotals)(parent, p), _aggregate(invoice_taxes)(parent, p)
    return sa.func.coalesce(subtotal, zero) + sa.func.coalesce(tax, zero)


def _amount_due(parent: FromClause, p: Principal) -> ColumnElement[Any]:
    """Invoice.amountDue: the total less payments received; 0 for a void invoice."""
    zero: ColumnElement[Any] = sa.literal_column("0")
    due = _invoice_total(parent, p) - sa.func.coalesce(_aggregate(invoice_payments)(parent, p), zero)
    return sa.case((parent.c.status == InvoiceStatus.VOID, zero), else_=due)


def _invoiced(row: FromClause) -> ColumnElement[str]:
    """On an invoice line: true or false, never null."""
    return sa.case((row.c.invoice_line_id.is_(None), sa.literal_column("'false'")), else_=sa.literal_column("'true'"))


def _billable(row: FromClause, amount: ColumnElement[str]) -> ColumnElement[str]:
    # Not billable: money(0), zero written at two places.
    return sa.case((row.c.billable, amount), else_=sa.literal_column("'\"0.00\"'"))


def _by_id(model: Any, scope: Callable[[Principal], ColumnElement[bool]], key: str) -> Callable[..., Select]:
    """One row by the id in the parent's `key` column, under its scope (resolvers.batching.by_id)."""

    def rows(parent: FromClause, p: Principal) -> Select:
        return sa.select(*columns_of(model)).where(model.id == parent.c[key], scope(p))

    return rows


def _comment_order() -> list[tuple[Any, bool]]:
    return [(col(Comment.created_at), False), (col(Comment.id), False)]


#: Every field the planner writes, per type. What a type leaves out takes the resolvers, and why:
#: Client.unbilledAmount - each (project, bill rate) group's amount rounded half up in Python, which
#: SQLite's floats cannot reproduce in SQL; Client.healthScore - weights and signals read per caller;
#: Client.activity - a paged feed of its own; Project.budgetBurn - an object derived in Python (a float
#: burn rate); Invoice.isOverdue - today's date on the request's clock; Deliverable.downloadUrl and
#: fileSize - see there.
TYPES: dict[str, dict[str, Mapped]] = {
    "Client": {
        "id": GlobalId(),
        "name": Column("name", TEXT),
        "logoUrl": Column("logo_url", TEXT),
        "website": Column("website", TEXT),
        "billingAddress": Column("billing_address", TEXT),
        "industry": Column("industry", TEXT),
        "tier": Column("tier", ENUM),
        "paymentTermsDays": Column("payment_terms_days", INT),
        "becameClientOn": Column("became_client_on", DATE),
        "internalNotes": Column("internal_notes", TEXT),
        "showCostsInPortal": Column("show_costs_in_portal", BOOL),
        "portalBookingEnabled": Column("portal_booking_enabled", BOOL),
        "lastInteractionAt": Column("last_interaction_at", DATETIME),
        "createdAt": Column("created_at", DATETIME),
        "externalId": Computed(TEXT, _external_id(ChangeEntity.CLIENT)),
        # Statuses are the agency's configuration: no row scope (loaders.clients.status).
        "status": One(
            "ClientStatus",
            lambda parent, p: sa.select(*columns_of(ClientStatus)).where(col(ClientStatus.id) == parent.c.status_id),
        ),
        "accountManager": One("User", _by_id(User, scopes.user_scope, "account_manager_id")),
        "primaryContact": One(
            "Contact",
            lambda parent, p: sa.select(*columns_of(Contact)).where(
                col(Contact.client_id) == parent.c.id, col(Contact.is_primary).is_(True), scopes.contact_scope(p)
            ),
        ),
        "contacts": Many("Contact", _client_contacts, _contact_order),
        "projects": Many(
            "Project",
            _client_projects,
            lambda: [(col(Project.start_date), True), (col(Project.id), True)],
            frozenset({"status"}),
        ),
        "portalUsers": Many(
            "User", _portal_users, lambda: [(sa.func.lower(col(User.full_name)), False), (col(User.id), False)]
        ),
        "invoices": Many(
            "Invoice",
            _client_invoices,
            lambda: [(col(Invoice.issue_date), True), (col(Invoice.number), True)],
        ),
        "payments": Many(
            "Payment",
            _loaded(client_payments, "id", *columns_of(Payment)),
            lambda: [(col(Payment.received_on), True), (col(Payment.id), True)],
        ),
        # loaders.engagement.*_by_client and loaders.surveys.scores_by_client: newest first.
        "opportunities": Many(
            "Opportunity",
            _of_client(Opportunity, scopes.opportunity_scope),
            _newest(col(Opportunity.created_at), col(Opportunity.id)),
        ),
        "interactions": Many(
            "Interaction",
            _of_client(Interaction, scopes.interaction_scope),
            _newest(col(Interaction.occurred_at), col(Interaction.id)),
        ),
        "meetings": Many(
            "Meeting",
            _of_client(Meeting, scopes.meeting_scope),
            _newest(col(Meeting.starts_at), col(Meeting.id)),
        ),
        "satisfactionScores": Many(
            "SatisfactionScore",
            _of_client(SatisfactionSurvey, scopes.satisfaction_survey_scope),
            _newest(col(SatisfactionSurvey.responded_at), col(SatisfactionSurvey.id)),
        ),
        "activeProjectCount": Computed(INT, _aggregate(active_project_counts), 0),
        "lastProjectOn": Computed(DATE, _aggregate(last_project_starts)),
        "outstandingAmount": Computed(MONEY, _aggregate(_outstanding), 0),
        "accountValue": Computed(MONEY, _aggregate(revenue), 0),
    },
    "Project": {
        "id": GlobalId(),
        "name": Column("name", TEXT),
        "description": Column("description", TEXT),
        "startDate": Column("start_date", DATE),
        "endDate": Column("end_date", DATE),
        "budget": Column("budget", MONEY),
        "status": Column("status", ENUM),
        "health": Column("health", ENUM),
        "createdAt": Column("created_at", DATETIME),
        "completedAt": Column("completed_at", DATETIME),
        "tasks": Many("Task", _project_tasks, lambda: [(col(Task.position), False), (col(Task.id), False)]),
        "comments": Many("Comment", _project_comments, _comment_order),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
        # loaders.billing.time_entries_by_project, expenses_by_project: newest first.
        "timeEntries": Many(
            "TimeEntry",
            _of_project(TimeEntry, scopes.time_entry_scope),
            _newest(col(TimeEntry.work_date), col(TimeEntry.id)),
        ),
        "expenses": Many(
            "Expense",
            _of_project(Expense, scopes.expense_scope),
            _newest(col(Expense.incurred_on), col(Expense.id)),
        ),
        "scopeChanges": Many(
            "ScopeChange",
            _scope_changes,
            lambda: [(col(ScopeChange.occurred_at), False), (col(ScopeChange.id), False)],
        ),
    },
    "TimeEntry": {
        "id": GlobalId(),
        "workDate": Column("work_date", DATE),
        "hours": Column("hours", DECIMAL),
        "billable": Column("billable", BOOL),
        "description": Column("description", TEXT),
        "createdAt": Column("created_at", DATETIME),
        "costRate": Column("cost_rate", MONEY),
        "billRate": Column("bill_rate", MONEY),
        "costAmount": Written(lambda row: json_line_amount(row.c.hours, row.c.cost_rate)),
        "billableAmount": Written(lambda row: _billable(row, json_line_amount(row.c.hours, row.c.bill_rate))),
        "invoiced": Written(_invoiced),
        "invoice": One("Invoice", _invoice_by_line),
        "user": One("User", _by_id(User, scopes.user_scope, "user_id")),
        "project": One("Project", _by_id(Project, scopes.project_scope, "project_id")),
        "task": One("Task", _by_id(Task, scopes.task_scope, "task_id")),
    },
    "Expense": {
        "id": GlobalId(),
        "description": Column("description", TEXT),
        "billable": Column("billable", BOOL),
        "incurredOn": Column("incurred_on", DATE),
        "createdAt": Column("created_at", DATETIME),
        "amount": Column("amount", MONEY),
        "billableAmount": Written(lambda row: _billable(row, json_value(row.c.amount, MONEY))),
        "invoiced": Written(_invoiced),
        "invoice": One("Invoice", _invoice_by_line),
        "createdBy": One("User", _by_id(User, scopes.user_scope, "created_by_id")),
        "project": One("Project", _by_id(Project, scopes.project_scope, "project_id")),
    },
    "ScopeChange": {
        "kind": Column("kind", ENUM),
        "isReduction": Column("is_reduction", BOOL),
        "oldBudget": Column("old_budget", MONEY),
        "newBudget": Column("new_budget", MONEY),
        "oldEndDate": Column("old_end_date", DATE),
        "newEndDate": Column("new_end_date", DATE),
        "occurredAt": Column("occurred_at", DATETIME),
        "task": One("Task", _by_id(Task, scopes.task_scope, "task_id")),
        "changedBy": One("User", _by_id(User, scopes.user_scope, "changed_by_id")),
    },
    "Task": {
        "id": GlobalId(),
        "title": Column("title", TEXT),
        "description": Column("description", TEXT),
        "status": Column("status", ENUM),
        "dueDate": Column("due_date", DATE),
        "estimateHours": Column("estimate_hours", DECIMAL),
        "visibleToClient": Column("visible_to_client", BOOL),
        "completedAt": Column("completed_at", DATETIME),
        "assignee": One("User", _by_id(User, scopes.user_scope, "assignee_id")),
        "project": One("Project", _by_id(Project, scopes.project_scope, "project_id")),
        "comments": Many("Comment", _task_comments, _comment_order),
        "deliverables": Many(
            "Deliverable",
            _task_deliverables,
            lambda: [(col(Deliverable.created_at), False), (col(Deliverable.id), False)],
        ),
    },
    # Not downloadUrl (a token issued for the caller, per row) nor fileSize (a 64-bit column: the Int
    # scalar refuses a value beyond 32 bits with an error a statement cannot raise).
    "Deliverable": {
        "id": Column("id", ID_TEXT),
        "title": Column("title", TEXT),
        "url": Column("url", TEXT),
        "kind": Column("kind", ENUM),
        "isComplete": Column("is_complete", BOOL),
        "createdAt": Column("created_at", DATETIME),
        "completedAt": Column("completed_at", DATETIME),
        "fileName": Column("file_name", TEXT),
        "contentType": Column("content_type", TEXT),
    },
    "Comment": {
        "id": GlobalId(),
        "kind": Column("kind", ENUM),
        "body": Column("body", TEXT),
        "createdAt": Column("created_at", DATETIME),
        "author": One("User", _by_id(User, scopes.user_scope, "author_id")),
        "task": One("Task", _by_id(Task, scopes.task_scope, "task_id")),
        "project": One("Project", _by_id(Project, scopes.project_scope, "project_id")),
    },
    # Not isOverdue (today's date as the request's clock reads it).
    "Invoice": {
        "id": GlobalId(),
        "number": Column("number", INT),
        "status": Column("status", ENUM),
        "issueDate": Column("issue_date", DATE),
        "dueDate": Column("due_date", DATE),
        "paidOn": Column("paid_on", DATE),
        "sentAt": Column("sent_at", DATETIME),
        "voidedAt": Column("voided_at", DATETIME),
        "notes": Column("notes", TEXT),
        "externalId": Computed(TEXT, _external_id(ChangeEntity.INVOICE)),
        "subtotal": Computed(MONEY, _aggregate(invoice_subtotals), 0),
        "tax": Computed(MONEY, _aggregate(invoice_taxes), 0),
        "total": Computed(MONEY, _invoice_total),
        "amountPaid": Computed(MONEY, _aggregate(invoice_payments), 0),
        "amountDue": Computed(MONEY, _amount_due),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
        "lines": Many(
            "InvoiceLine",
            _invoice_lines,
            lambda: [(col(InvoiceLine.position), False), (col(InvoiceLine.id), False)],
        ),
        "payments": Many(
            "Payment", _invoice_payments, lambda: [(col(Payment.received_on), False), (col(Payment.id), False)]
        ),
    },
    "InvoiceLine": {
        "id": Column("id", ID_TEXT),
        "kind": Column("kind", ENUM),
        "description": Column("description", TEXT),
        "quantity": Column("quantity", DECIMAL),
        "unitPrice": Column("unit_price", MONEY),
        "taxRate": Column("tax_rate", DECIMAL4),
        "amount": Column("amount", MONEY),
        "taxAmount": Column("tax_amount", MONEY),
        # loaders.billing.time_entries_by_line, expenses_by_line: oldest first.
        "timeEntries": Many(
            "TimeEntry",
            _of_line(TimeEntry, scopes.time_entry_scope),
            lambda: [(col(TimeEntry.work_date), False), (col(TimeEntry.id), False)],
        ),
        "expenses": Many(
            "Expense",
            _of_line(Expense, scopes.expense_scope),
            lambda: [(col(Expense.incurred_on), False), (col(Expense.id), False)],
        ),
    },
    "Payment": {
        "id": GlobalId(),
        "receivedOn": Column("received_on", DATE),
        "amount": Column("amount", MONEY),
        "method": Column("method", ENUM),
        "reference": Column("reference", TEXT),
        "externalId": Computed(TEXT, _external_id(ChangeEntity.PAYMENT)),
        "invoice": One("Invoice", _by_id(Invoice, scopes.invoice_scope, "invoice_id")),
    },
    "Opportunity": {
        "id": GlobalId(),
        "title": Column("title", TEXT),
        "kind": Column("kind", ENUM),
        "stage": Column("stage", ENUM),
        "value": Column("value", MONEY),
        "expectedCloseOn": Column("expected_close_on", DATE),
        "createdAt": Column("created_at", DATETIME),
        "updatedAt": Column("updated_at", DATETIME),
        "owner": One("User", _by_id(User, scopes.user_scope, "owner_id")),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
        "project": One("Project", _by_id(Project, scopes.project_scope, "project_id")),
    },
    "Interaction": {
        "id": GlobalId(),
        "kind": Column("kind", ENUM),
        "summary": Column("summary", TEXT),
        "occurredAt": Column("occurred_at", DATETIME),
        "createdAt": Column("created_at", DATETIME),
        "staff": One("User", _by_id(User, scopes.user_scope, "staff_id")),
        "contact": One("Contact", _by_id(Contact, scopes.contact_scope, "contact_id")),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
    },
    "Meeting": {
        "id": GlobalId(),
        "title": Column("title", TEXT),
        "startsAt": Column("starts_at", DATETIME),
        "endsAt": Column("ends_at", DATETIME),
        "status": Column("status", ENUM),
        "location": Column("location", TEXT),
        "agenda": Column("agenda", TEXT),
        "createdAt": Column("created_at", DATETIME),
        "requestedBy": One("User", _by_id(User, scopes.user_scope, "requested_by_id")),
        "staff": One("User", _by_id(User, scopes.user_scope, "staff_id")),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
    },
    "SatisfactionScore": {
        "id": GlobalId(),
        "score": Column("score", INT),
        "comment": Column("comment", TEXT),
        "respondedAt": Column("responded_at", DATETIME),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
        "contact": One("Contact", _by_id(Contact, scopes.contact_scope, "contact_id")),
    },
    "ClientStatus": {
        "id": Column("id", ID_TEXT),
        "name": Column("name", TEXT),
        "category": Column("category", ENUM),
        "isBuiltin": Column("is_builtin", BOOL),
    },
    "Contact": {
        "id": GlobalId(),
        "fullName": Column("full_name", TEXT),
        "email": Column("email", TEXT),
        "phone": Column("phone", TEXT),
        "title": Column("title", TEXT),
        "isPrimary": Column("is_primary", BOOL),
        "isDecisionMaker": Column("is_decision_maker", BOOL),
        "internalNotes": Column("internal_notes", TEXT),
        "marketingConsent": Column("marketing_consent", BOOL),
        "marketingConsentAt": Column("marketing_consent_at", DATETIME),
        "marketingConsentSource": Column("marketing_consent_source", TEXT),
        "externalId": Computed(TEXT, _external_id(ChangeEntity.CONTACT)),
        "roles": Values(ENUM, _loaded(contact_roles, "id", col(ContactRoleAssignment.role)), _role_order),
        "hasPortalAccess": Computed(BOOL, _has_portal_access),
        "client": One("Client", _by_id(Client, scopes.client_scope, "client_id")),
        "reportsTo": One("Contact", _by_id(Contact, scopes.contact_scope, "reports_to_id")),
        "directReports": Many(
            "Contact", _direct_reports, lambda: [(col(Contact.full_name), False), (col(Contact.id), False)]
        ),
    },
    "User": {
        "id": GlobalId(),
        "fullName": Column("full_name", TEXT),
        "email": Column("email", TEXT),
        "phone": Column("phone", TEXT),
        "jobTitle": Column("job_title", TEXT),
        "role": Column("role", ENUM),
        "hourlyCostRate": Column("hourly_cost_rate", MONEY),
        "hourlyBillRate": Column("hourly_bill_rate", MONEY),
        "lastLoginAt": Column("last_login_at", DATETIME),
        "isActive": Column("is_active", BOOL),
        "contact": One("Contact", _by_id(Contact, scopes.contact_scope, "contact_id")),
    },
}


def _value(item: Any) -> Any:
    return item.value if isinstance(item, enum.Enum) else item


# ---------------------------------------------------------------- the walk


@dataclass
class Planner:
    schema: GraphQLSchema
    collect_subfields: CollectSubfields
    variable_values: Any
    denied: Denied
    principal: Principal
    decode_id: DecodeId
    lookup_id: DecodeId
    dialect: str
    node_id: NodeId
    names: dict[str, int] = field(default_factory=dict)
    depth: int = 0
    deepest: int = 0  # the most levels any part of the statement nests (objects, lists of values, subqueries)

    def name(self, prefix: str) -> str:
        self.names[prefix] = self.names.get(prefix, 0) + 1
        return f"{prefix}{self.names[prefix]}"

    def subfields(self, object_type: GraphQLObjectType, details: list[FieldDetails]) -> dict[str, list[FieldDetails]]:
        collected = self.collect_subfields(object_type, details)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise CannotCompile("@defer")
        for group in collected.grouped_field_set.values():
            for detail in group:
                if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                    raise CannotCompile("@defer or fragment variables")
                if any(d.name.value == "stream" for d in detail.node.directives or ()):
                    raise CannotCompile("@stream")
        return collected.grouped_field_set

    def arguments(self, field_def: GraphQLField, details: list[FieldDetails]) -> dict[str, Any]:
        node = details[0].node
        if not field_def.args and not node.arguments:
            return {}
        return get_argument_values(field_def, node, self.variable_values)

    def check(self, type_name: str, field_name: str) -> None:
        if field_name in self.denied.get(type_name, {}):
            raise CannotCompile(f"{type_name}.{field_name} is refused to this caller")

    def object_json(
        self, object_type: GraphQLObjectType, details: list[FieldDetails], row: FromClause
    ) -> ColumnElement[str]:
        """The JSON object of one row of `object_type` whose columns `row` holds."""
        mapping = TYPES.get(object_type.name)
        if mapping is None:
            raise CannotCompile(f"type {object_type.name}")
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        try:
            return self._object_json(object_type, mapping, details, row)
        finally:
            self.depth -= 1

    def _object_json(
        self, object_type: GraphQLObjectType, mapping: dict[str, Mapped], details: list[FieldDetails], row: FromClause
    ) -> ColumnElement[str]:
        if self.dialect == "sqlite" and self.depth > SQLITE_MAX_DEPTH:
            raise CannotCompile("nested deeper than SQLite's parser takes")
        parts: list[Any] = ["{"]
        for index, (key, group) in enumerate(self.subfields(object_type, details).items()):
            parts.append(("," if index else "") + orjson.dumps(key).decode() + ":")
            name = group[0].node.name.value
            if name == "__typename":
                parts.append(orjson.dumps(object_type.name).decode())
                continue
            self.check(object_type.name, name)
            mapped = mapping.get(name)
            field_def = object_type.fields.get(name)
            if mapped is None or field_def is None:
                raise CannotCompile(f"{object_type.name}.{name}")
            arguments = self.arguments(field_def, group)
            allowed = mapped.arguments if isinstance(mapped, Many) else frozenset()
            if any(value is not None and arg not in allowed for arg, value in arguments.items()):
                raise CannotCompile(f"arguments of {object_type.name}.{name}")
            parts.append(self.field_json(mapped, field_def, group, row, arguments, object_type.name))
        parts.append("}")
        return json_concat(*parts)

    def field_json(
        self,
        mapped: Mapped,
        field_def: GraphQLField,
        group: list[FieldDetails],
        row: FromClause,
        arguments: dict[str, Any],
        type_name: str,
    ) -> ColumnElement[str] | str:
        if isinstance(mapped, Column):
            return json_value(row.c[mapped.name], mapped.kind)
        if isinstance(mapped, GlobalId):
            return json_global_id(type_name, row.c.id)
        if isinstance(mapped, Written):
            return mapped.json(row)
        if isinstance(mapped, Computed):
            # A subquery nests one level deeper (SQLite's parser counts it; its aggregates nest more).
            if self.dialect == "sqlite" and self.depth + 1 > SQLITE_MAX_DEPTH:
                raise CannotCompile("nested deeper than SQLite's parser takes")
            self.deepest = max(self.deepest, self.depth + 1)
            value = mapped.value(row, self.principal)
            if mapped.default is not None:
                value = sa.func.coalesce(value, sa.literal_column(str(int(mapped.default))))
            return json_value(value, mapped.kind)
        target = get_nullable_type(field_def.type)
        if isinstance(mapped, Values):
            item = get_nullable_type(target.of_type) if is_list_type(target) else None
            if item is None or not (is_enum_type(item) or is_scalar_type(item)):
                raise CannotCompile(f"{type_name}.{field_def}")
            kind = mapped.kind
            # A list of values nests as deep as a list of objects does (SQLite's parser counts it).
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            try:
                if self.dialect == "sqlite" and self.depth > SQLITE_MAX_DEPTH:
                    raise CannotCompile("nested deeper than SQLite's parser takes")
                return self.list_json(
                    mapped.rows(row, self.principal).correlate(row),
                    mapped.order(),
                    lambda rows: json_value(next(iter(rows.c)), kind),
                )
            finally:
                self.depth -= 1
        if isinstance(mapped, One):
            if not is_object_type(target) or target.name != mapped.type_name:
                raise CannotCompile(f"{type_name}.{field_def}")
            rows = mapped.rows(row, self.principal).correlate(row).limit(1).subquery(self.name("one"))
            inner = self.object_json(target, group, rows)
            return sa.func.coalesce(sa.select(inner).select_from(rows).scalar_subquery(), _null())
        assert isinstance(mapped, Many)
        item = get_nullable_type(target.of_type) if is_list_type(target) else None
        if not is_object_type(item) or item.name != mapped.type_name:
            raise CannotCompile(f"{type_name}.{field_def}")
        return self.list_json(
            mapped.rows(row, self.principal, arguments).correlate(row),
            mapped.order(),
            lambda rows: self.object_json(item, group, rows),
        )

    def list_json(
        self,
        statement: Select,
        order: list[tuple[Any, bool]],
        element: Callable[[FromClause], ColumnElement[str]],
    ) -> ColumnElement[str]:
        """'[...]' of `element` for each row of `statement`, in `order`. PostgreSQL orders inside the
        aggregate (json_agg_text), so the rows are not sorted first as well (a second sort per list,
        8% of a portal user's nested list) unless `statement` keeps only some of them (LIMIT, OFFSET);
        SQLite aggregates the rows in the order the subquery gives them."""
        labels = [f"_o{i}" for i in range(len(order))]
        ordered = statement.add_columns(*(e.label(label) for (e, _), label in zip(order, labels, strict=True)))
        limited = statement._limit_clause is not None or statement._offset_clause is not None
        if self.dialect != "postgresql" or limited:
            ordered = ordered.order_by(*(e.desc() if descending else e.asc() for e, descending in order))
        rows = ordered.subquery(self.name("rows"))
        aggregate = json_agg_text(
            element(rows), [(rows.c[label], descending) for label, (_, descending) in zip(labels, order, strict=True)]
        )
        return sa.select(aggregate).select_from(rows).scalar_subquery()


# ---------------------------------------------------------------- root fields


def _page_arguments(arguments: dict[str, Any]) -> tuple[int, str | None]:
    try:
        size = page_size(arguments.get("first"))
    except InputError:
        raise CannotCompile("page size") from None
    if size == 0:
        raise CannotCompile("an empty page")
    return size, arguments.get("after")


def _order(arguments: dict[str, Any], fields: type[enum.Enum], default: enum.Enum) -> tuple[Any, SortDirection]:
    order = arguments.get("orderBy") or {}
    return fields(_value(order.get("field") or default)), SortDirection(_value(order.get("direction") or "ASC"))


def _clients(planner: Planner, field_def: GraphQLField, details: list[FieldDetails]) -> Select:
    """Query.clients: the Clients list page (resolvers.clients.clients.list_clients)."""
    arguments = planner.arguments(field_def, details)
    size, after = _page_arguments(arguments)
    given = arguments.get("filter") or {}
    if given.get("statusIds"):
        raise CannotCompile("filter.statusIds")
    filters = ClientFilter(
        categories=tuple(given.get("categories") or ()),
        search=given.get("search"),
        tiers=tuple(given.get("tiers") or ()),
    )
    order_field, direction = _order(arguments, ClientOrderField, ClientOrderField.NAME)
    statement = scoped_clients(planner.principal, filters)
    return _connection(
        planner, field_def, details, statement, ORDER_KEYS[order_field], col(Client.id), direction, size, after
    )


def _filter_values(field_def: GraphQLField, given: Mapping[str, Any]) -> dict[str, Any]:
    """A `filter` argument's values (graphql-core's, by GraphQL name) by the Python names of the
    strawberry input's fields, as the resolver receives them."""
    fields = cast(GraphQLInputObjectType, get_nullable_type(field_def.args["filter"].type)).fields
    return {fields[name].extensions[DEFINITION_BACKREF].python_name: value for name, value in given.items()}


def _read_id(planner: Planner) -> lists.ReadId:
    return lambda value, type_name, _where: planner.decode_id(value, type_name)


@dataclass(frozen=True)
class _WorkList:
    """Query.projects or Query.tasks (resolvers.work.lists.list_projects, list_tasks): its filter,
    statement and order keys are the resolver's own."""

    read_filter: Callable[[Mapping[str, Any], lists.ReadId], Any]
    statement: Callable[[Principal, Any], Select]
    order_fields: type[enum.Enum]
    default_order: enum.Enum
    order_keys: Mapping[Any, SortKey]
    id_column: Any

    def __call__(self, planner: Planner, field_def: GraphQLField, details: list[FieldDetails]) -> Select:
        arguments = planner.arguments(field_def, details)
        size, after = _page_arguments(arguments)
        filters = self.read_filter(_filter_values(field_def, arguments.get("filter") or {}), _read_id(planner))
        order_field, direction = _order(arguments, self.order_fields, self.default_order)
        try:
            statement = self.statement(planner.principal, filters)
        except InputError:
            raise CannotCompile("filter") from None
        key = self.order_keys[order_field]
        return _connection(planner, field_def, details, statement, key, self.id_column, direction, size, after)


_projects = _WorkList(
    lists.project_filter,
    lists.projects_statement,
    lists.ProjectOrderField,
    lists.ProjectOrderField.NAME,
    lists.PROJECT_ORDER_KEYS,
    col(Project.id),
)
_tasks = _WorkList(
    lists.task_filter,
    lists.tasks_statement,
    lists.TaskOrderField,
    lists.TaskOrderField.DUE_DATE,
    lists.TASK_ORDER_KEYS,
    col(Task.id),
)


def _client(planner: Planner, field_def: GraphQLField, details: list[FieldDetails]) -> Select:
    """Query.client(id): one client under the caller's client scope (loaders.clients.client)."""
    arguments = planner.arguments(field_def, details)
    client_id = planner.lookup_id(arguments["id"], "Client")
    if client_id is None:
        raise CannotCompile("an id that names no client")  # the resolver answers null without a statement
    target = get_nullable_type(field_def.type)
    if not is_object_type(target) or target.name != "Client":
        raise CannotCompile("client type")
    rows = (
        sa.select(*columns_of(Client))
        .where(col(Client.id) == client_id, scopes.client_scope(planner.principal))
        .subquery(planner.name("one"))
    )
    found = sa.select(planner.object_json(target, details, rows)).select_from(rows).scalar_subquery()
    return sa.select(sa.func.coalesce(found, _null()))


#: node(id): the types it compiles, each under the row scope its loader (ModelNode.__loader__) reads with.
NODES: dict[str, tuple[Any, Callable[[Principal], ColumnElement[bool]]]] = {
    "Client": (Client, scopes.client_scope),
    "Contact": (Contact, scopes.contact_scope),
    "Project": (Project, scopes.project_scope),
    "Task": (Task, scopes.task_scope),
    "Comment": (Comment, scopes.comment_scope),
    "User": (User, scopes.user_scope),
    "Invoice": (Invoice, scopes.invoice_scope),
    "Payment": (Payment, scopes.payment_scope),
    "TimeEntry": (TimeEntry, scopes.time_entry_scope),
    "Expense": (Expense, scopes.expense_scope),
    "Opportunity": (Opportunity, scopes.opportunity_scope),
    "Interaction": (Interaction, scopes.interaction_scope),
    "Meeting": (Meeting, scopes.meeting_scope),
    "SatisfactionScore": (SatisfactionSurvey, scopes.satisfaction_survey_scope),
}


def _node(planner: Planner, field_def: GraphQLField, details: list[FieldDetails]) -> Select:
    """Query.node(id) for the types in NODES: the row under its scope, written as its own type."""
    arguments = planner.arguments(field_def, details)
    found = planner.node_id(arguments.get("id"))
    if found is None or found[0] not in NODES or found[1] is None:
        raise CannotCompile("an id that names no row")  # the resolver answers null without a statement
    type_name, row_id = found
    model, scope = NODES[type_name]
    target = planner.schema.get_type(type_name)
    if not is_object_type(target):
        raise CannotCompile("node type")
    rows = (
        sa.select(*columns_of(model)).where(model.id == row_id, scope(planner.principal)).subquery(planner.name("one"))
    )
    value = sa.select(planner.object_json(target, details, rows)).select_from(rows).scalar_subquery()
    return sa.select(sa.func.coalesce(value, _null()))


def _integer(value: int) -> ColumnElement[int]:
    """A page bound written into the SQL text: a statement that PostgreSQL plans once and keeps
    (a generic plan) knows how many rows it pages, instead of guessing at a LIMIT $n as 10% of
    the table and joining every project and task (nested list of 10 clients: 23 ms generic, 3 ms
    with the number in the text). Page sizes are checked integers (resolvers.pagination)."""
    return sa.literal_column(str(int(value)), sa.Integer())


def _connection(
    planner: Planner,
    field_def: GraphQLField,
    details: list[FieldDetails],
    statement: Select,
    key: SortKey,
    id_column: Any,
    direction: SortDirection,
    size: int,
    after: str | None,
) -> Select:
    """A Relay connection over `statement` (filtered and scoped by the resolver's own code), paged
    exactly as resolvers.pagination.keyset_page pages it: the page and its cursors, whether there
    is a next one, and totalCount over the same rows without the cursor."""
    try:
        paged = after_cursor(statement, key=key, id_column=id_column, direction=direction, after=after)
    except InputError:
        raise CannotCompile("cursor") from None
    descending = direction is SortDirection.DESC
    ordering = (key.expression.desc(), id_column.desc()) if descending else (key.expression.asc(), id_column.asc())
    page = (
        paged.add_columns(key.expression.label("_sort_key"), sa.func.row_number().over(order_by=ordering).label("_n"))
        .order_by(*ordering)
        .limit(_integer(size + 1))
        .cte("page")
    )
    connection = get_nullable_type(field_def.type)
    if not is_object_type(connection):
        raise CannotCompile("connection type")
    shown = sa.select(page).where(page.c._n <= _integer(size))
    cursor = json_cursor(key.kind, page.c._sort_key, page.c.id)
    parts: list[Any] = ["{"]
    for index, (response_key, group) in enumerate(planner.subfields(connection, details).items()):
        parts.append(("," if index else "") + orjson.dumps(response_key).decode() + ":")
        name = group[0].node.name.value
        if name == "__typename":
            parts.append(orjson.dumps(connection.name).decode())
            continue
        planner.check(connection.name, name)
        if name == "totalCount":
            counted = statement.order_by(None).with_only_columns(sa.func.count(), maintain_column_froms=True)
            parts.append(json_value(counted.scalar_subquery(), INT))
        elif name == "edges":
            edge_type = get_nullable_type(get_nullable_type(connection.fields["edges"].type).of_type)

            def edge(rows: FromClause, edge_type: Any = edge_type, group: list[FieldDetails] = group) -> Any:
                return _edge_json(planner, edge_type, group, rows, key.kind)

            parts.append(planner.list_json(shown, [(page.c._n, False)], edge))
        elif name == "pageInfo":
            parts.append(_page_info(planner, connection, group, page, size, bool(after), cursor))
        else:
            raise CannotCompile(f"{connection.name}.{name}")
    parts.append("}")
    return sa.select(json_concat(*parts))


def _edge_json(
    planner: Planner, edge_type: GraphQLObjectType, details: list[FieldDetails], rows: FromClause, sort_kind: str
) -> ColumnElement[str]:
    parts: list[Any] = ["{"]
    for index, (response_key, group) in enumerate(planner.subfields(edge_type, details).items()):
        parts.append(("," if index else "") + orjson.dumps(response_key).decode() + ":")
        name = group[0].node.name.value
        if name == "__typename":
            parts.append(orjson.dumps(edge_type.name).decode())
            continue
        planner.check(edge_type.name, name)
        if name == "cursor":
            parts.append(json_cursor(sort_kind, rows.c._sort_key, rows.c.id))
        elif name == "node":
            node_type = get_nullable_type(edge_type.fields["node"].type)
            if not is_object_type(node_type):
                raise CannotCompile("node type")
            parts.append(planner.object_json(node_type, group, rows))
        else:
            raise CannotCompile(f"{edge_type.name}.{name}")
    parts.append("}")
    return json_concat(*parts)


def _page_info(
    planner: Planner,
    connection: GraphQLObjectType,
    details: list[FieldDetails],
    page: FromClause,
    size: int,
    after: bool,
    cursor: ColumnElement[str],
) -> ColumnElement[str]:
    info_type = get_nullable_type(connection.fields["pageInfo"].type)
    if not is_object_type(info_type):
        raise CannotCompile("page info type")
    parts: list[Any] = ["{"]
    for index, (response_key, group) in enumerate(planner.subfields(info_type, details).items()):
        parts.append(("," if index else "") + orjson.dumps(response_key).decode() + ":")
        name = group[0].node.name.value
        if name == "__typename":
            parts.append(orjson.dumps(info_type.name).decode())
            continue
        planner.check(info_type.name, name)
        if name == "hasNextPage":
            more = sa.select(sa.func.count()).select_from(page).scalar_subquery() > _integer(size)
            parts.append(sa.case((more, sa.literal_column("'true'")), else_=sa.literal_column("'false'")))
        elif name == "hasPreviousPage":
            parts.append("true" if after else "false")
        elif name in ("startCursor", "endCursor"):
            if name == "startCursor":
                which = page.c._n == 1
            else:
                last = sa.select(sa.func.max(page.c._n)).where(page.c._n <= _integer(size)).scalar_subquery()
                which = page.c._n == last
            found = sa.select(cursor).where(which).scalar_subquery()
            parts.append(sa.func.coalesce(found, _null()))
        else:
            raise CannotCompile(f"{info_type.name}.{name}")
    parts.append("}")
    return json_concat(*parts)


ROOTS: dict[str, Callable[[Planner, GraphQLField, list[FieldDetails]], Select]] = {
    "clients": _clients,
    "projects": _projects,
    "tasks": _tasks,
    "client": _client,
    "node": _node,
}


def plan_root_field(
    schema: GraphQLSchema,
    field_details: list[FieldDetails],
    *,
    collect_subfields: CollectSubfields,
    variable_values: Any,
    denied: Denied,
    principal: Principal,
    decode_id: DecodeId,
    lookup_id: DecodeId,
    dialect: str,
    node_id: NodeId,
) -> Select | None:
    """The one statement answering this query root field, or None (the resolvers answer it).
    `decode_id` and `lookup_id` are schema.ids' readings of a global id in a filter (NO_ROW for
    one that names no row of the type) and in a root lookup (None); `node_id` reads node(id)'s
    (type name, row id), None when it is no global id."""
    query = schema.query_type
    name = field_details[0].node.name.value
    build = ROOTS.get(name)
    if query is None or build is None or name in denied.get(query.name, {}):
        return None
    field_def = query.fields[name]
    try:
        planner = Planner(
            schema, collect_subfields, variable_values, denied, principal, decode_id, lookup_id, dialect, node_id
        )
        statement = build(planner, field_def, field_details)
    except (CannotCompile, ValueError):  # ValueError: a malformed global id, the resolver's to report
        return None
    if dialect == "sqlite" and planner.deepest >= SQLITE_CHECKED_DEPTH and not sqlite_parses(statement):
        return None
    return statement


_SQLITE = sqlite_dialect.dialect()
#: sqlite_parses' answers by the statement's SQLAlchemy cache key (the same key, the same SQL text):
#: compiling a statement to try it costs milliseconds, looking its key up far less.
_PARSED: OrderedDict[Any, bool] = OrderedDict()
PARSED_KEPT = 1000


def sqlite_parses(statement: Select) -> bool:
    """Whether SQLite's parser takes the statement's text. Its stack is shallow (100 entries) and a row
    scope nests subqueries of its own (a portal user's time entries five objects deep overflow it), so
    SQLITE_MAX_DEPTH alone cannot tell: the text is prepared against an empty in-memory database, where
    every other complaint (no such table, no such function) comes after the parse succeeded."""
    cache_key = statement._generate_cache_key()
    key = None if cache_key is None else cache_key.key
    if key is not None and key in _PARSED:
        _PARSED.move_to_end(key)
        return _PARSED[key]
    text = str(statement.compile(dialect=_SQLITE))
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(text)
        parses = True
    except sqlite3.Error as error:
        parses = "parser stack overflow" not in str(error)
    finally:
        connection.close()
    if key is not None:
        _PARSED[key] = parses
        if len(_PARSED) > PARSED_KEPT:
            _PARSED.popitem(last=False)
    return parses
