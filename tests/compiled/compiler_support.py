"""Two apps on one database, the compiled read path on and off, and the data both are asked about."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from sqlmodel import col

from models import (
    ClientTier,
    CommentKind,
    ContactRole,
    ContactRoleAssignment,
    Deliverable,
    DeliverableKind,
    Expense,
    Interaction,
    InteractionKind,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    Meeting,
    MeetingStatus,
    Opportunity,
    OpportunityStage,
    PaymentMethod,
    ProjectStatus,
    Role,
    SatisfactionSurvey,
    ScopeChange,
    ScopeChangeKind,
    TaskStatus,
    TimeEntry,
)
from server.app import create_app
from server.settings import Settings
from tests.factories import PASSWORD, Factory
from tests.utils import Api


class NoPlans(collections.OrderedDict):
    """schema.enforcement's plan cache, keeping nothing: a test that watches the planner sees it
    asked for every root field of every request, whichever test asked the same before."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@dataclasses.dataclass
class Pair:
    """The same requests sent to the compiled path and to the resolvers."""

    compiled: Api
    resolvers: Api

    async def both(self, query: str, variables: dict | None = None, token: str | None = None) -> tuple[bytes, bytes]:
        bodies = []
        for api in (self.compiled, self.resolvers):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await api.client.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
            assert response.status_code == 200, response.text
            bodies.append(response.content)
        return bodies[0], bodies[1]

    async def same(self, query: str, variables: dict | None = None, token: str | None = None) -> dict[str, Any]:
        """The body, asserted byte-identical on both paths."""
        compiled, resolvers = await self.both(query, variables, token)
        assert compiled == resolvers, f"\ncompiled:  {compiled[:3000]!r}\nresolvers: {resolvers[:3000]!r}"
        return orjson.loads(compiled)


async def make_api(engine: Any, settings: Settings, compiled: bool, **overrides: Any) -> tuple[Api, httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"compiled_reads": compiled, **overrides}), engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    return Api(client, app), client


@dataclasses.dataclass
class Agency:
    admin: str
    member: str
    manager: str
    portal: str  # a CLIENT of `own`
    own_client_id: int
    other_client_id: int


async def build_agency(factory: Factory) -> Agency:
    """Clients with every kind of column the compiler writes: odd text, nulls, money, dates,
    hidden tasks, projects without start dates, invoices of every status, several portal users."""
    admin = await factory.user(Role.ADMIN)
    member = await factory.user(Role.MEMBER)
    manager = await factory.user(Role.MANAGER, full_name='Ann "Quote" \\ Ünïcode 😀')
    own = await factory.client(
        "Zeta Ltd",
        account_manager_id=manager.id,
        website="https://zeta.example",
        tier=ClientTier.GOLD,
        became_client_on=dt.date(2020, 2, 29),
        internal_notes="line\nbreak\ttab \x01 ctl",
        last_interaction_at=dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
        show_costs_in_portal=True,
    )
    other = await factory.client(
        "ålpha & Co <b>",
        account_manager_id=None,
        last_interaction_at=dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),
    )
    # A name whose cursor Python writes with \u escapes: beyond the BMP, DEL, a control character.
    await factory.client('Émoji 😀 \x7f\ttab \\ "q"', tier=ClientTier.PLATINUM)
    for i in range(5):
        await factory.client(f"Client {i:02} é", tier=ClientTier.SILVER if i % 2 else ClientTier.STANDARD)
    prime = await factory.contact(own, primary=True, full_name="Prime Person", phone="+1 555")
    second = await factory.contact(
        own,
        full_name="Second Person",
        reports_to_id=prime.id,
        marketing_consent=True,
        marketing_consent_at=dt.datetime(2026, 5, 6, 7, 8, 9, 123, tzinfo=dt.UTC),
        marketing_consent_source='Form "spring" 🌱',
    )
    # The same name twice (the id breaks the tie), and names whose order depends on the collation.
    await factory.contact(own, full_name="Second Person", reports_to_id=prime.id, is_decision_maker=True)
    await factory.contact(own, full_name="ålpha contact", email=None, title='Ünïcode "t"')
    other_prime = await factory.contact(other, primary=True, full_name="Other Prime", email=None)
    # Reporting lines across clients (the API refuses them; planted all the same): a portal user of
    # one client must not reach the other's contact through them.
    await factory.contact(own, full_name="Crosses Over", reports_to_id=other_prime.id)
    await factory.contact(other, full_name="Other Spy", reports_to_id=prime.id)
    await factory.add(
        *(
            ContactRoleAssignment(contact_id=contact.id or 0, role=role)
            for contact, role in (
                (prime, ContactRole.LEGAL),
                (prime, ContactRole.BILLING),
                (prime, ContactRole.TECHNICAL),
                (second, ContactRole.MARKETING),
                (other_prime, ContactRole.BILLING),
            )
        )
    )
    portal = await factory.portal_user(own)
    other_portal = await factory.portal_user(other)
    # Portal users in an order only lower() gives, one of them revoked.
    await factory.portal_user(own, full_name="adam Early", is_active=False)
    await factory.portal_user(own, full_name="Zed Late")
    alphas: dict[int, Any] = {}
    for client in (own, other):
        a = await factory.project(client, name="Alpha", budget=Decimal("12345.50"), status=ProjectStatus.ACTIVE)
        alphas[client.id or 0] = a
        b = await factory.project(client, name="Beta", start_date=None, status=ProjectStatus.ON_HOLD)
        await factory.project(
            client,
            name="Gamma",
            start_date=dt.date(2025, 5, 1),
            status=ProjectStatus.COMPLETED,
            completed_at=dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC),
        )
        for position, project in enumerate((a, a, b)):
            await factory.task(
                project,
                title=f"Task {position} of {project.name}",
                position=position % 2,
                due_date=dt.date(2026, 6, position + 1) if position else None,
                estimate_hours=Decimal("1.25") if position else None,
                status=TaskStatus.DONE if position else TaskStatus.TODO,
                completed_at=dt.datetime(2026, 2, 2, 2, 2, 2, tzinfo=dt.UTC) if position else None,
            )
        hidden = await factory.task(a, title="Hidden from the client", visible_to_client=False)
        task = await factory.task(a, title="Commented")
        changed = dt.datetime(2026, 3, 3, 3, 3, 3, tzinfo=dt.UTC)
        await factory.add(
            ScopeChange(
                project_id=a.id or 0,
                kind=ScopeChangeKind.BUDGET_CHANGED,
                is_reduction=True,
                old_budget=Decimal("12345.50"),
                new_budget=Decimal("0.05"),
                changed_by_id=manager.id,
                occurred_at=changed,
            ),
            ScopeChange(project_id=a.id or 0, kind=ScopeChangeKind.TASK_ADDED, task_id=hidden.id, occurred_at=changed),
            ScopeChange(
                project_id=a.id or 0,
                kind=ScopeChangeKind.END_DATE_MOVED,
                old_end_date=dt.date(2026, 12, 31),
                new_end_date=dt.date(2027, 2, 28),
                occurred_at=changed - dt.timedelta(microseconds=1),
            ),
        )
        await factory.comment(task, CommentKind.NOTE, "internal")
        for on, title, kw in (
            (task, "A link", {"url": 'https://x.example/a?b=1&c="d"'}),
            (
                task,
                'File "ü" 😀',
                {
                    "url": "",
                    "kind": DeliverableKind.FILE,
                    "file_key": "k1",
                    "file_name": "report ü.pdf",
                    "file_size": 2_147_483_647,
                    "content_type": "application/pdf",
                    "is_complete": True,
                    "completed_at": dt.datetime(2026, 4, 5, 0, 0, tzinfo=dt.UTC),
                },
            ),
            (hidden, "Internal draft", {"url": "https://x.example/internal"}),
        ):
            await factory.add(
                Deliverable(
                    task_id=on.id or 0,
                    title=title,
                    created_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
                    **kw,
                )
            )
        sent = await factory.invoice(
            client,
            lines=(("10", "100.00"), ("3", "33.33")),
            sent_at=dt.datetime(2026, 10, 1, 9, 0, 0, 5, tzinfo=dt.UTC),
            notes='Net 30 "please"\n',
        )
        await factory.payment(sent, "50.10")
        draft = await factory.invoice(client, status=InvoiceStatus.DRAFT, notes="draft: not the client's")
        void = await factory.invoice(client, status=InvoiceStatus.VOID)
        await factory.payment(void, "1.00")
        # Voided after it was sent (a portal user sees it), with payments of the same day.
        recalled = await factory.invoice(
            client,
            status=InvoiceStatus.VOID,
            issue_date=dt.date(2026, 11, 1),
            sent_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            voided_at=dt.datetime(2026, 11, 2, 3, 4, 5, 600000, tzinfo=dt.UTC),
        )
        billed = await factory.add(
            *(
                InvoiceLine(
                    invoice_id=recalled.id or 0,
                    kind=InvoiceLineKind.TIME,
                    description=description,
                    quantity=Decimal(quantity),
                    unit_price=Decimal(price),
                    tax_rate=Decimal(rate),
                    amount=Decimal(amount),
                    tax_amount=Decimal(tax),
                    position=position,
                )
                for description, quantity, price, rate, amount, tax, position in (
                    ('Design "v2" ✏️\n', "1.50", "120.00", "0.0825", "180.00", "14.85", 2),
                    ("Hosting", "0.25", "0.04", "1.0000", "0.01", "0.01", 1),
                    ("Same place", "3", "99999999.99", "0.0001", "299999999.97", "30000.00", 1),
                )
            )
        )
        async with factory.session_factory() as session:
            draft_line = await session.scalar(
                sa.select(col(InvoiceLine.id)).where(col(InvoiceLine.invoice_id) == draft.id)
            )
        await _plant_time_and_expenses(factory, a, hidden, member, billed[0].id, draft_line)
        await factory.payment(recalled, "2.50", reference="réf 😀", method=PaymentMethod.CARD)
        await factory.payment(recalled, "0.01", received_on=dt.date(2026, 10, 15))
    await _plant_engagement(factory, own, other, manager, portal, other_portal, prime, other_prime, alphas)
    return Agency(
        admin=admin.email,
        member=member.email,
        manager=manager.email,
        portal=portal.email,
        own_client_id=own.id or 0,
        other_client_id=other.id or 0,
    )


async def tokens(api: Api, agency: Agency) -> dict[str, str]:
    return {
        "admin": await api.login(agency.admin, PASSWORD),
        "member": await api.login(agency.member, PASSWORD),
        "manager": await api.login(agency.manager, PASSWORD),
        "portal": await api.login(agency.portal, PASSWORD),
    }


async def _plant_engagement(
    factory: Factory,
    own: Any,
    other: Any,
    manager: Any,
    portal: Any,
    other_portal: Any,
    prime: Any,
    other_prime: Any,
    alphas: dict[int, Any],
) -> None:
    """Opportunities, interactions, meetings and satisfaction scores of both clients, with ties on
    their order and links across clients (a meeting on one client requested by the other's portal
    user, an interaction naming the other's contact) that a portal user must not follow."""
    moment = dt.datetime(2026, 9, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)
    for client, contact, outsider, outside_contact in (
        (own, prime, other_portal, other_prime),
        (other, other_prime, portal, prime),
    ):
        project = alphas[client.id]
        await factory.add(
            Opportunity(
                client_id=client.id,
                title='Retainer "plus" ✚ü',
                value=Decimal("2500.50"),
                owner_id=manager.id,
                expected_close_on=dt.date(2027, 1, 31),
                project_id=project.id,
                created_at=moment,
            ),
            Opportunity(client_id=client.id, title="Second", stage=OpportunityStage.WON, created_at=moment),
            Interaction(
                client_id=client.id,
                kind=InteractionKind.CALL,
                summary='Call\n"notes"',
                occurred_at=moment,
                staff_id=manager.id,
                contact_id=contact.id,
            ),
            Interaction(
                client_id=client.id,
                kind=InteractionKind.EMAIL,
                summary="Across",
                occurred_at=moment,
                contact_id=outside_contact.id,
            ),
            Meeting(
                client_id=client.id,
                title="Kick-off ☕",
                starts_at=moment,
                ends_at=moment + dt.timedelta(hours=1),
                status=MeetingStatus.CONFIRMED,
                location="Room <1>",
                agenda="a\tb",
                requested_by_id=manager.id,
                staff_id=manager.id,
            ),
            Meeting(
                client_id=client.id,
                title="Asked from elsewhere",
                starts_at=moment,
                ends_at=moment + dt.timedelta(minutes=30),
                requested_by_id=outsider.id,
            ),
            SatisfactionSurvey(
                client_id=client.id, contact_id=contact.id, score=9, comment="Great 👍", responded_at=moment
            ),
            SatisfactionSurvey(client_id=client.id, score=0, responded_at=moment - dt.timedelta(days=1)),
        )


async def _plant_time_and_expenses(
    factory: Factory, project: Any, hidden: Any, member: Any, billed_line: int, draft_line: int | None
) -> None:
    """Time whose amounts round at the half cent (1.15 h x 1.50 = 1.725), time on a task hidden from the
    portal, entries billed on a sent invoice and on a draft, and expenses billable or not."""
    when = dt.date(2026, 3, 1)
    await factory.add(
        TimeEntry(
            user_id=member.id,
            project_id=project.id,
            work_date=when,
            hours=Decimal("1.15"),
            cost_rate=Decimal("1.50"),
            bill_rate=Decimal("0.30"),
            description='Call "kick-off"\tnotes',
            invoice_line_id=billed_line,
        ),
        TimeEntry(
            user_id=member.id,
            project_id=project.id,
            task_id=hidden.id,
            work_date=when,
            hours=Decimal("2.35"),
            cost_rate=Decimal("33.33"),
            bill_rate=Decimal("99.99"),
            billable=False,
        ),
        TimeEntry(
            user_id=member.id,
            project_id=project.id,
            work_date=when - dt.timedelta(days=1),
            hours=Decimal("0.01"),
            cost_rate=Decimal("0.50"),
            bill_rate=Decimal("150.00"),
            invoice_line_id=draft_line,
        ),
        Expense(
            project_id=project.id,
            description="Fonts ✒️",
            amount=Decimal("19.99"),
            incurred_on=when,
            created_by_id=member.id,
            invoice_line_id=draft_line,
        ),
        Expense(project_id=project.id, description="Coffee", amount=Decimal("4.50"), billable=False, incurred_on=when),
    )


def _callers_own_lookup(statement: str) -> bool:
    """The caller's row read by a statement of its own (server.principal._BY_ID), not inside a
    compiled statement (where its answer is `answer`)."""
    return statement.startswith("SELECT user_account.id, user_account.is_active") and " AS answer" not in statement


async def statements_of(api: Api, statements: Any, query: str, variables: dict | None, token: str) -> int:
    """How many statements one request of `query` issues for its answer: not counting SQLite's
    BEGIN, nor the caller's own look-up when it is a statement of its own (on SQLite; on
    PostgreSQL it rides in the request's first compiled statement)."""
    statements.reset()
    await api.data(query, variables, token)
    return sum(1 for s in statements.statements if not s.startswith("BEGIN") and not _callers_own_lookup(s))
