"""The models' enums, exposed to GraphQL under the same names.

`strawberry.enum` registers a class in place and hands it back, so each name here is the model's
own enum class: importing it (rather than assigning the call's result) lets type checkers use it
as a type.
"""

import strawberry

from models.enums import (
    ActivityKind,
    ClientCategory,
    ClientTier,
    CommentKind,
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
    TaskStatus,
)

__all__ = [
    "ActivityKind",
    "ClientCategory",
    "ClientTier",
    "CommentKind",
    "DeliverableKind",
    "InteractionKind",
    "InvoiceLineKind",
    "InvoiceStatus",
    "LeadStage",
    "MeetingStatus",
    "OpportunityKind",
    "OpportunityStage",
    "PaymentMethod",
    "ProjectHealth",
    "ProjectStatus",
    "Role",
    "TaskStatus",
]

strawberry.enum(Role)
strawberry.enum(ClientCategory, description="Lifecycle category every status belongs to.")
strawberry.enum(ClientTier)
strawberry.enum(ProjectStatus)
strawberry.enum(ProjectHealth)
strawberry.enum(TaskStatus)
strawberry.enum(DeliverableKind)
strawberry.enum(CommentKind, description="REPLY: the client sees it. NOTE: internal, never shown to a client.")
strawberry.enum(InvoiceStatus)
strawberry.enum(InvoiceLineKind)
strawberry.enum(PaymentMethod)
# Client workflows
strawberry.enum(LeadStage)
strawberry.enum(OpportunityKind)
strawberry.enum(OpportunityStage, description="WON and LOST are final.")
strawberry.enum(InteractionKind)
strawberry.enum(MeetingStatus)
strawberry.enum(ActivityKind)
