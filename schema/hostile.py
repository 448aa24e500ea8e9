"""Refuses a request that holds a NUL character (U+0000) in any value, before it executes.

No text this API keeps may contain NUL: PostgreSQL refuses it in text (the statement fails,
an unexpected error) while SQLite stores it silently, so the same request would answer
differently on the two stores and leave a name no screen shows. Every string input is
therefore checked once, centrally, rather than by each resolver: every string literal in the
document (arguments at any depth, inside input objects and lists, variables' defaults,
directive arguments) and every string (and input object key) in the request's variables, at
any depth. One found refuses the whole operation before any resolver runs: no data, nothing
read or written, one error per value at fault (at most MAX_REPORTED), each

    {"message": "...", "extensions": {"code": "BAD_USER_INPUT", "field": "input.name", "reason": "NUL_CHARACTER"}}

with `field` the value's path from the argument it sits in (`input.primaryContact.fullName`,
`ids[2]`), as the payload errors of mutations name fields. A variable used in no argument is
named `$name`. The answer is HTTP 200 with `data: null`, like any other error in an operation
that was valid GraphQL.

The check runs when execution starts (Strawberry's `on_execute`), after parsing and validation,
because variables are not known before; walking a document of at most MAX_TOKENS tokens and a
body of at most AGENCY_MAX_BODY_BYTES costs little beside parsing them. Both walks use an
explicit stack, so deep nesting cannot exhaust Python's recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectFieldNode,
    StringValueNode,
    VariableDefinitionNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from resolvers.errors import InputError
from schema.limits import documents

NUL = "\x00"
MAX_REPORTED = 10
MESSAGE = "Text may not contain the NUL character (U+0000)."


def literal_nuls(document: DocumentNode) -> tuple[list[tuple[str, Node]], dict[str, str]]:
    """Every string literal holding NUL (its path, its node), and where each variable is used
    (its first use's path: `input.lines[0]` for `input: {lines: [$line]}`)."""
    found: list[tuple[str, Node]] = []
    uses: dict[str, str] = {}
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, StringValueNode):
            if NUL in node.value:
                found.append((path, node))
            continue
        if isinstance(node, VariableNode):
            uses.setdefault(node.name.value, path)
            continue
        if isinstance(node, ArgumentNode):
            stack.append((node.value, node.name.value))
            continue
        if isinstance(node, ObjectFieldNode):
            stack.append((node.value, f"{path}.{node.name.value}"))
            continue
        if isinstance(node, ListValueNode):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(node.values))))
            continue
        if isinstance(node, VariableDefinitionNode):
            if node.default_value is not None:
                stack.append((node.default_value, f"${node.variable.name.value}"))
            stack.extend((directive, path) for directive in reversed(node.directives or ()))
            continue
        children: list[tuple[Any, str]] = []
        for key in node.keys:
            if key == "loc":
                continue
            child = getattr(node, key, None)
            if isinstance(child, Node):
                children.append((child, path))
            elif isinstance(child, (list, tuple)):
                children.extend((item, path) for item in child if isinstance(item, Node))
        stack.extend(reversed(children))
    return found, uses


def variable_nuls(variables: dict[str, Any] | None, uses: dict[str, str]) -> list[str]:
    """The path of every string (or input object key) holding NUL in the request's variables."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [
        (value, uses.get(name, f"${name}")) for name, value in reversed(list((variables or {}).items()))
    ]
    for name in variables or {}:
        if isinstance(name, str) and NUL in name:
            found.append(f"${name}")
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                found.append(path)
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if isinstance(key, str) and NUL in key:
                    found.append(f"{path}.{key}")
                stack.append((item, f"{path}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return found


def _error(field: str, node: Node | None = None) -> GraphQLError:
    # An InputError as the original: process_errors types it BAD_USER_INPUT with this field and reason.
    return GraphQLError(MESSAGE, nodes=node, original_error=InputError(field, "NUL_CHARACTER", MESSAGE))


class RefuseNulCharacters(SchemaExtension):
    """Refuses an operation with NUL in any of its values (module docstring)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            literals, uses = documents.derived(document, "literal_nuls", lambda: literal_nuls(document))
            errors = [_error(path, node) for path, node in literals]
            errors += [_error(path) for path in variable_nuls(context.variables, uses)]
            if errors:
                # A result set before execution stands: graphql-core never runs the operation.
                context.result = ExecutionResult(data=None, errors=errors[:MAX_REPORTED])
        yield
