"""The compiled read path: a query root field answered by one SQL statement that builds its JSON.

For a query operation (after parsing, validation and the per-operation policy decision),
schema.enforcement asks `plan_root_field` for each root field; a field it can express runs as one
statement whose single value is the field's JSON text, spliced into the response as it is
(orjson.Fragment: never parsed); every other root field runs through the resolvers as before.
`Settings.compiled_reads` (AGENCY_COMPILED_READS=0) turns the whole path off. Only requests the
HTTP view answers use it (`Context.compiled_reads`, set by the view): whoever else executes the
schema (the webhook worker's payloads) gets data, never JSON text. The plans of operations without
variables are cached in schema.enforcement per (policy key, document, operation name, root
response key, caller, dialect); one with variables is planned per request. A statement the
database refuses is logged and answered by the resolvers.

What compiles (resolvers/compiled/planner.py, TYPES, ROOTS and NODES):
- Query.clients(first, after, orderBy, filter: search, tiers, categories), Query.projects and
  Query.tasks (first, after, orderBy, every filter), as connections: totalCount,
  edges { cursor node }, pageInfo { hasNextPage hasPreviousPage startCursor endCursor };
  Query.client(id); Query.node(id) for Client, Contact, Project, Task, Comment and User.
- Client: id name logoUrl website billingAddress industry tier paymentTermsDays becameClientOn
  internalNotes showCostsInPortal portalBookingEnabled lastInteractionAt createdAt; status,
  accountManager, primaryContact; projects(status); activeProjectCount, lastProjectOn,
  outstandingAmount, accountValue (correlated subqueries over the loaders' own statements).
- Project: id name description startDate endDate budget status health createdAt tasks comments
  client. Task: id title description status dueDate estimateHours visibleToClient completedAt
  assignee project comments. Comment: id kind body createdAt author task project.
- ClientStatus: id name category isBuiltin. Contact: id fullName email phone title isPrimary
  isDecisionMaker internalNotes. User: id fullName email phone jobTitle role hourlyCostRate
  hourlyBillRate lastLoginAt isActive.
- `__typename` and aliases anywhere in those; fragments, inline fragments and @skip/@include
  as execution reads them.

What takes the resolver path, the whole root field (decided before any row is read, from the
operation, its variables and the caller, cached with the operation's decision key when it has no
variables; never per row):
- every other root field, mutations and subscriptions, introspection;
- any field not listed above (resolvers not mapped: externalId, contacts, invoices, payments,
  unbilledAmount (computed in Python), deliverables, timeEntries, expenses, ...), unions, and
  node(id) of another type;
- a field the policy refuses this caller: the executor answers it null with its FORBIDDEN error,
  which depends on which rows exist and in what order execution meets them;
- an argument not mapped (clients' filter.statusIds) or a value the resolver refuses with an error
  (a page size over 100, `first: 0`, a cursor this API did not give out, a malformed id, a search
  too long), or an id that names no row (the resolver answers null without reading anything);
- @defer, @stream;
- on SQLite, a selection more than five objects deep (its parser's stack is 100 entries).

Rows and scopes are the resolvers' own: scoped_clients (client_scope), ORDER_KEYS and
pagination.after_cursor for the page, project_scope, task_scope, contact_scope and user_scope for
the lists and lookups below it, the loaders' aggregate statements for the computed columns. Values
are written in SQL exactly as the scalars serialise them (resolvers/compiled/sql.py). One statement
per compiled root field, whatever the rows.
"""

from __future__ import annotations

from resolvers.compiled.planner import plan_root_field

__all__ = ["plan_root_field"]
