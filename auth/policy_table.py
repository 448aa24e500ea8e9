"""The policy table: who may read each field, call each mutation and use each argument.

This module is data. Every field of every GraphQL type has exactly one sensitivity class
(FIELD_CLASSES, keyed by the schema coordinate "Type.field"); RULES says, for each class and
role, whether it is readable; MUTATION_ROLES says who may call each mutation; ARGUMENT_RULES
says who may use an argument or input field (filters and sorts by a hidden field, input fields
a caller may not write, values its role may not use); WRITE_CLASSES names fields that need more
to write than to read. auth.policy decides from these tables and nothing else.

To find who may read a field, search for its coordinate ("Client.internalNotes") here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from models.enums import STAFF_ROLES, Role


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
    IF_SCOPE = "IF_SCOPE"  # PARTNER: when one of its granted SCOPES (below) opens the class on the type


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

OPEN, SELF, PUBLIC, INTERNAL, COST, FINANCE, TEAM, PAYROLL = (
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
        **_fields(f"{node_type}Connection", PUBLIC, "edges", "pageInfo", "totalCount"),
        **_fields(f"{node_type}Edge", PUBLIC, "cursor", "node"),
    }


FIELD_CLASSES: dict[str, Sensitivity] = {
    # Roots
    **_fields("Query", OPEN, "apiVersion"),
    **_fields("Query", SELF, "me"),
    **_fields("Query", PUBLIC, "node", "clients", "client"),
    # Sign-in
    **_fields("AuthPayload", OPEN, "tokens", "viewer", "errors"),
    **_fields("LogoutPayload", OPEN, "ok", "errors"),
    **_fields(
        "AuthTokens", OPEN, "accessToken", "accessTokenExpiresAt", "refreshToken", "refreshTokenExpiresAt", "tokenType"
    ),
    **_fields("UserError", OPEN, "field", "code", "message", "retryAfter"),
    **_fields("Query", PUBLIC, "portalHome"),
    # Notifications are each user's own (row scope): SELF.
    **_fields("Query", SELF, "notifications"),
    **_fields("Notification", SELF, "id", "kind", "message", "subjectType", "subjectId", "createdAt", "readAt"),
    **_fields("NotificationConnection", SELF, "edges", "pageInfo", "totalCount"),
    **_fields("NotificationEdge", SELF, "cursor", "node"),
    **_fields("MarkNotificationsReadPayload", SELF, "marked", "errors"),
    **_fields("PortalHome", PUBLIC, "client", "openTasks", "recentReplies", "canBookMeetings"),
    **_fields("PortalHome", FINANCE, "openInvoices"),
    **_fields("PortalAccessPayload", PUBLIC, "user", "invitationExpiresAt", "errors"),
    **_fields("ViewAsPayload", PUBLIC, "accessToken", "expiresAt", "user", "errors"),
    # The caller's own identity. OPEN because a sign-in payload returns it to a caller who has just
    # proved it (and is still anonymous for this request); `me` itself is SELF.
    **_fields("Viewer", OPEN, "id", "fullName", "email", "role", "readOnly", "actingUserId"),
    **_fields("Viewer", SELF, "client", "contact"),
    # Shapes
    **_fields("PageInfo", PUBLIC, "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    **_fields("Node", PUBLIC, "id"),
    **_connection("Client"),
    # People
    **_fields("User", PUBLIC, "id", "fullName"),
    **_fields("User", TEAM, "email", "phone", "jobTitle", "role", "lastLoginAt"),
    **_fields("User", PAYROLL, "hourlyCostRate", "hourlyBillRate"),
    # Clients
    **_fields(
        "Client",
        PUBLIC,
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
    **_fields(
        "Client", INTERNAL, "status", "tier", "internalNotes", "showCostsInPortal", "lastInteractionAt", "accountValue"
    ),
    **_fields("Client", FINANCE, "paymentTermsDays", "outstandingAmount", "invoices", "payments"),
    **_fields("ClientStatus", PUBLIC, "id", "name", "category", "isBuiltin"),
    **_fields("Contact", PUBLIC, "id", "fullName", "email", "phone", "title", "isPrimary", "client"),
    **_fields("Contact", INTERNAL, "isDecisionMaker", "internalNotes"),
    # Delivery
    **_fields(
        "Project",
        PUBLIC,
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
    **_fields("Project", INTERNAL, "health"),
    **_fields("Project", FINANCE, "budget"),
    # Account health (resolvers/dashboard/signals.py). When a project completed is on its timeline
    # (PUBLIC like its dates); its burn is money against its budget (FINANCE, the portal's own rows);
    # the scope change log is the agency's reading of the work (INTERNAL, staff-only rows), its
    # budgets FINANCE on top.
    **_fields("Project", PUBLIC, "completedAt"),
    **_fields("Project", FINANCE, "budgetBurn"),
    **_fields("Project", INTERNAL, "scopeChanges"),
    **_fields(
        "BudgetBurn",
        FINANCE,
        "budget",
        "billableHours",
        "laborValue",
        "billableExpenses",
        "burned",
        "remaining",
        "burnRate",
    ),
    **_fields(
        "ScopeChange", INTERNAL, "kind", "isReduction", "oldEndDate", "newEndDate", "occurredAt", "task", "changedBy"
    ),
    **_fields("ScopeChange", FINANCE, "oldBudget", "newBudget"),
    **_fields(
        "Task",
        PUBLIC,
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
    **_fields("Task", INTERNAL, "estimateHours", "visibleToClient"),
    **_fields("Deliverable", PUBLIC, "id", "title", "url", "kind", "isComplete", "createdAt"),
    # An uploaded file's metadata and its download address are PUBLIC like the deliverable: a
    # portal user downloads the deliverables of its visible tasks (the address is the caller's
    # own, short-lived, and the download re-checks the row scope).
    **_fields("Deliverable", PUBLIC, "completedAt", "fileName", "fileSize", "contentType", "downloadUrl"),
    **_fields("Comment", PUBLIC, "id", "kind", "body", "createdAt", "author", "task", "project"),
    # Money
    **_fields(
        "Invoice",
        FINANCE,
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
    **_fields(
        "InvoiceLine", FINANCE, "id", "kind", "description", "quantity", "unitPrice", "taxRate", "amount", "taxAmount"
    ),
    **_fields("Payment", FINANCE, "id", "receivedOn", "amount", "method", "reference", "invoice"),
    # Dashboard and reports
    # The agency-wide dashboard is the team's (INTERNAL: a portal user is refused the root); its
    # money figures are FINANCE, so a MEMBER gets them as null + FORBIDDEN. Count and list shapes
    # are PUBLIC like connection edges: the class sits on the field that reaches them.
    **_fields("Query", INTERNAL, "clientsDashboard"),
    **_fields("Query", PUBLIC, "clientReport"),
    **_fields(
        "ClientsDashboard",
        INTERNAL,
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
    **_fields(
        "ClientBreakdown", INTERNAL, "total", "byStatus", "byCategory", "newThisMonth", "newThisQuarter", "growth"
    ),
    **_fields("ClientStatusCount", PUBLIC, "status", "count"),
    **_fields("ClientCategoryCount", PUBLIC, "category", "count"),
    **_fields("ClientGrowthPoint", PUBLIC, "month", "newClients", "totalClients"),
    **_fields(
        "ProjectOverview",
        INTERNAL,
        "totalProjects",
        "activeProjects",
        "averagePerClient",
        "distribution",
        "byStatus",
        "byHealth",
    ),
    **_fields("ProjectStatusCount", PUBLIC, "status", "count"),
    **_fields("ProjectHealthCount", INTERNAL, "health"),
    **_fields("ProjectHealthCount", PUBLIC, "count"),
    **_fields("ProjectCountBucket", PUBLIC, "projects", "clients"),
    **_fields(
        "FinancialSnapshot",
        FINANCE,
        "totalOutstanding",
        "totalRevenue",
        "payingClients",
        "averageClientValue",
        "topClients",
        "revenueTrend",
    ),
    **_fields("ClientRevenue", PUBLIC, "client"),
    **_fields("ClientRevenue", FINANCE, "revenue"),
    **_fields("RevenuePoint", PUBLIC, "month"),
    **_fields("RevenuePoint", FINANCE, "invoiced", "received"),
    # Overdue payments and upsell readiness are read from the client's payment record: FINANCE.
    **_fields("HealthIndicators", FINANCE, "overduePayments", "readyForUpsell"),
    **_fields("HealthIndicators", INTERNAL, "noRecentActivity", "noRecentPortalLogin", "atRiskProjects"),
    **_fields("OverdueClients", PUBLIC, "count", "clients"),
    **_fields("OverdueClient", PUBLIC, "client"),
    **_fields("OverdueClient", FINANCE, "amountOverdue", "overdueInvoices", "oldestDueDate", "daysOverdue"),
    **_fields("QuietClients", PUBLIC, "count", "clients"),
    **_fields("QuietClient", PUBLIC, "client"),
    **_fields("QuietClient", INTERNAL, "lastActivityAt", "daysSinceActivity"),
    **_fields("PortalLoginGaps", PUBLIC, "count", "clients"),
    **_fields("PortalLoginGap", PUBLIC, "client"),
    **_fields("PortalLoginGap", INTERNAL, "portalUsers", "lastPortalLoginAt", "daysSinceLogin"),
    **_fields("AtRiskClients", PUBLIC, "count", "clients"),
    **_fields("AtRiskClient", PUBLIC, "client"),
    **_fields("AtRiskClient", INTERNAL, "atRiskProjects", "offTrackProjects"),
    **_fields("UpsellClients", PUBLIC, "count", "clients"),
    **_fields("UpsellClient", PUBLIC, "client"),
    **_fields("UpsellClient", INTERNAL, "reasons", "openOpportunities", "completedProjects"),
    **_fields("UpsellClient", FINANCE, "openOpportunityValue"),
    **_fields("HealthIndicators", INTERNAL, "scopeReductions"),
    **_fields("ScopeCutClients", PUBLIC, "count", "clients"),
    **_fields("ScopeCutClient", PUBLIC, "client"),
    **_fields("ScopeCutClient", INTERNAL, "reductions", "budgetCuts", "cancellations", "changes"),
    **_fields("EngagementMetrics", INTERNAL, "portalLogins", "lastInteractions", "responseTimes", "satisfaction"),
    **_fields("EngagementMetrics", INTERNAL, "clientResponseTimes"),
    **_fields(
        "PortalLoginSummary",
        INTERNAL,
        "windowDays",
        "totalLogins",
        "clientsWithPortalUsers",
        "clientsWithLogins",
        "averagePerClient",
        "clients",
    ),
    **_fields("ClientPortalLogins", PUBLIC, "client"),
    **_fields("ClientPortalLogins", INTERNAL, "portalUsers", "logins", "lastLoginAt"),
    **_fields("LastInteractionSummary", INTERNAL, "clientsContacted", "clientsNotContacted", "clients"),
    **_fields("ClientLastInteraction", PUBLIC, "client"),
    **_fields("ClientLastInteraction", INTERNAL, "lastInteractionAt", "daysSince"),
    **_fields("ResponseTimeSummary", INTERNAL, "answeredReplies", "unansweredReplies", "averageHours", "clients"),
    **_fields("ClientResponseTime", PUBLIC, "client"),
    **_fields("ClientResponseTime", INTERNAL, "answeredReplies", "unansweredReplies", "averageHours"),
    **_fields(
        "SatisfactionSummary",
        INTERNAL,
        "since",
        "responses",
        "promoters",
        "passives",
        "detractors",
        "averageScore",
        "nps",
        "clients",
    ),
    **_fields("ClientSatisfaction", PUBLIC, "client"),
    **_fields("ClientSatisfaction", INTERNAL, "responses", "averageScore", "nps", "lastRespondedAt"),
    **_fields(
        "RetentionMetrics",
        INTERNAL,
        "periodStart",
        "clientsAtStart",
        "retainedClients",
        "retentionRate",
        "annualChurnRate",
        "expectedLifetimeYears",
    ),
    **_fields("RetentionMetrics", FINANCE, "annualRevenuePerClient", "clientLifetimeValue"),
    # Capacity is staff data: who worked how many hours for which clients (TEAM, like utilization);
    # the window's dates are the dashboard's (INTERNAL).
    **_fields("ClientsDashboard", INTERNAL, "capacity"),
    **_fields("TeamCapacity", INTERNAL, "start", "end"),
    **_fields("TeamCapacity", TEAM, "totalHours", "members"),
    **_fields(
        "MemberCapacity",
        TEAM,
        "user",
        "hours",
        "billableHours",
        "billableShare",
        "hoursPerWeek",
        "clients",
        "projects",
        "byClient",
    ),
    **_fields("MemberClientHours", PUBLIC, "client"),
    **_fields("MemberClientHours", TEAM, "hours"),
    # The custom health score (resolvers/dashboard/health_score.py) is the team's reading of a client:
    # INTERNAL wherever it appears (the client record and list, the dashboard), so a portal user never
    # reads it. No partner scope lists its types, and its rows are staff only (health_score_scope), so
    # an app with internal:read gets no score either. The weights are the agency's settings: the team
    # reads them, an ADMIN sets them (MUTATION_ROLES). Saved dashboard views are each staff user's own
    # (dashboard_view_scope): INTERNAL, so neither the type nor the list is in a portal user's schema.
    **_fields("Client", INTERNAL, "healthScore"),
    **_fields("ClientHealthScore", INTERNAL, "score", "band", "reasons"),
    **_fields("HealthReason", INTERNAL, "signal", "value", "points", "summary"),
    **_fields("ClientsDashboard", INTERNAL, "view", "sections", "healthScores"),
    **_fields("RetentionMetrics", INTERNAL, "months"),
    **_fields("HealthScoreSummary", INTERNAL, "clientsScored", "averageScore", "distribution", "lowest"),
    **_fields("HealthBandCount", INTERNAL, "band"),
    **_fields("HealthBandCount", PUBLIC, "count"),
    **_fields("ClientHealthEntry", PUBLIC, "client"),
    **_fields("ClientHealthEntry", INTERNAL, "health"),
    **_fields("Query", INTERNAL, "healthScoreWeights", "dashboardViews"),
    **_fields(
        "HealthScoreWeight", INTERNAL, "signal", "weight", "defaultWeight", "computed", "description", "updatedAt"
    ),
    **_fields("HealthScoreWeightsPayload", INTERNAL, "weights"),
    **_fields("HealthScoreWeightsPayload", PUBLIC, "errors"),
    **_fields(
        "DashboardView",
        INTERNAL,
        "id",
        "name",
        "sections",
        "noActivityDays",
        "months",
        "top",
        "retentionMonths",
        "clients",
        "createdAt",
        "updatedAt",
    ),
    **_fields("DashboardClientFilter", INTERNAL, "categories", "statusIds", "tiers", "accountManagerIds"),
    **_fields("DashboardViewPayload", PUBLIC, "view", "errors"),
    **_fields("DeleteDashboardViewPayload", PUBLIC, "deletedId", "errors"),
    # A client report: a portal user reads its own client's (row scope), money where FINANCE allows,
    # cost and profitability only where its client shows costs (COST), never the team's hours (TEAM).
    **_fields("ClientReport", PUBLIC, "client", "from", "to", "portfolio", "time"),
    **_fields("ClientReport", FINANCE, "financial"),
    **_fields("ClientReport", COST, "profitability"),
    **_fields("ClientReport", TEAM, "utilization"),
    **_fields(
        "ProjectPortfolio", PUBLIC, "total", "completed", "cancelled", "successRate", "byStatus", "projects", "timeline"
    ),
    **_fields("TimelineEntry", PUBLIC, "project", "startDate", "endDate", "status", "durationDays", "isLate"),
    # Timeline adherence reads the client's own project dates (PUBLIC); scope change frequency is the
    # agency's reading of the relationship (INTERNAL: a portal user gets null + FORBIDDEN).
    **_fields("TimelineEntry", PUBLIC, "completedAt", "onTime"),
    **_fields("ProjectPortfolio", PUBLIC, "timelineAdherence"),
    **_fields("TimelineAdherence", PUBLIC, "onTime", "late", "overdue", "rate"),
    **_fields("ClientReport", INTERNAL, "scopeChanges"),
    **_fields(
        "ScopeChangeFrequency",
        INTERNAL,
        "changes",
        "reductions",
        "budgetChanges",
        "endDateMoves",
        "tasksAdded",
        "cancellations",
        "projectsChanged",
        "perProject",
    ),
    **_fields(
        "ClientFinancialSummary",
        FINANCE,
        "totalInvoiced",
        "invoiceCount",
        "totalRevenue",
        "outstanding",
        "averageProjectValue",
        "paymentHistory",
    ),
    **_fields(
        "TimeInvestment", PUBLIC, "totalHours", "billableHours", "nonBillableHours", "billableShare", "byProject"
    ),
    **_fields("ProjectTime", PUBLIC, "project", "hours", "billableHours", "nonBillableHours"),
    **_fields("Profitability", FINANCE, "revenue"),
    **_fields("Profitability", COST, "laborCost", "expenses", "totalCost", "profit", "margin"),
    **_fields("Profitability", COST, "hours", "hiddenTaskHours"),
    **_fields("MemberUtilization", TEAM, "user", "hours", "billableHours", "share"),
    **_fields("MemberUtilization", COST, "laborCost"),
    # Satisfaction scores
    # Rows are staff only (satisfaction_survey_scope), so the fields themselves can be PUBLIC: a portal
    # user reads nothing but its own just-recorded answer in the payload. The list on the client
    # record is the team's reading of the relationship: INTERNAL, never a CLIENT's.
    **_fields("Client", INTERNAL, "satisfactionScores"),
    **_fields("SatisfactionScore", PUBLIC, "id", "score", "comment", "respondedAt", "client", "contact"),
    **_fields("SatisfactionScorePayload", PUBLIC, "score", "errors"),
    # Client workflows
    # Leads, opportunities and logged interactions are the agency's own view of the relationship
    # (staff row scopes too); meetings and client-visible feed entries reach the portal. Who has
    # portal access is account administration, for the team.
    **_fields("Query", INTERNAL, "leads", "clientStatuses"),
    **_connection("Lead"),
    **_connection("Activity"),
    **_fields("Client", INTERNAL, "opportunities", "interactions"),
    **_fields("Client", PUBLIC, "meetings", "activity"),
    **_fields("Contact", INTERNAL, "hasPortalAccess"),
    # Marketing consent is the agency's record of what a person agreed to (and where: the source may
    # name a call or an event): staff read it, a portal user does not (not even its colleagues'),
    # a partner only with contacts:read + internal:read. In the marketing export (EXPORTS below)
    # marketing:read opens PUBLIC columns only: the consent date and source need internal:read there too.
    **_fields("Contact", INTERNAL, "marketingConsent", "marketingConsentAt", "marketingConsentSource"),
    **_fields(
        "Lead",
        INTERNAL,
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
        INTERNAL,
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
    **_fields(
        "Interaction", INTERNAL, "id", "kind", "summary", "occurredAt", "createdAt", "staff", "contact", "client"
    ),
    **_fields(
        "Meeting",
        PUBLIC,
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
    **_fields("Activity", PUBLIC, "id", "kind", "summary", "occurredAt", "subjectType", "subjectId", "actor", "client"),
    **_fields("Activity", INTERNAL, "clientVisible"),
    **_fields("LeadPayload", PUBLIC, "lead", "errors"),
    **_fields("ConvertLeadPayload", PUBLIC, "client", "primaryContact", "lead", "errors"),
    **_fields("ClientPayload", PUBLIC, "client", "errors"),
    **_fields("ClientStatusPayload", PUBLIC, "status", "errors"),
    **_fields("ContactPayload", PUBLIC, "contact", "errors"),
    **_fields("ProjectPayload", PUBLIC, "project", "errors"),
    **_fields("TaskPayload", PUBLIC, "task", "errors"),
    **_fields("CommentPayload", PUBLIC, "comment", "errors"),
    **_fields("DeliverablePayload", PUBLIC, "deliverable", "errors"),
    **_fields("RemoveDeliverablePayload", PUBLIC, "removedId", "errors"),
    **_fields("MeetingPayload", PUBLIC, "meeting", "errors"),
    **_fields("InteractionPayload", PUBLIC, "interaction", "errors"),
    **_fields("OpportunityPayload", PUBLIC, "opportunity", "errors"),
    # Client record. The project an opportunity became is INTERNAL like every Opportunity field. A
    # contact's roles and reporting lines are PUBLIC like its title: a portal user reads its own
    # client's, a partner with contacts:read reads them (rows under the contact scope). A warning
    # tells the caller of a mutation it could call what it should know; the projects it lists are
    # read under Project's own classes and row scope.
    **_fields("Opportunity", INTERNAL, "project"),
    **_fields("ConvertOpportunityPayload", PUBLIC, "opportunity", "project", "errors"),
    **_fields("Contact", PUBLIC, "roles", "reportsTo", "directReports"),
    **_fields("SetClientStatusPayload", PUBLIC, "client", "warnings", "errors"),
    **_fields("Warning", PUBLIC, "code", "message", "projects"),
    # Billing workflows
    # Time is delivery work: a MEMBER sees hours, who and when, but no money. What the agency pays
    # (cost rates, cost amounts, what an expense cost) is COST; what the client is billed is FINANCE.
    **_fields("Query", FINANCE, "invoices", "invoice"),
    **_connection("Invoice"),
    **_fields("Project", PUBLIC, "timeEntries", "expenses"),
    **_fields("Client", FINANCE, "unbilledAmount"),
    **_fields("Invoice", FINANCE, "sentAt", "voidedAt"),
    **_fields("Invoice", INTERNAL, "notes"),
    **_fields("InvoiceLine", FINANCE, "timeEntries", "expenses"),
    **_fields("TimeEntry", PUBLIC, "id", "workDate", "hours", "billable", "createdAt", "user", "project", "task"),
    # The team's own words can name internal tasks and problems; the client reads invoice lines.
    **_fields("TimeEntry", INTERNAL, "description"),
    **_fields("TimeEntry", COST, "costRate", "costAmount"),
    **_fields("TimeEntry", FINANCE, "billRate", "billableAmount", "invoiced", "invoice"),
    **_fields("Expense", PUBLIC, "id", "description", "billable", "incurredOn", "createdAt", "createdBy", "project"),
    # A value from which a hidden value can be computed takes the class of what it reveals
    # (the strictest of its inputs): billableAmount is the expense's cost whenever it is
    # billable (expenses pass on at cost), so it is COST like `amount`. The exception is a
    # document the client is sent: an invoice line says what it is billed, FINANCE, even
    # when that passes a cost on.
    **_fields("Expense", COST, "amount", "billableAmount"),
    **_fields("Expense", FINANCE, "invoiced", "invoice"),
    **_fields("LogTimePayload", PUBLIC, "timeEntry", "errors"),
    **_fields("LogExpensePayload", PUBLIC, "expense", "errors"),
    **_fields("CreateInvoicePayload", FINANCE, "invoice"),
    **_fields("SendInvoicePayload", FINANCE, "invoice"),
    **_fields("RecordPaymentPayload", FINANCE, "payment", "invoice"),
    **_fields("VoidInvoicePayload", FINANCE, "invoice"),
    **_fields("CreateInvoicePayload", PUBLIC, "errors"),
    **_fields("SendInvoicePayload", PUBLIC, "errors"),
    **_fields("RecordPaymentPayload", PUBLIC, "errors"),
    **_fields("VoidInvoicePayload", PUBLIC, "errors"),
    # Partner apps
    # The list is staff only (TEAM: never a portal user's or a partner's), and its rows are the
    # ADMIN's alone (resolvers.partners.apps.partner_app_scope), so the app's own fields can be
    # PUBLIC, as the payloads of the ADMIN-only mutations that return one are.
    **_fields("Query", TEAM, "partnerApps"),
    **_fields(
        "PartnerApp",
        PUBLIC,
        "clientId",
        "name",
        "scopes",
        "clients",
        "createdAt",
        "createdBy",
        "revokedAt",
        "lastUsedAt",
    ),
    **_fields("PartnerAppSecretPayload", PUBLIC, "app", "clientSecret", "errors"),
    **_fields("PartnerAppPayload", PUBLIC, "app", "errors"),
    # Partner sync (resolvers/partners/sync.py, external_ids.py)
    # The change feed is the team's and the integrations' (INTERNAL: a portal user is refused; a
    # MEMBER gets empty pages, its rows being ADMIN's, MANAGER's and partners'); a partner reaches
    # it through clients:read, contacts:read or invoices:read (SCOPES roots), and lists only the
    # entities its scopes read. A change's own fields say what happened to which record; the record
    # itself is read under its own type's classes and row scope.
    # Live updates (schema/live): a subscription has its payload's class, and every event's row is
    # re-read under the subscriber's row scope before it is sent. invoiceChanged is FINANCE (a
    # MEMBER touches no money); clientChanged and activityAdded are the team's. No partner scope
    # names the Subscription root: apps sync with `changes` and webhooks.
    **_fields("Subscription", SELF, "notificationAdded"),
    **_fields("Subscription", PUBLIC, "commentAdded", "taskChanged", "deliverableChanged"),
    **_fields("Subscription", FINANCE, "invoiceChanged"),
    **_fields("Subscription", INTERNAL, "clientChanged", "activityAdded"),
    **_fields("TaskChange", PUBLIC, "change", "taskId", "task"),
    **_fields("DeliverableChange", PUBLIC, "change", "deliverableId", "deliverable"),
    **_fields("Query", INTERNAL, "changes"),
    **_fields("ChangeConnection", PUBLIC, "edges", "nodes", "pageInfo"),
    **_fields("ChangeEdge", PUBLIC, "cursor", "node"),
    **_fields("Change", PUBLIC, "id", "event", "entity", "recordId", "occurredAt", "record"),
    # External ids are the calling app's own data: each app reads only its own (row scope:
    # partner_app_id), and anyone else reads null. They are PUBLIC on the record they sit on, so the
    # record's read scope opens them (Client: clients:read, Contact: contacts:read, Invoice and
    # Payment: invoices:read); not SELF, which would show a type the app cannot otherwise read. The
    # lookup is a root of the same three scopes, and finds only records the app may read; it is
    # INTERNAL (like `changes`) so that a portal user's schema does not carry it: only an app has
    # external ids, and staff find nothing with it.
    **_fields("Query", INTERNAL, "recordByExternalId"),
    **_fields("Client", PUBLIC, "externalId"),
    **_fields("Contact", PUBLIC, "externalId"),
    **_fields("Invoice", PUBLIC, "externalId"),
    **_fields("Payment", PUBLIC, "externalId"),
    **_fields("SetExternalIdPayload", PUBLIC, "record", "externalId", "errors"),
    # Webhooks: the endpoint and delivery lists are staff only (TEAM: never a portal user's or a
    # partner's) and their rows the ADMIN's alone (resolvers.partners.webhooks.webhook_scope), so
    # their fields are PUBLIC, as the payloads of the ADMIN-only mutations are. The signing secret
    # is only ever in the create and rotate payloads; a delivery's payload is what its app was sent.
    **_fields("Query", TEAM, "webhookEndpoints", "webhookDeliveries"),
    **_fields("WebhookEndpoint", PUBLIC, "id", "appClientId", "url", "eventTypes", "active", "createdAt", "updatedAt"),
    **_fields(
        "WebhookDelivery",
        PUBLIC,
        "id",
        "messageId",
        "eventType",
        "payload",
        "status",
        "attemptCount",
        "nextAttemptAt",
        "lastStatusCode",
        "lastError",
        "createdAt",
        "updatedAt",
        "deliveredAt",
        "attempts",
    ),
    **_fields("WebhookAttempt", PUBLIC, "attemptedAt", "statusCode", "error", "durationMs"),
    **_connection("WebhookDelivery"),
    **_fields("WebhookEndpointSecretPayload", PUBLIC, "endpoint", "secret", "errors"),
    **_fields("WebhookEndpointPayload", PUBLIC, "endpoint", "errors"),
    **_fields("WebhookDeliveryPayload", PUBLIC, "delivery", "errors"),
    # Directory and lists
    # The staff directory is the team's (TEAM: never a portal user's or a partner's); what each
    # staff role reads of a listed user is the User rows above (rates are PAYROLL). Whether a user
    # may still sign in, and which contact a portal user signs in as, are account administration:
    # TEAM. Who signs in to a client's portal is the team's too (Contact.hasPortalAccess is
    # INTERNAL; TEAM also keeps it from every partner scope). The contacts, projects and tasks
    # lists are PUBLIC under their row scopes (a portal user lists its own client's rows), and a
    # partner reaches them through its scopes' roots (SCOPES below).
    **_fields("Query", TEAM, "users"),
    **_connection("User"),
    **_fields("User", TEAM, "isActive", "contact"),
    **_fields("Client", TEAM, "portalUsers"),
    **_fields("Query", PUBLIC, "contacts", "projects", "tasks"),
    **_connection("Contact"),
    **_connection("Project"),
    **_connection("Task"),
}


# The mutation table: who may call each mutation. None means anyone, signed in or not.
# What a caller may pass to a mutation it may call is in ARGUMENT_RULES below; which rows it
# acts on is row scope. Both tables are checked before any resolver runs.
STAFF = STAFF_ROLES
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
    # Who edits a contact records its consent (or its withdrawal); never a portal user or a partner.
    "setContactMarketingConsent": STAFF,
    "createProject": STAFF,
    "updateProject": STAFF,
    "createTask": STAFF,
    "updateTask": STAFF,
    # Deliverables are part of a task: the staff who may edit tasks.
    "addDeliverable": STAFF,
    "updateDeliverable": STAFF,
    "completeDeliverable": STAFF,
    "reopenDeliverable": STAFF,
    "removeDeliverable": STAFF,
    "addComment": EVERYONE,
    "bookMeeting": EVERYONE,
    "updateMeeting": STAFF,
    "logInteraction": STAFF,
    "createOpportunity": STAFF,
    "updateOpportunity": STAFF,
    # Updates an opportunity and creates a project: the roles that may do both.
    "convertOpportunity": STAFF,
    # Billing workflows
    "logTime": STAFF,
    "logExpense": STAFF,
    "createInvoice": MONEY,
    "sendInvoice": MONEY,
    "recordPayment": MONEY,
    "voidInvoice": MONEY,
    # Reports
    "recordSatisfactionScore": EVERYONE,
    # Saved dashboard views: each staff user's own (row scope); the health score's weights: the agency owner's.
    "createDashboardView": STAFF,
    "updateDashboardView": STAFF,
    "deleteDashboardView": STAFF,
    "setHealthScoreWeights": frozenset({Role.ADMIN}),
    # Partner apps: the agency owner registers integrations and holds their keys.
    "createPartnerApp": frozenset({Role.ADMIN}),
    "updatePartnerAppScopes": frozenset({Role.ADMIN}),
    "rotatePartnerAppSecret": frozenset({Role.ADMIN}),
    "revokePartnerApp": frozenset({Role.ADMIN}),
    # Partner apps set their own external ids (scope external_ids:write); no staff role keeps any.
    "setExternalId": frozenset(),
    "createWebhookEndpoint": frozenset({Role.ADMIN}),
    "updateWebhookEndpoint": frozenset({Role.ADMIN}),
    "rotateWebhookEndpointSecret": frozenset({Role.ADMIN}),
    "deleteWebhookEndpoint": frozenset({Role.ADMIN}),
    "replayWebhookDelivery": frozenset({Role.ADMIN}),
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
    # Directory and lists: a filter or sort reads the field it compares. An assignee filter also
    # reads User.id: only a caller that may see who a user is may ask what that user works on.
    "Query.users": (
        _R(("filter", "role"), reads="User.role"),
        _R(("filter", "search"), reads="User.fullName"),
        _R(("filter", "search"), reads="User.email"),
        _R(("filter", "active"), reads="User.isActive"),
        _R(("orderBy", "field"), "NAME", reads="User.fullName"),
        _R(("orderBy", "field"), "EMAIL", reads="User.email"),
        _R(("orderBy", "field"), "LAST_LOGIN", reads="User.lastLoginAt"),
    ),
    "Query.contacts": (
        _R(("filter", "search"), reads="Contact.fullName"),
        _R(("filter", "search"), reads="Contact.email"),
        _R(("filter", "clientId"), reads="Contact.client"),
        _R(("filter", "unlinked"), reads="Contact.client"),
    ),
    "Query.projects": (
        _R(("filter", "clientId"), reads="Project.client"),
        _R(("filter", "status"), reads="Project.status"),
        _R(("filter", "health"), reads="Project.health"),
        _R(("filter", "assigneeId"), reads="Task.assignee"),
        _R(("filter", "assigneeId"), reads="User.id"),
        _R(("filter", "dueBefore"), reads="Project.endDate"),
        _R(("filter", "dueAfter"), reads="Project.endDate"),
        _R(("filter", "search"), reads="Project.name"),
        _R(("orderBy", "field"), "NAME", reads="Project.name"),
        _R(("orderBy", "field"), "CREATED_AT", reads="Project.createdAt"),
        _R(("orderBy", "field"), "START_DATE", reads="Project.startDate"),
        _R(("orderBy", "field"), "END_DATE", reads="Project.endDate"),
        _R(("orderBy", "field"), "HEALTH", reads="Project.health"),
    ),
    "Query.tasks": (
        _R(("filter", "clientId"), reads="Project.client"),
        _R(("filter", "projectId"), reads="Task.project"),
        _R(("filter", "status"), reads="Task.status"),
        _R(("filter", "assigneeId"), reads="Task.assignee"),
        _R(("filter", "assigneeId"), reads="User.id"),
        _R(("filter", "dueBefore"), reads="Task.dueDate"),
        _R(("filter", "dueAfter"), reads="Task.dueDate"),
        _R(("filter", "search"), reads="Task.title"),
        _R(("orderBy", "field"), "DUE_DATE", reads="Task.dueDate"),
        _R(("orderBy", "field"), "TITLE", reads="Task.title"),
        _R(("orderBy", "field"), "STATUS", reads="Task.status"),
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
    "Mutation.convertOpportunity": (_R(("input", "budget"), writes="Project.budget"),),
    "Mutation.addComment": (
        _R(("kind",), "NOTE", roles=STAFF, why="portal users add replies only; notes are internal to the team"),
    ),
    "Mutation.bookMeeting": (_R(("input", "staffId"), roles=STAFF, why="the agency chooses who attends"),),
    "Mutation.recordSatisfactionScore": (
        _R(("input", "contactId"), roles=STAFF, why="a portal user answers as its own contact"),
    ),
}


# Writing a field needs at least the right to read it. These fields need more: the class
# named here decides who may set them (whether a client sees the agency's costs is itself a
# cost decision, so a MEMBER, who may read the switch, may not turn it).
WRITE_CLASSES: dict[str, Sensitivity] = {
    "Client.showCostsInPortal": Sensitivity.COST,
}


# Partner scopes: what each OAuth scope an app may be granted opens, mapped onto the classes above.
# A PARTNER reads a field of class C on type T when one of its scopes lists T with C (`types`), or
# when one of its scopes lists T at all and another of them `opens` C everywhere the app reads
# (internal:read, costs:read, and invoices:read for FINANCE). It reaches only the Query fields its
# scopes name (`roots`), calls only the mutations a `*:write` scope names (`mutations`), and sees
# only the rows of the entities its scopes name (`rows`, read by auth.scopes), limited to the
# app's clients when it has any. Nothing opens TEAM or PAYROLL (RULES deny them to PARTNER), nor
# comments, users, time, expenses, leads, opportunities, interactions, meetings, activity,
# notifications, satisfaction scores, the portal home, the dashboard or client reports.
# The names are the ones apps are registered and issue tokens with; an unknown name opens nothing.


@dataclass(frozen=True, slots=True)
class Scope:
    """What one partner scope opens. `rows` names row-scope entities (see auth.scopes)."""

    summary: str
    types: dict[str, frozenset[Sensitivity]]
    opens: frozenset[Sensitivity] = frozenset()
    roots: frozenset[str] = frozenset()
    mutations: frozenset[str] = frozenset()
    rows: frozenset[str] = frozenset()

    @property
    def writes(self) -> bool:
        return bool(self.mutations)


_P, _PF = frozenset({PUBLIC}), frozenset({PUBLIC, FINANCE})

SCOPES: dict[str, Scope] = {
    "clients:read": Scope(
        "clients: name, website, address, industry, dates (PUBLIC); their status needs internal:read",
        {"Client": _P, "ClientStatus": _P, "Change": _P},
        roots=frozenset({"node", "clients", "client", "changes", "recordByExternalId"}),
        rows=frozenset({"client"}),
    ),
    "contacts:read": Scope(
        "contacts of the app's clients: name, e-mail, phone, title, primary (PUBLIC)",
        {"Contact": _P, "Change": _P},
        roots=frozenset({"node", "changes", "recordByExternalId", "contacts"}),
        rows=frozenset({"contact"}),
    ),
    "projects:read": Scope(
        "projects, the tasks marked visible to the client and their deliverables (PUBLIC)",
        {"Project": _P, "Task": _P, "Deliverable": _P},
        roots=frozenset({"node", "projects", "tasks"}),
        rows=frozenset({"project", "task", "deliverable"}),
    ),
    "invoices:read": Scope(
        "invoices once sent (no drafts), their lines and payments (FINANCE and PUBLIC), and FINANCE"
        " on whatever else the app reads: payment terms, balances, budgets",
        {"Invoice": _PF, "InvoiceLine": _PF, "Payment": _PF, "Change": _P},
        opens=frozenset({FINANCE}),
        roots=frozenset({"node", "invoices", "invoice", "changes", "recordByExternalId"}),
        rows=frozenset({"invoice", "payment"}),
    ),
    "payments:write": Scope(
        "recordPayment, on an invoice the app can read (with invoices:read)",
        {"RecordPaymentPayload": _PF},
        mutations=frozenset({"recordPayment"}),
    ),
    "external_ids:write": Scope(
        "setExternalId: the app's own ids for the clients, contacts, invoices and payments it can read"
        " (reading them needs nothing more than reading the record)",
        {"SetExternalIdPayload": _P},
        mutations=frozenset({"setExternalId"}),
    ),
    "marketing:read": Scope(
        "the marketing export of the app's clients' contacts (not GraphQL: no type, no root)",
        {},
        rows=frozenset({"marketing_contact"}),
    ),
    "internal:read": Scope(
        "INTERNAL on whatever the app reads: internal notes, client status and tier, account value,"
        " last interaction, project health, task estimates, invoice notes",
        {},
        opens=frozenset({INTERNAL}),
    ),
    "costs:read": Scope(
        "COST on whatever the app reads (nothing a scope reads today has a cost)", {}, opens=frozenset({COST})
    ),
}

# Connections, edges, page info and the Node interface carry no data of their own: a partner with
# any scope that reads reads their PUBLIC structure wherever a field it may read leads to one
# (Client.activity is an empty connection to it: the rows inside are row scope's, and no scope
# names activity). A connection type is found by its name, as _connection() above writes it.
PARTNER_STRUCTURE: frozenset[str] = frozenset(
    {"PageInfo", "Node"}
    | {c.split(".", 1)[0] for c in FIELD_CLASSES if c.split(".", 1)[0].endswith(("Connection", "Edge"))}
)


# Exports: HTTP downloads outside GraphQL (server/exports.py), decided from this table too (auth.exports).
# Who may take one: the staff `roles`, and a PARTNER holding `scope`. Each column names the field it
# holds ("Type.field", a coordinate of FIELD_CLASSES) and each filter the field it filters by; a
# caller gets the columns it may read and may use the filters on fields it may read (a filter by a
# hidden field is an oracle for it): a staff member by its role (auth.policy.decide); a partner by
# its GraphQL scopes as everywhere, or by what `scope` opens inside the export (`reads`, types and
# classes as a Scope's `types`), widened by the classes its other scopes open everywhere
# (internal:read). Nothing opens TEAM or PAYROLL. Rows: the export's own row scope (auth.scopes).


@dataclass(frozen=True, slots=True)
class Export:
    summary: str
    roles: frozenset[Role]
    scope: str
    reads: dict[str, frozenset[Sensitivity]]
    columns: tuple[tuple[str, str], ...]  # (CSV header, the field it holds), in order
    filters: dict[str, str]  # query parameter -> the field it filters by


EXPORTS: dict[str, Export] = {
    # GET /exports/marketing-contacts.csv: the contacts who consented to marketing e-mail, of the
    # clients the caller may see (marketing_contact_scope). ADMIN and MANAGER: a bulk list of people
    # for marketing is account management, not delivery, so a MEMBER is refused (it reads the same
    # fields one contact at a time). A partner with marketing:read gets the PUBLIC columns of its
    # clients' contacts: who to write to (no phone: the consent is to e-mail); status, category,
    # tier and the consent's date and source are INTERNAL, so they and the filters on them need
    # internal:read as well.
    "marketing-contacts": Export(
        "contacts who consented to marketing e-mail, segmented by client status, category and tier",
        roles=LEADERS,
        scope="marketing:read",
        reads={"Contact": _P, "Client": _P},
        columns=(
            ("contact_id", "Contact.id"),
            ("email", "Contact.email"),
            ("full_name", "Contact.fullName"),
            ("title", "Contact.title"),
            ("client_id", "Client.id"),
            ("client_name", "Client.name"),
            ("client_status", "Client.status"),
            ("client_category", "Client.status"),
            ("client_tier", "Client.tier"),
            ("consent_at", "Contact.marketingConsentAt"),
            ("consent_source", "Contact.marketingConsentSource"),
        ),
        filters={"status": "Client.status", "category": "Client.status", "tier": "Client.tier"},
    ),
}
