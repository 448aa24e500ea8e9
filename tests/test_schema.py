"""The schema contract: schema.graphql is current, and every field has a sensitivity class."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInterfaceType, GraphQLObjectType, is_non_null_type

from auth.policy import FIELD_CLASSES, MUTATION_ROLES, RULES, Sensitivity
from models import Role
from schema.build import build_schema
from server.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _all_fields():
    schema = build_schema()._schema
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        for field_name, field in graphql_type.fields.items():
            yield f"{name}.{field_name}", field


def test_schema_graphql_is_current(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["schema", "--check"]) == 0, "schema.graphql is stale: run `agency schema > schema.graphql`"


def test_every_field_in_the_schema_has_a_sensitivity_class():
    fields = {c for c, _ in _all_fields() if not c.startswith("Mutation.")}
    assert len(fields) > 100
    missing = sorted(fields - set(FIELD_CLASSES))
    assert missing == [], f"fields with no sensitivity class: {missing}"
    stale = sorted(set(FIELD_CLASSES) - fields)
    assert stale == [], f"policy entries for fields that do not exist: {stale}"


def test_every_mutation_is_in_the_mutation_table():
    mutations = {c.split(".", 1)[1] for c, _ in _all_fields() if c.startswith("Mutation.")}
    assert mutations, "the schema has mutations"
    assert sorted(mutations - set(MUTATION_ROLES)) == [], "mutations nobody decided who may call"
    assert sorted(set(MUTATION_ROLES) - mutations) == [], "mutation table entries for mutations that do not exist"


def test_every_field_some_signed_in_role_may_not_read_is_nullable():
    """A refused field resolves to null, so it must be able to be null.

    Partners are left out (their PUBLIC access is by scope, and so are their rows), and so
    are the fields of the money types: a role refused FINANCE has no invoice or payment
    rows in its scope at all, so it never reaches those fields.
    """
    people = (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.CLIENT)
    partly_refused = {s for s, rules in RULES.items() if any(rules[r] is not rules[Role.ADMIN] for r in people)}
    offenders = [
        coordinate
        for coordinate, field in _all_fields()
        if not coordinate.startswith("Mutation.")
        and FIELD_CLASSES[coordinate] in partly_refused
        and not coordinate.endswith(".id")
        and is_non_null_type(field.type)
        and not coordinate.startswith(("Invoice.", "InvoiceLine.", "Payment."))
    ]
    assert offenders == []


def test_rules_cover_every_class_and_role():
    for sensitivity in Sensitivity:
        assert set(RULES[sensitivity]) == set(Role)
