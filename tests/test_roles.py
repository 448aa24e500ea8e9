"""Per role, every type answers what the policy table says.

For each role, every Relay node type is read through `node(id)` with all of its leaf
fields. A row the role's scope hides answers null; on a visible row every field the
table allows comes back with the stored value, and every field it refuses comes back
null with one FORBIDDEN error naming the coordinate. The expectations are computed
from auth.policy, so a new type or field is covered the day it is added.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum

import graphql
import pytest
import sqlalchemy as sa
from strawberry.relay import GlobalID
from strawberry.types.base import StrawberryObjectDefinition

import models
from auth.policy import decide
from auth.principal import Principal
from auth.scopes import SCOPES
from models import ActivityKind, CommentKind, InteractionKind, Role
from schema.base import ModelNode
from schema.build import build_schema
from tests.factories import PASSWORD


def _node_types() -> dict[str, type]:
    """GraphQL type name -> model, for every type served from model rows."""
    schema = build_schema()
    found = {}
    for type_def in schema.schema_converter.type_map.values():
        definition = type_def.definition
        origin = getattr(definition, "origin", None)
        if isinstance(origin, type) and issubclass(origin, ModelNode) and origin is not ModelNode:
            assert isinstance(definition, StrawberryObjectDefinition), f"{origin.__name__} is not an object type"
            found[definition.name] = origin.__model__
    return found


def _leaf_fields(type_name: str) -> list[str]:
    graphql_type = build_schema()._schema.type_map[type_name]
    assert isinstance(graphql_type, graphql.GraphQLObjectType), f"{type_name} is not an object type"
    fields = []
    for name, field in graphql_type.fields.items():
        named = graphql.get_named_type(field.type)
        required_args = any(
            graphql.is_non_null_type(a.type) and a.default_value is graphql.Undefined for a in field.args.values()
        )
        if graphql.is_leaf_type(named) and not required_args:
            fields.append(name)
    return fields


def node_query(type_name: str, node_id: object, fields: list[str] | None = None) -> str:
    """The walk's read of one row: `node(id)` with every leaf field of its type (tests/compiled runs it too)."""
    selected = " ".join(fields if fields is not None else _leaf_fields(type_name))
    return f'{{ node(id: "{node_id}") {{ ... on {type_name} {{ {selected} }} }} }}'


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


async def _plant(factory):
    staff = await factory.user(
        Role.MANAGER,
        phone="+1-555-0101",
        job_title="Account manager",
        hourly_cost_rate=Decimal("60.00"),
        hourly_bill_rate=Decimal("150.00"),
    )
    client = await factory.client(
        "Acme",
        internal_notes="notes",
        account_manager_id=staff.id,
        website="https://acme.example",
        last_interaction_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    await factory.contact(
        client, primary=True, phone="+1-555-0102", title="CEO", internal_notes="likes coffee", is_decision_maker=True
    )
    project = await factory.project(
        client, budget=Decimal("1000.00"), description="A project", end_date=dt.date(2026, 12, 31)
    )
    task = await factory.task(
        project,
        description="Do it",
        due_date=dt.date(2026, 12, 1),
        estimate_hours=Decimal("5.00"),
        assignee_id=staff.id,
    )
    await factory.comment(task, CommentKind.REPLY, "reply", author_id=staff.id)
    invoice = await factory.invoice(client)
    await factory.payment(invoice, "50.00", reference="REF-1")
    await factory.add(
        models.TimeEntry(
            user_id=staff.id,
            project_id=project.id,
            task_id=task.id,
            work_date=dt.date(2026, 11, 2),
            hours=Decimal("2.00"),
            cost_rate=Decimal("60.00"),
            bill_rate=Decimal("150.00"),
            description="work",
        ),
        models.Expense(
            project_id=project.id, description="Fonts", amount=Decimal("20.00"), incurred_on=dt.date(2026, 11, 2)
        ),
        models.Opportunity(client_id=client.id, title="More work", value=Decimal("500.00")),
        models.Interaction(client_id=client.id, kind=InteractionKind.CALL, summary="call", staff_id=staff.id),
        models.Meeting(
            client_id=client.id,
            title="Kick-off",
            starts_at=dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC),
            ends_at=dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC),
        ),
        models.Activity(
            client_id=client.id,
            actor_id=staff.id,
            kind=ActivityKind.PROJECT_UPDATED,
            summary="update",
            client_visible=True,
        ),
        models.Lead(company_name="Prospect"),
        models.Notification(
            user_id=staff.id, kind="TASK_ASSIGNED", message="You have a task", subject_type="Task", subject_id=task.id
        ),
        models.SatisfactionSurvey(client_id=client.id, score=9, comment="Great launch"),
        # A saved dashboard view is its owner's alone: every other caller's node(id:) answers null.
        models.DashboardView(
            user_id=staff.id,
            name="Monday review",
            sections=["HEALTH"],
            no_activity_days=30,
            months=12,
            top=10,
            client_filter={},
        ),
    )
    # Another company's rows: hidden from the portal user.
    other = await factory.client("Globex")
    await factory.contact(other, primary=True)
    await factory.task(await factory.project(other))
    await factory.invoice(other)
    portal = await factory.portal_user(client)
    return staff, client, portal


ROLES = ["ADMIN", "MANAGER", "MEMBER", "CLIENT", "CLIENT_WITH_COSTS"]


@pytest.mark.parametrize("role", ROLES)
async def test_every_node_type_answers_what_the_policy_table_says(api, factory, db, role):
    staff, client, portal = await _plant(factory)
    if role.startswith("CLIENT"):
        user = portal
        if role == "CLIENT_WITH_COSTS":
            async with db() as session, session.begin():
                await session.execute(sa.update(models.Client).values(show_costs_in_portal=True))
        principal = Principal(
            user_id=portal.id, role=Role.CLIENT, client_id=client.id, costs_enabled=role == "CLIENT_WITH_COSTS"
        )
    else:
        user = staff if role == "MANAGER" else await factory.user(Role(role))
        principal = Principal(user_id=user.id, role=Role(role))
    token = await api.login(user.email, PASSWORD)

    checked_visible = checked_hidden = 0
    for type_name, model in sorted(_node_types().items()):
        async with db() as session:
            rows = (await session.scalars(sa.select(model).order_by(model.id))).all()
            visible = set((await session.scalars(sa.select(model.id).where(SCOPES[model](principal)))).all())
        assert rows, f"plant a {model.__name__} row so {type_name} is checked"
        fields = _leaf_fields(type_name)
        for row in rows:
            node_id = GlobalID(type_name, str(row.id))
            query = node_query(type_name, node_id, fields)
            body = await api.post(query, token=token)
            node = body["data"]["node"] if body.get("data") else None
            if row.id not in visible:
                assert node is None, f"{role} sees a {type_name} its scope hides"
                checked_hidden += 1
                continue
            assert node is not None, f"{role} cannot see a visible {type_name}: {body}"
            refused = {
                e["extensions"]["field"] for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"
            }
            for field in fields:
                decision = decide(type_name, field, principal.policy_key)
                coordinate = f"{type_name}.{field}"
                if decision.allowed:
                    assert coordinate not in refused, f"{role} refused {coordinate}"
                    stored = getattr(row, _snake(field), None)
                    if stored is not None and field != "id":
                        expected = stored.value if isinstance(stored, Enum) else stored
                        got = node[field]
                        if isinstance(stored, Decimal):
                            assert Decimal(got) == stored, coordinate
                        elif isinstance(stored, (dt.date, dt.datetime)):
                            assert got is not None and got.startswith(str(stored)[:10]), coordinate
                        else:
                            assert got == expected, f"{role} read {coordinate} = {got!r}, stored {expected!r}"
                else:
                    assert node[field] is None, f"{role} read refused {coordinate}"
                    assert coordinate in refused, f"{role}: no FORBIDDEN error for {coordinate}"
            checked_visible += 1
    assert checked_visible >= 5
    if role.startswith("CLIENT") or role == "MEMBER":
        assert checked_hidden >= 1
