"""Each caller's own view of the schema, one per policy key.

A view is the full schema's SDL filtered by the policy table: the fields the key may read
(or mutations it may call), the arguments, input fields and enum values its argument rules
let it use, and only the types still reachable from the roots through what is left (an
interface does not pull in its implementations: `node` does not reveal `Lead` to a portal
user). graphql-core builds a resolver-less schema from that SDL; introspection (`__schema`,
`__type`) reads it, validation suggestions are limited to it, and `GET /graphql/schema.graphql`
and `agency schema --role` print it. Every other field still executes on the full schema,
where a field outside the view answers null with one FORBIDDEN error.

Views are built once per (schema, policy key) and kept: there are a handful of keys (five
roles, costs shown or not, read-only), more only with partner scopes, bounded by the LRU.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace

from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    FieldDefinitionNode,
    GraphQLEnumType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_schema,
    validate_schema,
)
from graphql.pyutils import or_list

from auth.policy import ARGUMENT_RULES, decide, decide_rule
from auth.principal import PolicyKey
from models.enums import Role

_MAX_VIEWS = 64
_views: OrderedDict[tuple[int, PolicyKey], GraphQLSchema] = OrderedDict()
_documents: dict[int, DocumentNode] = {}
_ROOTS = ("Query", "Mutation", "Subscription")

Definitions = dict[str, TypeDefinitionNode]  # the full schema's types, by name
Fields = dict[str, list[FieldDefinitionNode]]  # the fields an object or interface type keeps in the view
Arguments = tuple[InputValueDefinitionNode, ...]
KeepArguments = Callable[[str, FieldDefinitionNode], Arguments]


def view_for(schema: GraphQLSchema, key: PolicyKey) -> GraphQLSchema:
    """The schema as a caller with this policy key may see it (built once per key)."""
    cache_key = (id(schema), key)
    view = _views.get(cache_key)
    if view is not None:
        _views.move_to_end(cache_key)
        return view
    view = _build_view(schema, key)
    _views[cache_key] = view
    if len(_views) > _MAX_VIEWS:
        _views.popitem(last=False)
    return view


def sdl_for(schema: GraphQLSchema, key: PolicyKey) -> str:
    """The caller's own SDL: what codegen and IDE plugins should point at."""
    return print_schema(view_for(schema, key))


def key_for_role(
    role: Role | None,
    *,
    costs_shown: bool = False,
    read_only: bool = False,
    scopes: frozenset[str] = frozenset(),
    grants: frozenset[int] = frozenset(),
) -> PolicyKey:
    """A policy key as the CLI and tests name one (the same key a Principal of that kind derives)."""
    from auth.principal import Principal

    principal = Principal(
        user_id=None, role=role, costs_enabled=costs_shown, read_only=read_only, scopes=scopes, grants=grants
    )
    return principal.policy_key


def partner_key(scopes: Iterable[str], client_ids: Iterable[int] = ()) -> PolicyKey:
    """The policy key of a partner app granted these scopes (auth.policy_table.SCOPES), limited to
    these clients (none: every client)."""
    return key_for_role(Role.PARTNER, scopes=frozenset(scopes), grants=frozenset(client_ids))


def sdl_for_partner(schema: GraphQLSchema, scopes: Iterable[str], client_ids: Iterable[int] = ()) -> str:
    """The SDL a partner app with these scopes sees (its introspection, `agency schema --role PARTNER`)."""
    return sdl_for(schema, partner_key(scopes, client_ids))


def _full_document(schema: GraphQLSchema) -> DocumentNode:
    document = _documents.get(id(schema))
    if document is None:
        document = _documents[id(schema)] = parse(print_schema(schema), no_location=True)
    return document


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, (NonNullTypeNode, ListTypeNode)):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


def _fields_of(definitions: Definitions, type_name: str) -> tuple[FieldDefinitionNode, ...]:
    node = definitions[type_name]
    if not isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
        raise LookupError(f"{type_name} is not an object or interface type of the schema")
    return node.fields or ()


def _input_fields_of(definitions: Definitions, type_name: str) -> Arguments:
    node = definitions[type_name]
    if not isinstance(node, InputObjectTypeDefinitionNode):
        raise LookupError(f"{type_name} is not an input type of the schema")
    return node.fields or ()


def _build_view(schema: GraphQLSchema, key: PolicyKey) -> GraphQLSchema:
    document = _full_document(schema)
    definitions: Definitions = {d.name.value: d for d in document.definitions if isinstance(d, TypeDefinitionNode)}
    directives = [d for d in document.definitions if isinstance(d, DirectiveDefinitionNode)]

    # 1. Fields the key may read (or mutations it may call).
    fields: Fields = {}
    for name, node in definitions.items():
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            fields[name] = [f for f in node.fields or () if decide(name, f.name.value, key).allowed]

    # 2. Argument rules: hide the argument, the input field, or the enum value. Every rule counts,
    # also those of fields outside the view: input and enum types are shared, and a view-as token
    # (no mutations) must see CommentKind exactly as its portal user does.
    hidden_arguments: set[tuple[str, str, str]] = set()  # (type, field, argument)
    hidden_inputs: set[tuple[str, str]] = set()  # (input type, field)
    hidden_values: set[tuple[str, str]] = set()  # (enum type, value)
    for coordinate, rules in ARGUMENT_RULES.items():
        type_name, field_name = coordinate.split(".", 1)
        field = next((f for f in _fields_of(definitions, type_name) if f.name.value == field_name), None)
        if field is None:
            raise LookupError(f"argument rule on {coordinate}, which is not a field of the schema")
        for rule in rules:
            if decide_rule(coordinate, rule, key).allowed:
                continue
            argument = next((a for a in field.arguments or () if a.name.value == rule.path[0]), None)
            if argument is None:
                raise LookupError(f"argument rule {coordinate}({rule.label}) names no argument of the schema")
            holder_type, holder = type_name, argument
            for step in rule.path[1:]:
                holder_type = _named(holder.type)
                holder = next(f for f in _input_fields_of(definitions, holder_type) if f.name.value == step)
            if rule.value is not None:
                hidden_values.add((_named(holder.type), rule.value))
            elif holder is argument:
                hidden_arguments.add((type_name, field_name, argument.name.value))
            else:
                hidden_inputs.add((holder_type, holder.name.value))

    def keep_arguments(type_name: str, field: FieldDefinitionNode) -> Arguments:
        return tuple(
            a for a in field.arguments or () if (type_name, field.name.value, a.name.value) not in hidden_arguments
        )

    # 3. Reachable types from the roots, dropping fields whose type is gone, until nothing changes.
    removed: set[str] = set()
    while True:
        reachable = _reachable(definitions, fields, hidden_inputs, removed, keep_arguments)
        empty = {
            name
            for name in reachable
            if name in fields and not [f for f in fields[name] if _named(f.type) not in removed]
        }
        if not empty - removed:
            break
        removed |= empty
    for name, kept in fields.items():
        fields[name] = [f for f in kept if _named(f.type) not in removed]

    # 4. The filtered document.
    out: list[DefinitionNode] = []
    for name, node in definitions.items():
        if name not in reachable or name in removed:
            continue
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            interfaces = tuple(
                i for i in node.interfaces or () if i.name.value in reachable and i.name.value not in removed
            )
            kept_fields = tuple(replace(f, arguments=keep_arguments(name, f)) for f in fields[name])
            out.append(replace(node, fields=kept_fields, interfaces=interfaces))
        elif isinstance(node, InputObjectTypeDefinitionNode):
            kept_inputs = tuple(f for f in node.fields or () if (name, f.name.value) not in hidden_inputs)
            out.append(replace(node, fields=_drop_hidden_defaults(kept_inputs, hidden_values)))
        elif isinstance(node, EnumTypeDefinitionNode):
            values = tuple(v for v in node.values or () if (name, v.name.value) not in hidden_values)
            out.append(replace(node, values=values))
        elif isinstance(node, UnionTypeDefinitionNode):
            members = tuple(t for t in node.types or () if t.name.value in reachable and t.name.value not in removed)
            out.append(replace(node, types=members))
        else:
            out.append(node)
    view = build_ast_schema(DocumentNode(definitions=(*out, *directives)), assume_valid_sdl=True)
    errors = validate_schema(view)
    if errors:
        raise ValueError(f"the schema view for {key.label()} is not a valid schema: {errors[0].message}")
    return view


def _drop_hidden_defaults(fields: Arguments, hidden_values: set[tuple[str, str]]) -> Arguments:
    """An input field whose default is a hidden enum value keeps no default in the view."""
    out = []
    for field in fields:
        default = field.default_value
        if isinstance(default, EnumValueNode) and (_named(field.type), default.value) in hidden_values:
            field = replace(field, default_value=None)
        out.append(field)
    return tuple(out)


def _reachable(
    definitions: Definitions,
    fields: Fields,
    hidden_inputs: set[tuple[str, str]],
    removed: set[str],
    keep_arguments: KeepArguments,
) -> set[str]:
    seen: set[str] = set()
    stack = [root for root in _ROOTS if root in definitions and fields.get(root)]
    while stack:
        name = stack.pop()
        if name in seen or name in removed or name not in definitions:
            continue
        seen.add(name)
        node = definitions[name]
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            stack.extend(i.name.value for i in node.interfaces or ())
            for field in fields[name]:
                stack.append(_named(field.type))
                stack.extend(_named(a.type) for a in keep_arguments(name, field))
        elif isinstance(node, InputObjectTypeDefinitionNode):
            stack.extend(_named(f.type) for f in node.fields or () if (name, f.name.value) not in hidden_inputs)
        elif isinstance(node, UnionTypeDefinitionNode):
            stack.extend(t.name.value for t in node.types or ())
    return seen


# ---- validation messages: suggestions only from the caller's view

_DID_YOU_MEAN = re.compile(r" Did you mean (?P<sub>the enum value |to use an inline fragment on )?(?P<names>[^?]*)\?")
_QUOTED = re.compile(r"'([^']+)'")


def filter_suggestions(message: str, view: GraphQLSchema) -> str:
    """graphql-core's "Did you mean ...?" keeps only names the caller's view holds: a field of the
    same type, an argument of the same field, an input field, an enum value, a type. When the
    kind of name cannot be told, every suggestion goes."""
    match = _DID_YOU_MEAN.search(message)
    if match is None or "{" in match.group("names"):  # "Did you mean 'field { ... }'": the caller's own field
        return message
    known = _names_in_context(message[: match.start()], view)
    kept = [name for name in _QUOTED.findall(match.group("names")) if known is not None and name in known]
    replacement = f" Did you mean {match.group('sub') or ''}{or_list([repr_name(n) for n in kept])}?" if kept else ""
    return message[: match.start()] + replacement + message[match.end() :]


def repr_name(name: str) -> str:
    return f"'{name}'"


def _names_in_context(head: str, view: GraphQLSchema) -> set[str] | None:
    def fields_of(type_name: str) -> set[str]:
        found = view.get_type(type_name)
        return set(getattr(found, "fields", {}) or ())

    if m := re.search(r"Cannot query field '[^']+' on type '(?P<t>[^']+)'", head):
        return fields_of(m["t"]) | set(view.type_map)  # inline-fragment suggestions name types
    if m := re.search(r"Unknown argument '[^']+' on field '(?P<t>[^'.]+)\.(?P<f>[^']+)'", head):
        found = view.get_type(m["t"])
        field = (getattr(found, "fields", None) or {}).get(m["f"])
        return set(field.args) if field is not None else set()
    if m := re.search(r"Unknown argument '[^']+' on directive '@(?P<d>[^']+)'", head):
        directive = view.get_directive(m["d"])
        return set(directive.args) if directive is not None else set()
    if m := re.search(r"Value '[^']*' does not exist in '(?P<t>[^']+)' enum", head):
        found = view.get_type(m["t"])
        return set(found.values) if isinstance(found, GraphQLEnumType) else set()
    if m := re.search(r"(?:Expected value of type|is not defined by type) '(?P<t>[^']+)'", head):
        return fields_of(m["t"])
    if re.search(r"Unknown type '[^']+'", head):
        return set(view.type_map)
    return None
