"""Enumerations of the guide's vocabulary, stored by name."""

from enum import Enum


class Role(str, Enum):
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    MEMBER = "MEMBER"
    CLIENT = "CLIENT"
    PARTNER = "PARTNER"


# The agency's own people: everyone but portal users and partner apps.
STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER})


class ClientCategory(str, Enum):
    """The lifecycle category every status, built-in or custom, belongs to."""

    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    CHURNED = "CHURNED"


class ContactRole(str, Enum):
    """What a contact does for its client, beyond its free-text title; a contact may hold several.

    BILLING: whom invoices and overdue reminders are meant for (reminders, when they are built,
    pick the client's BILLING contact, falling back to the primary; nothing sends them yet);
    TECHNICAL: integrations, access, hosting;
    EXECUTIVE_SPONSOR: owns the relationship on the client's side; DAY_TO_DAY: the working
    contact for the delivery team; LEGAL: contracts and data protection; MARKETING: campaigns
    and brand. Whether a contact decides is `is_decision_maker`, an internal sales judgement kept
    apart from these public roles.
    """

    BILLING = "BILLING"
    TECHNICAL = "TECHNICAL"
    EXECUTIVE_SPONSOR = "EXECUTIVE_SPONSOR"
    DAY_TO_DAY = "DAY_TO_DAY"
    LEGAL = "LEGAL"
    MARKETING = "MARKETING"


class ClientTier(str, Enum):
    STANDARD = "STANDARD"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class LeadStage(str, Enum):
    NEW = "NEW"
    CONTACTED = "CONTACTED"
    QUALIFIED = "QUALIFIED"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    WON = "WON"
    LOST = "LOST"


class ProjectStatus(str, Enum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    ON_HOLD = "ON_HOLD"
    CANCELLED = "CANCELLED"


class ScopeChangeKind(str, Enum):
    """What changed a project's scope after it started (models.work.ScopeChange)."""

    BUDGET_CHANGED = "BUDGET_CHANGED"
    END_DATE_MOVED = "END_DATE_MOVED"
    TASK_ADDED = "TASK_ADDED"
    PROJECT_CANCELLED = "PROJECT_CANCELLED"


class ProjectHealth(str, Enum):
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    OFF_TRACK = "OFF_TRACK"


class TaskStatus(str, Enum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    IN_REVIEW = "IN_REVIEW"
    DONE = "DONE"


class DeliverableKind(str, Enum):
    FILE = "FILE"
    LINK = "LINK"


class CommentKind(str, Enum):
    """REPLY: the client sees it. NOTE: internal to the team, never shown to a client."""

    REPLY = "REPLY"
    NOTE = "NOTE"


class InvoiceStatus(str, Enum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    PAID = "PAID"
    VOID = "VOID"


class InvoiceLineKind(str, Enum):
    TIME = "TIME"
    EXPENSE = "EXPENSE"
    FIXED = "FIXED"


class PaymentMethod(str, Enum):
    BANK_TRANSFER = "BANK_TRANSFER"
    CARD = "CARD"
    CHECK = "CHECK"
    CASH = "CASH"
    OTHER = "OTHER"


class OpportunityKind(str, Enum):
    UPSELL = "UPSELL"
    CROSS_SELL = "CROSS_SELL"


class OpportunityStage(str, Enum):
    IDENTIFIED = "IDENTIFIED"
    QUALIFIED = "QUALIFIED"
    PROPOSED = "PROPOSED"
    WON = "WON"
    LOST = "LOST"


class InteractionKind(str, Enum):
    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    CHECK_IN = "CHECK_IN"


class MeetingStatus(str, Enum):
    REQUESTED = "REQUESTED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


class ActivityKind(str, Enum):
    CLIENT_CREATED = "CLIENT_CREATED"
    CLIENT_UPDATED = "CLIENT_UPDATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    CLIENT_REACTIVATED = "CLIENT_REACTIVATED"
    LEAD_CONVERTED = "LEAD_CONVERTED"
    CONTACT_ADDED = "CONTACT_ADDED"
    PRIMARY_CONTACT_CHANGED = "PRIMARY_CONTACT_CHANGED"
    PROJECT_CREATED = "PROJECT_CREATED"
    PROJECT_UPDATED = "PROJECT_UPDATED"
    TASK_UPDATED = "TASK_UPDATED"
    COMMENT_ADDED = "COMMENT_ADDED"
    TIME_LOGGED = "TIME_LOGGED"
    EXPENSE_LOGGED = "EXPENSE_LOGGED"
    INVOICE_CREATED = "INVOICE_CREATED"
    INVOICE_SENT = "INVOICE_SENT"
    INVOICE_VOIDED = "INVOICE_VOIDED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    INTERACTION_LOGGED = "INTERACTION_LOGGED"
    MEETING_BOOKED = "MEETING_BOOKED"
    MEETING_UPDATED = "MEETING_UPDATED"
    OPPORTUNITY_CHANGED = "OPPORTUNITY_CHANGED"
    PORTAL_ACCESS_GRANTED = "PORTAL_ACCESS_GRANTED"
    PORTAL_ACCESS_REVOKED = "PORTAL_ACCESS_REVOKED"
    PORTAL_LOGIN = "PORTAL_LOGIN"
    VIEW_AS_ISSUED = "VIEW_AS_ISSUED"
    VIEW_AS_USED = "VIEW_AS_USED"
    SATISFACTION_RECORDED = "SATISFACTION_RECORDED"
    # An agency-level setting changed (client_id None): the health score's weights.
    SETTINGS_CHANGED = "SETTINGS_CHANGED"
