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
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    visit,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from strawberry.relay.utils import to_base64

from auth.policy import ARGUMENT_GUARDS, Decision, decide, decide_arguments
from auth.principal import Principal
from schema.types.base import ModelNode

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


def _uses_guarded_arguments(schema: GraphQLSchema, document: DocumentNode, body: str | None) -> bool:
    if body is not None and body in _guarded_documents:
        return _guarded_documents[body]
    uses = any(f"{t}.{f}" in ARGUMENT_GUARDS for t, f in field_coordinates(schema, document))
    if body is not None:
        if len(_guarded_documents) > _CACHE_SIZE:
            _guarded_documents.clear()
        _guarded_documents[body] = uses
    return uses


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


def _guarded_arguments(executor: "FieldPolicyExecutionContext", principal: Principal) -> dict[str, dict[str, Decision]]:
    """Refusals for arguments that filter or sort by a hidden field. Argument values come from
    the request's variables, so this runs per request, and only for documents that use a guarded field."""
    from graphql.execution.values import get_argument_values

    schema = executor.schema
    refused: dict[str, dict[str, Decision]] = {}
    type_info = TypeInfo(schema)
    document = DocumentNode(definitions=(executor.operation, *executor.fragment_definitions.values()))

    class Check(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = type_info.get_parent_type()
            field_def = type_info.get_field_def()
            if parent is None or field_def is None or not node.arguments:
                return
            coordinate = f"{parent.name}.{node.name.value}"
            if coordinate not in ARGUMENT_GUARDS:
                return
            try:
                arguments = get_argument_values(field_def, node, executor.variable_values)
            except GraphQLError:
                return  # graphql-core reports invalid arguments itself
            decision = decide_arguments(coordinate, arguments, principal)
            if decision is not None:
                refused.setdefault(parent.name, {})[node.name.value] = decision

    visit(document, TypeInfoVisitor(type_info, Check()))
    return refused


_guarded_documents: dict[str | None, bool] = {}


class _PlainField:
    __slots__ = ("attribute", "leaf_type", "nullable", "global_id")

    def __init__(self, attribute: str, leaf_type: Any, nullable: bool, global_id: bool = False) -> None:
        self.attribute = attribute
        self.leaf_type = leaf_type
        self.nullable = nullable
        self.global_id = global_id


_plain_fields: dict[tuple[int, str, str], _PlainField | None] = {}


def _plain_field(schema: GraphQLSchema, parent_type: Any, name: str) -> _PlainField | None:
    """The attribute behind a field Strawberry would resolve with a bare getattr, else None.
    Decided once per (schema, type, field) for the life of the process."""
    key = (id(schema), parent_type.name, name)
    try:
        return _plain_fields[key]
    except KeyError:
        pass
    plain = None
    field_def = parent_type.fields.get(name)
    origin = getattr((parent_type.extensions or {}).get("strawberry-definition"), "origin", None)
    if name == "id" and isinstance(origin, type) and issubclass(origin, ModelNode) and field_def is not None:
        plain = _PlainField("id", field_def.type, False, global_id=True)
    elif field_def is not None and not field_def.args and getattr(field_def.resolve, "_is_default", False):
        strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
        named = get_named_type(field_def.type)
        if strawberry_field is not None and is_leaf_type(named) and not is_list_type(get_nullable_type(field_def.type)):
            plain = _PlainField(strawberry_field.python_name, named, not is_non_null_type(field_def.type))
    _plain_fields[key] = plain
    return plain


class FieldPolicyExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        principal = getattr(self.context_value, "principal", None)
        document = DocumentNode(definitions=(self.operation, *self.fragment_definitions.values()))
        loc = self.operation.loc
        body = loc.source.body if loc is not None else None
        self.denied = denied_fields(self.schema, document, principal, body) if principal is not None else {}
        if principal is not None and _uses_guarded_arguments(self.schema, document, body):
            extra = _guarded_arguments(self, principal)
            if extra:
                merged = {t: dict(fields) for t, fields in self.denied.items()}
                for type_name, fields in extra.items():
                    merged.setdefault(type_name, {}).update(fields)
                self.denied = merged
        self.reported: set[str] = set()
        self.auth_error = getattr(self.context_value, "auth_error", None)

    def execute_field(self, parent_type, source, field_details_list, path, position_context):  # type: ignore[override]
        name = field_details_list[0].node.name.value
        if self.denied:
            by_field = self.denied.get(parent_type.name)
            if by_field is not None:
                decision = by_field.get(name)
                if decision is not None:
                    return self._refuse(parent_type, field_details_list, path, decision)
        # Fast path: a column read straight off the row (Strawberry's default resolver, no
        # arguments, a scalar or enum). It needs no resolve info, arguments or awaits.
        plain = _plain_field(self.schema, parent_type, name)
        if plain is not None:
            if plain.global_id:
                # A row's Relay id: the same base64 "Type:id" Strawberry's Node.id builds.
                return to_base64(parent_type.name, source.id)
            value = getattr(source, plain.attribute, None)
            if value is not None:
                try:
                    return plain.leaf_type.coerce_output_value(value)
                except Exception:  # noqa: BLE001 - the general path reports it properly
                    pass
            elif plain.nullable:
                return None
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _refuse(self, parent_type, field_details_list, path, decision: Decision) -> None:
        field_name = field_details_list[0].node.name.value
        coordinate = f"{parent_type.name}.{field_name}"
        field_def = self.schema.get_field(parent_type, field_name)
        unauthenticated = decision.code == "UNAUTHENTICATED"
        if unauthenticated:
            message = self.auth_error or "Sign in first."
        else:
            message = decision.message or f"You may not read {coordinate}."
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
