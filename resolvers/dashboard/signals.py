"""Health signals as SQL building blocks: each function returns a subquery keyed by client (or
project, or team member) over the caller's rows, for the dashboard, the reports, the jobs and a
health score to join to `Client` and combine in one statement.

Every builder composes the row scope of each table it reads (auth/scopes.py), so what it counts is
what the Principal may see; none runs a query. Join the result to `Client` on `client_id` (an
outer join: a client with nothing to count has no row) and keep `scopes.client_scope(principal)`
on the outer statement. Column names and function names are stable: other code builds on them.

What counts as a **touchpoint** (the guide's "no recent activity"): only contact the client takes
part in or sees, never an internal edit:

- a meeting CONFIRMED or COMPLETED, at its start, once it has started;
- a logged interaction (call, e-mail, meeting, check-in), when it occurred;
- a REPLY either way (client or staff) on a project, or on a task shown to the client, when
  written (a NOTE, or a REPLY on a task hidden from the portal, is not a touchpoint);
- a portal sign-in by the client's portal users;
- a payment, on the day it was received (00:00 UTC).

Changing a client's notes, status or tier, an activity-feed entry, a task or project edit do not
count: before this module, an internal edit of the client's notes reset "no recent activity".

Signals (each documented on its function):

- `touchpoints`, `last_touchpoint_by_client`, `quiet_days_by_client`: when each client was last in
  contact, and the days since.
- `portal_logins_by_client`: portal sign-ins since a moment, and the latest.
- `agency_response_by_client`, `client_response_by_client`: response times both ways;
  `response_delay_by_client` both in one row.
- `scope_changes_by_client`, `scope_cuts_by_client`: the scope change log per client.
- `project_timeline`, `timeline_adherence_by_client`: completed on or before the end date.
- `budget_burn_by_project`: logged billable hours at the captured bill rate plus billable
  expenses, against the budget.
- `capacity_by_member`, `hours_by_member_and_client`: hours per team member across clients.

Times are UTC; a date counts as its 00:00 UTC. Durations are returned as float seconds or days
(`epoch_seconds`), averages as hours.

Row scopes, not field policy: a builder counts the rows the caller may see, so a MEMBER (no invoice
or payment rows) gets no payment touchpoints, and a portal user no logged interactions or sign-ins
(staff rows). Whoever exposes a figure still gives its field a class in auth/policy_table.py.

Where each shows in the schema: `ClientsDashboard.health.noRecentActivity` (quiet days; also the
weekly digest's "went quiet"), `health.scopeReductions` (scope_changes_by_client),
`engagement.responseTimes` / `engagement.clientResponseTimes` (the two directions),
`ClientsDashboard.capacity` (capacity_by_member, hours_by_member_and_client), `Project.budgetBurn`,
`ClientReport.portfolio.timelineAdherence`, `ClientReport.scopeChanges`.

Narrowing to some clients: the builders keyed by client take `within`, a function from a client id
column to a condition on it (`ClientIds`), applied to each part's rows before it groups, so a
statement about a few clients reads only their rows: `resolvers.batching.in_keys` for a loader's
batch (the health score of a page of clients), `DashboardParams.in_view` for a saved view's clients.
A client's values are the same narrowed or not.

Composing one, e.g. every client the caller sees with its quiet days and scope cuts::

    quiet = signals.quiet_days_by_client(principal, now)
    cuts = signals.scope_cuts_by_client(principal, now - dt.timedelta(days=90))
    sa.select(Client, quiet.c.quiet_days, sa.func.coalesce(cuts.c.cuts, 0))
    .join(quiet, quiet.c.client_id == col(Client.id))
    .outerjoin(cuts, cuts.c.client_id == col(Client.id))
    .where(scopes.client_scope(principal))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import col

from auth import scopes
from auth.principal import Principal
from models import (
    Client,
    Comment,
    CommentKind,
    Expense,
    Interaction,
    Invoice,
    InvoiceStatus,
    Meeting,
    MeetingStatus,
    Payment,
    Project,
    ProjectStatus,
    Role,
    ScopeChange,
    ScopeChangeKind,
    Task,
    TimeEntry,
    User,
)
from models.enums import STAFF_ROLES
from models.people import LoginEvent
from resolvers.batching import in_keys
from resolvers.dashboard.rows import portal_logins_by_client as _portal_logins
from resolvers.sql_functions import day_start, epoch_seconds

DAY_SECONDS = 86400.0
HOUR_SECONDS = 3600.0
OPEN_PROJECT = (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)
HELD_MEETING = (MeetingStatus.CONFIRMED, MeetingStatus.COMPLETED)

ClientIds = Callable[[Any], ColumnElement[bool]]
"""Which clients a signal covers: given a mapped client id column (`Project.client_id`, `Client.id`,
...), a condition on it. `every_client` (the default) keeps every row."""


def every_client(client_id: Any) -> ColumnElement[bool]:
    return sa.true()


class _among(ColumnElement[bool]):
    """`column` among the ids a subquery lists: `column IN (subquery)`, on PostgreSQL
    `column = ANY(ARRAY(subquery))`, which the planner runs once and then reads `column`'s index
    with (an IN it turns into a join, and on the bench agency joined every comment to its project)."""

    __visit_name__ = "agency_among"
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own declaration is a plain list)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], ids: sa.Select[Any]) -> None:
        self.column = column
        self.ids = ids.scalar_subquery()


@compiles(_among)
def _among_sql(element: _among, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} IN {compiler.process(element.ids, **kw)}"


@compiles(_among, "postgresql")
def _among_postgresql(element: _among, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{compiler.process(element.ids, **kw)})"


def _projects_within(project_id: Any, within: ClientIds) -> ColumnElement[bool]:
    """A project id column among the projects of the clients `within` keeps. Comments and scope changes
    are narrowed by their own indexed `project_id` this way: a condition on the joined project's
    `client_id` still reads every comment, then looks each one's project up."""
    if within is every_client:
        return sa.true()
    # Not correlated: the enclosing select joins `project` too, and this list must not refer to it.
    projects = sa.select(col(Project.id)).where(within(col(Project.client_id))).correlate(None)
    return _among(project_id.expression, projects)


def _client_visible_task() -> sa.ColumnElement[bool]:
    """A comment's thread is shown to the client: the project's own, or a task marked for it."""
    return sa.or_(
        col(Comment.task_id).is_(None),
        col(Comment.task_id).in_(sa.select(col(Task.id)).where(col(Task.visible_to_client).is_(True))),
    )


# --------------------------------------------------------------------------- touchpoints and quiet days


def touchpoints(principal: Principal, now: dt.datetime, *, within: ClientIds = every_client) -> sa.Subquery:
    """(client_id, at, source): every client-facing touchpoint up to `now` (the module's list),
    `source` one of 'meeting', 'interaction', 'reply', 'portal_login', 'payment'."""
    parts = [
        sa.select(
            col(Meeting.client_id).label("client_id"),
            col(Meeting.starts_at).label("at"),
            sa.literal("meeting").label("source"),
        ).where(
            col(Meeting.status).in_(HELD_MEETING),
            col(Meeting.starts_at) <= now,
            within(col(Meeting.client_id)),
            scopes.meeting_scope(principal),
        ),
        sa.select(col(Interaction.client_id), col(Interaction.occurred_at), sa.literal("interaction")).where(
            col(Interaction.occurred_at) <= now, within(col(Interaction.client_id)), scopes.interaction_scope(principal)
        ),
        sa.select(col(Project.client_id), col(Comment.created_at), sa.literal("reply"))
        .join(Project, col(Project.id) == col(Comment.project_id))
        .where(
            col(Comment.kind) == CommentKind.REPLY,
            _client_visible_task(),
            col(Comment.created_at) <= now,
            _projects_within(col(Comment.project_id), within),
            scopes.comment_scope(principal),
            scopes.project_scope(principal),
        ),
        sa.select(col(LoginEvent.client_id), col(LoginEvent.occurred_at), sa.literal("portal_login")).where(
            col(LoginEvent.client_id).is_not(None),
            col(LoginEvent.occurred_at) <= now,
            within(col(LoginEvent.client_id)),
            scopes.login_event_scope(principal),
        ),
        sa.select(col(Invoice.client_id), day_start(col(Payment.received_on)), sa.literal("payment"))
        .join(Invoice, col(Invoice.id) == col(Payment.invoice_id))
        .where(
            col(Invoice.status) != InvoiceStatus.VOID,
            col(Payment.received_on) <= now.date(),
            within(col(Invoice.client_id)),
            scopes.payment_scope(principal),
            scopes.invoice_scope(principal),
        ),
    ]
    return sa.union_all(*parts).subquery("touchpoints")


def last_touchpoint_by_client(
    principal: Principal, now: dt.datetime, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(client_id, last_at): each client's latest touchpoint up to `now`; no row without one."""
    touches = touchpoints(principal, now, within=within)
    return (
        sa.select(touches.c.client_id, sa.func.max(touches.c.at).label("last_at"))
        .group_by(touches.c.client_id)
        .subquery("last_touchpoint")
    )


def quiet_days_by_client(principal: Principal, now: dt.datetime, *, within: ClientIds = every_client) -> sa.Subquery:
    """(client_id, last_at, quiet_days) for every client the caller sees: `quiet_days` is the
    days (a float) from the latest touchpoint to `now`, NULL for a client never in touch (treat
    that as the quietest). Not filtered by status: add `resolvers.dashboard.rows.not_churned()` where churned clients
    should not count."""
    latest = last_touchpoint_by_client(principal, now, within=within)
    quiet = (now.timestamp() - epoch_seconds(latest.c.last_at)) / DAY_SECONDS
    return (
        sa.select(col(Client.id).label("client_id"), latest.c.last_at.label("last_at"), quiet.label("quiet_days"))
        .outerjoin(latest, latest.c.client_id == col(Client.id))
        .where(within(col(Client.id)), scopes.client_scope(principal))
        .subquery("quiet_days")
    )


def portal_logins_by_client(
    principal: Principal, since: dt.datetime, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(client_id, recent, last_at): portal sign-ins since `since`, and the latest ever (the
    dashboard's own definition, resolvers.dashboard.rows)."""
    return _portal_logins(principal, since, within(col(LoginEvent.client_id)))


# --------------------------------------------------------------------------- response times, both ways


def _reply_turns(principal: Principal, since: dt.datetime, within: ClientIds) -> sa.Subquery:
    """(client_id, from_client, asked_at, staff_answer_at, client_answer_at): each REPLY since
    `since` in a client-visible thread (a task shown to the client, or the project itself), with the
    earliest later REPLY by staff and by the client's portal users in the same thread."""
    is_staff = col(User.role).in_(STAFF_ROLES)
    is_client = col(User.role) == Role.CLIENT
    thread = (col(Comment.project_id), col(Comment.task_id))
    newest_first = (col(Comment.created_at).desc(), col(Comment.id).desc())

    def next_by(author: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        """The earliest later REPLY in the thread whose author matches."""
        first = sa.func.min(sa.case((author, col(Comment.created_at))))
        return first.over(partition_by=thread, order_by=newest_first, rows=(None, -1))

    return (
        sa.select(
            col(Project.client_id).label("client_id"),
            is_client.label("from_client"),
            col(Comment.created_at).label("asked_at"),
            next_by(is_staff).label("staff_answer_at"),
            next_by(is_client).label("client_answer_at"),
        )
        .join(User, col(User.id) == col(Comment.author_id))
        .join(Project, col(Project.id) == col(Comment.project_id))
        .where(
            col(Comment.kind) == CommentKind.REPLY,
            # An answer never precedes its question: the replies since `since` hold every answer to them.
            col(Comment.created_at) >= since,
            _client_visible_task(),
            sa.or_(is_staff, is_client),
            # A thread is one project's, so one client's: narrowing keeps whole threads.
            _projects_within(col(Comment.project_id), within),
            scopes.comment_scope(principal),
            scopes.project_scope(principal),
        )
        .subquery("reply_turns")
    )


def _response_by_client(
    principal: Principal, since: dt.datetime, within: ClientIds, *, from_client: bool, name: str
) -> sa.Subquery:
    turns = _reply_turns(principal, since, within)
    answer = turns.c.staff_answer_at if from_client else turns.c.client_answer_at
    asker = turns.c.from_client.is_(True) if from_client else turns.c.from_client.is_(False)
    seconds = epoch_seconds(answer) - epoch_seconds(turns.c.asked_at)
    return (
        sa.select(
            turns.c.client_id,
            sa.func.count(answer).label("answered"),
            (sa.func.count() - sa.func.count(answer)).label("unanswered"),
            (sa.func.avg(seconds) / HOUR_SECONDS).label("average_hours"),
            sa.func.min(sa.case((answer.is_(None), turns.c.asked_at))).label("oldest_unanswered_at"),
        )
        .where(asker)
        .group_by(turns.c.client_id)
        .subquery(name)
    )


def agency_response_by_client(
    principal: Principal, since: dt.datetime, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(client_id, answered, unanswered, average_hours, oldest_unanswered_at): how fast the team
    answers the client. Each REPLY by a portal user since `since` is answered by the next staff
    REPLY in the same thread; `average_hours` over the answered ones (NULL with none),
    `oldest_unanswered_at` the longest-waiting unanswered one (NULL with none)."""
    return _response_by_client(principal, since, within, from_client=True, name="agency_response")


def client_response_by_client(
    principal: Principal, since: dt.datetime, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(client_id, answered, unanswered, average_hours, oldest_unanswered_at): how fast the client
    answers the agency ("delayed responses or feedback"). Each staff REPLY since `since` (a status
    update, a question, an approval request: the guide sends them all as Replies) is answered by
    the next REPLY of one of the client's portal users in the same thread."""
    return _response_by_client(principal, since, within, from_client=False, name="client_response")


def response_delay_by_client(
    principal: Principal, since: dt.datetime, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(client_id, agency_hours, client_hours, agency_unanswered, client_unanswered): both
    directions in one row per client that has a REPLY since `since`."""
    agency = agency_response_by_client(principal, since, within=within)
    client = client_response_by_client(principal, since, within=within)
    turns = _reply_turns(principal, since, within)
    keys = sa.select(turns.c.client_id).distinct().subquery("reply_clients")
    return (
        sa.select(
            keys.c.client_id,
            agency.c.average_hours.label("agency_hours"),
            client.c.average_hours.label("client_hours"),
            sa.func.coalesce(agency.c.unanswered, 0).label("agency_unanswered"),
            sa.func.coalesce(client.c.unanswered, 0).label("client_unanswered"),
        )
        .outerjoin(agency, agency.c.client_id == keys.c.client_id)
        .outerjoin(client, client.c.client_id == keys.c.client_id)
        .subquery("response_delay")
    )


# --------------------------------------------------------------------------- scope changes


def _count_kind(kind: ScopeChangeKind) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((col(ScopeChange.kind) == kind, 1), else_=0))


def scope_changes_by_client(
    principal: Principal,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    within: ClientIds = every_client,
) -> sa.Subquery:
    """(client_id, changes, reductions, budget_changes, end_date_moves, tasks_added, cancellations,
    projects_changed) from the scope change log (models.work.ScopeChange) from `since` (inclusive)
    to `until` (exclusive), either open when None. `reductions`: the guide's warning sign, a budget
    lowered or a project cancelled."""
    window = sa.and_(
        sa.true() if since is None else col(ScopeChange.occurred_at) >= since,
        sa.true() if until is None else col(ScopeChange.occurred_at) < until,
    )
    return (
        sa.select(
            col(Project.client_id).label("client_id"),
            sa.func.count().label("changes"),
            sa.func.sum(sa.case((col(ScopeChange.is_reduction).is_(True), 1), else_=0)).label("reductions"),
            _count_kind(ScopeChangeKind.BUDGET_CHANGED).label("budget_changes"),
            _count_kind(ScopeChangeKind.END_DATE_MOVED).label("end_date_moves"),
            _count_kind(ScopeChangeKind.TASK_ADDED).label("tasks_added"),
            _count_kind(ScopeChangeKind.PROJECT_CANCELLED).label("cancellations"),
            sa.func.count(sa.distinct(col(ScopeChange.project_id))).label("projects_changed"),
        )
        .join(Project, col(Project.id) == col(ScopeChange.project_id))
        .where(
            window,
            _projects_within(col(ScopeChange.project_id), within),
            scopes.scope_change_scope(principal),
            scopes.project_scope(principal),
        )
        .group_by(col(Project.client_id))
        .subquery("scope_changes")
    )


def scope_cuts_by_client(
    principal: Principal, since: dt.datetime | None = None, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(client_id, cuts, last_cut_at): scope reductions (a lower budget, a cancellation) since
    `since`; no row for a client without one."""
    window = sa.true() if since is None else col(ScopeChange.occurred_at) >= since
    return (
        sa.select(
            col(Project.client_id).label("client_id"),
            sa.func.count().label("cuts"),
            sa.func.max(col(ScopeChange.occurred_at)).label("last_cut_at"),
        )
        .join(Project, col(Project.id) == col(ScopeChange.project_id))
        .where(
            col(ScopeChange.is_reduction).is_(True),
            window,
            _projects_within(col(ScopeChange.project_id), within),
            scopes.scope_change_scope(principal),
            scopes.project_scope(principal),
        )
        .group_by(col(Project.client_id))
        .subquery("scope_cuts")
    )


# --------------------------------------------------------------------------- timeline adherence


def on_time() -> sa.ColumnElement[bool]:
    """A project completed on or before its end date (the end date's whole day, UTC)."""
    return epoch_seconds(col(Project.completed_at)) < epoch_seconds(col(Project.end_date)) + DAY_SECONDS


def project_timeline(principal: Principal, today: dt.date) -> sa.Subquery:
    """(project_id, client_id, on_time, late, overdue) per project the caller sees, 1 or 0 each:
    `on_time` completed on or before its end date; `late` completed after it; `overdue` still
    ACTIVE or ON_HOLD with its end date before `today`. A project without an end date, a
    cancelled one, and an open one not yet past its end date are 0 in all three."""
    completed = sa.and_(
        col(Project.status) == ProjectStatus.COMPLETED,
        col(Project.completed_at).is_not(None),
        col(Project.end_date).is_not(None),
    )
    return (
        sa.select(
            col(Project.id).label("project_id"),
            col(Project.client_id).label("client_id"),
            sa.case((sa.and_(completed, on_time()), 1), else_=0).label("on_time"),
            sa.case((sa.and_(completed, sa.not_(on_time())), 1), else_=0).label("late"),
            sa.case((sa.and_(col(Project.status).in_(OPEN_PROJECT), col(Project.end_date) < today), 1), else_=0).label(
                "overdue"
            ),
        )
        .where(scopes.project_scope(principal))
        .subquery("project_timeline")
    )


def timeline_adherence_by_client(principal: Principal, today: dt.date) -> sa.Subquery:
    """(client_id, on_time, late, overdue, adherence): projects completed on or before their end
    date, completed after it, and open past it; `adherence` = on_time / (on_time + late +
    overdue), from 0 to 1, NULL while the three are 0."""
    timeline = project_timeline(principal, today)
    on, late, overdue = sa.func.sum(timeline.c.on_time), sa.func.sum(timeline.c.late), sa.func.sum(timeline.c.overdue)
    return (
        sa.select(
            timeline.c.client_id,
            on.label("on_time"),
            late.label("late"),
            overdue.label("overdue"),
            (on * 1.0 / sa.func.nullif(on + late + overdue, 0)).label("adherence"),
        )
        .group_by(timeline.c.client_id)
        .subquery("timeline_adherence")
    )


# --------------------------------------------------------------------------- budget burn and capacity


def budget_burn_by_project(principal: Principal, *, batch_keys: bool = False) -> sa.Subquery:
    """(project_id, client_id, budget, billable_hours, labor_value, billable_expenses, burned,
    burn_rate) per project the caller sees: `labor_value` = billable hours x the bill rate captured
    on each time entry, `burned` = labor_value + billable expenses, `burn_rate` = burned / budget
    (NULL without a budget above 0). Non-billable time is not charged to the client, so it burns no
    budget. Money: the caller must be allowed FINANCE. Time counts under `time_total_scope`: a
    portal user's burn is the staff figure (time on tasks hidden from it included).

    `batch_keys`: only the projects among a loader's batch of keys (resolvers.batching.in_keys; run
    the statement with `with_keys`), filtered inside each part rather than over every project."""
    billable = col(TimeEntry.billable).is_(True)
    time_keys = in_keys(col(TimeEntry.project_id)) if batch_keys else sa.true()
    expense_keys = in_keys(col(Expense.project_id)) if batch_keys else sa.true()
    project_keys = in_keys(col(Project.id)) if batch_keys else sa.true()
    time = (
        sa.select(
            col(TimeEntry.project_id).label("project_id"),
            sa.func.sum(sa.case((billable, col(TimeEntry.hours)), else_=0)).label("hours"),
            sa.func.sum(sa.case((billable, col(TimeEntry.hours) * col(TimeEntry.bill_rate)), else_=0)).label("value"),
        )
        .where(time_keys, scopes.time_total_scope(principal))
        .group_by(col(TimeEntry.project_id))
        .subquery("burn_time")
    )
    spent = (
        sa.select(col(Expense.project_id).label("project_id"), sa.func.sum(col(Expense.amount)).label("amount"))
        .where(expense_keys, col(Expense.billable).is_(True), scopes.expense_scope(principal))
        .group_by(col(Expense.project_id))
        .subquery("burn_expenses")
    )
    labor = sa.func.coalesce(time.c.value, 0)
    expenses = sa.func.coalesce(spent.c.amount, 0)
    return (
        sa.select(
            col(Project.id).label("project_id"),
            col(Project.client_id).label("client_id"),
            col(Project.budget).label("budget"),
            sa.func.coalesce(time.c.hours, 0).label("billable_hours"),
            labor.label("labor_value"),
            expenses.label("billable_expenses"),
            (labor + expenses).label("burned"),
            ((labor + expenses) * 1.0 / sa.func.nullif(col(Project.budget), 0)).label("burn_rate"),
        )
        .outerjoin(time, time.c.project_id == col(Project.id))
        .outerjoin(spent, spent.c.project_id == col(Project.id))
        .where(project_keys, scopes.project_scope(principal))
        .subquery("budget_burn")
    )


def capacity_by_member(
    principal: Principal, start: dt.date, end: dt.date, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(user_id, hours, billable_hours, clients, projects): hours each team member logged with a
    work date from `start` to `end` (inclusive), over the time the caller sees (on the projects of
    the clients `within` keeps), and across how many clients and projects. No row for a member who
    logged nothing."""
    billable = col(TimeEntry.billable).is_(True)
    return (
        sa.select(
            col(TimeEntry.user_id).label("user_id"),
            sa.func.sum(col(TimeEntry.hours)).label("hours"),
            sa.func.sum(sa.case((billable, col(TimeEntry.hours)), else_=0)).label("billable_hours"),
            sa.func.count(sa.distinct(col(Project.client_id))).label("clients"),
            sa.func.count(sa.distinct(col(TimeEntry.project_id))).label("projects"),
        )
        .join(Project, col(Project.id) == col(TimeEntry.project_id))
        .where(
            _window(start, end),
            within(col(Project.client_id)),
            scopes.time_entry_scope(principal),
            scopes.project_scope(principal),
        )
        .group_by(col(TimeEntry.user_id))
        .subquery("capacity")
    )


def hours_by_member_and_client(
    principal: Principal, start: dt.date, end: dt.date, *, within: ClientIds = every_client
) -> sa.Subquery:
    """(user_id, client_id, hours): the same time as `capacity_by_member`, split by client."""
    return (
        sa.select(
            col(TimeEntry.user_id).label("user_id"),
            col(Project.client_id).label("client_id"),
            sa.func.sum(col(TimeEntry.hours)).label("hours"),
        )
        .join(Project, col(Project.id) == col(TimeEntry.project_id))
        .where(
            _window(start, end),
            within(col(Project.client_id)),
            scopes.time_entry_scope(principal),
            scopes.project_scope(principal),
        )
        .group_by(col(TimeEntry.user_id), col(Project.client_id))
        .subquery("member_client_hours")
    )


def _window(start: dt.date, end: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(col(TimeEntry.work_date) >= start, col(TimeEntry.work_date) <= end)
