"""Builds the one Strawberry schema staff, portal users and partners all call."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import MaxTokensLimiter
from strawberry.relay.types import GlobalIDValueError
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from resolvers.errors import DatabaseUnavailable, InputError, NotFound, Refused
from schema.enforcement import FieldPolicyExecutionContext, policy_key_of
from schema.hostile import RefuseNulCharacters
from schema.limits import MAX_TOKENS, CachedParse, RequestValidation, limits_extension
from schema.roots import roots
from schema.scalars import SCALARS
from schema.views import filter_suggestions, view_for

log = logging.getLogger("agency.graphql")


class AgencySchema(strawberry.Schema):
    """Shapes every error before it leaves (Strawberry's public `process_errors` hook): each gets
    an `extensions.code`, "Did you mean" suggestions name only what the caller's own view of the
    schema holds, and anything unexpected is masked (outside debug) and logged once with the
    request id. Masking lives here rather than in MaskErrors because it needs the request id and
    the codes in the same pass."""

    async def stream(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Over a WebSocket (server.live) only subscriptions run: queries and mutations go over
        HTTP, with its limits, CSRF rules and one transaction per request. Over HTTP (a streaming
        Accept header) no subscription runs: they need the socket's per-event database handles
        and re-checks of the caller."""
        if getattr(context_value, "transport", "http") == "websocket":
            allowed_operation_types = (OperationType.SUBSCRIPTION,)
        else:
            allowed_operation_types = _without_subscriptions(allowed_operation_types)
        return await super().stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
            allowed_operation_types=allowed_operation_types,
        )

    async def execute(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Queries and mutations; a subscription sent over HTTP is refused (400): it needs the
        WebSocket on the same path."""
        return await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=_without_subscriptions(allowed_operation_types),
            operation_extensions=operation_extensions,
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = getattr(execution_context, "context", None)
        debug = bool(context and context.services.debug)
        request_id = getattr(context, "request_id", None)
        for error in errors:
            original = error.original_error
            if isinstance(original, InputError):
                error.extensions = {"code": "BAD_USER_INPUT", "field": original.field, "reason": original.code}
            elif isinstance(original, NotFound):
                error.extensions = {"code": "NOT_FOUND"}
            elif isinstance(original, Refused):
                error.extensions = {"code": original.code}
            elif isinstance(original, DatabaseUnavailable):
                # Not a bug: the database is away. The view answers 503 with Retry-After.
                log.warning("database unavailable (request %s) at %s: %s", request_id, error.path, original.__cause__)
                error.message = str(original)
                error.extensions = {"code": "SERVICE_UNAVAILABLE", "retryAfter": original.retry_after}
            elif original is not None and original is getattr(getattr(context, "db", None), "caller_refusal", None):
                # The caller's check (put off to the request's first statement) refused it or
                # found it changed: this answer is dropped for a 401 or a second answer (server.app).
                error.message = "The access token is invalid or expired."
                error.original_error = None
                error.extensions = {"code": "UNAUTHENTICATED"}
            elif isinstance(original, GlobalIDValueError):
                # Not a global id at all (not base64 of "Type:id"): bad input, whatever exists.
                error.message = "That is not a global id this API gave out."
                error.original_error = None
                error.extensions = {"code": "BAD_USER_INPUT", "reason": "INVALID_ID"}
            elif error.extensions and "code" in error.extensions:
                pass  # made with its code (the field policy's FORBIDDEN and UNAUTHENTICATED)
            elif _is_input_coercion_error(error):
                error.extensions = {"code": "BAD_USER_INPUT"}
            elif isinstance(error, GraphQLSyntaxError):
                error.extensions = {"code": "GRAPHQL_PARSE_FAILED"}
            elif original is None and error.path is None:
                error.extensions = {"code": "GRAPHQL_VALIDATION_FAILED"}
            else:
                log.error("unexpected error (request %s) at %s", request_id, error.path, exc_info=original or error)
                if not debug:
                    error.message = "Unexpected error."
                    error.original_error = None
                error.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
            if " Did you mean " in error.message:
                # Suggestions name only what the caller's own view of the schema holds.
                error.message = filter_suggestions(error.message, view_for(self._schema, policy_key_of(context)))


# graphql-core's messages for a variable or argument value it cannot coerce (the request's
# input, not its document): "Variable '$x' has invalid value: ...", "Argument 'x' has invalid
# value: ...", and its two limits on variables.
_COERCION = re.compile(
    r"(Variable '\$\w+'|Argument '\w+') has invalid (default )?value"
    r"|Too many errors processing variables|Variable values are nested too deeply"
)


def _without_subscriptions(allowed: Iterable[OperationType] | None) -> tuple[OperationType, ...]:
    return tuple(
        t for t in (allowed or (OperationType.QUERY, OperationType.MUTATION)) if t is not OperationType.SUBSCRIPTION
    )


def _is_input_coercion_error(error: GraphQLError) -> bool:
    """A variable or argument value that cannot be coerced: graphql-core's coercion errors, and
    Strawberry's (a scalar's parse_value, an argument's conversion)."""
    original = error.original_error
    if isinstance(original, StrawberryInputCoercionError):
        return True
    return _COERCION.match(error.message) is not None and (original is None or isinstance(original, GraphQLError))


@functools.cache
def build_schema() -> AgencySchema:
    """The schema, built once per process (Strawberry's relay fields can be bound to one schema only)."""
    query, mutation, subscription = roots()
    return AgencySchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        # Date and DateTime inputs within the days this API takes (schema/scalars.py).
        config=StrawberryConfig(relay_max_results=100, scalar_map=SCALARS),
        execution_context_class=FieldPolicyExecutionContext,
        extensions=[
            # Factories: a fresh extension per request; the depth and alias rules are the same
            # classes every time; parsing and validation share one bounded document cache, and
            # RequestValidation also checks the cost of the operation with its variables
            # (schema/limits.py).
            limits_extension,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            CachedParse,
            RequestValidation,
            # No NUL character in any value, literal or variable (schema/hostile.py).
            RefuseNulCharacters,
        ],
    )
