"""The shapes of the demo data: one NamedTuple per kind of record, written positionally in the
data modules, plus the shorthands the project tables use. Keys ("northwind", "maria") name
clients and staff; days are counted from the load's "today"."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from models import (
    ClientTier,
    CommentKind,
    DeliverableKind,
    InteractionKind,
    InvoiceStatus,
    LeadStage,
    MeetingStatus,
    OpportunityKind,
    OpportunityStage,
    PaymentMethod,
    ProjectHealth,
    ProjectStatus,
    Role,
    TaskStatus,
)

NO_TAX = Decimal("0.0000")
VAT = Decimal("0.2000")


# ---- people and clients


class StaffSpec(NamedTuple):
    key: str
    email: str
    full_name: str
    role: Role
    job_title: str
    phone: str
    cost_rate: str
    bill_rate: str
    note: str


class PersonSpec(NamedTuple):
    full_name: str
    local_part: str
    title: str
    phone: str
    decision_maker: bool = False
    notes: str | None = None


class ClientSpec(NamedTuple):
    key: str
    name: str
    status: str
    tier: ClientTier
    industry: str
    domain: str
    address: str
    manager: str
    terms: int
    became: int | str  # days ago, or "month" / "quarter" for this month's / quarter's new clients
    notes: str
    contacts: tuple[PersonSpec, ...]  # the first is the primary contact
    tax_rate: Decimal = NO_TAX
    booking: bool = False
    show_costs: bool = False


class LeadSpec(NamedTuple):
    company: str
    contact: str
    email: str
    title: str
    phone: str
    industry: str
    stage: LeadStage
    value: str
    source: str
    owner: str
    created_ago: int
    converts_to: str | None = None  # client key


# ---- the work


class DeliverableSpec(NamedTuple):
    title: str
    kind: DeliverableKind
    url: str
    complete: bool


class TaskSpec(NamedTuple):
    title: str
    status: TaskStatus
    assignee: str
    due: int  # days from today (negative: past)
    estimate: str
    visible: bool = True
    deliverables: tuple[DeliverableSpec, ...] = ()


class CommentSpec(NamedTuple):
    task: str | None  # a task title of the same project, or None for a project comment
    kind: CommentKind
    author: str  # a staff key or a portal client key
    days_ago: int
    body: str


class ExpenseSpec(NamedTuple):
    description: str
    amount: str
    billable: bool
    days_ago: int
    by: str


class ProjectSpec(NamedTuple):
    client: str
    name: str
    status: ProjectStatus
    health: ProjectHealth
    start: int | None  # days ago; None: the client's first day
    end: int  # days from today (negative: past)
    budget: str
    description: str
    tasks: tuple[TaskSpec, ...]
    comments: tuple[CommentSpec, ...] = ()
    expenses: tuple[ExpenseSpec, ...] = ()
    paused: int | None = None  # ON_HOLD: days ago the work stopped
    fixed_fee: bool = False  # invoiced by milestone; its hours are tracked for profitability, not billed


def figma(slug: str) -> str:
    return f"https://www.figma.com/file/demo-{slug}"


def files(slug: str) -> str:
    return f"https://files.agency.example/deliverables/{slug}"


# Shorthands for the project tables.
T, C, E, D = TaskSpec, CommentSpec, ExpenseSpec, DeliverableSpec
LINK, FILE = DeliverableKind.LINK, DeliverableKind.FILE
TODO, DOING, REVIEW, DONE = TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.IN_REVIEW, TaskStatus.DONE
REPLY, NOTE = CommentKind.REPLY, CommentKind.NOTE


# ---- billing


class InvoiceSpec(NamedTuple):
    """What to bill; the amounts come from the product's own line arithmetic when it is loaded."""

    client: str
    status: InvoiceStatus
    issue_ago: int
    fixed: tuple[tuple[str, str, str], ...] = ()  # (description, quantity, unit price)
    time_window: tuple[int, int] | None = None  # bill billable time from..to days ago
    expense_window: tuple[int, int] | None = None
    payments: tuple[tuple[int, str, PaymentMethod], ...] = ()  # (days ago, "full" | "half" | amount, method)
    notes: str | None = None
    voided_ago: int | None = None
    by: str = "maria"
    was_sent: bool = False  # a VOID invoice that had been sent before it was voided


# ---- the relationship


class InteractionSpec(NamedTuple):
    client: str
    kind: InteractionKind
    days_ago: int
    hour: int
    staff: str
    contact: int  # index into the client's contacts
    summary: str


class OpportunitySpec(NamedTuple):
    client: str
    title: str
    kind: OpportunityKind
    stage: OpportunityStage
    value: str
    close_in: int  # days from today (negative: past)
    owner: str
    created_ago: int


class MeetingSpec(NamedTuple):
    client: str
    title: str
    day: int | None  # days from today (negative: past); None: the client's first day
    hour: int
    status: MeetingStatus
    requested_by: str  # a staff key, or a portal client key: booked from the portal
    staff: str
    agenda: str
    location: str = "Video call"


class SurveySpec(NamedTuple):
    """An answer to "How likely are you to recommend us?" (0-10)."""

    client: str
    contact: int  # index into the client's contacts
    score: int
    days_ago: int
    comment: str | None
