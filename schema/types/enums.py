"""The models' enums, exposed to GraphQL under the same names."""

import strawberry

from models import enums as m

Role = strawberry.enum(m.Role)
ClientCategory = strawberry.enum(m.ClientCategory, description="Lifecycle category every status belongs to.")
ClientTier = strawberry.enum(m.ClientTier)
ProjectStatus = strawberry.enum(m.ProjectStatus)
ProjectHealth = strawberry.enum(m.ProjectHealth)
TaskStatus = strawberry.enum(m.TaskStatus)
DeliverableKind = strawberry.enum(m.DeliverableKind)
CommentKind = strawberry.enum(
    m.CommentKind, description="REPLY: the client sees it. NOTE: internal, never shown to a client."
)
InvoiceStatus = strawberry.enum(m.InvoiceStatus)
InvoiceLineKind = strawberry.enum(m.InvoiceLineKind)
PaymentMethod = strawberry.enum(m.PaymentMethod)
# -- client workflows (issue 5) --
LeadStage = strawberry.enum(m.LeadStage)
OpportunityKind = strawberry.enum(m.OpportunityKind)
OpportunityStage = strawberry.enum(m.OpportunityStage, description="WON and LOST are final.")
InteractionKind = strawberry.enum(m.InteractionKind)
MeetingStatus = strawberry.enum(m.MeetingStatus)
ActivityKind = strawberry.enum(m.ActivityKind)
