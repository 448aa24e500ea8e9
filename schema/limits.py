"""What one request may ask for: depth, aliases and cost, all refused before any resolver runs
(so before any SQL), with a typed error.

Depth and aliases are validation rules. They are classes made once per process, not per request:
graphql-core's validation and Strawberry's ValidationCache key on the rule classes, so a class made
per request would miss the cache every time and keep every request's class alive in it.

Cost is what a response can hold at most, in fields: each selected field counts 1, times the sizes
of the lists above it. A connection (a field with `first`) counts its `first` (a literal or the
request's variable, at most the page-size cap; omitted, the argument's default), and its `edges` /
`nodes` are that page, not another list. Any other list counts LIST_ESTIMATE items. It is computed
for the operation the request runs, with its variables, right after validation (see
RequestValidation); the limit is `AGENCY_MAX_QUERY_COST` (Settings.max_query_cost).

Parsed documents and their validation results are cached per process (`documents`, a
DocumentCache), least recently used dropped first, within three bounds: entries, tokens and
characters. Entries alone do not bound memory: a document may be as large as the request body
(whitespace, comments and string literals cost few tokens), and its tree keeps every token alive
(about 600 bytes a token), so 512 entries of the largest legal documents would pin over a gigabyte.
A document longer than CACHED_DOCUMENT_CHARS is parsed and validated every time, never cached (it
cannot push the application's own queries out either).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.schema import validate_document

from resolvers.pagination import MAX_PAGE_SIZE

T = TypeVar("T")

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000
DEFAULT_MAX_COST = 200_000
LIST_ESTIMATE = 10
_PAGED = frozenset({"edges", "nodes"})


def _is_list(graphql_type: Any) -> bool:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)


class _Cost:
    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def page_size(self, field: FieldNode, argument_default: Any) -> int:
        """The page a connection field asks for, at most the page-size cap (a larger `first` is
        the resolver's INVALID_PAGE_SIZE, a clearer error than a cost)."""
        value: Any = argument_default
        for argument in field.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, IntValueNode):
                    value = int(argument.value.value)
                elif isinstance(argument.value, VariableNode):
                    value = self.variables.get(argument.value.name.value, argument_default)
                else:
                    value = None  # null: the resolver's default page
        if not isinstance(value, int) or isinstance(value, bool):
            value = argument_default if isinstance(argument_default, int) else MAX_PAGE_SIZE
        return min(max(value, 0), MAX_PAGE_SIZE)

    def of(self, selection_set: SelectionSetNode | None, parent: Any, in_page: bool, seen: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, in_page, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.of(selection.selection_set, target or parent, in_page, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # an unknown or cyclic fragment is a validation error already
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.of(fragment.selection_set, target or parent, in_page, seen | {name})
        return total

    def field(self, node: FieldNode, parent: Any, in_page: bool, seen: frozenset[str]) -> int:
        name = node.name.value
        fields = parent.fields if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) else {}
        definition = fields.get(name)
        if definition is None:
            return 1  # __typename
        child = get_named_type(definition.type)
        first = definition.args.get("first")
        if first is not None:
            size = self.page_size(node, first.default_value)
            return 1 + size * self.of(node.selection_set, child, True, seen)
        if _is_list(definition.type):
            size = 1 if in_page and name in _PAGED else LIST_ESTIMATE
            return 1 + size * self.of(node.selection_set, child, False, seen)
        return 1 + self.of(node.selection_set, child, False, seen)


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == operation_name), None)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The most a response to the selected operation can hold, in fields (see the module
    docstring); 0 when the document selects no operation (an error of its own)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _Cost(schema, fragments, variables or {}).of(operation.selection_set, root, False, frozenset())


def too_costly(cost: int, max_cost: int) -> GraphQLError:
    return GraphQLError(
        f"This operation could return up to {cost} fields, more than the limit of {max_cost}. "
        "Ask for smaller pages (first) or fewer nested lists.",
        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": max_cost},
    )


_DEPTH_RULE = depth_validator(MAX_DEPTH, None)
_ALIAS_RULE = alias_validator(MAX_ALIASES)
_max_cost = DEFAULT_MAX_COST


def configure(*, max_query_cost: int) -> None:
    """Set the cost limit of this process (from Settings, when the app is created)."""
    global _max_cost
    _max_cost = max_query_cost


def limits_extension() -> AddValidationRules:
    """The per-request extension adding the same rule classes every time (see the module docstring)."""
    return AddValidationRules([_DEPTH_RULE, _ALIAS_RULE])


DOCUMENT_CACHE_ENTRIES = 512
DOCUMENT_CACHE_TOKENS = 100_000  # about 60 MB of syntax trees at the most
DOCUMENT_CACHE_CHARS = 4_000_000  # the documents' texts, about 4 MB for ASCII
CACHED_DOCUMENT_CHARS = 64 * 1024  # a longer document is never cached


@dataclass(eq=False, slots=True)
class _Document:
    document: DocumentNode
    tokens: int
    chars: int
    validated: dict[tuple[int, tuple[type[ASTValidationRule], ...]], list[GraphQLError]] = field(default_factory=dict)
    derived: dict[Hashable, Any] = field(default_factory=dict)


def _token_count(document: DocumentNode) -> int:
    """The tokens the document's tree keeps alive (its locations link them all)."""
    count, token = 0, document.loc.start_token if document.loc is not None else None
    while token is not None:
        count, token = count + 1, token.next
    return count


class DocumentCache:
    """Parsed documents by (text, parse options), each with its validation errors per (schema,
    rules): least recently used dropped first, within `entries`, `tokens` and `chars` together
    (see the module docstring). A document's validation results go with it."""

    def __init__(
        self,
        *,
        entries: int = DOCUMENT_CACHE_ENTRIES,
        tokens: int = DOCUMENT_CACHE_TOKENS,
        chars: int = DOCUMENT_CACHE_CHARS,
        largest: int = CACHED_DOCUMENT_CHARS,
    ) -> None:
        self.max_entries, self.max_tokens, self.max_chars, self.largest = entries, tokens, chars, largest
        self.tokens = 0
        self.chars = 0
        self._entries: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], _Document] = OrderedDict()
        self._by_document: dict[int, _Document] = {}  # id(tree) -> its entry, while it is cached

    def __len__(self) -> int:
        return len(self._entries)

    def parse(self, text: str, **options: Any) -> DocumentNode:
        """The document of `text` (graphql-core's parse with these options; a syntax error raises
        and is not cached). An empty selection set (`{ }`) is a syntax error, as the GraphQL
        specification has it: graphql-core 3.3 parses one by default (a deprecated option), and
        nothing after the parser expects one."""
        options.setdefault("allow_empty_selection_sets", False)
        if len(text) > self.largest:
            return parse(text, **options)
        key = (text, tuple(sorted(options.items())))
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found.document
        document = parse(text, **options)
        entry = _Document(document, _token_count(document), len(text))
        self._entries[key] = entry
        self._by_document[id(document)] = entry
        self.tokens += entry.tokens
        self.chars += entry.chars
        while len(self._entries) > 1 and (
            len(self._entries) > self.max_entries or self.tokens > self.max_tokens or self.chars > self.max_chars
        ):
            _, dropped = self._entries.popitem(last=False)
            del self._by_document[id(dropped.document)]
            self.tokens -= dropped.tokens
            self.chars -= dropped.chars
        return document

    def validate(
        self, schema: GraphQLSchema, document: DocumentNode, rules: Sequence[type[ASTValidationRule]]
    ) -> list[GraphQLError]:
        """Strawberry's validation of `document` with `rules`, remembered with the document while
        it is cached (a document this cache did not parse, or no longer holds, is validated anew)."""
        rules = tuple(rules)
        entry = self._by_document.get(id(document))
        if entry is None or entry.document is not document:
            return validate_document(schema, document, rules)
        key = (id(schema), rules)
        errors = entry.validated.get(key)
        if errors is None:
            errors = entry.validated[key] = validate_document(schema, document, rules)
        return errors

    def derived(self, document: DocumentNode, key: Hashable, compute: Callable[[], T]) -> T:
        """What `compute()` finds in `document` alone (no variables, no caller), remembered with
        the document while it is cached under `key` (which names what was computed and from
        what: a schema's id, an operation's). A document this cache does not hold is computed anew."""
        entry = self._by_document.get(id(document))
        if entry is None or entry.document is not document:
            return compute()
        if key in entry.derived:
            return cast(T, entry.derived[key])
        value = entry.derived[key] = compute()
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._by_document.clear()
        self.tokens = self.chars = 0


documents = DocumentCache()
"""The process's one document cache (the schema's extensions and the HTTP view share it)."""


class CachedParse(SchemaExtension):
    """Parsing through `documents`, with the request's parse options (MaxTokensLimiter's)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = documents.parse(context.query or "", **context.parse_options)
        yield


class RequestValidation(SchemaExtension):
    """Validation for one request, cached with its document (`documents`), then the cost of the
    operation the request runs, with its variables.

    Each request gets its own copies of the cached errors: the schema's process_errors rewrites
    an error for its caller (codes, "Did you mean" filtered by the caller's view of the schema),
    and on the cached objects themselves one caller's rewrite would reach the next caller of the
    same document."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        schema = context.schema._schema
        errors = documents.validate(schema, document, context.validation_rules) if document is not None else []
        copies = [
            GraphQLError(
                error.message,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                error.original_error,
                dict(error.extensions) if error.extensions else None,
            )
            for error in errors
        ]
        if not copies and document is not None:
            if context.variables:
                cost = operation_cost(schema, document, context.operation_name, context.variables)
            else:  # the document and the operation alone decide it: found once per cached document
                cost = documents.derived(
                    document,
                    ("cost", id(schema), context.operation_name),
                    lambda: operation_cost(schema, document, context.operation_name),
                )
            if cost > _max_cost:
                copies.append(too_costly(cost, _max_cost))
        context.pre_execution_errors = copies
        yield
