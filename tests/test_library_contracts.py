"""The library internals the executor leans on, pinned: each test fails with a message that
says what moved, so an upgrade of graphql-core or Strawberry stops here, not in production.

schema/enforcement.py overrides graphql-core's `Executor.execute_field` and
`build_resolve_info` (documented there as private), adds to `collected_errors`, and subclasses
Strawberry's `StrawberryGraphQLCoreExecutionContext` (not exported from `strawberry`).
Everything else uses public APIs: `strawberry.resolvers.is_default_resolver`,
`Schema.process_errors`, `SchemaMetaFieldDef` / `TypeMetaFieldDef`.
"""

from __future__ import annotations

import inspect

import graphql
import strawberry
from graphql.execution.executor import CollectedErrors
from graphql.execution.executor import Executor as ExecutionContext
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from schema.build import AgencySchema, build_schema
from schema.enforcement import FieldPolicyExecutionContext


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_graphql_core_execute_field_keeps_the_signature_the_executor_overrides():
    expected = ["self", "parent_type", "source", "field_details_list", "path", "position_context"]
    found = _parameters(ExecutionContext.execute_field)
    assert found == expected, (
        f"graphql-core {graphql.__version__} changed ExecutionContext.execute_field{found}: "
        "update FieldPolicyExecutionContext.execute_field (the field policy and the fast path live there)"
    )
    assert _parameters(FieldPolicyExecutionContext.execute_field) == expected


def test_graphql_core_build_resolve_info_keeps_its_signature_and_info_its_schema():
    expected = ["self", "field_def", "field_nodes", "parent_type", "path"]
    found = _parameters(ExecutionContext.build_resolve_info)
    assert found == expected, (
        f"graphql-core {graphql.__version__} changed build_resolve_info{found}: introspection would stop "
        "reading the caller's own view of the schema (FieldPolicyExecutionContext.build_resolve_info)"
    )
    assert "schema" in graphql.GraphQLResolveInfo._fields and hasattr(graphql.GraphQLResolveInfo, "_replace"), (
        "GraphQLResolveInfo is no longer a NamedTuple with a `schema`: introspection views need another hook"
    )


def test_graphql_core_meta_fields_resolve_from_info_schema():
    """The views work because __schema and __type read `info.schema`."""

    class Info:
        schema = object()

    assert SchemaMetaFieldDef.resolve(None, Info()) is Info.schema, "__schema no longer resolves to info.schema"


def test_collected_errors_take_an_error_and_its_path():
    assert "self.collected_errors = CollectedErrors()" in inspect.getsource(ExecutionContext.__init__), (
        f"graphql-core {graphql.__version__} no longer keeps `collected_errors` on the executor: "
        "FieldPolicyExecutionContext._refuse adds its FORBIDDEN errors there"
    )
    assert _parameters(CollectedErrors.add)[1:3] == ["error", "path"], "CollectedErrors.add(error, path) moved"


def test_strawberry_execution_context_and_error_hook_are_where_the_schema_uses_them():
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    assert issubclass(FieldPolicyExecutionContext, StrawberryGraphQLCoreExecutionContext)
    assert issubclass(StrawberryGraphQLCoreExecutionContext, ExecutionContext)
    assert "process_errors" in vars(strawberry.Schema) or hasattr(strawberry.Schema, "process_errors"), (
        "Strawberry's public Schema.process_errors hook is gone: AgencySchema.process_errors shapes every error"
    )
    assert "process_errors" in vars(AgencySchema)
    assert build_schema().execution_context_class is FieldPolicyExecutionContext


def test_is_default_resolver_tells_a_column_from_a_resolver():
    from strawberry.resolvers import is_default_resolver

    query = build_schema()._schema.query_type
    client = build_schema()._schema.get_type("Client")
    assert is_default_resolver(client.fields["name"].resolve), "a plain column field is no longer a default resolver"
    assert not is_default_resolver(query.fields["clients"].resolve), "a field with a resolver counts as default"


def test_meta_field_definitions_are_the_ones_the_schema_returns():
    schema = build_schema()._schema
    assert schema.get_field(schema.query_type, "__schema") is SchemaMetaFieldDef
    assert schema.get_field(schema.query_type, "__type") is TypeMetaFieldDef


def test_strawberry_limiters_make_their_rule_classes_with_create_validator():
    """schema/limits.py makes the depth and alias rules once with these (a class per request
    would defeat the validation cache and keep every class alive)."""
    from graphql import ValidationRule
    from strawberry.extensions.max_aliases import create_validator as alias_validator
    from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

    assert _parameters(depth_validator)[:2] == ["max_depth", "should_ignore"]
    assert _parameters(alias_validator) == ["max_alias_count"]
    assert issubclass(depth_validator(3, None), ValidationRule)
    assert issubclass(alias_validator(3), ValidationRule)


def test_validation_cache_keeps_the_attribute_the_copying_cache_calls():
    """schema.limits.CopiedValidationCache calls Strawberry's cached validator itself, to hand
    each request its own copies of the cached errors."""
    from strawberry.extensions import ValidationCache

    cache = ValidationCache(maxsize=4)
    assert _parameters(cache.cached_validate_document) == ["schema", "document", "validation_rules"]
