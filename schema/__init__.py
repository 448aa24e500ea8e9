"""The GraphQL layer: Strawberry types, inputs, Query / Mutation, the request context
and the once-per-request field enforcement. No SQL here: fields map a column or call
a resolver function or DataLoader."""

import schema.enums  # noqa: F401  (registers the models' enums with Strawberry before any type is read)
