"""Field access, decided once per request before execution.

The selected operation's field coordinates (fragments, aliases, interfaces and unions
included) are checked against auth.policy for the caller's policy key; the refused set is
cached per (policy key, document text, selected operation name), so neither another
operation of the same document nor another caller's decision is ever reused. Argument
rules depend on the values sent (variables), so they are checked per request, for the
operations that use a ruled argument. A request with no Principal is decided as an
anonymous caller: only OPEN fields. During execution a denied field resolves to null with
one error per coordinate. Nothing here runs per row beyond one dictionary lookup per field.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from asyncio import iscoroutine
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
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
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import gather_with_cancel
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.relay import GlobalID
from strawberry.relay.utils import to_base64
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from auth.policy import ARGUMENT_RULES, Decision, decide, decide_arguments
from auth.principal import ANONYMOUS, PolicyKey, Principal
from resolvers.compiled import plan_root_field
from resolvers.errors import DatabaseUnavailable
from schema.base import ModelNode
from schema.context import EventPayload
from schema.ids import decode_id, lookup_id, row_id
from schema.limits import documents
from schema.views import view_for

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList
    from graphql.execution.incremental.incremental_executor import DeliveryGroupMap
    from graphql.pyutils import AwaitableOrValue, Path, UndefinedType

log = logging.getLogger("agency.graphql")

Denied = dict[str, dict[str, Decision]]


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    """What the policy says of one operation for one policy key, before argument values."""

    denied: Denied
    ruled: bool  # whether the operation reaches a field with argument rules


DecisionKey = tuple[PolicyKey, bytes]  # (policy key, digest of the document text and operation name)


def decision_key(key: PolicyKey, text: str, operation_name: str | None) -> DecisionKey:
    """The cache key of one operation of one document for one policy key. The text goes in as a
    128-bit digest, not the text itself: a document may be as large as the request body (a long
    string literal is one token, whitespace none), and 2,048 entries holding their texts could
    pin gigabytes for anyone sending distinct large documents."""
    body = text.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(len(body).to_bytes(8, "big"), digest_size=16)
    digest.update(body)
    if operation_name is not None:
        digest.update(b"\x01" + operation_name.encode("utf-8", "surrogatepass"))
    return key, digest.digest()


class DecisionCache:
    """Decisions per (policy key, document text, operation name), least recently used dropped
    first, and how many times the policy was consulted to fill it (a test proves that count
    depends on the query's shape, never on how many rows it returns)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.policy_checks = 0
        self._entries: OrderedDict[DecisionKey, OperationPolicy] = OrderedDict()

    def get(self, key: DecisionKey) -> OperationPolicy | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: DecisionKey, decided: OperationPolicy) -> None:
        self._entries[key] = decided
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


decisions = DecisionCache(size=2048)

#: The compiled read path's plans of operations without variables: per (operation decision key,
#: root response key, caller, dialect), the statement (rows read by the database, nothing of them
#: kept here) or None, the resolver path. Decided once per operation and caller, never per row.
PlanKey = tuple[DecisionKey, str, Principal, str]
compiled_plans: OrderedDict[PlanKey, Any] = OrderedDict()
COMPILED_PLANS = 512

#: Operations every root field of which was answered by a kept compiled plan, and answered
#: without an error: per (operation decision key as the request named it, caller, dialect), the
#: (response key, statement) of each root field in order. The HTTP view answers such an
#: operation again by running the statements alone (server.app, `answer_compiled`): what the
#: rest of a request decides (parsing, validation, limits, the field policy) is the document's,
#: the operation's and the policy key's alone, all in the key, and was decided without error.
AnswerKey = tuple[DecisionKey, Principal, str]
compiled_answers: OrderedDict[AnswerKey, tuple[tuple[str, Any], ...]] = OrderedDict()


def _visit_typed(document: DocumentNode, type_info: TypeInfo, visitor: Visitor) -> None:
    """Visit with TypeInfo, then drop the visitors' memo of their own bound methods.

    graphql-core's Visitor memoises `get_enter_leave_for_kind` in the instance (bound methods of
    itself): a reference cycle per visitor, which would hold everything the visitor reaches (the
    request's variables, its decisions) until the cyclic collector runs."""
    wrapper = TypeInfoVisitor(type_info, visitor)
    try:
        visit(document, wrapper)
    finally:
        wrapper.enter_leave_map.clear()
        visitor.enter_leave_map.clear()


class _CollectCoordinates(Visitor):
    """Defined once (a class per call is a new type object per request, and a type is always a
    reference cycle)."""

    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo) -> None:
        super().__init__()
        self.schema = schema
        self.type_info = type_info
        self.found: set[tuple[str, str]] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        name = node.name.value
        # Introspection answers from the caller's own view (build_resolve_info): nothing to refuse.
        if parent is None or name.startswith("__") or parent.name.startswith("__"):
            return
        self.found.add((parent.name, name))
        if is_abstract_type(parent):
            for possible in self.schema.get_possible_types(parent):
                self.found.add((possible.name, name))


def field_coordinates(schema: GraphQLSchema, document: DocumentNode) -> set[tuple[str, str]]:
    """Every (type, field) the document can touch; a field on an interface or union counts for each possible type."""
    type_info = TypeInfo(schema)
    collect = _CollectCoordinates(schema, type_info)
    _visit_typed(document, type_info, collect)
    return collect.found


def operation_policy(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    key: PolicyKey,
) -> OperationPolicy:
    """The policy's answer for this operation (with the fragments it may spread) and policy key.

    Cached by (policy key, document text, operation name): a document may hold several
    operations, and one text may come from callers with different keys. An operation
    built without source text (no location) is decided afresh."""
    loc = operation.loc
    name = operation.name.value if operation.name else None
    cache_key = decision_key(key, loc.source.body, name) if loc is not None else None
    if cache_key is not None:
        cached = decisions.get(cache_key)
        if cached is not None:
            return cached
    document = DocumentNode(definitions=(operation, *fragments.values()))
    denied: Denied = {}
    ruled = False
    for type_name, field_name in field_coordinates(schema, document):
        decisions.policy_checks += 1
        decision = decide(type_name, field_name, key)
        if not decision.allowed:
            denied.setdefault(type_name, {})[field_name] = decision
        ruled = ruled or f"{type_name}.{field_name}" in ARGUMENT_RULES
    result = OperationPolicy(denied, ruled)
    if cache_key is not None:
        decisions.put(cache_key, result)
    return result


def refused_arguments(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variable_values: VariableValues,
    key: PolicyKey,
    document: DocumentNode | None = None,
) -> Denied:
    """Fields refused because of the arguments they were given: a filter or sort by a hidden
    field, an input field the caller may not set, a value its role may not use. Argument
    values come from the request's variables, so the decisions are made per request, and only
    for operations that reach a field with argument rules; which fields those are depends on the
    document alone, found once while the document is cached (schema.limits.documents.derived)."""
    if document is not None and not operation.variable_definitions:
        # Literals only: the document and the caller's policy key decide it, once per cached document.
        return documents.derived(
            document,
            ("refused_arguments", id(schema), id(operation), key),
            lambda: _refused_arguments(schema, operation, fragments, variable_values, key, document),
        )
    return _refused_arguments(schema, operation, fragments, variable_values, key, document)


def _refused_arguments(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variable_values: VariableValues,
    key: PolicyKey,
    document: DocumentNode | None,
) -> Denied:
    refused: Denied = {}
    if document is None:
        ruled = _ruled_fields(schema, operation, fragments)
    else:
        ruled = documents.derived(
            document,
            ("ruled_fields", id(schema), id(operation)),
            lambda: _ruled_fields(schema, operation, fragments),
        )
    for parent_name, field_def, node, coordinate in ruled:
        try:
            arguments = get_argument_values(field_def, node, variable_values)
        except GraphQLError:
            continue  # graphql-core reports invalid arguments itself
        decision = decide_arguments(coordinate, arguments, key, _null_defaults(field_def, coordinate))
        if decision is not None:
            refused.setdefault(parent_name, {})[node.name.value] = decision
    return refused


RuledField = tuple[str, GraphQLField, FieldNode, str]  # parent type, its field, the node, "Type.field"


def _ruled_fields(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[RuledField, ...]:
    """Every field node of the operation (and its fragments) given arguments on a field with
    argument rules (auth.policy.ARGUMENT_RULES), in document order."""
    type_info = TypeInfo(schema)
    document = DocumentNode(definitions=(operation, *fragments.values()))
    collect = _CollectRuled(type_info)
    _visit_typed(document, type_info, collect)
    return tuple(collect.found)


class _CollectRuled(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: list[RuledField] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        field_def = self.type_info.get_field_def()
        if parent is None or field_def is None or not node.arguments:
            return
        coordinate = f"{parent.name}.{node.name.value}"
        if coordinate in ARGUMENT_RULES:
            self.found.append((parent.name, field_def, node, coordinate))


_null_default_paths: dict[tuple[int, str], frozenset[tuple[str, ...]]] = {}


def _null_defaults(field_def: GraphQLField, coordinate: str) -> frozenset[tuple[str, ...]]:
    """The ruled argument paths of this field whose schema default is null: there a null value
    is indistinguishable from leaving the argument out, so it writes nothing."""
    cache_key = (id(field_def), coordinate)
    found = _null_default_paths.get(cache_key)
    if found is not None:
        return found
    paths: set[tuple[str, ...]] = set()
    for rule in ARGUMENT_RULES.get(coordinate, ()):
        holder: GraphQLArgument | GraphQLInputField | None = field_def.args.get(rule.path[0])
        for step in rule.path[1:]:
            named = get_named_type(holder.type) if holder is not None else None
            holder = named.fields.get(step) if isinstance(named, GraphQLInputObjectType) else None
        if holder is not None and holder.default_value is None:
            paths.add(rule.path)
    found = _null_default_paths[cache_key] = frozenset(paths)
    return found


def policy_key_of(context: object) -> PolicyKey:
    """The caller's policy key; a request without a Principal is anonymous (fail closed)."""
    principal = getattr(context, "principal", None)
    key = getattr(principal, "policy_key", None)
    return key if isinstance(key, PolicyKey) else ANONYMOUS.policy_key


class _PlainField:
    """`coerce` is the leaf type's output coercion (a scalar's or an enum's `coerce_output_value`);
    a Relay id (`global_id`) has none: it is built from the row's id."""

    __slots__ = ("attribute", "coerce", "global_id", "nullable")

    def __init__(
        self, attribute: str, coerce: Callable[[Any], Any] | None, nullable: bool, global_id: bool = False
    ) -> None:
        self.attribute = attribute
        self.coerce = coerce
        self.nullable = nullable
        self.global_id = global_id


_plain_fields: dict[tuple[int, str, str], _PlainField | None] = {}


def _plain_field(schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str) -> _PlainField | None:
    """The attribute behind a field Strawberry would resolve with a bare getattr, else None.
    Decided once per (schema, type, field) for the life of the process."""
    key = (id(schema), parent_type.name, name)
    try:
        return _plain_fields[key]
    except KeyError:
        pass
    plain: _PlainField | None = None
    field_def = parent_type.fields.get(name)
    origin = getattr((parent_type.extensions or {}).get("strawberry-definition"), "origin", None)
    if name == "id" and isinstance(origin, type) and issubclass(origin, ModelNode) and field_def is not None:
        plain = _PlainField("id", None, False, global_id=True)
    elif field_def is not None and not field_def.args and is_default_resolver(field_def.resolve):
        strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
        named = get_named_type(field_def.type)
        # A field with permission classes or extensions is not a bare read, whatever its resolver.
        if (
            isinstance(strawberry_field, StrawberryField)
            and not strawberry_field.permission_classes
            and not strawberry_field.extensions
            and is_leaf_type(named)
            and named.coerce_output_value is not None
            and not is_list_type(get_nullable_type(field_def.type))
        ):
            plain = _PlainField(
                strawberry_field.python_name, named.coerce_output_value, not is_non_null_type(field_def.type)
            )
    _plain_fields[key] = plain
    return plain


def _async_helpers(executor: StrawberryGraphQLCoreExecutionContext) -> GraphQLResolveInfoHelpers:
    """graphql-core's resolver helpers without its reference cycle.

    graphql-core builds them from the executor's own bound methods (executor -> helpers ->
    bound method -> executor): a cycle that made the whole request (its context, the loaders,
    every row they cached) cyclic garbage, freed only when the collector next looked at the
    generation it had reached. These reach the executor through a weak reference: it is alive
    for as long as it executes, which is when resolvers call them."""
    executor_ref = weakref.ref(executor)

    def track(values: Sequence[Any]) -> None:
        live = executor_ref()
        if live is not None:
            live.track_async_work(values)
        else:  # the operation is over: nothing will await these, dispose of them
            for value in values:
                if iscoroutine(value):
                    value.close()

    return GraphQLResolveInfoHelpers(gather=_gather_async_work, track=track)


def _gather_async_work(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


def _global_id(value: Any) -> GlobalID | None:
    """An ID argument as Strawberry hands it to a resolver; a malformed one raises ValueError
    (the resolver path reports it)."""
    if value is None or isinstance(value, GlobalID):
        return value
    return GlobalID.from_id(value)


def _filter_id(value: Any, type_name: str) -> int | None:
    """A global id in a list filter, read as the resolvers read it (schema.ids.decode_id)."""
    return decode_id(_global_id(value), type_name, "filter")


def _lookup_id(value: Any, type_name: str) -> int | None:
    """A root lookup's global id, read as the resolvers read it (schema.ids.lookup_id)."""
    found = _global_id(value)
    return None if found is None else lookup_id(found, type_name)


def _node_id(value: Any) -> tuple[str, int | None] | None:
    """node(id)'s (type name, row id), as Query.node reads it (schema.ids.row_id); None when the
    value is no global id at all."""
    try:
        found = _global_id(value)
    except ValueError:
        return None
    return None if found is None else (found.type_name, row_id(found.node_id))


class FieldPolicyExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(cls, schema: GraphQLSchema, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        # The document goes to the constructor: what is found in it alone is remembered with it.
        return super().build(schema, document, *args, graphql_document=document, **kwargs)

    def __init__(self, *args: Any, graphql_document: DocumentNode | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graphql_document = graphql_document
        self.async_helpers = _async_helpers(self)
        self.policy_key = key = policy_key_of(self.context_value)
        decided = operation_policy(self.schema, self.operation, self.fragment_definitions, key)
        self.denied = decided.denied
        if decided.ruled:
            extra = refused_arguments(
                self.schema,
                self.operation,
                self.fragment_definitions,
                self.variable_values,
                key,
                self.graphql_document,
            )
            if extra:
                merged = {t: dict(fields) for t, fields in self.denied.items()}
                for type_name, fields in extra.items():
                    merged.setdefault(type_name, {}).update(fields)
                self.denied = merged
        self.reported: set[str] = set()
        self.auth_error = getattr(self.context_value, "auth_error", None)
        # The compiled read path (resolvers.compiled): query root fields it can express are
        # answered by one SQL statement each, when the app has it on (Settings.compiled_reads) and
        # the HTTP view writes the response (it splices the JSON text; nobody else reads it as data).
        self.compiled_reads = (
            getattr(self.context_value, "compiled_reads", False) is True
            and self.operation.operation is OperationType.QUERY
        )

    def build_resolve_info(
        self, field_def: GraphQLField, field_nodes: list[FieldNode], parent_type: GraphQLObjectType, path: Path
    ) -> GraphQLResolveInfo[object]:
        """Introspection reads the caller's own view of the schema (schema.views): `__schema`,
        `__type` and everything below them see only what this policy key may use."""
        if self.denied and parent_type is self.schema.subscription_type:
            # A subscription's root field is resolved outside execute_field (graphql-core calls its
            # source-stream resolver directly): a refused one must never open a stream.
            decision = self.denied.get(parent_type.name, {}).get(field_nodes[0].name.value)
            if decision is not None:
                coordinate = f"{parent_type.name}.{field_nodes[0].name.value}"
                raise GraphQLError(
                    decision.message or f"You may not read {coordinate}.",
                    nodes=field_nodes,
                    path=path.as_list(),
                    extensions={"code": decision.code, "field": coordinate},
                )
        info = super().build_resolve_info(field_def, field_nodes, parent_type, path)
        if field_def is SchemaMetaFieldDef or field_def is TypeMetaFieldDef or parent_type.name.startswith("__"):
            return info._replace(schema=view_for(self.schema, self.policy_key))
        return info

    def build_per_event_executor(self, payload: Any) -> FieldPolicyExecutionContext:
        """A subscription event's executor: the same decisions (made once for the operation), its
        own errors, and the event's own context when the stream sent one (schema.context.EventPayload:
        a database handle and loaders of the event's own)."""
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, FieldPolicyExecutionContext)
        if isinstance(payload, EventPayload):
            executor.root_value = payload.value
            executor.context_value = payload.context
        executor.reported = set()
        executor.async_helpers = _async_helpers(executor)
        return executor

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: DeliveryGroupMap | None,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        name = field_details_list[0].node.name.value
        if self.denied:
            by_field = self.denied.get(parent_type.name)
            if by_field is not None:
                decision = by_field.get(name)
                if decision is not None:
                    if path.prev is None:
                        self._not_compiled()
                    self._refuse(parent_type, field_details_list, path, decision)
                    return None
        if self.compiled_reads and path.prev is None and parent_type is self.schema.query_type:
            compiled = self._compiled_root(parent_type, source, field_details_list, path, position_context)
            if compiled is not None:
                return compiled
        if path.prev is None:
            self._not_compiled()
        # Fast path: a column read straight off the row (Strawberry's default resolver, no
        # arguments, a scalar or enum). It needs no resolve info, arguments or awaits.
        plain = _plain_field(self.schema, parent_type, name)
        if plain is not None:
            if plain.global_id:
                # A row's Relay id: the same base64 "Type:id" Strawberry's Node.id builds.
                return to_base64(parent_type.name, source.id)
            value = getattr(source, plain.attribute, None)
            if value is not None:
                if plain.coerce is not None:
                    try:
                        return plain.coerce(value)
                    except Exception:
                        pass
            elif plain.nullable:
                return None
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _compiled_root(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: DeliveryGroupMap | None,
    ) -> Awaitable[Any] | None:
        """A query root field as one SQL statement building its JSON text, spliced into the
        response unparsed (orjson.Fragment); None when the planner cannot express it (the
        resolvers answer it). A failure of the statement is this field's error, as a resolver's is."""
        principal = getattr(self.context_value, "principal", None)
        db = getattr(self.context_value, "db", None)
        if not isinstance(principal, Principal) or db is None:
            return None
        loc = self.operation.loc
        plan_key: PlanKey | None = None
        # Only an operation without variables is kept: its plans are as many as its callers, where
        # one with variables (an id, a cursor) would fill the cache with plans used once each.
        if loc is not None and not self.variable_values.coerced:
            name = self.operation.name.value if self.operation.name else None
            operation = decision_key(self.policy_key, loc.source.body, name)
            plan_key = (operation, str(path.key), principal, db.dialect_name)
        if plan_key is not None and plan_key in compiled_plans:
            compiled_plans.move_to_end(plan_key)
            statement = compiled_plans[plan_key]
        else:
            statement = plan_root_field(
                self.schema,
                list(field_details_list),
                collect_subfields=self.collect_subfields,
                variable_values=self.variable_values,
                denied=self.denied,
                principal=principal,
                decode_id=_filter_id,
                lookup_id=_lookup_id,
                dialect=db.dialect_name,
                node_id=_node_id,
            )
            if plan_key is not None:
                compiled_plans[plan_key] = statement
                if len(compiled_plans) > COMPILED_PLANS:
                    compiled_plans.popitem(last=False)
        if statement is None:
            return None
        if plan_key is not None and compiled_plans.get(plan_key) is statement:
            self._compiled(str(path.key), statement)
        else:
            self._not_compiled()
        return_type = parent_type.fields[field_details_list[0].node.name.value].type

        async def run() -> Any:
            try:
                text = await db.core_scalar(statement)
                if not isinstance(text, str):
                    raise RuntimeError("the compiled statement wrote no JSON")
            except DatabaseUnavailable as error:
                self.handle_field_error(error, return_type, field_details_list, path)
                return None
            except Exception as error:
                if error is db.caller_refusal:
                    # The caller's check (made in this statement) refused it: the request is
                    # answered 401 (server.app), nothing of this field is.
                    self.handle_field_error(error, return_type, field_details_list, path)
                    return None
                self._not_compiled()
                # A statement the database refused is a bug of the compiler, never the caller's
                # loss: logged, the plan dropped for this operation, and the resolvers answer.
                log.exception("compiled statement failed for %s; the resolvers answer it", path.key)
                if plan_key is not None:
                    compiled_plans[plan_key] = None
                answer = super(FieldPolicyExecutionContext, self).execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
                return await answer if self.is_awaitable(answer) else answer
            return orjson.Fragment(text)

        return run()

    def _compiled(self, response_key: str, statement: Any) -> None:
        """Note a root field answered by a kept compiled plan (Context.compiled_roots)."""
        roots = getattr(self.context_value, "compiled_roots", None)
        if roots is not None:
            roots.append((response_key, statement))

    def _not_compiled(self) -> None:
        """Note a root field answered otherwise: this operation is not all compiled statements."""
        if getattr(self.context_value, "compiled_roots", None) is not None:
            self.context_value.compiled_roots = None

    def _refuse(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList, path: Path, decision: Decision
    ) -> None:
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
