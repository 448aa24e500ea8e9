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

from auth.principal import Principal
from models.enums import Role


class Sensitivity(str, Enum):
    OPEN = "OPEN"          # reachable without signing in: login, refresh, logout
    SELF = "SELF"          # the caller's own identity (`me`)
    PUBLIC = "PUBLIC"      # names, statuses, dates, task titles: every signed-in role, on its own rows
    INTERNAL = "INTERNAL"  # internal notes, health, tier, account value: staff only
    COST = "COST"          # costs, margins, profitability: ADMIN, MANAGER; a CLIENT only if its client shows costs
    FINANCE = "FINANCE"    # invoices, payments, balances: ADMIN, MANAGER, and a CLIENT on its own rows
    TEAM = "TEAM"          # staff e-mail, phone, title, role: staff only (a client sees display names)
    PAYROLL = "PAYROLL"    # what a team member costs and bills per hour: ADMIN, MANAGER


class Rule(str, Enum):
    ALLOW = "ALLOW"
    DENY = "DENY"
    IF_COSTS_ENABLED = "IF_COSTS_ENABLED"  # CLIENT whose client shows costs in the portal
    IF_SCOPE = "IF_SCOPE"                  # PARTNER granted read:<class>


_A, _D = Rule.ALLOW, Rule.DENY
RULES: dict[Sensitivity, dict[Role, Rule]] = {
    Sensitivity.OPEN: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _A, Role.PARTNER: _A},
    Sensitivity.SELF: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _A, Role.PARTNER: _A},
    Sensitivity.PUBLIC: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _A, Role.PARTNER: Rule.IF_SCOPE},
    Sensitivity.INTERNAL: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _D, Role.PARTNER: Rule.IF_SCOPE},
    Sensitivity.COST: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _D, Role.CLIENT: Rule.IF_COSTS_ENABLED, Role.PARTNER: Rule.IF_SCOPE},
    Sensitivity.FINANCE: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _D, Role.CLIENT: _A, Role.PARTNER: Rule.IF_SCOPE},
    Sensitivity.TEAM: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _A, Role.CLIENT: _D, Role.PARTNER: _D},
    Sensitivity.PAYROLL: {Role.ADMIN: _A, Role.MANAGER: _A, Role.MEMBER: _D, Role.CLIENT: _D, Role.PARTNER: _D},
}

O, S, P, I, C, F, T, Y = (
    Sensitivity.OPEN, Sensitivity.SELF, Sensitivity.PUBLIC, Sensitivity.INTERNAL,
    Sensitivity.COST, Sensitivity.FINANCE, Sensitivity.TEAM, Sensitivity.PAYROLL,
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
    **_fields("Query", S, "me"),
    **_fields("Query", P, "node", "clients", "client"),
    # Sign-in
    **_fields("AuthPayload", O, "tokens", "viewer", "errors"),
    **_fields("LogoutPayload", O, "ok", "errors"),
    **_fields("AuthTokens", O, "accessToken", "accessTokenExpiresAt", "refreshToken", "refreshTokenExpiresAt", "tokenType"),
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
        "Client", P,
        "id", "name", "logoUrl", "website", "billingAddress", "industry", "becameClientOn", "createdAt",
        "portalBookingEnabled", "accountManager", "primaryContact", "contacts", "projects",
        "activeProjectCount", "lastProjectOn",
    ),
    # A custom status such as "At Risk" is the agency's judgement, not the client's business.
    **_fields("Client", I, "status", "tier", "internalNotes", "showCostsInPortal", "lastInteractionAt", "accountValue"),
    **_fields("Client", F, "paymentTermsDays", "outstandingAmount", "invoices", "payments"),
    **_fields("ClientStatus", P, "id", "name", "category", "isBuiltin"),
    **_fields("Contact", P, "id", "fullName", "email", "phone", "title", "isPrimary", "client"),
    **_fields("Contact", I, "isDecisionMaker", "internalNotes"),
    # Delivery
    **_fields("Project", P, "id", "name", "description", "startDate", "endDate", "status", "createdAt", "client", "tasks", "comments"),
    **_fields("Project", I, "health"),
    **_fields("Project", F, "budget"),
    **_fields("Task", P, "id", "title", "description", "status", "dueDate", "completedAt", "assignee", "project", "comments", "deliverables"),
    **_fields("Task", I, "estimateHours", "visibleToClient"),
    **_fields("Deliverable", P, "id", "title", "url", "kind", "isComplete", "createdAt"),
    **_fields("Comment", P, "id", "kind", "body", "createdAt", "author", "task", "project"),
    # Money
    **_fields(
        "Invoice", F,
        "id", "number", "status", "issueDate", "dueDate", "paidOn", "isOverdue", "subtotal", "tax", "total",
        "amountPaid", "amountDue", "client", "lines", "payments",
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
        "ClientsDashboard", I,
        "asOf", "noActivityDays", "months", "breakdown", "projects", "financial", "health", "engagement", "retention",
    ),
    **_fields("ClientBreakdown", I, "total", "byStatus", "byCategory", "newThisMonth", "newThisQuarter", "growth"),
    **_fields("ClientStatusCount", P, "status", "count"),
    **_fields("ClientCategoryCount", P, "category", "count"),
    **_fields("ClientGrowthPoint", P, "month", "newClients", "totalClients"),
    **_fields(
        "ProjectOverview", I,
        "totalProjects", "activeProjects", "averagePerClient", "distribution", "byStatus", "byHealth",
    ),
    **_fields("ProjectStatusCount", P, "status", "count"),
    **_fields("ProjectHealthCount", I, "health"),
    **_fields("ProjectHealthCount", P, "count"),
    **_fields("ProjectCountBucket", P, "projects", "clients"),
    **_fields(
        "FinancialSnapshot", F,
        "totalOutstanding", "totalRevenue", "payingClients", "averageClientValue", "topClients", "revenueTrend",
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
        "PortalLoginSummary", I,
        "windowDays", "totalLogins", "clientsWithPortalUsers", "clientsWithLogins", "averagePerClient", "clients",
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
        "SatisfactionSummary", I,
        "since", "responses", "promoters", "passives", "detractors", "averageScore", "nps", "clients",
    ),
    **_fields("ClientSatisfaction", P, "client"),
    **_fields("ClientSatisfaction", I, "responses", "averageScore", "nps", "lastRespondedAt"),
    **_fields(
        "RetentionMetrics", I,
        "periodStart", "clientsAtStart", "retainedClients", "retentionRate", "annualChurnRate", "expectedLifetimeYears",
    ),
    **_fields("RetentionMetrics", F, "annualRevenuePerClient", "clientLifetimeValue"),
    # A client report: a portal user reads its own client's (row scope), money where FINANCE allows,
    # cost and profitability only where its client shows costs (COST), never the team's hours (TEAM).
    **_fields("ClientReport", P, "client", "from", "to", "portfolio", "time"),
    **_fields("ClientReport", F, "financial"),
    **_fields("ClientReport", C, "profitability"),
    **_fields("ClientReport", T, "utilization"),
    **_fields("ProjectPortfolio", P, "total", "completed", "cancelled", "successRate", "byStatus", "projects", "timeline"),
    **_fields("TimelineEntry", P, "project", "startDate", "endDate", "status", "durationDays", "isLate"),
    **_fields(
        "ClientFinancialSummary", F,
        "totalInvoiced", "invoiceCount", "totalRevenue", "outstanding", "averageProjectValue", "paymentHistory",
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
        "Lead", I,
        "id", "companyName", "contactName", "contactEmail", "contactPhone", "contactTitle", "website", "industry",
        "stage", "estimatedValue", "source", "owner", "convertedClient", "convertedAt", "createdAt",
    ),
    **_fields(
        "Opportunity", I,
        "id", "title", "kind", "stage", "value", "expectedCloseOn", "createdAt", "updatedAt", "owner", "client",
    ),
    **_fields("Interaction", I, "id", "kind", "summary", "occurredAt", "createdAt", "staff", "contact", "client"),
    **_fields(
        "Meeting", P,
        "id", "title", "startsAt", "endsAt", "status", "location", "agenda", "createdAt", "requestedBy", "staff", "client",
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
    **_fields("Expense", C, "amount"),
    **_fields("Expense", F, "billableAmount", "invoiced", "invoice"),
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
# Row-level conditions (a CLIENT's own tasks, REPLY only, booking enabled) are checked by
# the resolver against the row scope; this table is the role gate, decided before execution.
STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER})
MONEY = frozenset({Role.ADMIN, Role.MANAGER})
LEADERS = frozenset({Role.ADMIN, Role.MANAGER})
EVERYONE = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT})

MUTATION_ROLES: dict[str, frozenset[Role] | None] = {
    "login": None,
    "refreshToken": None,
    "logout": None,
    # -- portal access and view-as (issue 4) --
    "grantPortalAccess": LEADERS,
    "revokePortalAccess": LEADERS,
    "acceptInvitation": None,
    "viewAs": LEADERS,
    "markNotificationsRead": EVERYONE,
    # -- client workflows (issue 5) --
    "createLead": STAFF,
    "updateLeadStage": STAFF,
    "convertLead": STAFF,
    "createClient": STAFF,
    "updateClient": STAFF,  # payment terms and the portal cost switch: ADMIN and MANAGER (resolver)
    "setClientStatus": STAFF,
    "reactivateClient": STAFF,
    "deleteClient": STAFF,  # always refused with USE_CHURNED
    "createClientStatus": LEADERS,
    "addContact": STAFF,
    "linkContact": STAFF,
    "setPrimaryContact": STAFF,
    "updateContact": STAFF,
    "createProject": STAFF,  # a budget: ADMIN and MANAGER (resolver)
    "updateProject": STAFF,
    "createTask": STAFF,
    "updateTask": STAFF,  # a CLIENT never changes status or assignment
    "addComment": EVERYONE,  # a CLIENT: REPLY only, on its own visible tasks and projects (resolver)
    "bookMeeting": EVERYONE,  # a CLIENT: its own client, where booking is enabled (resolver)
    "updateMeeting": STAFF,
    "logInteraction": STAFF,
    "createOpportunity": STAFF,
    "updateOpportunity": STAFF,
    # -- billing workflows (issue 5) --
    "logTime": STAFF,
    "logExpense": STAFF,
    "createInvoice": MONEY,
    "sendInvoice": MONEY,
    "recordPayment": MONEY,
    "voidInvoice": MONEY,
    # -- reports (issue 6) --
    "recordSatisfactionScore": EVERYONE,  # a CLIENT: its own client, as its own contact (resolver)
}


@dataclass(frozen=True, slots=True)
class ArgumentGuard:
    """An argument that filters, searches or sorts by a field: the caller must be able to read
    that field, or the argument would be an oracle for the hidden value."""

    path: tuple[str, ...]        # where the argument sits, e.g. ("filter", "statusIds")
    value: str | None            # only this (enum) value is guarded; None: any non-empty value
    guarded_field: str           # the "Type.field" whose class decides


ARGUMENT_GUARDS: dict[str, tuple[ArgumentGuard, ...]] = {
    "Query.clients": (
        ArgumentGuard(("filter", "statusIds"), None, "Client.status"),
        ArgumentGuard(("filter", "categories"), None, "Client.status"),
        ArgumentGuard(("filter", "search"), None, "Client.name"),
        ArgumentGuard(("orderBy", "field"), "NAME", "Client.name"),
        ArgumentGuard(("orderBy", "field"), "CREATED_AT", "Client.createdAt"),
        ArgumentGuard(("orderBy", "field"), "LAST_INTERACTION", "Client.lastInteractionAt"),
        # -- client workflows (issue 5) --
        ArgumentGuard(("filter", "tiers"), None, "Client.tier"),
    ),
    "Client.projects": (ArgumentGuard(("status",), None, "Project.status"),),
    # -- billing workflows (issue 5) --
    "Query.invoices": (
        ArgumentGuard(("filter", "status"), None, "Invoice.status"),
        ArgumentGuard(("filter", "clientId"), None, "Invoice.client"),
        ArgumentGuard(("filter", "overdue"), None, "Invoice.isOverdue"),
    ),
    # -- dashboard and reports (issue 6) --
}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    code: str | None = None  # FORBIDDEN or UNAUTHENTICATED when refused
    reason: str = ""
    message: str | None = None  # what the caller is told, when not the default


def class_of(type_name: str, field_name: str) -> Sensitivity | None:
    return FIELD_CLASSES.get(f"{type_name}.{field_name}")


def _argument_value(arguments: object, path: tuple[str, ...]) -> object:
    value = arguments
    for step in path:
        if value is None:
            return None
        value = value.get(step) if isinstance(value, dict) else getattr(value, _snake(step), None)
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def decide_arguments(coordinate: str, arguments: dict, principal: Principal) -> Decision | None:
    """A refusal when an argument of `coordinate` filters or sorts by a field the caller cannot read."""
    for guard in ARGUMENT_GUARDS.get(coordinate, ()):
        value = _argument_value(arguments, guard.path)
        if value in (None, "", [], ()):
            continue
        if guard.value is not None and getattr(value, "value", value) != guard.value:
            continue
        type_name, field_name = guard.guarded_field.split(".", 1)
        decision = decide(type_name, field_name, principal)
        if not decision.allowed:
            return Decision(
                False,
                decision.code,
                f"argument {'.'.join(guard.path)} reads {guard.guarded_field}: {decision.reason}",
                f"You may not filter, search or sort {coordinate} by {guard.guarded_field}.",
            )
    return None


# Writing a field needs at least the right to read it. These fields need more: the class
# named here decides who may set them (whether a client sees the agency's costs is itself a
# cost decision, so a MEMBER, who may read the switch, may not turn it).
WRITE_CLASSES: dict[str, Sensitivity] = {
    "Client.showCostsInPortal": Sensitivity.COST,
}


def decide_write(type_name: str, field_name: str, principal: Principal) -> Decision:
    """May this caller set this field in a mutation it is allowed to call?"""
    read = decide(type_name, field_name, principal)
    stricter = WRITE_CLASSES.get(f"{type_name}.{field_name}")
    if not read.allowed or stricter is None:
        return read
    rule = RULES[stricter][principal.role] if principal.role is not None else Rule.DENY
    if rule is Rule.ALLOW:
        return Decision(True, reason=f"writing it is {stricter.value}, which {principal.role.value} may")
    return Decision(False, "FORBIDDEN", f"writing it is {stricter.value}, which {principal.role.value if principal.role else 'nobody anonymous'} may not")


def decide_mutation(name: str, principal: Principal) -> Decision:
    if name not in MUTATION_ROLES:
        return Decision(False, "FORBIDDEN", f"Mutation.{name} is not in the mutation table: denied by default")
    if principal.read_only:
        return Decision(False, "FORBIDDEN", "a view-as token is read-only: every mutation is refused")
    roles = MUTATION_ROLES[name]
    if roles is None:
        return Decision(True, reason="open to anyone")
    if principal.role is None:
        return Decision(False, "UNAUTHENTICATED", "anonymous callers reach only login and refresh")
    if principal.role in roles:
        return Decision(True, reason=f"{principal.role.value} may call {name}")
    return Decision(False, "FORBIDDEN", f"{principal.role.value} may not call {name}")


def decide(type_name: str, field_name: str, principal: Principal) -> Decision:
    if type_name == "Mutation":
        return decide_mutation(field_name, principal)
    sensitivity = class_of(type_name, field_name)
    if sensitivity is None:
        return Decision(False, "FORBIDDEN", f"{type_name}.{field_name} has no sensitivity class: denied by default")
    if sensitivity is Sensitivity.OPEN:
        return Decision(True, reason="OPEN: anyone, signed in or not")
    if principal.role is None:
        return Decision(False, "UNAUTHENTICATED", "anonymous callers reach only login and refresh")
    rule = RULES[sensitivity][principal.role]
    if rule is Rule.ALLOW:
        return Decision(True, reason=f"{sensitivity.value} is readable by {principal.role.value}")
    if rule is Rule.IF_COSTS_ENABLED and principal.costs_enabled:
        return Decision(True, reason=f"{sensitivity.value}: this client shows costs in its portal")
    if rule is Rule.IF_SCOPE and f"read:{sensitivity.value.lower()}" in principal.scopes:
        return Decision(True, reason=f"{sensitivity.value}: granted scope read:{sensitivity.value.lower()}")
    return Decision(False, "FORBIDDEN", f"{sensitivity.value} is not readable by {principal.role.value} ({rule.value})")


ROLE_COLUMNS = (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT, Role.PARTNER)
_RULE_MARK = {Rule.ALLOW: "yes", Rule.DENY: "no", Rule.IF_COSTS_ENABLED: "if costs shown", Rule.IF_SCOPE: "by scope"}


def policy_markdown(coordinates: list[str]) -> str:
    """The whole table as markdown: every field with its class and who may read it, then the mutations."""
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
    lines += ["", "| mutation | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |", "|---|" + "---|" * len(ROLE_COLUMNS)]
    for coordinate in sorted(c for c in coordinates if c.startswith("Mutation.")):
        name = coordinate.split(".", 1)[1]
        roles = MUTATION_ROLES.get(name, frozenset())
        marks = ["yes" if roles is None or role in roles else "no" for role in ROLE_COLUMNS]
        lines.append(f"| {name}{' (anyone)' if roles is None else ''} | " + " | ".join(marks) + " |")
    lines += ["", "| field set by a mutation | class needed to write it |", "|---|---|"]
    lines += [f"| {coordinate} | {sensitivity.value} |" for coordinate, sensitivity in sorted(WRITE_CLASSES.items())]
    lines.append("")
    lines.append("Writing any other field needs the right to read it. View-as tokens are read-only:")
    lines.append("every mutation is refused. Rows are limited by auth/scopes.py.")
    return "\n".join(lines)


def explain(coordinate: str, principal: Principal) -> str:
    """Why this caller may or may not read (or call) this coordinate, in one paragraph."""
    type_name, _, field_name = coordinate.partition(".")
    decision = decide(type_name, field_name, principal)
    who = principal.role.value if principal.role else "an anonymous caller"
    if type_name == "Mutation":
        return f"{'ALLOWED' if decision.allowed else 'REFUSED'}: {who} calling {coordinate}: {decision.reason}."
    sensitivity = class_of(type_name, field_name)
    conditions = []
    if principal.role is Role.CLIENT:
        conditions.append(f"its client {'shows' if principal.costs_enabled else 'does not show'} costs in the portal")
    if principal.read_only:
        conditions.append("this is a read-only view-as token")
    tail = f" ({'; '.join(conditions)})" if conditions else ""
    verdict = "ALLOWED" if decision.allowed else f"REFUSED ({decision.code})"
    return (
        f"{verdict}: {coordinate} is {sensitivity.value if sensitivity else 'unclassified'}; "
        f"{decision.reason}{tail}. Which rows it sees is decided by auth/scopes.py."
    )
