"""Every mutation of the schema, fuzzed with hostile values, on the demo agency.

hypothesis-graphql draws each mutation's arguments from the built schema (every input object,
list and enum it declares), with scalars drawn from pools that mix values that work (the real
global ids of every object in the demo agency, plausible text, amounts and dates) with hostile
ones: NaN and the infinities, 60-digit and `1e308` numbers, negative numbers, NUL characters,
10,000-character and empty strings, ids out of range, of another type or no id at all, extreme
dates and times and offsets that overflow. The selection is always the payload's
`errors { field code message }`, so an error in the response is the mutation's own refusal.

The operations are drawn first, deterministically (a fixed seed, generation only: the drawing
is synchronous, the requests are not), then sent one by one: signed in as a portal user (CLIENT)
first, then as the agency owner (ADMIN), whose successes may revoke the portal user. For each:
no HTTP 5xx, no INTERNAL_SERVER_ERROR or "Unexpected error.", and when the response or the
payload carries an error, the row count of every table is what it was before. Every problem
found is reported at the end with the operation that caused it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

import graphql
import hypothesis.strategies as st
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis_graphql import strategies as gql_st
from strawberry.relay import GlobalID
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from schema.base import ModelNode
from schema.build import build_schema
from server.demo import DEMO_PASSWORD
from tests.test_hostile_input import all_rows

SEED = 20261130
ADMIN_EXAMPLES = 10  # per mutation
CLIENT_EXAMPLES = 2  # per mutation
ADMIN = "owner@agency.example"
CLIENT = "olivia@northwind.example"
IDS_PER_TYPE = 4
# A refused sign-in still counts toward the sign-in throttle (auth/throttle.py): its counters
# are the one write such a refusal makes, by design.
SIGN_IN = frozenset({"login", "refreshToken", "logout", "acceptInvitation"})
SIGN_IN_BOOKKEEPING = frozenset({"throttle_counter"})
_ERRORS_ONLY = graphql.parse("{ __typename errors { field code message } }").definitions[0]
assert isinstance(_ERRORS_ONLY, graphql.OperationDefinitionNode)
SELECTION = _ERRORS_ONLY.selection_set


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


def _hostile_text() -> st.SearchStrategy[graphql.ValueNode]:
    plausible = ["Acme", "Website relaunch", "ann@acme.example", "https://acme.example", "+1 555 0100", "Retainer"]
    hostile = ["", " ", "\x00", "a\x00b", "x" * 10_000, "é" * 600, "' OR 1=1 --", "<script>alert(1)</script>", "\t\n"]
    return st.one_of(st.sampled_from(plausible + hostile), st.text(max_size=20)).map(_string)


def _hostile_decimals() -> st.SearchStrategy[graphql.ValueNode]:
    texts = ["1", "2.5", "24", "100", "0.2", "4000", "0", "-0", "0.001", "24.01", "1.00005", "-5", "-1e308"]
    texts += ["NaN", "sNaN", "Infinity", "-Infinity", "9" * 60, "1e308", "1E+999999999", "1E-999999999"]
    texts += ["999999999999.99", "1000000000000", "twelve", ""]
    numbers: list[graphql.ValueNode] = [graphql.FloatValueNode(value="1e308"), graphql.IntValueNode(value="100")]
    return st.one_of(st.sampled_from(texts).map(_string), st.sampled_from(numbers))


def _hostile_dates(today: dt.date) -> st.SearchStrategy[graphql.ValueNode]:
    near = [today - dt.timedelta(days=d) for d in (1, 10, 400)] + [today + dt.timedelta(days=d) for d in (2, 30)]
    texts = [d.isoformat() for d in near] + ["1900-01-01", "2999-12-31", "0001-01-01", "9999-12-31", "1899-12-31"]
    texts += ["3000-01-01", "2026-02-30", "yesterday", "", "2026-01-05\x00"]
    return st.sampled_from(texts).map(_string)


def _hostile_times(now: dt.datetime) -> st.SearchStrategy[graphql.ValueNode]:
    near = [now - dt.timedelta(hours=h) for h in (1, 30)] + [now + dt.timedelta(days=d) for d in (2, 3)]
    texts = [t.isoformat() for t in near] + [(now + dt.timedelta(days=2)).replace(tzinfo=None).isoformat()]
    texts += ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59Z"]
    texts += ["2026-13-01T00:00:00Z", "2026-01-01T00:00:00+24:00", "", "now"]
    return st.sampled_from(texts).map(_string)


def _hostile_ints() -> st.SearchStrategy[graphql.ValueNode]:
    picked = st.sampled_from([0, 1, -1, 5, 9, 10, 11, 30, 365, 366, 2**31 - 1, -(2**31)])
    return st.one_of(picked, st.integers(min_value=-(2**31), max_value=2**31 - 1)).map(
        lambda n: graphql.IntValueNode(value=str(n))
    )


def _hostile_ids(real: list[str]) -> st.SearchStrategy[graphql.ValueNode]:
    far = [str(GlobalID(t, n)) for t in ("Client", "Project", "Task", "Invoice", "User") for n in ("0", "-1")]
    far += [str(GlobalID("Client", "99999999999999999999")), str(GlobalID("Task", str(2**31)))]
    far += [str(GlobalID("Nope", "1")), "not-an-id", "", "\x00", "1", "2", "3", "99999999999999999999"]
    # Mostly real ids, so most operations get past the lookups to the values.
    return st.one_of(st.sampled_from(real), st.sampled_from(real), st.sampled_from(far)).map(_string)


async def _real_ids(db) -> dict[str, list[str]]:
    """Global ids of the first rows of every node type in the database, by type."""
    schema = build_schema()
    ids: dict[str, list[str]] = {}
    async with db() as session:
        for graphql_type in schema._schema.type_map.values():
            origin = getattr(schema.get_type_by_name(graphql_type.name), "origin", None)
            if not (isinstance(origin, type) and issubclass(origin, ModelNode)):
                continue
            model: Any = origin.__model__
            found = await session.scalars(sa.select(model.id).order_by(model.id).limit(IDS_PER_TYPE))
            ids[graphql_type.name] = [str(GlobalID(graphql_type.name, str(row))) for row in found]
    return ids


def _declared_ids(name: str) -> dict[str, str]:
    """The type each global id argument or input field of a mutation names, by GraphQL name
    (its declaration, schema.mutation_shape); empty for the sign-in mutations."""
    definition = build_schema().get_type_by_name("Mutation")
    assert isinstance(definition, StrawberryObjectDefinition)
    names = build_schema().config.name_converter
    [field] = [f for f in definition.fields if names.get_graphql_name(f) == name]
    declaration = getattr(field.base_resolver.wrapped_func, "declaration", None) if field.base_resolver else None
    return {to_camel_case(key): type_name for key, type_name in (declaration.ids if declaration else {}).items()}


class _Printer:
    """Prints a drawn mutation with its payload selection replaced by `__typename errors {...}`.

    A real id of another type than its argument names is mostly (4 in 5, decided by the id's
    own checksum, so runs repeat) swapped for a real id of the right type: the lookups then
    find their rows and the values behind them get exercised. Ids that are no real row's stay."""

    def __init__(self, mutation: str, real: dict[str, list[str]]) -> None:
        self.declared = _declared_ids(mutation)
        self.real = real
        self.type_of = {global_id: type_name for type_name, ids in real.items() for global_id in ids}

    def __call__(self, document: graphql.DocumentNode) -> str:
        operation = document.definitions[0]
        assert isinstance(operation, graphql.OperationDefinitionNode)
        field = operation.selection_set.selections[0]
        assert isinstance(field, graphql.FieldNode)
        arguments = tuple(
            graphql.ArgumentNode(name=a.name, value=self._value(a.value, a.name.value)) for a in field.arguments or ()
        )
        only = graphql.FieldNode(name=field.name, arguments=arguments, directives=(), selection_set=SELECTION)
        mutation = graphql.OperationDefinitionNode(
            operation=graphql.OperationType.MUTATION,
            variable_definitions=(),
            directives=(),
            selection_set=graphql.SelectionSetNode(selections=(only,)),
        )
        return graphql.print_ast(graphql.DocumentNode(definitions=(mutation,)))

    def _value(self, node: graphql.ValueNode, name: str) -> graphql.ValueNode:
        if isinstance(node, graphql.ObjectValueNode):
            fields = tuple(
                graphql.ObjectFieldNode(name=f.name, value=self._value(f.value, f.name.value)) for f in node.fields
            )
            return graphql.ObjectValueNode(fields=fields)
        if isinstance(node, graphql.ListValueNode):
            return graphql.ListValueNode(values=tuple(self._value(item, name) for item in node.values))
        wanted = self.declared.get(name)
        if isinstance(node, graphql.StringValueNode) and wanted and node.value in self.type_of:
            mine = self.real.get(wanted)
            checksum = zlib.crc32(node.value.encode())
            if mine and self.type_of[node.value] != wanted and checksum % 5:
                return _string(mine[checksum % len(mine)])
        return node


def _draw(strategy: st.SearchStrategy[str], examples: int) -> list[str]:
    """`examples` distinct operations from a strategy, the same every run."""
    found: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(operation: str) -> None:
        found.append(operation)

    collect()
    return found


def _operations(
    scalars: dict[str, st.SearchStrategy[graphql.ValueNode]], real: dict[str, list[str]], examples: int
) -> list[tuple[str, str]]:
    """(mutation name, operation) for `examples` operations of every mutation of the schema."""
    schema = build_schema()._schema
    assert schema.mutation_type is not None
    drawn: list[tuple[str, str]] = []
    for name in sorted(schema.mutation_type.fields):
        strategy = gql_st.mutations(schema, fields=[name], custom_scalars=scalars, print_ast=_Printer(name, real))
        operations = _draw(strategy, examples)
        assert operations, f"no operation drawn for {name}"
        drawn += [(name, operation) for operation in operations]
    return drawn


def _problems(status: int, body: Any, wrote: bool) -> list[str]:
    problems = []
    if status >= 500:
        problems.append(f"HTTP {status}")
    errors = (body.get("errors") or []) if isinstance(body, dict) else []
    if any((e.get("extensions") or {}).get("code") in (None, "INTERNAL_SERVER_ERROR") for e in errors):
        problems.append(f"untyped or unexpected error: {errors}")
    if "Unexpected error." in str(body):
        problems.append("Unexpected error.")
    payloads = list((body.get("data") or {}).values()) if isinstance(body, dict) else []
    refused = bool(errors) or any(p is None or p.get("errors") for p in payloads)
    if refused and wrote:
        problems.append(f"refused, yet rows were written: {body}")
    return problems


async def test_every_mutation_fuzzed_with_hostile_values_fails_well_and_writes_nothing_when_refused(api, demo, db):
    now = dt.datetime.now(dt.UTC)
    real = await _real_ids(db)
    scalars: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
        "ID": _hostile_ids([global_id for ids in real.values() for global_id in ids]),
        "String": _hostile_text(),
        "Int": _hostile_ints(),
        "Decimal": _hostile_decimals(),
        "Date": _hostile_dates(now.date()),
        "DateTime": _hostile_times(now),
    }
    client_token = await api.login(CLIENT, DEMO_PASSWORD)
    admin_token = await api.login(ADMIN, DEMO_PASSWORD)
    plan = [(client_token, *drawn) for drawn in _operations(scalars, real, CLIENT_EXAMPLES)]
    plan += [(admin_token, *drawn) for drawn in _operations(scalars, real, ADMIN_EXAMPLES)]

    found: dict[str, list[str]] = {}
    succeeded: set[str] = set()
    for token, name, operation in plan:
        kept = SIGN_IN_BOOKKEEPING if name in SIGN_IN else set()
        before = {t: n for t, n in (await all_rows(db)).items() if t not in kept}
        response = await api.client.post(
            "/graphql", json={"query": operation}, headers={"Authorization": f"Bearer {token}"}
        )
        body = response.json()
        after = {t: n for t, n in (await all_rows(db)).items() if t not in kept}
        problems = _problems(response.status_code, body, wrote=after != before)
        if after != before and problems:
            problems.append(str({t: (before[t], after[t]) for t in before if before[t] != after[t]}))
        if problems:
            found[operation] = problems
        elif response.status_code == 200 and "errors" not in body and not body["data"][name]["errors"]:
            succeeded.add(name)
    assert found == {}, "\n\n".join(f"{operation}\n  -> {problems}" for operation, problems in found.items())
    # The fuzz reached past the validation into the business functions: some operations worked.
    assert len(succeeded) >= 5, succeeded
