"""The field policy table: the single place that says who may read what.

Every field of every GraphQL type has exactly one sensitivity class (FIELD_CLASSES,
keyed by the schema coordinate "Type.field"), and RULES says, for each class and
role, whether it is readable. A field with no class is denied to everyone, and a
test walks the whole schema and fails on any such field. Decisions depend on
(type, field, Principal) only, never on a row: which rows are visible is row
scope (auth.scopes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from auth.principal import PolicyKey
from models.enums import Role


class Sensitivity(str, Enum):
    OPEN = "OPEN"  # reachable without signing in: login, refresh, logout
    SELF = "SELF"  # the caller's own identity (`me`)
    PUBLIC = "PUBLIC"  # names, statuses, dates, task titles: every signed-in role, on its own rows
    INTERNAL = "INTERNAL"  # internal notes, health, tier, account value: staff only
    COST = "COST"  # costs, margins, profitability: ADMIN, MANAGER; a CLIENT only if its client shows costs
    FINANCE = "FINANCE"  # invoices, payments, balances: ADMIN, MANAGER, and a CLIENT on its own rows
    TEAM = "TEAM"  # staff e-mail, phone, title, role: staff only (a client sees display names)
    PAYROLL = "PAYROLL"  # what a team member costs and bills per hour: ADMIN, MANAGER


class Rule(str, Enum):
    ALLOW = "ALLOW"
    DENY = "DENY"
    IF_COSTS_ENABLED = "IF_COSTS_ENABLED"  # CLIENT whose client shows costs in the portal
    IF_SCOPE = "IF_SCOPE"  # PARTNER granted read:<class>


_A, _D = Rule.ALLOW, Rule.DENY
RULES: dict[Sensitivity, dict[Role, Rule]] = {
    Sensitivity.OPEN: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _A, Role.PARTNER: _A},
    Sensitivity.SELF: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _A, Role.PARTNER: _A},
    Sensitivity.PUBLIC: {
        Role.ADMIN: _A,
        Role.MANAGER: _A,
        Role.MEMBER: _A,
        Role.CLIENT: _A,
        Role.PARTNER: Rule.IF_SCOPE,
    },
    Sensitivity.INTERNAL: {
        Role.ADMIN: _A,
        Role.MANAGER: _A,
        Role.MEMBER: _A,
        Role.CLIENT: _D,
        Role.PARTNER: Rule.IF_SCOPE,
    },
    Sensitivity.COST: {
        Role.ADMIN: _A,
        Role.MANAGER: _A,
        Role.MEMBER: _D,
        Role.CLIENT: Rule.IF_COSTS_ENABLED,
        Role.PARTNER: Rule.IF_SCOPE,
    },
    Sensitivity.FINANCE: {
        Role.ADMIN: _A,
        Role.MANAGER: _A,
        Role.MEMBER: _D,
        Role.CLIENT: _A,
        Role.PARTNER: Rule.IF_SCOPE,
    },
    Sensitivity.TEAM: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _D, Role.PARTNER: _D},
    Sensitivity.PAYROLL: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _D, Role.CLIENT: _D, Role.PARTNER: _D},
}

O, S, P, I, C, F, T, Y = (
    Sensitivity.OPEN,
    Sensitivity.SELF,
    Sensitivity.PUBLIC,
    Sensitivity.INTERNAL,
    Sensitivity.COST,
    Sensitivity.FINANCE,
    Sensitivity.TEAM,
    Sensitivity.PAYROLL,
)


def _fields(type_name: str, sensitivity: Sensitivity, *names: str) -> dict[str, Sensitivity]:
    return {f"{type_name}.{name}": sensitivity for name in names}


def _connection(node_type: str) -> dict[str, Sensitivity]:
    """The structural fields of a connection carry no data of their own."""
    return {
        **_fields(f"{node_type}Connection", P, "edges", "pageInfo", "totalCount"),
        **_fields(f"{node_type}Edge", P, "cursor", "node"),
    }


FIELD_CLASSES: dict[str, Sensitivity] = {
    # Roots
    **_fields("Query", O, "apiVersion"),
    **_fields("Query", S, "me"),
    **_fields("Query", P, "node", "clients", "client"),
    # Sign-in
    **_fields("AuthPayload", O, "tokens", "viewer", "errors"),
    **_fields("LogoutPayload", O, "ok", "errors"),
    **_fields(
        "AuthTokens", O, "accessToken", "accessTokenExpiresAt", "refreshToken", "refreshTokenExpiresAt", "tokenType"
    ),
    **_fields("UserError", O, "field", "code", "message"),
    **_fields("Query", P, "portalHome"),
    # Notifications are each user's own (row scope): SELF.
    **_fields("Query", S, "notifications"),
    **_fields("Notification", S, "id", "kind", "message", "subjectType", "subjectId", "createdAt", "readAt"),
    **_fields("NotificationConnection", S, "edges", "pageInfo", "totalCount"),
    **_fields("NotificationEdge", S, "cursor", "node"),
    **_fields("MarkNotificationsReadPayload", S, "marked", "errors"),
    **_fields("PortalHome", P, "client", "openTasks", "recentReplies", "canBookMeetings"),
    **_fields("PortalHome", F, "openInvoices"),
    **_fields("PortalAccessPayload", P, "user", "invitationExpiresAt", "errors"),
    **_fields("ViewAsPayload", P, "accessToken", "expiresAt", "user", "errors"),
    # The caller's own identity. OPEN because a sign-in payload returns it to a caller who has just
    # proved it (and is still anonymous for this request); `me` itself is SELF.
    **_fields("Viewer", O, "id", "fullName", "email", "role", "readOnly", "actingUserId"),
    **_fields("Viewer", S, "client", "contact"),
    # Shapes
    **_fields("PageInfo", P, "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    **_fields("Node", P, "id"),
    **_connection("Client"),
    # People
    **_fields("User", P, "id", "fullName"),
    **_fields("User", T, "email", "phone", "jobTitle", "role", "lastLoginAt"),
    **_fields("User", Y, "hourlyCostRate", "hourlyBillRate"),
    # Clients
    **_fields(
        "Client",
        P,
        "id",
        "name",
        "logoUrl",
        "website",
        "billingAddress",
        "industry",
        "becameClientOn",
        "createdAt",
        "portalBookingEnabled",
        "accountManager",
        "primaryContact",
        "contacts",
        "projects",
        "activeProjectCount",
        "lastProjectOn",
    ),
    # A custom status such as "At Risk" is the agency's judgement, not the client's business.
    **_fields("Client", I, "status", "tier", "internalNotes", "showCostsInPortal", "lastInteractionAt", "accountValue"),
    **_fields("Client", F, "paymentTermsDays", "outstandingAmount", "invoices", "payments"),
    **_fields("ClientStatus", P, "id", "name", "category", "isBuiltin"),
    **_fields("Contact", P, "id", "fullName", "email", "phone", "title", "isPrimary", "client"),
    **_fields("Contact", I, "isDecisionMaker", "internalNotes"),
    # Delivery
    **_fields(
        "Project",
        P,
        "id",
        "name",
        "description",
        "startDate",
        "endDate",
        "status",
        "createdAt",
        "client",
        "tasks",
        "comments",
    ),
    **_fields("Project", I, "health"),
    **_fields("Project", F, "budget"),
    **_fields(
        "Task",
        P,
        "id",
        "title",
        "description",
        "status",
        "dueDate",
        "completedAt",
        "assignee",
        "project",
        "comments",
        "deliverables",
    ),
    **_fields("Task", I, "estimateHours", "visibleToClient"),
    **_fields("Deliverable", P, "id", "title", "url", "kind", "isComplete", "createdAt"),
    **_fields("Comment", P, "id", "kind", "body", "createdAt", "author", "task", "project"),
    # Money
    **_fields(
        "Invoice",
        F,
        "id",
        "number",
        "status",
        "issueDate",
        "dueDate",
        "paidOn",
        "isOverdue",
        "subtotal",
        "tax",
        "total",
        "amountPaid",
        "amountDue",
        "client",
        "lines",
        "payments",
    ),
    **_fields("InvoiceLine", F, "id", "kind", "description", "quantity", "unitPrice", "taxRate", "amount", "taxAmount"),
    **_fields("Payment", F, "id", "receivedOn", "amount", "method", "reference", "invoice"),
    # Dashboard and reports (issue 6)
    # The agency-wide dashboard is the team's (INTERNAL: a portal user is refused the root); its
    # money figures are FINANCE, so a MEMBER gets them as null + FORBIDDEN. Count and list shapes
    # are PUBLIC like connection edges: the class sits on the field that reaches them.
    **_fields("Query", I, "clientsDashboard"),
    **_fields("Query", P, "clientReport"),
    **_fields(
        "ClientsDashboard",
        I,
        "asOf",
        "noActivityDays",
        "months",
        "breakdown",
        "projects",
        "financial",
        "health",
        "engagement",
        "retention",
    ),
    **_fields("ClientBreakdown", I, "total", "byStatus", "byCategory", "newThisMonth", "newThisQuarter", "growth"),
    **_fields("ClientStatusCount", P, "status", "count"),
    **_fields("ClientCategoryCount", P, "category", "count"),
    **_fields("ClientGrowthPoint", P, "month", "newClients", "totalClients"),
    **_fields(
        "ProjectOverview",
        I,
        "totalProjects",
        "activeProjects",
        "averagePerClient",
        "distribution",
        "byStatus",
        "byHealth",
    ),
    **_fields("ProjectStatusCount", P, "status", "count"),
    **_fields("ProjectHealthCount", I, "health"),
    **_fields("ProjectHealthCount", P, "count"),
    **_fields("ProjectCountBucket", P, "projects", "clients"),
    **_fields(
        "FinancialSnapshot",
        F,
        "totalOutstanding",
        "totalRevenue",
        "payingClients",
        "averageClientValue",
        "topClients",
        "revenueTrend",
    ),
    **_fields("ClientRevenue", P, "client"),
    **_fields("ClientRevenue", F, "revenue"),
    **_fields("RevenuePoint", P, "month"),
    **_fields("RevenuePoint", F, "invoiced", "received"),
    # Overdue payments and upsell readiness are read from the client's payment record: FINANCE.
    **_fields("HealthIndicators", F, "overduePayments", "readyForUpsell"),
    **_fields("HealthIndicators", I, "noRecentActivity", "noRecentPortalLogin", "atRiskProjects"),
    **_fields("OverdueClients", P, "count", "clients"),
    **_fields("OverdueClient", P, "client"),
    **_fields("OverdueClient", F, "amountOverdue", "overdueInvoices", "oldestDueDate", "daysOverdue"),
    **_fields("QuietClients", P, "count", "clients"),
    **_fields("QuietClient", P, "client"),
    **_fields("QuietClient", I, "lastActivityAt", "daysSinceActivity"),
    **_fields("PortalLoginGaps", P, "count", "clients"),
    **_fields("PortalLoginGap", P, "client"),
    **_fields("PortalLoginGap", I, "portalUsers", "lastPortalLoginAt", "daysSinceLogin"),
    **_fields("AtRiskClients", P, "count", "clients"),
    **_fields("AtRiskClient", P, "client"),
    **_fields("AtRiskClient", I, "atRiskProjects", "offTrackProjects"),
    **_fields("UpsellClients", P, "count", "clients"),
    **_fields("UpsellClient", P, "client"),
    **_fields("UpsellClient", I, "reasons", "openOpportunities", "completedProjects"),
    **_fields("UpsellClient", F, "openOpportunityValue"),
    **_fields("EngagementMetrics", I, "portalLogins", "lastInteractions", "responseTimes", "satisfaction"),
    **_fields(
        "PortalLoginSummary",
        I,
        "windowDays",
        "totalLogins",
        "clientsWithPortalUsers",
        "clientsWithLogins",
        "averagePerClient",
        "clients",
    ),
    **_fields("ClientPortalLogins", P, "client"),
    **_fields("ClientPortalLogins", I, "portalUsers", "logins", "lastLoginAt"),
    **_fields("LastInteractionSummary", I, "clientsContacted", "clientsNotContacted", "clients"),
    **_fields("ClientLastInteraction", P, "client"),
    **_fields("ClientLastInteraction", I, "lastInteractionAt", "daysSince"),
    **_fields("ResponseTimeSummary", I, "answeredReplies", "unansweredReplies", "averageHours", "clients"),
    **_fields("ClientResponseTime", P, "client"),
    **_fields("ClientResponseTime", I, "answeredReplies", "unansweredReplies", "averageHours"),
    **_fields(
        "SatisfactionSummary",
        I,
        "since",
        "responses",
        "promoters",
        "passives",
        "detractors",
        "averageScore",
        "nps",
        "clients",
    ),
    **_fields("ClientSatisfaction", P, "client"),
    **_fields("ClientSatisfaction", I, "responses", "averageScore", "nps", "lastRespondedAt"),
    **_fields(
        "RetentionMetrics",
        I,
        "periodStart",
        "clientsAtStart",
        "retainedClients",
        "retentionRate",
        "annualChurnRate",
        "expectedLifetimeYears",
    ),
    **_fields("RetentionMetrics", F, "annualRevenuePerClient", "clientLifetimeValue"),
    # A client report: a portal user reads its own client's (row scope), money where FINANCE allows,
    # cost and profitability only where its client shows costs (COST), never the team's hours (TEAM).
    **_fields("ClientReport", P, "client", "from", "to", "portfolio", "time"),
    **_fields("ClientReport", F, "financial"),
    **_fields("ClientReport", C, "profitability"),
    **_fields("ClientReport", T, "utilization"),
    **_fields(
        "ProjectPortfolio", P, "total", "completed", "cancelled", "successRate", "byStatus", "projects", "timeline"
    ),
    **_fields("TimelineEntry", P, "project", "startDate", "endDate", "status", "durationDays", "isLate"),
    **_fields(
        "ClientFinancialSummary",
        F,
        "totalInvoiced",
        "invoiceCount",
        "totalRevenue",
        "outstanding",
        "averageProjectValue",
        "paymentHistory",
    ),
    **_fields("TimeInvestment", P, "totalHours", "billableHours", "nonBillableHours", "billableShare", "byProject"),
    **_fields("ProjectTime", P, "project", "hours", "billableHours", "nonBillableHours"),
    **_fields("Profitability", F, "revenue"),
    **_fields("Profitability", C, "laborCost", "expenses", "totalCost", "profit", "margin"),
    **_fields("MemberUtilization", T, "user", "hours", "billableHours", "share"),
    **_fields("MemberUtilization", C, "laborCost"),
    # Satisfaction scores
    # Rows are staff only (satisfaction_survey_scope), so the fields themselves can be PUBLIC: a portal
    # user reads nothing but its own just-recorded answer in the payload. The list on the client
    # record is the team's reading of the relationship: INTERNAL, never a CLIENT's.
    **_fields("Client", I, "satisfactionScores"),
    **_fields("SatisfactionScore", P, "id", "score", "comment", "respondedAt", "client", "contact"),
    **_fields("SatisfactionScorePayload", P, "score", "errors"),
    # Client workflows (issue 5)
    # Leads, opportunities and logged interactions are the agency's own view of the relationship
    # (staff row scopes too); meetings and client-visible feed entries reach the portal. Who has
    # portal access is account administration, for the team.
    **_fields("Query", I, "leads", "clientStatuses"),
    **_connection("Lead"),
    **_connection("Activity"),
    **_fields("Client", I, "opportunities", "interactions"),
    **_fields("Client", P, "meetings", "activity"),
    **_fields("Contact", I, "hasPortalAccess"),
    **_fields(
        "Lead",
        I,
        "id",
        "companyName",
        "contactName",
        "contactEmail",
        "contactPhone",
        "contactTitle",
        "website",
        "industry",
        "stage",
        "estimatedValue",
        "source",
        "owner",
        "convertedClient",
        "convertedAt",
        "createdAt",
    ),
    **_fields(
        "Opportunity",
        I,
        "id",
        "title",
        "kind",
        "stage",
        "value",
        "expectedCloseOn",
        "createdAt",
        "updatedAt",
        "owner",
        "client",
    ),
    **_fields("Interaction", I, "id", "kind", "summary", "occurredAt", "createdAt", "staff", "contact", "client"),
    **_fields(
        "Meeting",
        P,
        "id",
        "title",
        "startsAt",
        "endsAt",
        "status",
        "location",
        "agenda",
        "createdAt",
        "requestedBy",
        "staff",
        "client",
    ),
    **_fields("Activity", P, "id", "kind", "summary", "occurredAt", "subjectType", "subjectId", "actor", "client"),
    **_fields("Activity", I, "clientVisible"),
    **_fields("LeadPayload", P, "lead", "errors"),
    **_fields("ConvertLeadPayload", P, "client", "primaryContact", "lead", "errors"),
    **_fields("ClientPayload", P, "client", "errors"),
    **_fields("ClientStatusPayload", P, "status", "errors"),
    **_fields("ContactPayload", P, "contact", "errors"),
    **_fields("ProjectPayload", P, "project", "errors"),
    **_fields("TaskPayload", P, "task", "errors"),
    **_fields("CommentPayload", P, "comment", "errors"),
    **_fields("MeetingPayload", P, "meeting", "errors"),
    **_fields("InteractionPayload", P, "interaction", "errors"),
    **_fields("OpportunityPayload", P, "opportunity", "errors"),
    # Billing workflows (issue 5)
    # Time is delivery work: a MEMBER sees hours, who and when, but no money. What the agency pays
    # (cost rates, cost amounts, what an expense cost) is COST; what the client is billed is FINANCE.
    **_fields("Query", F, "invoices", "invoice"),
    **_connection("Invoice"),
    **_fields("Project", P, "timeEntries", "expenses"),
    **_fields("Client", F, "unbilledAmount"),
    **_fields("Invoice", F, "sentAt", "voidedAt"),
    **_fields("Invoice", I, "notes"),
    **_fields("InvoiceLine", F, "timeEntries", "expenses"),
    **_fields("TimeEntry", P, "id", "workDate", "hours", "billable", "createdAt", "user", "project", "task"),
    # The team's own words can name internal tasks and problems; the client reads invoice lines.
    **_fields("TimeEntry", I, "description"),
    **_fields("TimeEntry", C, "costRate", "costAmount"),
    **_fields("TimeEntry", F, "billRate", "billableAmount", "invoiced", "invoice"),
    **_fields("Expense", P, "id", "description", "billable", "incurredOn", "createdAt", "createdBy", "project"),
    # A value from which a hidden value can be computed takes the class of what it reveals
    # (the strictest of its inputs): billableAmount is the expense's cost whenever it is
    # billable (expenses pass on at cost), so it is COST like `amount`. The exception is a
    # document the client is sent: an invoice line says what it is billed, FINANCE, even
    # when that passes a cost on.
    **_fields("Expense", C, "amount", "billableAmount"),
    **_fields("Expense", F, "invoiced", "invoice"),
    **_fields("LogTimePayload", P, "timeEntry", "errors"),
    **_fields("LogExpensePayload", P, "expense", "errors"),
    **_fields("CreateInvoicePayload", F, "invoice"),
    **_fields("SendInvoicePayload", F, "invoice"),
    **_fields("RecordPaymentPayload", F, "payment", "invoice"),
    **_fields("VoidInvoicePayload", F, "invoice"),
    **_fields("CreateInvoicePayload", P, "errors"),
    **_fields("SendInvoicePayload", P, "errors"),
    **_fields("RecordPaymentPayload", P, "errors"),
    **_fields("VoidInvoicePayload", P, "errors"),
}


# The mutation table: who may call each mutation. None means anyone, signed in or not.
# What a caller may pass to a mutation it may call is in ARGUMENT_RULES below; which rows it
# acts on is row scope. Both tables are checked before any resolver runs.
STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER})
MONEY = frozenset({Role.ADMIN, Role.MANAGER})
LEADERS = frozenset({Role.ADMIN, Role.MANAGER})
EVERYONE = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT})

MUTATION_ROLES: dict[str, frozenset[Role] | None] = {
    "login": None,
    "refreshToken": None,
    "logout": None,
    # Portal access and view-as
    "grantPortalAccess": LEADERS,
    "revokePortalAccess": LEADERS,
    "acceptInvitation": None,
    "viewAs": LEADERS,
    "markNotificationsRead": EVERYONE,
    # Client workflows
    "createLead": STAFF,
    "updateLeadStage": STAFF,
    "convertLead": STAFF,
    "createClient": STAFF,
    "updateClient": STAFF,
    "setClientStatus": STAFF,
    "reactivateClient": STAFF,
    "deleteClient": STAFF,  # always answered USE_CHURNED: clients are never deleted
    "createClientStatus": LEADERS,
    "addContact": STAFF,
    "linkContact": STAFF,
    "setPrimaryContact": STAFF,
    "updateContact": STAFF,
    "createProject": STAFF,
    "updateProject": STAFF,
    "createTask": STAFF,
    "updateTask": STAFF,
    "addComment": EVERYONE,
    "bookMeeting": EVERYONE,
    "updateMeeting": STAFF,
    "logInteraction": STAFF,
    "createOpportunity": STAFF,
    "updateOpportunity": STAFF,
    # Billing workflows
    "logTime": STAFF,
    "logExpense": STAFF,
    "createInvoice": MONEY,
    "sendInvoice": MONEY,
    "recordPayment": MONEY,
    "voidInvoice": MONEY,
    # Reports
    "recordSatisfactionScore": EVERYONE,
}


@dataclass(frozen=True, slots=True)
class ArgumentRule:
    """A rule on one argument (or input field) of a field or mutation, decided by the policy key
    alone, before execution. It applies when the argument is given a non-empty value (or, with
    `value`, that one enum value). The caller must meet every condition the rule names:

    - `reads`: it filters, searches or sorts by this "Type.field", so the caller must be able to
      read that field (else the argument is an oracle for the hidden value);
    - `writes`: it sets this "Type.field", so the caller must be able to write it (decide_write);
    - `roles`: only these roles may use it at all.

    A refused argument refuses the whole field (null + FORBIDDEN), and is left out of the
    caller's schema view: the argument or input field, or with `value`, that enum value.
    """

    path: tuple[str, ...]
    value: str | None = None
    reads: str | None = None
    writes: str | None = None
    roles: frozenset[Role] | None = None
    why: str = ""

    @property
    def label(self) -> str:
        return ".".join(self.path) + (f" = {self.value}" if self.value is not None else "")


_R = ArgumentRule
_client_writes = (
    _R(("input", "tier"), writes="Client.tier"),
    _R(("input", "internalNotes"), writes="Client.internalNotes"),
    _R(("input", "paymentTermsDays"), writes="Client.paymentTermsDays"),
    _R(("input", "showCostsInPortal"), writes="Client.showCostsInPortal"),
)
ARGUMENT_RULES: dict[str, tuple[ArgumentRule, ...]] = {
    "Query.clients": (
        _R(("filter", "statusIds"), reads="Client.status"),
        _R(("filter", "categories"), reads="Client.status"),
        _R(("filter", "search"), reads="Client.name"),
        _R(("filter", "tiers"), reads="Client.tier"),
        _R(("orderBy", "field"), "NAME", reads="Client.name"),
        _R(("orderBy", "field"), "CREATED_AT", reads="Client.createdAt"),
        _R(("orderBy", "field"), "LAST_INTERACTION", reads="Client.lastInteractionAt"),
    ),
    "Client.projects": (_R(("status",), reads="Project.status"),),
    "Query.invoices": (
        _R(("filter", "status"), reads="Invoice.status"),
        _R(("filter", "clientId"), reads="Invoice.client"),
        _R(("filter", "overdue"), reads="Invoice.isOverdue"),
    ),
    "Mutation.createClient": _client_writes,
    "Mutation.updateClient": _client_writes,
    "Mutation.createProject": (
        _R(("input", "budget"), writes="Project.budget"),
        _R(("input", "health"), writes="Project.health"),
    ),
    "Mutation.updateProject": (
        _R(("input", "budget"), writes="Project.budget"),
        _R(("input", "health"), writes="Project.health"),
    ),
    "Mutation.addComment": (
        _R(("kind",), "NOTE", roles=STAFF, why="portal users add replies only; notes are internal to the team"),
    ),
    "Mutation.bookMeeting": (_R(("input", "staffId"), roles=STAFF, why="the agency chooses who attends"),),
    "Mutation.recordSatisfactionScore": (
        _R(("input", "contactId"), roles=STAFF, why="a portal user answers as its own contact"),
    ),
}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    code: str | None = None  # FORBIDDEN or UNAUTHENTICATED when refused
    reason: str = ""
    message: str | None = None  # what the caller is told, when not the default


def class_of(type_name: str, field_name: str) -> Sensitivity | None:
    return FIELD_CLASSES.get(f"{type_name}.{field_name}")


_ABSENT = object()


def _argument_value(arguments: object, path: tuple[str, ...]) -> object:
    """The value at `path`, or _ABSENT when the caller did not send it (an explicit null is sent)."""
    value = arguments
    for step in path:
        if value is None or value is _ABSENT:
            return _ABSENT
        value = value.get(step, _ABSENT) if isinstance(value, dict) else getattr(value, _snake(step), _ABSENT)
        if type(value).__name__ == "UnsetType":  # Strawberry's UNSET: an input field left out
            return _ABSENT
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _who(key: PolicyKey) -> str:
    return key.role.value if key.role is not None else "an anonymous caller"


def decide_rule(coordinate: str, rule: ArgumentRule, key: PolicyKey) -> Decision:
    """May this caller use this argument at all? (Which value it was given is the caller's.)"""
    if rule.roles is not None and key.role not in rule.roles:
        return Decision(
            False,
            "UNAUTHENTICATED" if key.role is None else "FORBIDDEN",
            f"argument {rule.label} of {coordinate} is for {', '.join(sorted(r.value for r in rule.roles))} only"
            + (f": {rule.why}" if rule.why else ""),
            f"You may not use {rule.label} with {coordinate}" + (f": {rule.why}." if rule.why else "."),
        )
    for verb, target, check in (("reads", rule.reads, decide), ("sets", rule.writes, decide_write)):
        if target is None:
            continue
        type_name, field_name = target.split(".", 1)
        decision = check(type_name, field_name, key)
        if not decision.allowed:
            doing = "filter, search or sort" if verb == "reads" else "set"
            return Decision(
                False,
                decision.code,
                f"argument {rule.label} of {coordinate} {verb} {target}: {decision.reason}",
                f"You may not {doing} {target} through {coordinate} ({'.'.join(rule.path)}).",
            )
    return Decision(True, reason=f"argument {rule.label} of {coordinate}: allowed")


def decide_arguments(
    coordinate: str, arguments: dict, key: PolicyKey, null_is_default: frozenset[tuple[str, ...]] = frozenset()
) -> Decision | None:
    """A refusal when an argument given to `coordinate` breaks one of its rules, else None.

    Clearing a field (an explicit null) is writing it; an empty filter or option reads nothing.
    `null_is_default` names the paths whose schema default is null, where a null means "left out"."""
    for rule in ARGUMENT_RULES.get(coordinate, ()):
        value = _argument_value(arguments, rule.path)
        if value is _ABSENT:
            continue
        if value is None and (rule.writes is None or rule.path in null_is_default):
            continue
        if rule.writes is None and value in ("", [], ()):
            continue
        if (
            rule.value is not None
            and getattr(value, "name", value) != rule.value
            and getattr(value, "value", value) != rule.value
        ):
            continue
        decision = decide_rule(coordinate, rule, key)
        if not decision.allowed:
            return decision
    return None


# Writing a field needs at least the right to read it. These fields need more: the class
# named here decides who may set them (whether a client sees the agency's costs is itself a
# cost decision, so a MEMBER, who may read the switch, may not turn it).
WRITE_CLASSES: dict[str, Sensitivity] = {
    "Client.showCostsInPortal": Sensitivity.COST,
}


def decide_write(type_name: str, field_name: str, key: PolicyKey) -> Decision:
    """May this caller set this field in a mutation it is allowed to call?"""
    read = decide(type_name, field_name, key)
    stricter = WRITE_CLASSES.get(f"{type_name}.{field_name}")
    if not read.allowed or stricter is None:
        return read
    rule = RULES[stricter][key.role] if key.role is not None else Rule.DENY
    if rule is Rule.ALLOW:
        return Decision(True, reason=f"writing it is {stricter.value}, which {_who(key)} may")
    return Decision(False, "FORBIDDEN", f"writing it is {stricter.value}, which {_who(key)} may not")


def decide_mutation(name: str, key: PolicyKey) -> Decision:
    if name not in MUTATION_ROLES:
        return Decision(False, "FORBIDDEN", f"Mutation.{name} is not in the mutation table: denied by default")
    if key.read_only:
        return Decision(False, "FORBIDDEN", "a view-as token is read-only: every mutation is refused")
    roles = MUTATION_ROLES[name]
    if roles is None:
        return Decision(True, reason="open to anyone")
    if key.role is None:
        return Decision(False, "UNAUTHENTICATED", "anonymous callers reach only login, refresh, logout and invitations")
    if key.role in roles:
        return Decision(True, reason=f"{key.role.value} may call {name}")
    return Decision(False, "FORBIDDEN", f"{key.role.value} may not call {name}")


def decide(type_name: str, field_name: str, key: PolicyKey) -> Decision:
    """May a caller with this policy key read this field (or call this mutation)?"""
    if type_name == "Mutation":
        return decide_mutation(field_name, key)
    sensitivity = class_of(type_name, field_name)
    if sensitivity is None:
        return Decision(False, "FORBIDDEN", f"{type_name}.{field_name} has no sensitivity class: denied by default")
    if sensitivity is Sensitivity.OPEN:
        return Decision(True, reason="OPEN: anyone, signed in or not")
    if key.role is None:
        return Decision(False, "UNAUTHENTICATED", "anonymous callers reach only the OPEN fields")
    rule = RULES[sensitivity][key.role]
    if rule is Rule.ALLOW:
        return Decision(True, reason=f"{sensitivity.value} is readable by {key.role.value}")
    if rule is Rule.IF_COSTS_ENABLED and key.costs_enabled:
        return Decision(True, reason=f"{sensitivity.value}: this client shows costs in its portal")
    if rule is Rule.IF_SCOPE and f"read:{sensitivity.value.lower()}" in key.scopes:
        return Decision(True, reason=f"{sensitivity.value}: granted scope read:{sensitivity.value.lower()}")
    return Decision(False, "FORBIDDEN", f"{sensitivity.value} is not readable by {key.role.value} ({rule.value})")


ROLE_COLUMNS = (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT, Role.PARTNER)
_RULE_MARK = {Rule.ALLOW: "yes", Rule.DENY: "no", Rule.IF_COSTS_ENABLED: "if costs shown", Rule.IF_SCOPE: "by scope"}


def _rule_marks(coordinate: str, rule: ArgumentRule) -> list[str]:
    """Who may use an argument, per role column (CLIENT with costs shown, PARTNER with every scope)."""
    marks = []
    for role in ROLE_COLUMNS:
        scopes = frozenset(f"read:{s.value.lower()}" for s in Sensitivity) if role is Role.PARTNER else frozenset()
        hidden = decide_rule(coordinate, rule, PolicyKey(role=role, scopes=scopes)).allowed
        shown = decide_rule(coordinate, rule, PolicyKey(role=role, costs_enabled=True, scopes=scopes)).allowed
        marks.append("yes" if hidden else "if costs shown" if shown else "no")
    return marks


def policy_markdown(coordinates: list[str]) -> str:
    """Every rule as markdown: each field with its class and who may read it, the mutations,
    the argument rules and the write classes."""
    lines = [
        "| type | field | class | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate in sorted(c for c in coordinates if not c.startswith("Mutation.")):
        type_name, field_name = coordinate.split(".", 1)
        sensitivity = FIELD_CLASSES.get(coordinate)
        if sensitivity is None:
            marks = ["no"] * len(ROLE_COLUMNS)
            label = "(none: denied)"
        else:
            label = sensitivity.value
            marks = [_RULE_MARK[RULES[sensitivity][role]] for role in ROLE_COLUMNS]
        lines.append(f"| {type_name} | {field_name} | {label} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "| mutation | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate in sorted(c for c in coordinates if c.startswith("Mutation.")):
        name = coordinate.split(".", 1)[1]
        roles = MUTATION_ROLES.get(name, frozenset())
        marks = ["yes" if roles is None or role in roles else "no" for role in ROLE_COLUMNS]
        lines.append(f"| {name}{' (anyone)' if roles is None else ''} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "| argument of | argument | needs | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(ROLE_COLUMNS),
    ]
    for coordinate, rules in sorted(ARGUMENT_RULES.items()):
        for rule in rules:
            needs = "; ".join(
                part
                for part in (
                    f"reads {rule.reads}" if rule.reads else "",
                    f"writes {rule.writes}" if rule.writes else "",
                    f"role {'/'.join(sorted(r.value for r in rule.roles))}" if rule.roles is not None else "",
                )
                if part
            )
            lines.append(
                f"| {coordinate} | {rule.label} | {needs} | " + " | ".join(_rule_marks(coordinate, rule)) + " |"
            )
    lines += ["", "| field set by a mutation | class needed to write it |", "|---|---|"]
    lines += [f"| {coordinate} | {sensitivity.value} |" for coordinate, sensitivity in sorted(WRITE_CLASSES.items())]
    lines.append("")
    lines.append("Writing any other field needs the right to read it. View-as tokens are read-only:")
    lines.append("every mutation is refused. Rows are limited by auth/scopes.py.")
    return "\n".join(lines)


def explain(coordinate: str, key: PolicyKey) -> str:
    """Why a caller with this key may or may not read (or call) this coordinate, in one paragraph.
    `coordinate` is "Type.field", "Mutation.name", or "Type.field(argument.path)" for an argument."""
    who = _who(key)
    verdict = lambda d: "ALLOWED" if d.allowed else f"REFUSED ({d.code})"  # noqa: E731
    if "(" in coordinate:
        target, _, argument = coordinate.partition("(")
        path = tuple(argument.rstrip(")").split("."))
        rules = [r for r in ARGUMENT_RULES.get(target, ()) if r.path == path]
        if not rules:
            return (
                f"ALLOWED: {target} has no rule on argument {'.'.join(path)}; the field's own decision applies: "
                + explain(target, key)
            )
        parts = [f"{verdict(d)}: {d.reason}" for d in (decide_rule(target, r, key) for r in rules)]
        return f"{who} using {coordinate}: " + " ".join(parts) + "."
    type_name, _, field_name = coordinate.partition(".")
    decision = decide(type_name, field_name, key)
    rules = ARGUMENT_RULES.get(coordinate, ())
    rule_text = ""
    if rules:
        rule_text = (
            " Its argument rules: "
            + "; ".join(f"{r.label}: {verdict(decide_rule(coordinate, r, key))}" for r in rules)
            + "."
        )
    if type_name == "Mutation":
        return f"{verdict(decision)}: {who} calling {coordinate}: {decision.reason}.{rule_text}"
    sensitivity = class_of(type_name, field_name)
    conditions = []
    if key.role is Role.CLIENT:
        conditions.append(f"its client {'shows' if key.costs_enabled else 'does not show'} costs in the portal")
    if key.read_only:
        conditions.append("this is a read-only view-as token")
    tail = f" ({'; '.join(conditions)})" if conditions else ""
    return (
        f"{verdict(decision)}: {coordinate} is {sensitivity.value if sensitivity else 'unclassified'}; "
        f"{decision.reason}{tail}. Which rows it sees is decided by auth/scopes.py.{rule_text}"
    )
