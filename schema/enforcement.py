"""Field access, decided once per request before execution.

The operation's field coordinates (fragments, aliases, interfaces and unions
included) are checked against auth.policy for this Principal; the denied set is
cached per (document, role, conditions). During execution a denied field
resolves to null with one error per coordinate. Nothing here runs per row
beyond one dictionary lookup per field.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    is_abstract_type,
    is_non_null_type,
    visit,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from auth.policy import Decision, decide
from auth.principal import Principal

_CACHE_SIZE = 2048
_cache: OrderedDict[tuple, dict[str, dict[str, Decision]]] = OrderedDict()
policy_checks = 0  # how many times the policy was consulted: a test proves it does not grow with rows


def field_coordinates(schema: GraphQLSchema, document: DocumentNode) -> set[tuple[str, str]]:
    """Every (type, field) the document can touch; a field on an interface or union counts for each possible type."""
    type_info = TypeInfo(schema)
    found: set[tuple[str, str]] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = type_info.get_parent_type()
            name = node.name.value
            if parent is None or name.startswith("__"):
                return
            found.add((parent.name, name))
            if is_abstract_type(parent):
                for possible in schema.get_possible_types(parent):
                    found.add((possible.name, name))

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return found


def denied_fields(
    schema: GraphQLSchema, document: DocumentNode, principal: Principal, body: str | None = None
) -> dict[str, dict[str, Decision]]:
    """The refused (type -> field -> decision) map for this document and caller, cached by its text."""
    global policy_checks
    key = (body, principal.role, principal.conditions) if body is not None else None
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    denied: dict[str, dict[str, Decision]] = {}
    for type_name, field_name in field_coordinates(schema, document):
        policy_checks += 1
        decision = decide(type_name, field_name, principal)
        if not decision.allowed:
            denied.setdefault(type_name, {})[field_name] = decision
    if key is not None:
        _cache[key] = denied
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return denied


class FieldPolicyExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        principal = getattr(self.context_value, "principal", None)
        document = DocumentNode(definitions=(self.operation, *self.fragment_definitions.values()))
        loc = self.operation.loc
        body = loc.source.body if loc is not None else None
        self.denied = denied_fields(self.schema, document, principal, body) if principal is not None else {}
        self.reported: set[str] = set()
        self.auth_error = getattr(self.context_value, "auth_error", None)

    def execute_field(self, parent_type, source, field_details_list, path, position_context):  # type: ignore[override]
        if self.denied:
            by_field = self.denied.get(parent_type.name)
            if by_field is not None:
                decision = by_field.get(field_details_list[0].node.name.value)
                if decision is not None:
                    return self._refuse(parent_type, field_details_list, path, decision)
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _refuse(self, parent_type, field_details_list, path, decision: Decision) -> None:
        field_name = field_details_list[0].node.name.value
        coordinate = f"{parent_type.name}.{field_name}"
        field_def = self.schema.get_field(parent_type, field_name)
        unauthenticated = decision.code == "UNAUTHENTICATED"
        message = (
            (self.auth_error or "Sign in first.") if unauthenticated else f"You may not read {coordinate}."
        )
        error = GraphQLError(
            message,
            nodes=[d.node for d in field_details_list],
            path=path.as_list(),
            extensions={"code": decision.code, "field": coordinate},
        )
        if field_def is not None and is_non_null_type(field_def.type):
            # A non-null field cannot be null: the null moves up to the nearest nullable parent.
            raise error
        if coordinate not in self.reported:
            self.reported.add(coordinate)
            self.collected_errors.add(error, path)
        return None
