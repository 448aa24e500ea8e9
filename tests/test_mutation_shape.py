"""One mutation shape (schema.mutation_shape): every mutation but sign-in is a declaration, each
declares every global id it takes, every payload ends with its errors, and an error's field is
where the value at fault was in the request."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType
from strawberry import relay
from strawberry.types.base import StrawberryContainer, StrawberryObjectDefinition, has_object_definition

from schema.build import build_schema
from schema.errors import request_path

# Sign-in answers every failure alike (no oracle for which e-mails exist) and revokes a leaked
# refresh token's family in a transaction of its own: written out in schema/people/roots.py.
SIGN_IN = {"login", "refreshToken", "logout"}


def _mutations() -> dict[str, Any]:
    """Mutation fields by GraphQL name."""
    schema = build_schema()
    names = schema.config.name_converter
    mutation = schema.get_type_by_name("Mutation")
    assert isinstance(mutation, StrawberryObjectDefinition), "the schema has no Mutation object type"
    return {names.get_graphql_name(field): field for field in mutation.fields}


def _declaration(field: Any) -> Any:
    return getattr(field.base_resolver.wrapped_func, "declaration", None)


def _global_ids(graphql_type: Any, name: str, seen: set[type]) -> set[str]:
    """The Python names of every global id a value of this type can hold, at any depth."""
    while isinstance(graphql_type, StrawberryContainer):
        graphql_type = graphql_type.of_type
    if graphql_type is relay.GlobalID:
        return {name}
    if has_object_definition(graphql_type) and graphql_type.__strawberry_definition__.is_input:
        if graphql_type in seen:
            return set()
        seen.add(graphql_type)
        return {
            found
            for field in graphql_type.__strawberry_definition__.fields
            for found in _global_ids(field.type, field.python_name, seen)
        }
    return set()


def test_every_mutation_but_sign_in_is_one_declaration():
    mutations = _mutations()
    assert len(mutations) > 30
    assert {name for name, field in mutations.items() if _declaration(field) is None} == SIGN_IN


def test_every_global_id_a_mutation_takes_is_declared_with_the_type_it_names():
    schema = build_schema()
    for name, field in _mutations().items():
        declaration = _declaration(field)
        if declaration is None:
            continue
        taken = {
            found for argument in field.arguments for found in _global_ids(argument.type, argument.python_name, set())
        }
        assert set(declaration.ids) == taken, name
        for type_name in declaration.ids.values():
            assert schema.get_type_by_name(type_name) is not None, (name, type_name)


def test_every_payload_ends_with_its_errors():
    mutation_type = build_schema()._schema.mutation_type
    for name, field in mutation_type.fields.items():
        assert isinstance(field.type, GraphQLNonNull) and isinstance(field.type.of_type, GraphQLObjectType), name
        payload = field.type.of_type
        last_name, last = list(payload.fields.items())[-1]
        assert last_name == "errors", (name, payload.name)
        assert str(last.type) == "[UserError!]!", (name, payload.name)


@pytest.mark.parametrize(
    ("mutation", "reported", "path"),
    [
        # An argument is reported by its own name.
        ("addComment", "taskId", "taskId"),
        ("voidInvoice", "reason", "reason"),
        ("createProject", "clientId", "clientId"),
        # A field of an input object under the argument it was sent in, however the business function named it.
        ("logTime", "projectId", "input.projectId"),
        ("createTask", "input.projectId", "input.projectId"),
        ("createProject", "name", "input.name"),
        ("createInvoice", "lines.0.quantity", "input.lines[0].quantity"),
        ("createInvoice", "lines", "input.lines"),
        ("createProject", "input.tasks[1].assigneeId", "input.tasks[1].assigneeId"),
        ("createClient", "input.primaryContact.email", "input.primaryContact.email"),
        ("updateTask", "input", "input"),
        # A path past what the request holds stops at the last value the caller sent.
        ("convertLead", "leadId.email", "leadId"),
        ("createInvoice", "lines.0", "input.lines[0]"),
        # Not about one field.
        ("deleteClient", None, None),
    ],
)
def test_an_error_names_where_the_value_was_in_the_request(mutation, reported, path):
    arguments = build_schema()._schema.mutation_type.fields[mutation].args
    assert request_path(arguments, reported) == path
