"""Each caller's own schema (issue 9), driven over HTTP for every kind of token.

What a caller may see of the schema is computed here independently of schema.views: from
the full schema and auth.policy alone (decide, decide_rule, ARGUMENT_RULES), with its own
reachability walk from the roots. Introspection (GraphiQL's own query), `__type`, the
per-caller SDL at GET /graphql/schema.graphql and `agency schema --role` must all agree
with it; a field outside the view asked anyway still answers null with one FORBIDDEN error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import graphql
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLFieldMap,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
    lexicographic_sort_schema,
    print_schema,
)
from graphql import (
    build_schema as build_sdl_schema,
)

from auth.policy import ARGUMENT_RULES, MUTATION_ROLES, SCOPES, decide, decide_rule
from auth.principal import PolicyKey
from models import CommentKind, Role
from schema.build import build_schema
from tests.factories import PASSWORD
from tests.utils import gid

INTROSPECTION = graphql.get_introspection_query(descriptions=True, input_value_deprecation=True)
VIEW_AS = """mutation($id: ID!) { viewAs(userId: $id) { accessToken errors { code field } } }"""
KINDS = ["ADMIN", "MANAGER", "MEMBER", "CLIENT_COSTS_SHOWN", "CLIENT_COSTS_HIDDEN", "VIEW_AS", "ANONYMOUS"]
ANONYMOUS_ROOTS = {
    ("Query", "apiVersion"),
    ("Mutation", "login"),
    ("Mutation", "refreshToken"),
    ("Mutation", "logout"),
    ("Mutation", "acceptInvitation"),
}
# Every schema has these: the introspection types refer to them whatever the roots reach.
ALWAYS_PRESENT = {"String", "Boolean"}


def _full() -> GraphQLSchema:
    return build_schema()._schema


# ---------------------------------------------------------------- the independent expectation


@dataclass
class Expected:
    types: set[str] = field(default_factory=set)
    fields: set[tuple[str, str]] = field(default_factory=set)  # object and interface types
    arguments: set[tuple[str, str, str]] = field(default_factory=set)
    input_fields: set[tuple[str, str]] = field(default_factory=set)
    enum_values: set[tuple[str, str]] = field(default_factory=set)
    query: str | None = None
    mutation: str | None = None


def _output_fields(schema: GraphQLSchema, name: str) -> GraphQLFieldMap:
    """The fields of an object or interface type: the only types policy rules and field lists name."""
    named = schema.get_type(name)
    assert isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)), f"{name} is not an object or interface type"
    return named.fields


def _hidden_by_argument_rules(schema: GraphQLSchema, key: PolicyKey, allowed: dict[str, set[str]]):
    """(arguments, input fields, enum values) the key's argument rules take out of its view."""
    arguments: set[tuple[str, str, str]] = set()
    inputs: set[tuple[str, str]] = set()
    values: set[tuple[str, str]] = set()
    # Every rule counts, also those of fields outside the view: input and enum types are shared,
    # and a view-as token (no mutations) sees CommentKind exactly as its portal user does.
    for coordinate, rules in ARGUMENT_RULES.items():
        type_name, field_name = coordinate.split(".", 1)
        field_def = _output_fields(schema, type_name)[field_name]
        for rule in rules:
            if decide_rule(coordinate, rule, key).allowed:
                continue
            holder: GraphQLArgument | GraphQLInputField = field_def.args[rule.path[0]]
            holder_type: GraphQLInputObjectType | None = None
            for step in rule.path[1:]:
                named_type = get_named_type(holder.type)
                assert isinstance(named_type, GraphQLInputObjectType), f"{coordinate}: {step} is not in an input type"
                holder_type = named_type
                holder = holder_type.fields[step]
            if rule.value is not None:
                named = get_named_type(holder.type)
                assert isinstance(named, GraphQLEnumType) and rule.value in named.values, (coordinate, rule)
                values.add((named.name, rule.value))
            elif holder_type is None:
                arguments.add((type_name, field_name, rule.path[0]))
            else:
                inputs.add((holder_type.name, rule.path[-1]))
    return arguments, inputs, values


def expected_view(key: PolicyKey) -> Expected:
    """What a caller with this key may see: the fields decide() allows, minus what the argument
    rules refuse, and only the types reachable from the roots through what is left (an interface
    does not pull in its implementations; a type with no field left is gone, and so are the
    fields that return it)."""
    schema = _full()
    allowed: dict[str, set[str]] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__") or not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        allowed[name] = {f for f in named.fields if decide(name, f, key).allowed}
    hidden_args, hidden_inputs, hidden_values = _hidden_by_argument_rules(schema, key, allowed)

    roots = [
        r.name
        for r in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if r is not None and allowed[r.name]
    ]
    removed: set[str] = set()
    while True:
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            name = stack.pop()
            if name in seen or name in removed:
                continue
            seen.add(name)
            named = schema.type_map[name]
            if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
                stack.extend(i.name for i in named.interfaces)
                for field_name in allowed[name]:
                    field_def = named.fields[field_name]
                    stack.append(get_named_type(field_def.type).name)
                    stack.extend(
                        get_named_type(a.type).name
                        for a_name, a in field_def.args.items()
                        if (name, field_name, a_name) not in hidden_args
                    )
            elif isinstance(named, GraphQLInputObjectType):
                stack.extend(
                    get_named_type(f.type).name
                    for f_name, f in named.fields.items()
                    if (name, f_name) not in hidden_inputs
                )
            elif isinstance(named, GraphQLUnionType):
                stack.extend(t.name for t in named.types)
        empty = {
            name
            for name in seen
            if name in allowed
            and not [
                f for f in allowed[name] if get_named_type(_output_fields(schema, name)[f].type).name not in removed
            ]
        }
        if empty <= removed:
            break
        removed |= empty
    types = seen - removed
    out = Expected(types=types)
    for name in types:
        named = schema.type_map[name]
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name in allowed[name]:
                field_def = named.fields[field_name]
                if get_named_type(field_def.type).name in removed:
                    continue
                out.fields.add((name, field_name))
                out.arguments |= {
                    (name, field_name, a) for a in field_def.args if (name, field_name, a) not in hidden_args
                }
        elif isinstance(named, GraphQLInputObjectType):
            out.input_fields |= {(name, f) for f in named.fields if (name, f) not in hidden_inputs}
        elif isinstance(named, GraphQLEnumType):
            out.enum_values |= {(name, v) for v in named.values if (name, v) not in hidden_values}
    out.query = "Query" if "Query" in types else None
    out.mutation = "Mutation" if "Mutation" in types else None
    return out


def described(schema: GraphQLSchema) -> Expected:
    """The same sets, read off a schema (a view, or one built from introspection or SDL)."""
    out = Expected()
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        out.types.add(name)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field_def in named.fields.items():
                out.fields.add((name, field_name))
                out.arguments |= {(name, field_name, a) for a in field_def.args}
        elif isinstance(named, GraphQLInputObjectType):
            out.input_fields |= {(name, f) for f in named.fields}
        elif isinstance(named, GraphQLEnumType):
            out.enum_values |= {(name, v) for v in named.values}
    out.query = schema.query_type.name if schema.query_type else None
    out.mutation = schema.mutation_type.name if schema.mutation_type else None
    return out


def assert_matches(got: Expected, key: PolicyKey, label: str) -> None:
    want = expected_view(key)
    refused = sorted((t, f) for t, f in got.fields if not decide(t, f, key).allowed)
    assert refused == [], f"{label}: the view shows fields decide() refuses: {refused}"
    assert sorted(got.fields - want.fields) == [], f"{label}: fields in the view that should not be"
    assert sorted(want.fields - got.fields) == [], f"{label}: allowed, reachable fields missing from the view"
    assert got.types - ALWAYS_PRESENT == want.types - ALWAYS_PRESENT, (
        f"{label}: types extra {sorted(got.types - want.types - ALWAYS_PRESENT)}, "
        f"missing {sorted(want.types - got.types - ALWAYS_PRESENT)}"
    )
    assert sorted(got.arguments ^ want.arguments) == [], f"{label}: arguments differ"
    assert sorted(got.input_fields ^ want.input_fields) == [], f"{label}: input fields differ"
    assert sorted(got.enum_values ^ want.enum_values) == [], f"{label}: enum values differ"
    assert (got.query, got.mutation) == (want.query, want.mutation), f"{label}: roots differ"


KEYS_BY_LABEL: dict[str, PolicyKey] = {
    "ADMIN": PolicyKey(Role.ADMIN),
    "MANAGER": PolicyKey(Role.MANAGER),
    "MEMBER": PolicyKey(Role.MEMBER),
    "CLIENT_COSTS_SHOWN": PolicyKey(Role.CLIENT, costs_enabled=True),
    "CLIENT_COSTS_HIDDEN": PolicyKey(Role.CLIENT),
    "VIEW_AS": PolicyKey(Role.CLIENT, read_only=True),
    "ANONYMOUS": PolicyKey(None),
}


# ---------------------------------------------------------------- callers


async def _callers(api, factory) -> dict[str, str | None]:
    """A token of every kind (None for anonymous), over rows enough to see several of each."""
    manager = await factory.user(Role.MANAGER)
    admin = await factory.user(Role.ADMIN)
    member = await factory.user(Role.MEMBER)
    shown = await factory.client("Shows costs", show_costs_in_portal=True, internal_notes="CANARY-SHOWN")
    hidden = await factory.client("Hides costs", internal_notes="CANARY-HIDDEN")
    for client in (shown, hidden):
        for n in range(2):
            project = await factory.project(client, name=f"{client.name} {n}", budget=Decimal("1000.00"))
            await factory.task(project, due_date=dt.date(2026, 12, 1))
    portal_shown = await factory.portal_user(shown)
    portal_hidden = await factory.portal_user(hidden)
    tokens: dict[str, str | None] = {
        "ADMIN": await api.login(admin.email, PASSWORD),
        "MANAGER": await api.login(manager.email, PASSWORD),
        "MEMBER": await api.login(member.email, PASSWORD),
        "CLIENT_COSTS_SHOWN": await api.login(portal_shown.email, PASSWORD),
        "CLIENT_COSTS_HIDDEN": await api.login(portal_hidden.email, PASSWORD),
        "ANONYMOUS": None,
    }
    issued = (await api.data(VIEW_AS, {"id": gid("User", portal_hidden.id)}, tokens["MANAGER"]))["viewAs"]
    assert issued["errors"] == [] and issued["accessToken"]
    tokens["VIEW_AS"] = issued["accessToken"]
    me = await api.data("{ me { readOnly role } }", token=tokens["VIEW_AS"])
    assert me["me"] == {"readOnly": True, "role": "CLIENT"}
    return tokens


async def _introspect(api, token: str | None) -> dict:
    body = await api.post(INTROSPECTION, token=token)
    assert "errors" not in body, body.get("errors")
    return body["data"]


async def _own_sdl(api, token: str | None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.client.get("/graphql/schema.graphql", headers=headers)
    assert response.status_code == 200, response.text
    return response.text


def _same_schema(a: GraphQLSchema, b: GraphQLSchema, label: str) -> None:
    for old, new in ((a, b), (b, a)):
        assert find_breaking_changes(old, new) == [], f"{label}: {find_breaking_changes(old, new)[:5]}"
        assert find_dangerous_changes(old, new) == [], f"{label}: {find_dangerous_changes(old, new)[:5]}"
    assert print_schema(lexicographic_sort_schema(a)) == print_schema(lexicographic_sort_schema(b)), label


# ---------------------------------------------------------------- 1. introspection


async def test_introspection_shows_each_caller_exactly_what_the_policy_allows(api, factory):
    tokens = await _callers(api, factory)
    schemas: dict[str, GraphQLSchema] = {}
    for kind in KINDS:
        data = await _introspect(api, tokens[kind])
        client_schema = build_client_schema(data)
        assert graphql.validate_schema(client_schema) == [], kind
        got = described(client_schema)
        assert_matches(got, KEYS_BY_LABEL[kind], kind)
        schemas[kind] = client_schema

    def fields(kind: str) -> set[tuple[str, str]]:
        return described(schemas[kind]).fields

    def has_type(kind: str, name: str) -> bool:
        return schemas[kind].get_type(name) is not None

    # Staff see the whole team's schema; the full schema's coordinates are a superset of every view.
    full = described(_full())
    for kind in KINDS:
        assert fields(kind) <= full.fields, kind
    assert ("Client", "internalNotes") in fields("ADMIN") and ("Mutation", "createInvoice") in fields("MANAGER")

    # Costs: only the portal user whose client shows them.
    assert ("TimeEntry", "costRate") in fields("CLIENT_COSTS_SHOWN")
    assert ("TimeEntry", "costRate") not in fields("CLIENT_COSTS_HIDDEN")
    assert ("TimeEntry", "costRate") not in fields("VIEW_AS")

    # View-as: read-only, so no Mutation type at all.
    assert schemas["VIEW_AS"].mutation_type is None
    assert not {c for c in fields("VIEW_AS") if c[0] == "Mutation"}
    assert {c for c in fields("VIEW_AS") if c[0] == "Query"} == {
        c for c in fields("CLIENT_COSTS_HIDDEN") if c[0] == "Query"
    }
    # ...and what it can read looks exactly as its portal user's: no NOTE value in CommentKind.
    assert list(schemas["VIEW_AS"].get_type("CommentKind").values) == list(
        schemas["CLIENT_COSTS_HIDDEN"].get_type("CommentKind").values
    )

    # Anonymous: exactly the open roots.
    anonymous = schemas["ANONYMOUS"]
    roots = {(r.name, f) for r in (anonymous.query_type, anonymous.mutation_type) for f in r.fields}
    assert roots == ANONYMOUS_ROOTS

    # MEMBER: no money.
    member = schemas["MEMBER"]
    assert ("Client", "outstandingAmount") not in fields("MEMBER")
    assert ("Project", "budget") not in fields("MEMBER")
    assert "budget" not in member.get_type("CreateProjectInput").fields
    assert "budget" in schemas["MANAGER"].get_type("CreateProjectInput").fields

    # CLIENT: no notes, no tiers, no choosing staff, no leads, no agency dashboard.
    for kind in ("CLIENT_COSTS_SHOWN", "CLIENT_COSTS_HIDDEN"):
        portal = schemas[kind]
        assert CommentKind.NOTE.name not in portal.get_type("CommentKind").values, kind
        assert CommentKind.REPLY.name in portal.get_type("CommentKind").values, kind
        assert "tiers" not in portal.get_type("ClientFilterInput").fields, kind
        assert "staffId" not in portal.get_type("BookMeetingInput").fields, kind
        assert not has_type(kind, "Lead") and not has_type(kind, "ClientsDashboard"), kind
        assert ("Client", "internalNotes") not in fields(kind)
    for kind in ("CLIENT_COSTS_HIDDEN", "VIEW_AS"):
        assert not has_type(kind, "Lead") and not has_type(kind, "ClientsDashboard"), kind
    assert "staffId" in schemas["MEMBER"].get_type("BookMeetingInput").fields
    assert "tiers" in schemas["MEMBER"].get_type("ClientFilterInput").fields
    assert has_type("MEMBER", "Lead") and has_type("ADMIN", "ClientsDashboard")


# ---------------------------------------------------------------- 2. __type


async def test_type_lookup_of_a_hidden_type_answers_like_a_missing_one(api, factory):
    tokens = await _callers(api, factory)
    for kind in ("CLIENT_COSTS_SHOWN", "CLIENT_COSTS_HIDDEN", "VIEW_AS", "ANONYMOUS"):
        token = tokens[kind]
        lead = await api.post('{ t: __type(name: "Lead") { name fields { name } } }', token=token)
        missing = await api.post('{ t: __type(name: "NoSuchType") { name fields { name } } }', token=token)
        assert lead == missing, kind
        assert lead == {"data": {"t": None}}, kind
    staff = await api.data('{ t: __type(name: "Lead") { name } }', token=tokens["MEMBER"])
    assert staff == {"t": {"name": "Lead"}}

    for kind in ("CLIENT_COSTS_SHOWN", "CLIENT_COSTS_HIDDEN", "VIEW_AS"):
        node = await api.data('{ __type(name: "Node") { possibleTypes { name } } }', token=tokens[kind])
        possible = {t["name"] for t in node["__type"]["possibleTypes"]}
        assert "Lead" not in possible and "Opportunity" not in possible, (kind, possible)
        want = expected_view(KEYS_BY_LABEL[kind])
        implementing = {
            name
            for name in want.types
            if isinstance(_full().type_map[name], GraphQLObjectType)
            and "Node" in {i.name for i in _full().type_map[name].interfaces}
        }
        assert possible == implementing, kind
        assert "Client" in possible, kind
        client = await api.data('{ __type(name: "Client") { fields { name } } }', token=tokens[kind])
        names = {f["name"] for f in client["__type"]["fields"]}
        assert "internalNotes" not in names and "name" in names, kind
    staff_node = await api.data('{ __type(name: "Node") { possibleTypes { name } } }', token=tokens["MEMBER"])
    assert "Lead" in {t["name"] for t in staff_node["__type"]["possibleTypes"]}
    staff_client = await api.data('{ __type(name: "Client") { fields { name } } }', token=tokens["MEMBER"])
    assert "internalNotes" in {f["name"] for f in staff_client["__type"]["fields"]}


# ---------------------------------------------------------------- 3. SDL and the CLI


async def test_own_sdl_is_the_introspected_schema_and_the_cli_prints_the_same(api, factory, capsys):
    from server.cli import main

    tokens = await _callers(api, factory)
    sdl: dict[str, GraphQLSchema] = {}
    for kind in KINDS:
        served = build_sdl_schema(await _own_sdl(api, tokens[kind]))
        introspected = build_client_schema(await _introspect(api, tokens[kind]))
        _same_schema(served, build_sdl_schema(print_schema(introspected)), kind)
        assert_matches(described(served), KEYS_BY_LABEL[kind], kind)
        sdl[kind] = served

    for refused in ("Bearer not-a-token", "Bearer " + tokens["MEMBER"][:-4] + "AAAA", "Basic dXNlcjpwYXNz"):
        response = await api.client.get("/graphql/schema.graphql", headers={"Authorization": refused})
        assert response.status_code == 401, (refused, response.status_code, response.text[:200])
        error = {"message": "The access token is invalid or expired.", "extensions": {"code": "UNAUTHENTICATED"}}
        assert response.json() == {"errors": [error]}
        challenge = 'Bearer error="invalid_token"' if refused.startswith("Bearer") else "Bearer"
        assert response.headers["www-authenticate"] == challenge

    def cli(*argv: str) -> GraphQLSchema:
        capsys.readouterr()
        assert main(["schema", *argv]) == 0
        return build_sdl_schema(capsys.readouterr().out)

    _same_schema(cli("--role", "CLIENT"), sdl["CLIENT_COSTS_HIDDEN"], "agency schema --role CLIENT")
    _same_schema(cli("--role", "CLIENT", "--costs-shown"), sdl["CLIENT_COSTS_SHOWN"], "--role CLIENT --costs-shown")
    _same_schema(cli("--role", "CLIENT", "--view-as"), sdl["VIEW_AS"], "--role CLIENT --view-as")
    for role in ("ADMIN", "MANAGER", "MEMBER", "ANONYMOUS"):
        _same_schema(cli("--role", role), sdl[role], f"agency schema --role {role}")
    with pytest.raises(AssertionError):
        _same_schema(sdl["CLIENT_COSTS_SHOWN"], sdl["CLIENT_COSTS_HIDDEN"], "the two portal views differ")


# ---------------------------------------------------------------- 4. asking outside the view


async def test_a_field_outside_the_view_answers_null_with_one_error_per_coordinate(api, factory):
    tokens = await _callers(api, factory)
    query = """{
      a: clients { edges { node { name internalNotes projects { name health } } } }
      b: clients { edges { node { internalNotes } } }
    }"""
    for kind in ("CLIENT_COSTS_SHOWN", "CLIENT_COSTS_HIDDEN", "VIEW_AS"):
        body = await api.post(query, token=tokens[kind])
        nodes = [e["node"] for alias in ("a", "b") for e in body["data"][alias]["edges"]]
        projects = [p for n in nodes for p in n.get("projects", [])]
        assert len(nodes) >= 2 and len(projects) >= 2, (kind, body)
        assert all(n["internalNotes"] is None for n in nodes), kind
        assert all(p["health"] is None for p in projects), kind
        coordinates = sorted(e["extensions"]["field"] for e in body["errors"])
        assert coordinates == ["Client.internalNotes", "Project.health"], (kind, body["errors"])
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}, kind
        assert "CANARY" not in str(body)

    member = await api.post(
        "{ clients { edges { node { name outstandingAmount projects { budget } } } } }", token=tokens["MEMBER"]
    )
    nodes = [e["node"] for e in member["data"]["clients"]["edges"]]
    assert len(nodes) >= 2 and all(n["outstandingAmount"] is None for n in nodes)
    assert (
        all(p["budget"] is None for n in nodes for p in n["projects"]) and sum(len(n["projects"]) for n in nodes) >= 4
    )
    assert sorted((e["extensions"]["code"], e["extensions"]["field"]) for e in member["errors"]) == [
        ("FORBIDDEN", "Client.outstandingAmount"),
        ("FORBIDDEN", "Project.budget"),
    ]


# ---------------------------------------------------------------- 5. every view is a valid schema


def _every_key() -> list[PolicyKey]:
    every_scope = frozenset(SCOPES)
    keys = [PolicyKey(None)]
    for role in Role:
        for costs in (False, True):
            for read_only in (False, True):
                keys.append(PolicyKey(role, costs_enabled=costs and role is Role.CLIENT, read_only=read_only))
    keys += [PolicyKey(Role.PARTNER, scopes=every_scope), PolicyKey(Role.PARTNER, scopes=every_scope, read_only=True)]
    keys += [PolicyKey(Role.PARTNER, scopes=frozenset({scope})) for scope in sorted(every_scope)]
    return list(dict.fromkeys(keys))


@pytest.mark.parametrize("key", _every_key(), ids=lambda k: k.label().replace(" ", "_"))
def test_every_view_is_a_valid_schema_with_exactly_the_allowed_fields(key):
    from schema.views import view_for

    view = view_for(_full(), key)
    assert graphql.validate_schema(view) == []
    assert_matches(described(view), key, key.label())
    if key.read_only:
        assert view.mutation_type is None
    elif key.role is None:
        assert {(r.name, f) for r in (view.query_type, view.mutation_type) for f in r.fields} == ANONYMOUS_ROOTS


def test_partner_views_follow_their_scopes():
    from schema.views import view_for

    bare = described(view_for(_full(), PolicyKey(Role.PARTNER)))
    full = described(view_for(_full(), PolicyKey(Role.PARTNER, scopes=frozenset(SCOPES))))
    assert ("Query", "clients") not in bare.fields and ("Query", "clients") in full.fields
    assert ("Client", "internalNotes") in full.fields and ("Invoice", "total") in full.fields
    # No scope reads time, users, comments or the dashboard; TEAM and PAYROLL are never a partner's.
    assert not {"TimeEntry", "User", "Comment", "Lead", "ClientsDashboard"} & full.types
    # A partner may call the open mutations and those a *:write scope names.
    assert {f for t, f in full.fields if t == "Mutation"} == {
        m for m, roles in MUTATION_ROLES.items() if roles is None
    } | {"recordPayment", "setExternalId"}


async def test_validation_suggestions_name_only_what_the_callers_view_holds(api, factory):
    """A typo next to a hidden name is not an oracle for it: the portal user's "Did you mean"
    leaves out what it may not see, staff get the same suggestion with the hidden name."""
    tokens = await _callers(api, factory)
    cases = [
        ("{ clients { edges { node { internalNote } } } }", "'internalNotes'"),
        ("{ clientsDashboar { asOf } }", "'clientsDashboard'"),
        ('{ node(id: "x") { ... on Lea { id } } }', "'Lead'"),
        ('mutation { addComment(kind: NOT, body: "x", taskId: "x") { errors { code } } }', "'NOTE'"),
        ("{ clients(filter: {tier: [GOLD]}) { totalCount } }", "'tiers'"),
    ]
    for query, hidden in cases:
        for kind in ("CLIENT_COSTS_HIDDEN", "VIEW_AS", "ANONYMOUS"):
            body = await api.post(query, token=tokens[kind])
            messages = " ".join(e["message"] for e in body["errors"])
            assert hidden not in messages, (kind, query, messages)
            assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in body["errors"]), body
        staff = await api.post(query, token=tokens["ADMIN"])
        assert "Did you mean" in staff["errors"][0]["message"] and hidden in staff["errors"][0]["message"], staff
    # A name the caller may see is still suggested to it.
    body = await api.post("{ clients { edges { node { nam } } } }", token=tokens["CLIENT_COSTS_HIDDEN"])
    assert "Did you mean 'name'?" in body["errors"][0]["message"]
