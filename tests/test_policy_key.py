"""Issue 9: a field-access decision is reused only for the same policy key, document text and
operation (schema/enforcement.py `operation_policy`).

Every answer here is compared with a cold one: the same request sent with the decision cache
cleared, and the same operation sent alone as a one-operation document. Whatever ran before
(another operation of the document, the same text from another caller, the real user behind
a view-as token) must change nothing, and a refused mutation must write nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from auth.tokens import TokenService
from models import (
    Activity,
    ActivityKind,
    ClientTier,
    Comment,
    Meeting,
    Notification,
    OutboxEmail,
    Project,
    Role,
    TimeEntry,
)
from models.surveys import SatisfactionSurvey
from resolvers.db import RequestDb
from schema import enforcement
from schema.build import build_schema
from schema.context import Services
from tests.factories import PASSWORD
from tests.utils import count, gid

VIEW_AS = "mutation($id: ID!) { viewAs(userId: $id) { accessToken errors { code } } }"

ADMIN, MANAGER, MEMBER = "ADMIN", "MANAGER", "MEMBER"
SHOWN, HIDDEN = "CLIENT costs shown", "CLIENT costs hidden"
VIEW_AS_TOKEN, ANONYMOUS = "view-as (CLIENT costs shown)", "anonymous"
CALLERS = (ADMIN, MANAGER, MEMBER, SHOWN, HIDDEN, VIEW_AS_TOKEN, ANONYMOUS)

# One harmless operation and three that touch what some callers may not read or use.
READS = {
    "Harmless": "query Harmless { me { fullName role } }",
    "Notes": "query Notes { clients { edges { node { name internalNotes outstandingAmount } } } }",
    "Money": "query Money { clients { edges { node { name projects { name budget "
    "timeEntries { hours costRate billRate } } } } } }",
    "Tiers": "query Tiers { clients(filter: { tiers: [GOLD] }) { totalCount } }",
}
WRITES = {
    "Harmless": READS["Harmless"],
    "Note": 'mutation Note($task: ID!) { addComment(kind: NOTE, body: "note", taskId: $task) '
    "{ comment { kind body } errors { code } } }",
    "Reply": 'mutation Reply($task: ID!) { addComment(kind: REPLY, body: "reply", taskId: $task) '
    "{ comment { kind body } errors { code } } }",
    "NewProject": 'mutation NewProject($client: ID!) { createProject(clientId: $client, input: { name: "Extra", '
    'budget: "100.00" }) { project { name budget } errors { code } } }',
}
# Each document holds the harmless operation and what some callers may not read or call; every
# order of its operations is run.
READ_DOCS = (("Harmless", "Notes", "Money"), ("Harmless", "Tiers"))
WRITE_DOCS = (("Harmless", "Reply", "Note"), ("Harmless", "NewProject"))
MUTATION_FIELD = {"Note": "addComment", "Reply": "addComment", "NewProject": "createProject"}

F, U = "FORBIDDEN", "UNAUTHENTICATED"
# The refusals each caller's cold answer must carry, as (code, coordinate): the baseline itself is checked.
EXPECTED_READ_REFUSALS: dict[str, dict[str, set[tuple[str, str]]]] = {
    ADMIN: {},
    MANAGER: {},
    MEMBER: {
        "Notes": {(F, "Client.outstandingAmount")},
        "Money": {(F, "Project.budget"), (F, "TimeEntry.costRate"), (F, "TimeEntry.billRate")},
    },
    SHOWN: {"Notes": {(F, "Client.internalNotes")}, "Tiers": {(F, "Query.clients")}},
    HIDDEN: {
        "Notes": {(F, "Client.internalNotes")},
        "Money": {(F, "TimeEntry.costRate")},
        "Tiers": {(F, "Query.clients")},
    },
    VIEW_AS_TOKEN: {"Notes": {(F, "Client.internalNotes")}, "Tiers": {(F, "Query.clients")}},
    ANONYMOUS: {op: {(U, "Query.me" if op == "Harmless" else "Query.clients")} for op in READS},
}
# Which mutations each caller may run (on the costs-shown client's visible task); the rest are refused.
ALLOWED_WRITES = {
    ADMIN: {"Note", "Reply", "NewProject"},
    MANAGER: {"Note", "Reply", "NewProject"},
    MEMBER: {"Note", "Reply"},  # createProject with a budget sets Project.budget (FINANCE)
    SHOWN: {"Reply"},
    HIDDEN: {"Reply"},  # passes the policy; the resolver answers NOT_FOUND (not its task)
    VIEW_AS_TOKEN: set(),
    ANONYMOUS: set(),
}


# -- the world -------------------------------------------------------------------------------


async def _world(api, factory, *wanted: str) -> SimpleNamespace:
    """Two clients (costs shown / hidden), each with a budgeted project, a visible task and an
    hour of time with rates; and a signed-in token for each caller asked for."""
    shown = await factory.client(
        "Shown Ltd",
        show_costs_in_portal=True,
        internal_notes="CANARY-SHOWN",
        tier=ClientTier.GOLD,
        portal_booking_enabled=True,
    )
    hidden = await factory.client("Hidden Co", internal_notes="CANARY-HIDDEN", tier=ClientTier.GOLD)
    member = await factory.user(Role.MEMBER)
    tasks = {}
    for client in (shown, hidden):
        project = await factory.project(client, name=f"{client.name} site", budget=Decimal("5000.00"))
        task = tasks[client.id] = await factory.task(project, title=f"{client.name} design")
        await factory.add(
            TimeEntry(
                user_id=member.id,
                project_id=project.id,
                task_id=task.id,
                work_date=dt.date(2026, 2, 2),
                hours=Decimal("3.00"),
                cost_rate=Decimal("40.00"),
                bill_rate=Decimal("120.00"),
            )
        )
    shown_user = await factory.portal_user(shown)
    hidden_user = await factory.portal_user(hidden)
    users = {
        ADMIN: await factory.user(Role.ADMIN),
        MANAGER: await factory.user(Role.MANAGER),
        MEMBER: member,
        SHOWN: shown_user,
        HIDDEN: hidden_user,
    }
    tokens: dict[str, str | None] = {ANONYMOUS: None}
    for name in wanted:
        if name in users:
            tokens[name] = await api.login(users[name].email, PASSWORD)
        elif name == VIEW_AS_TOKEN:
            manager = tokens.get(MANAGER) or await api.login(users[MANAGER].email, PASSWORD)
            issued = (await api.data(VIEW_AS, {"id": gid("User", shown_user.id)}, manager))["viewAs"]
            assert issued["errors"] == [], issued
            tokens[name] = issued["accessToken"]
    return SimpleNamespace(
        shown=shown,
        hidden=hidden,
        shown_user=shown_user,
        tokens=tokens,
        variables={"task": gid("Task", tasks[shown.id].id), "client": gid("Client", shown.id)},
    )


# -- sending and comparing -----------------------------------------------------------------------


async def _written(db) -> tuple[int, int]:
    """(rows a mutation here exists to write, rows any write leaves beside them). A view-as
    token's own VIEW_AS_USED audit row is written on every request and is not counted."""

    def rows(model, *where):
        return sa.select(sa.func.count()).select_from(model).where(*where).scalar_subquery()

    audit = (ActivityKind.VIEW_AS_USED, ActivityKind.VIEW_AS_ISSUED)
    async with db() as session:
        found = (
            await session.execute(
                sa.select(
                    rows(Comment) + rows(Project),
                    rows(Notification) + rows(OutboxEmail) + rows(Activity, col(Activity.kind).not_in(audit)),
                )
            )
        ).one()
    return int(found[0]), int(found[1])


async def _send(
    api,
    db,
    document: str,
    operation: str,
    token: str | None,
    variables: dict,
    method: str = "POST",
    mutation: str | None = None,
) -> tuple[int, Any]:
    """One request; for a mutation, also that it wrote exactly what its answer says it did."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    before = await _written(db) if mutation else None
    if method == "POST":
        response = await api.client.post(
            "/graphql", json={"query": document, "operationName": operation, "variables": variables}, headers=headers
        )
    else:
        params = {"query": document, "operationName": operation, "variables": json.dumps(variables)}
        response = await api.client.get("/graphql", params=params, headers=headers)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if mutation:
        assert before is not None, "a mutation's rows are counted before it is sent"
        after = await _written(db)
        payload = (body.get("data") or {}).get(mutation) if isinstance(body, dict) else None
        succeeded = (
            response.status_code == 200 and "errors" not in body and payload is not None and payload["errors"] == []
        )
        if succeeded:
            assert after[0] == before[0] + 1, (operation, method, body)
        else:
            assert after == before, f"{operation} by {method} was refused yet wrote rows: {body}"
    return response.status_code, body


def _without_locations(body: Any) -> Any:
    if not isinstance(body, dict) or "errors" not in body:
        return body
    return {**body, "errors": [{k: v for k, v in e.items() if k != "locations"} for e in body["errors"]]}


def _refusals(body: dict) -> set[tuple[str, str]]:
    return {(e["extensions"]["code"], e["extensions"].get("field")) for e in body.get("errors", [])}


async def _cold(api, db, ops: dict[str, str], operation: str, token, variables, method, mutation=None, alone=True):
    """The answer with nothing cached: the whole document with the cache cleared, and (`alone`)
    the operation sent alone as a one-operation document, also cold. They agree, error
    locations aside (the locations are the document's)."""
    enforcement.decisions.clear()
    in_document = await _send(api, db, "\n".join(ops.values()), operation, token, variables, method, mutation)
    if alone:
        enforcement.decisions.clear()
        single = await _send(api, db, ops[operation], operation, token, variables, method, mutation)
        assert in_document[0] == single[0] and _without_locations(in_document[1]) == _without_locations(single[1]), (
            operation,
            method,
            in_document,
            single,
        )
    enforcement.decisions.clear()
    return in_document


async def _every_order(api, db, ops: dict[str, str], token, variables, method: str, cold: dict, who: str):
    """Each operation of the document, selected by operationName, in every order; the cache is
    cleared before each order only, so each order starts cold and warms as it goes."""
    document = "\n".join(ops.values())
    for order in itertools.permutations(ops):
        enforcement.decisions.clear()
        for operation in order:
            mutation = MUTATION_FIELD.get(operation)
            answer = await _send(api, db, document, operation, token, variables, method, mutation)
            assert answer == cold[operation], (
                f"{who} {method} {operation} after {order[: order.index(operation)]}: "
                f"got {answer}, cold {cold[operation]}"
            )


# -- 1. every caller, every order, POST and GET ------------------------------------------------


@pytest.mark.parametrize("who", CALLERS)
async def test_each_query_of_a_document_answers_cold_in_every_order(api, db, factory, who):
    world = await _world(api, factory, who)
    token = world.tokens[who]
    for names in READ_DOCS:
        ops = {name: READS[name] for name in names}
        for method in ("POST", "GET"):
            cold = {op: await _cold(api, db, ops, op, token, {}, method) for op in ops}
            for op, (status, body) in cold.items():
                assert status == 200, body
                assert _refusals(body) == EXPECTED_READ_REFUSALS[who].get(op, set()), (who, op, body)
                if who in (SHOWN, HIDDEN, VIEW_AS_TOKEN, ANONYMOUS):
                    assert "CANARY" not in json.dumps(body), body
            await _every_order(api, db, ops, token, {}, method, cold, who)


@pytest.mark.parametrize("who", CALLERS)
async def test_each_mutation_of_a_document_answers_cold_in_every_order(api, db, factory, who):
    world = await _world(api, factory, who)
    token, variables = world.tokens[who], world.variables
    for names in WRITE_DOCS:
        ops = {name: WRITES[name] for name in names}
        cold = {op: await _cold(api, db, ops, op, token, variables, "POST", MUTATION_FIELD.get(op)) for op in ops}
        for op, mutation in MUTATION_FIELD.items():
            if op not in ops:
                continue
            status, body = cold[op]
            assert status == 200, body
            reached = body["data"] is not None and "errors" not in body
            assert reached == (op in ALLOWED_WRITES[who]), (who, op, body)
            if not reached:
                # Refused by the policy tables before any resolver ran: no payload, one error naming the field.
                assert _refusals(body) == {(U if who == ANONYMOUS else F, f"Mutation.{mutation}")}, (who, op, body)
        await _every_order(api, db, ops, token, variables, "POST", cold, who)

        # By GET only a query runs: a mutation by GET is refused before the schema runs (400 or 405,
        # no data), and writes nothing (_send checks the rows).
        get_cold = {}
        for op in ops:
            if op in MUTATION_FIELD:
                enforcement.decisions.clear()
                get_cold[op] = status, body = await _send(
                    api, db, "\n".join(ops.values()), op, token, variables, "GET", MUTATION_FIELD[op]
                )
                assert status in (400, 405) and "mutations are not allowed when using GET" in str(body), (
                    op,
                    status,
                    body,
                )
                assert not isinstance(body, dict) or body.get("data") is None, body
            else:
                get_cold[op] = await _cold(api, db, ops, op, token, variables, "GET")
        await _every_order(api, db, ops, token, variables, "GET", get_cold, who)


# -- 1b. one document text from two callers, both orders --------------------------------------

PAIRS = [
    (SHOWN, HIDDEN),  # costs_enabled
    (ADMIN, MEMBER),  # role
    (SHOWN, VIEW_AS_TOKEN),  # read_only
    (ADMIN, ANONYMOUS),
]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: " then ".join(p))
async def test_one_document_from_two_callers_each_gets_its_own_cold_answer(api, db, factory, pair):
    world = await _world(api, factory, *pair)
    for ops, variables in ((READS, {}), (WRITES, world.variables)):
        cold = {
            (who, op): await _cold(
                api, db, ops, op, world.tokens[who], variables, "POST", MUTATION_FIELD.get(op), alone=False
            )
            for who in pair
            for op in ops
        }
        document = "\n".join(ops.values())
        for first, second in (pair, pair[::-1]):
            for op in ops:
                enforcement.decisions.clear()
                for who in (first, second):
                    answer = await _send(
                        api, db, document, op, world.tokens[who], variables, "POST", MUTATION_FIELD.get(op)
                    )
                    assert answer == cold[(who, op)], f"{who} {op} after {first}: got {answer}, cold {cold[(who, op)]}"


# -- 2. a view-as token replaying its user's mutation ------------------------------------------

REPLAYS = {
    "addComment": (
        (
            'mutation Say($task: ID!) { addComment(kind: REPLY, body: "same words", taskId: $task) '
            "{ comment { kind body } errors { code } } }"
        ),
        Comment,
    ),
    "bookMeeting": (
        (
            'mutation Book { bookMeeting(input: { title: "Kickoff", startsAt: "2099-01-05T10:00:00+00:00", '
            'endsAt: "2099-01-05T11:00:00+00:00" }) { meeting { title status } errors { code } } }'
        ),
        Meeting,
    ),
    "recordSatisfactionScore": (
        "mutation Score { recordSatisfactionScore(input: { score: 9 }) { score { score } errors { code } } }",
        SatisfactionSurvey,
    ),
    "markNotificationsRead": ("mutation Read { markNotificationsRead { marked errors { code } } }", Notification),
}


async def _replay_rows(db, name: str) -> int:
    if name == "markNotificationsRead":
        return await count(db, Notification, col(Notification.read_at).is_not(None))
    return await count(db, REPLAYS[name][1])


@pytest.mark.parametrize("name", REPLAYS)
async def test_a_view_as_token_replaying_its_users_mutation_is_refused(api, db, factory, name):
    world = await _world(api, factory, SHOWN, VIEW_AS_TOKEN)
    query, _ = REPLAYS[name]
    variables = {"task": world.variables["task"]} if "$task" in query else {}
    real, view_as = world.tokens[SHOWN], world.tokens[VIEW_AS_TOKEN]

    async def unread_notification():
        await factory.add(Notification(user_id=world.shown_user.id, kind="COMMENT", message="New reply"))

    async def as_real_user():
        if name == "markNotificationsRead":
            await unread_notification()
        rows = await _replay_rows(db, name)
        unread = await count(
            db, Notification, Notification.read_at.is_(None), Notification.user_id == world.shown_user.id
        )
        body = await api.post(query, variables, real)
        assert "errors" not in body and body["data"][name]["errors"] == [], body
        assert await _replay_rows(db, name) == rows + (unread if name == "markNotificationsRead" else 1), body
        return body

    async def as_view_as():
        if name == "markNotificationsRead":
            await unread_notification()
        rows = await _replay_rows(db, name)
        body = await api.post(query, variables, view_as)
        assert body["data"] is None, body
        assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN", "field": f"Mutation.{name}"}], body
        assert await _replay_rows(db, name) == rows, f"a view-as token wrote through {name}"

    enforcement.decisions.clear()
    await as_real_user()
    await as_view_as()  # the identical text and variables, just decided for the real user
    enforcement.decisions.clear()
    await as_view_as()
    await as_real_user()  # the refusal decided for the token is not the real user's


# -- 3. argument rules across the operations of one document -----------------------------------

TIERS_B = "query B($t: [ClientTier!]) { clients(filter: { tiers: $t }) { totalCount } }"
TIER_DOCUMENTS = {
    # A reaches the ruled field too (Query.clients), with no ruled argument.
    "A lists clients": "query A { clients { totalCount } }\n" + TIERS_B,
    # A reaches no field with argument rules: B's rules must still be checked after it.
    "A reads me": "query A { me { fullName } }\n" + TIERS_B,
}


@pytest.mark.parametrize("document", TIER_DOCUMENTS)
@pytest.mark.parametrize("who", [SHOWN, HIDDEN])
async def test_a_client_filtering_by_tier_is_refused_whatever_ran_before(api, db, factory, who, document):
    world = await _world(api, factory, who, MANAGER)
    token, manager = world.tokens[who], world.tokens[MANAGER]
    text = TIER_DOCUMENTS[document]

    async def run(operation, as_token, variables=None):
        response = await api.client.post(
            "/graphql",
            json={"query": text, "operationName": operation, "variables": variables or {}},
            headers={"Authorization": f"Bearer {as_token}"},
        )
        return response.json()

    def b(as_token, tiers):
        return run("B", as_token, {"t": tiers})

    def a(as_token):
        return run("A", as_token)

    def refused(body):
        assert body["data"] == {"clients": None}, body
        assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN", "field": "Query.clients"}], body
        assert "Client.tier" in body["errors"][0]["message"], body

    before_b = [
        [],
        [lambda: a(token)],
        [lambda: b(token, [])],  # the same operation without a ruled value is allowed...
        [lambda: b(manager, ["GOLD"])],  # ...and so is staff's
        [lambda: a(token), lambda: b(token, None), lambda: b(manager, ["GOLD"])],
    ]
    for earlier in before_b:
        enforcement.decisions.clear()
        for step in earlier:
            assert "errors" not in await step()
        refused(await b(token, ["GOLD"]))
        refused(await b(token, ["STANDARD", "GOLD"]))
        assert "errors" not in await a(token)
        refused(await b(token, ["GOLD"]))
        assert (await b(token, []))["data"] == {"clients": {"totalCount": 1}}
        assert (await b(manager, ["GOLD"]))["data"] == {"clients": {"totalCount": 2}}


# -- 4. no Principal at all --------------------------------------------------------------------


@pytest.mark.parametrize("context_kind", ["principal=None", "no principal attribute", "no context"])
async def test_a_request_without_a_principal_reaches_only_open_fields(db, factory, settings, context_kind):
    user = await factory.user(Role.ADMIN)
    services = Services(
        tokens=TokenService(
            secret=settings.signing_key(),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            access_ttl=settings.access_ttl,
        ),
        refresh_ttl=settings.refresh_ttl,
    )
    request_db = RequestDb(db)
    fields = {
        "db": request_db,
        "loaders": None,
        "services": services,
        "auth_error": None,
        "request_id": "policy-key-test",
        "ip_address": None,
        "user_agent": None,
    }
    context = {
        "principal=None": SimpleNamespace(principal=None, **fields),
        "no principal attribute": SimpleNamespace(**fields),
        "no context": None,
    }[context_kind]
    schema = build_schema()
    try:
        for query, root, code in (
            ("{ clients { totalCount } }", "clients", U),
            ("{ me { fullName } }", "me", U),
            ("query Q { clients(filter: { tiers: [GOLD] }) { totalCount } }", "clients", U),
            ('mutation { logout(refreshToken: "x") { ok } }', None, None),
        ):
            enforcement.decisions.clear()
            result = await schema.execute(query, context_value=context)
            if root is None:
                continue  # logout is OPEN; its resolver needs a context (checked below with one)
            assert result.data == {root: None}, (query, result)
            assert [e.extensions["code"] for e in result.errors] == [code], (query, result.errors)
            assert result.errors[0].extensions["field"] == f"Query.{root}"
        # Refused before any resolver: a mutation needing a role is UNAUTHENTICATED too.
        result = await schema.execute(
            'mutation { createProject(clientId: "x", input: { name: "P" }) { project { name } } }',
            context_value=context,
        )
        assert result.data is None and [e.extensions for e in result.errors] == [
            {"code": U, "field": "Mutation.createProject"}
        ], result
        assert await count(db, Project) == 0
        if context is not None:
            # OPEN fields resolve: login is reachable and signs in.
            result = await schema.execute(
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
                "{ tokens { tokenType } viewer { email role } errors { code } } }",
                variable_values={"e": user.email, "p": PASSWORD},
                context_value=context,
            )
            assert result.errors is None, result.errors
            assert result.data["login"]["errors"] == [] and result.data["login"]["tokens"] is not None
            assert result.data["login"]["viewer"] == {"email": user.email, "role": "ADMIN"}
    finally:
        await request_db.close()
