"""Operations answered by their compiled statements alone (the compiled read path, second time).

The first time a caller sends an operation, the whole request runs: parsing, validation, limits,
the field policy, execution, where each query root field the planner can express is one SQL
statement building its JSON (schema.enforcement, resolvers.compiled). When every root field was
answered so, by a plan kept for this caller, and without an error, the operation is remembered
(schema.enforcement.compiled_answers, keyed by the operation's decision key as the request named
it, the caller and the dialect); the next time, its statements alone answer it: everything else
the request would decide depends only on what is in the key, and was decided without error.
Only a query text without variables or extensions qualifies (as only those plans are kept)."""

from __future__ import annotations

from typing import Any

import orjson
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from resolvers.errors import DatabaseUnavailable
from schema.context import Context
from schema.enforcement import COMPILED_PLANS, AnswerKey, compiled_answers, decision_key


def _answer_key(context: Context, request_data: GraphQLRequestData) -> AnswerKey | None:
    """The key of the request's operation among the all-compiled ones (schema.enforcement
    .compiled_answers): a query text without variables or extensions, on an app with compiled reads."""
    if (
        not context.compiled_reads
        or not isinstance(request_data.query, str)
        or request_data.variables
        or request_data.extensions
    ):
        return None
    operation = decision_key(context.principal.policy_key, request_data.query, request_data.operation_name)
    return operation, context.principal, context.db.dialect_name


def remember_compiled(context: Context, request_data: GraphQLRequestData, result: ExecutionResult) -> None:
    """Keep an operation answered wholly by kept compiled plans, without an error: every key of
    its data an answer of one of them, in order."""
    roots = context.compiled_roots
    if not roots or result.errors or not isinstance(result.data, dict) or result.extensions:
        return
    if list(result.data) != [key for key, _ in roots]:
        return
    if not all(isinstance(value, orjson.Fragment) for value in result.data.values()):
        return
    key = _answer_key(context, request_data)
    if key is None:
        return
    compiled_answers[key] = tuple(roots)
    if len(compiled_answers) > COMPILED_PLANS:
        compiled_answers.popitem(last=False)


async def answer_compiled(context: Context, request_data: GraphQLRequestData) -> ExecutionResult | None:
    """The operation answered by its kept statements alone, when it was answered that way before
    for this caller (`remember_compiled`); None: the whole request goes the usual way (also when a
    statement fails now: the usual way reports it, and the operation is forgotten; the database
    away is DatabaseUnavailable, as anywhere)."""
    key = _answer_key(context, request_data)
    roots = compiled_answers.get(key) if key is not None else None
    if key is None or roots is None:
        return None
    compiled_answers.move_to_end(key)
    data: dict[str, Any] = {}
    try:
        for response_key, statement in roots:
            text = await context.db.core_scalar(statement)
            if not isinstance(text, str):
                raise RuntimeError("the compiled statement wrote no JSON")
            data[response_key] = orjson.Fragment(text)
    except DatabaseUnavailable:
        raise  # answered 503 with Retry-After, as the usual way would (server.app)
    except Exception:
        if context.db.caller_refusal is not None:
            # Refused, or changed (its cost setting): run() answers 401, or answers again.
            return ExecutionResult(data=None, errors=None)
        compiled_answers.pop(key, None)
        return None
    return ExecutionResult(data=data, errors=None)
