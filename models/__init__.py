"""The data model: SQLModel tables, enums, the engine and the migrations.

Nothing here knows about GraphQL or HTTP; the database URL is always passed in.
"""

from models.base import metadata, utcnow
from models.billing import Invoice, InvoiceLine, Payment
from models.clients import Client, ClientStatus, Contact, ContactRoleAssignment, Lead
from models.dashboard import DashboardSection, DashboardView, HealthBand, HealthScoreWeight, HealthSignal
from models.engagement import (
    Activity,
    Interaction,
    Meeting,
    Notification,
    Opportunity,
    OutboxEmail,
)
from models.enums import (
    ActivityKind,
    ClientCategory,
    ClientTier,
    CommentKind,
    ContactRole,
    DeliverableKind,
    InteractionKind,
    InvoiceLineKind,
    InvoiceStatus,
    LeadStage,
    MeetingStatus,
    OpportunityKind,
    OpportunityStage,
    PaymentMethod,
    ProjectHealth,
    ProjectStatus,
    Role,
    ScopeChangeKind,
    TaskStatus,
)
from models.jobs import JobRun, JobSent
from models.partners import PartnerApp, PartnerAppClient
from models.people import LoginEvent, PortalInvitation, RefreshToken, User
from models.surveys import SatisfactionSurvey
from models.sync import ChangeEntity, ChangeEvent, IdempotencyKey, PartnerExternalId
from models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from models.work import Comment, Deliverable, Expense, Project, ScopeChange, Task, TimeEntry

__all__ = [
    "Activity",
    "ActivityKind",
    "ChangeEntity",
    "ChangeEvent",
    "Client",
    "ClientCategory",
    "ClientStatus",
    "ClientTier",
    "Comment",
    "CommentKind",
    "Contact",
    "ContactRole",
    "ContactRoleAssignment",
    "DashboardSection",
    "DashboardView",
    "Deliverable",
    "DeliverableKind",
    "DeliveryStatus",
    "Expense",
    "HealthBand",
    "HealthScoreWeight",
    "HealthSignal",
    "IdempotencyKey",
    "Interaction",
    "InteractionKind",
    "Invoice",
    "InvoiceLine",
    "InvoiceLineKind",
    "InvoiceStatus",
    "JobRun",
    "JobSent",
    "Lead",
    "LeadStage",
    "LoginEvent",
    "Meeting",
    "MeetingStatus",
    "Notification",
    "Opportunity",
    "OpportunityKind",
    "OpportunityStage",
    "OutboxEmail",
    "PartnerApp",
    "PartnerAppClient",
    "PartnerExternalId",
    "Payment",
    "PaymentMethod",
    "PortalInvitation",
    "Project",
    "ProjectHealth",
    "ProjectStatus",
    "RefreshToken",
    "Role",
    "SatisfactionSurvey",
    "ScopeChange",
    "ScopeChangeKind",
    "Task",
    "TaskStatus",
    "TimeEntry",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
    "utcnow",
]
