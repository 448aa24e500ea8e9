"""Saved dashboard views: a round trip through the API, what the dashboard answers with one, bad input,
and that each user sees and changes only their own (another user's answers like a missing one)."""

from __future__ import annotations

import pytest

from models import ClientTier, DashboardView, Role
from models.clients import STATUS_ACTIVE, STATUS_CHURNED, STATUS_ON_HOLD
from tests.factories import PASSWORD
from tests.reports.support import forbidden
from tests.utils import count, gid, raw_id, refused_by_policy, rows, staff

FIELDS = """id name sections noActivityDays months top retentionMonths
  clients { categories statusIds tiers accountManagerIds } createdAt updatedAt"""
CREATE = f"""mutation($input: CreateDashboardViewInput!) {{ createDashboardView(input: $input) {{
  view {{ {FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateDashboardViewInput!) {{ updateDashboardView(id: $id, input: $input) {{
  view {{ {FIELDS} }} errors {{ field code message }} }} }}"""
DELETE = """mutation($id: ID!) { deleteDashboardView(id: $id) { deletedId errors { field code message } } }"""
LIST = f"""{{ dashboardViews {{ {FIELDS} }} }}"""
NODE = """query($id: ID!) { node(id: $id) { ... on DashboardView { id name } } }"""
BOARD = """query($view: ID, $days: Int, $clients: DashboardClientFilterInput) {
  clientsDashboard(viewId: $view, noActivityDays: $days, clients: $clients) {
  view { name } sections noActivityDays months
  breakdown { total } health { noRecentActivity { count } }
  retention { months } longer: retention(months: 24) { months }
  healthScores { clientsScored distribution { band count } lowest { client { name } } } } }"""


def _input(**overrides) -> dict:
    return {
        "name": "Monday review",
        "sections": ["HEALTH_SCORES", "RETENTION", "HEALTH"],
        "noActivityDays": 45,
        "months": 6,
        "top": 3,
        "retentionMonths": 18,
        **overrides,
    }


async def test_a_view_round_trips_and_drives_the_dashboard(api, factory):
    manager, token = await staff(api, factory, Role.MANAGER)
    other_manager = await factory.user(Role.MANAGER)
    for name in ("Mine 0", "Mine 1"):
        await factory.client(name, account_manager_id=manager.id)
    await factory.client("Theirs", account_manager_id=other_manager.id)
    await factory.client("Mine churned", account_manager_id=manager.id, status_id=STATUS_CHURNED)

    clients = {"categories": ["ACTIVE", "CHURNED"], "accountManagerIds": [gid("User", manager)], "tiers": []}
    created = (await api.data(CREATE, {"input": _input(clients=clients)}, token))["createDashboardView"]
    assert created["errors"] == []
    view = created["view"]
    assert {k: v for k, v in view.items() if k not in ("id", "createdAt", "updatedAt")} == {
        "name": "Monday review",
        "sections": ["HEALTH_SCORES", "RETENTION", "HEALTH"],
        "noActivityDays": 45,
        "months": 6,
        "top": 3,
        "retentionMonths": 18,
        "clients": {
            "categories": ["ACTIVE", "CHURNED"],
            "statusIds": [],
            "tiers": [],
            "accountManagerIds": [gid("User", manager)],
        },
    }
    assert (await api.data(LIST, token=token))["dashboardViews"] == [view]
    assert (await api.data(NODE, {"id": view["id"]}, token))["node"] == {"id": view["id"], "name": "Monday review"}

    board = (await api.data(BOARD, {"view": view["id"]}, token))["clientsDashboard"]
    assert board["view"] == {"name": "Monday review"}
    assert board["sections"] == ["HEALTH", "RETENTION", "HEALTH_SCORES"]
    assert (board["noActivityDays"], board["months"]) == (45, 6)
    assert board["breakdown"] is None  # not in the view: not computed
    assert board["retention"] == {"months": 18} and board["longer"] == {"months": 24}
    # The view's clients: this manager's, not churned for the scores (the churned one is filtered in by
    # category but never scored on the dashboard).
    scores = board["healthScores"]
    assert scores["clientsScored"] == 2
    assert sorted(e["client"]["name"] for e in scores["lowest"]) == ["Mine 0", "Mine 1"]

    # Arguments beside the view override it.
    board = (await api.data(BOARD, {"view": view["id"], "days": 10}, token))["clientsDashboard"]
    assert board["noActivityDays"] == 10 and board["months"] == 6
    board = (await api.data(BOARD, {"view": view["id"], "clients": {}}, token))["clientsDashboard"]
    assert board["healthScores"]["clientsScored"] == 3  # every client not churned
    # Without a view: every section, the defaults.
    board = (await api.data(BOARD, {}, token))["clientsDashboard"]
    assert board["view"] is None and board["breakdown"] == {"total": 4}
    assert (board["noActivityDays"], board["months"], board["retention"]) == (30, 12, {"months": 12})

    changes = {"name": "Weekly", "sections": ["BREAKDOWN"], "months": None, "retentionMonths": None, "clients": None}
    updated = (await api.data(UPDATE, {"id": view["id"], "input": changes}, token))["updateDashboardView"]
    assert updated["errors"] == []
    assert {k: updated["view"][k] for k in ("name", "sections", "noActivityDays", "months", "retentionMonths")} == {
        "name": "Weekly",
        "sections": ["BREAKDOWN"],
        "noActivityDays": 45,
        "months": 12,
        "retentionMonths": None,
    }
    assert updated["view"]["clients"] == {"categories": [], "statusIds": [], "tiers": [], "accountManagerIds": []}
    board = (await api.data(BOARD, {"view": view["id"]}, token))["clientsDashboard"]
    assert board["breakdown"] == {"total": 4} and board["healthScores"] is None and board["retention"] is None

    deleted = (await api.data(DELETE, {"id": view["id"]}, token))["deleteDashboardView"]
    assert deleted == {"deletedId": view["id"], "errors": []}
    assert (await api.data(LIST, token=token))["dashboardViews"] == []


async def test_a_member_cannot_read_or_change_another_users_view(api, factory, db):
    _, alice = await staff(api, factory, Role.MEMBER)
    _, bob = await staff(api, factory, Role.MEMBER)
    _, admin = await staff(api, factory, Role.ADMIN)
    view = (await api.data(CREATE, {"input": _input()}, alice))["createDashboardView"]["view"]
    missing = gid("DashboardView", 999_999)

    for token in (bob, admin):
        assert (await api.data(LIST, token=token))["dashboardViews"] == []
        assert (await api.data(NODE, {"id": view["id"]}, token))["node"] is None
        for view_id in (view["id"], missing):
            body = await api.post(BOARD, {"view": view_id}, token)
            assert body["data"]["clientsDashboard"] is None
            assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
                ("NOT_FOUND", "No such dashboard view.")
            ]
            changed = (await api.data(UPDATE, {"id": view_id, "input": {"name": "Mine now"}}, token))[
                "updateDashboardView"
            ]
            deleted = (await api.data(DELETE, {"id": view_id}, token))["deleteDashboardView"]
            # The same answer for another user's view as for one that does not exist.
            assert changed["view"] is None
            assert [(e["field"], e["code"], e["message"]) for e in changed["errors"]] == [
                ("id", "NOT_FOUND", "No such dashboard view.")
            ]
            assert deleted["deletedId"] is None and [e["code"] for e in deleted["errors"]] == ["NOT_FOUND"]
        # A name is unique per user only.
        other = (await api.data(CREATE, {"input": _input()}, token))["createDashboardView"]
        assert other["errors"] == [] and other["view"]["name"] == "Monday review"

    [stored] = await rows(db, DashboardView, DashboardView.id == raw_id(view["id"]))
    assert stored.name == "Monday review" and stored.months == 6
    assert (await api.data(LIST, token=alice))["dashboardViews"] == [view]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": "  "}, "input.name", "REQUIRED"),
        ({"name": "x" * 101}, "input.name", "TOO_LONG"),
        ({"sections": []}, "input.sections", "REQUIRED"),
        ({"months": 0}, "input.months", "OUT_OF_RANGE"),
        ({"noActivityDays": 4000}, "input.noActivityDays", "OUT_OF_RANGE"),
        ({"top": 101}, "input.top", "OUT_OF_RANGE"),
        ({"retentionMonths": 37}, "input.retentionMonths", "OUT_OF_RANGE"),
        ({"clients": {"statusIds": ["424242"]}}, "input.clients.statusIds[0]", "NOT_FOUND"),
        ({"clients": {"statusIds": ["x"]}}, "input.clients.statusIds[0]", "INVALID_ID"),
        ({"name": "monday REVIEW"}, "input.name", "DUPLICATE_NAME"),
    ],
)
async def test_bad_input_is_a_typed_error_and_writes_nothing(api, factory, db, overrides, field, code):
    _, token = await staff(api, factory, Role.MANAGER)
    first = (await api.data(CREATE, {"input": _input()}, token))["createDashboardView"]
    assert first["errors"] == []
    second = _input(**{"name": "Second", **overrides})
    payload = (await api.data(CREATE, {"input": second}, token))["createDashboardView"]
    assert payload["view"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert await count(db, DashboardView) == 1
    if code == "DUPLICATE_NAME":
        return  # on an update, its own name in another case is no duplicate of itself
    # The same rules on an update, which then changes nothing.
    payload = (await api.data(UPDATE, {"id": first["view"]["id"], "input": overrides}, token))["updateDashboardView"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert (await api.data(LIST, token=token))["dashboardViews"] == [first["view"]]


async def test_clients_filter_values_are_checked(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client("Acme")
    portal = await factory.portal_user(client)
    body = {"clients": {"accountManagerIds": [gid("User", portal)], "tiers": [ClientTier.GOLD.value]}}
    payload = (await api.data(CREATE, {"input": _input(**body)}, token))["createDashboardView"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("input.clients.accountManagerIds[0]", "NOT_STAFF")]
    ok = {"clients": {"statusIds": [str(STATUS_ACTIVE), str(STATUS_ON_HOLD)], "tiers": [ClientTier.GOLD.value]}}
    payload = (await api.data(CREATE, {"input": _input(**ok)}, token))["createDashboardView"]
    assert payload["errors"] == []
    assert payload["view"]["clients"]["statusIds"] == [str(STATUS_ACTIVE), str(STATUS_ON_HOLD)]
    assert await count(db, DashboardView) == 1


async def test_portal_users_have_no_views(api, factory, db):
    client = await factory.client("Acme")
    portal = await factory.portal_user(client)
    token = await api.login(portal.email, PASSWORD)
    await refused_by_policy(api, CREATE, {"input": _input()}, token, "createDashboardView")
    body = await api.post(LIST, token=token)
    assert body["data"]["dashboardViews"] is None and forbidden(body) == {"Query.dashboardViews"}
    assert await count(db, DashboardView) == 0


FILTERED = """query($clients: DashboardClientFilterInput) { clientsDashboard(clients: $clients) {
  breakdown { total byCategory { category count } }
  projects { totalProjects activeProjects }
  financial { totalOutstanding totalRevenue payingClients topClients { client { name } } }
  health { overduePayments { count } noRecentActivity { count } atRiskProjects { count } }
  engagement { lastInteractions { clientsContacted clientsNotContacted } }
  retention { clientsAtStart retainedClients }
  healthScores { clientsScored } } }"""


async def test_the_clients_filter_narrows_every_section(api, factory):
    """Two account managers' books: the filter on one gives exactly that book's figures, in every section."""
    import datetime as dt

    from models import ProjectHealth

    manager, token = await staff(api, factory, Role.MANAGER)
    other = await factory.user(Role.MANAGER)
    old = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    today = dt.date.today()
    books: dict[int, list] = {}
    for owner, names in ((manager, ("A1", "A2")), (other, ("B1", "B2", "B3"))):
        for name in names:
            client = await factory.client(name, account_manager_id=owner.id, created_at=old)
            books.setdefault(owner.id, []).append(client)
            await factory.project(client, health=ProjectHealth.AT_RISK)
            invoice = await factory.invoice(client, due_date=today - dt.timedelta(days=5))
            await factory.payment(invoice, "10.00", received_on=today - dt.timedelta(days=60))
    everyone = (await api.data(FILTERED, {}, token))["clientsDashboard"]
    mine = (await api.data(FILTERED, {"clients": {"accountManagerIds": [gid("User", manager)]}}, token))[
        "clientsDashboard"
    ]
    assert everyone["breakdown"]["total"] == 5 and mine["breakdown"]["total"] == 2
    assert mine["breakdown"]["byCategory"][0] == {"category": "ACTIVE", "count": 2}
    assert (everyone["projects"]["totalProjects"], mine["projects"]["totalProjects"]) == (5, 2)
    # Each invoice bills 10 x 100.00 and has 10.00 paid on it.
    assert (everyone["financial"]["totalOutstanding"], mine["financial"]["totalOutstanding"]) == ("4950.00", "1980.00")
    assert (everyone["financial"]["totalRevenue"], mine["financial"]["totalRevenue"]) == ("50.00", "20.00")
    assert mine["financial"]["payingClients"] == 2
    assert sorted(c["client"]["name"] for c in mine["financial"]["topClients"]) == ["A1", "A2"]
    for section in ("overduePayments", "noRecentActivity", "atRiskProjects"):
        assert (everyone["health"][section]["count"], mine["health"][section]["count"]) == (5, 2), section
    assert sum(mine["engagement"]["lastInteractions"].values()) == 2
    assert (everyone["retention"]["clientsAtStart"], mine["retention"]["clientsAtStart"]) == (5, 2)
    assert (everyone["healthScores"]["clientsScored"], mine["healthScores"]["clientsScored"]) == (5, 2)
    # Filters combine with AND: this manager's GOLD clients are none.
    gold = {"accountManagerIds": [gid("User", manager)], "tiers": ["GOLD"]}
    none = (await api.data(FILTERED, {"clients": gold}, token))["clientsDashboard"]
    assert none["breakdown"]["total"] == 0 and none["healthScores"]["clientsScored"] == 0


ACCOUNT_HEALTH = """query($clients: DashboardClientFilterInput) { clientsDashboard(clients: $clients) {
  health { scopeReductions { count clients { client { name } reductions budgetCuts cancellations changes } } }
  engagement { clientResponseTimes { answeredReplies unansweredReplies averageHours
    clients { client { name } answeredReplies unansweredReplies averageHours } } }
  capacity { totalHours members { user { fullName } hours billableHours clients projects
    byClient { client { name } hours } } } } }"""


async def test_the_clients_filter_narrows_capacity_scope_reductions_and_client_response_times(api, factory):
    """The three account-health sections under a manager's-book filter equal the same sections worked out
    here, from the hand-made rows, over that book's clients only (and the whole agency unfiltered)."""
    import datetime as dt
    from decimal import Decimal
    from typing import Any

    from models import Comment, CommentKind, ProjectStatus, ScopeChange, ScopeChangeKind, TimeEntry

    manager, token = await staff(api, factory, Role.MANAGER)
    other = await factory.user(Role.MANAGER)
    dana, dee = await factory.user(Role.MEMBER, full_name="Dana"), await factory.user(Role.MEMBER, full_name="Dee")
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    book = {"A1": manager, "A2": manager, "B1": other, "B2": other}
    clients = {name: await factory.client(name, account_manager_id=owner.id) for name, owner in book.items()}
    projects = {name: await factory.project(client) for name, client in clients.items()}
    # Time in the last 30 days (capacity's window with the default noActivityDays): (member, client, hours, billable).
    entries = [
        (dana, "A1", "3.00", True),
        (dana, "B1", "5.00", True),
        (dana, "B2", "1.50", False),
        (dee, "A2", "2.00", False),
        (dee, "B2", "7.00", True),
    ]
    for user, name, spent, billable in entries:
        await factory.add(
            TimeEntry(
                user_id=user.id,
                project_id=projects[name].id,
                work_date=today - dt.timedelta(days=2),
                hours=Decimal(spent),
                billable=billable,
                cost_rate=Decimal("40.00"),
                bill_rate=Decimal("100.00"),
            )
        )
    # Scope changes this month: (client, kind, is a reduction).
    changes = [
        ("A1", ScopeChangeKind.BUDGET_CHANGED, True),
        ("A1", ScopeChangeKind.TASK_ADDED, False),
        ("B1", ScopeChangeKind.BUDGET_CHANGED, True),
        ("B1", ScopeChangeKind.PROJECT_CANCELLED, True),
        ("B2", ScopeChangeKind.END_DATE_MOVED, False),
    ]
    for name, kind, cut in changes:
        await factory.add(
            ScopeChange(
                project_id=projects[name].id, kind=kind, is_reduction=cut, occurred_at=now - dt.timedelta(hours=5)
            )
        )
    cancelled = await factory.project(clients["B2"], status=ProjectStatus.CANCELLED)
    await factory.add(
        ScopeChange(
            project_id=cancelled.id,
            kind=ScopeChangeKind.PROJECT_CANCELLED,
            is_reduction=True,
            occurred_at=now - dt.timedelta(hours=4),
        )
    )
    changes.append(("B2", ScopeChangeKind.PROJECT_CANCELLED, True))
    # A staff Reply on each client's project and, for some, the client's answer N hours later.
    answers = {"A1": 10, "A2": None, "B1": 30, "B2": 4}
    asked = now - dt.timedelta(hours=50)
    for name, after in answers.items():
        portal = await factory.portal_user(clients[name])
        project_id = projects[name].id
        await factory.add(
            Comment(
                project_id=project_id, kind=CommentKind.REPLY, body="Approve?", author_id=manager.id, created_at=asked
            )
        )
        if after is not None:
            await factory.add(
                Comment(
                    project_id=project_id,
                    kind=CommentKind.REPLY,
                    body="Yes",
                    author_id=portal.id,
                    created_at=asked + dt.timedelta(hours=after),
                )
            )

    def expected(names: set[str]) -> dict:
        """The three sections over these clients, from the lists above."""
        members: list[dict[str, Any]] = []
        for user in (dana, dee):
            mine = [e for e in entries if e[0] is user and e[1] in names]
            if not mine:
                continue
            by_client: dict[str, Decimal] = {}
            for _, name, spent, _ in mine:
                by_client[name] = by_client.get(name, Decimal(0)) + Decimal(spent)
            members.append(
                {
                    "user": {"fullName": user.full_name},
                    "hours": str(sum(Decimal(e[2]) for e in mine)),
                    "billableHours": str(sum((Decimal(e[2]) for e in mine if e[3]), Decimal("0.00"))),
                    "clients": len(by_client),
                    "projects": len(by_client),
                    "byClient": [
                        {"client": {"name": n}, "hours": str(h)}
                        for n, h in sorted(by_client.items(), key=lambda item: (-item[1], item[0]))
                    ],
                }
            )
        members.sort(key=lambda m: -Decimal(m["hours"]))
        cuts: list[dict[str, Any]] = []
        for name in sorted(names):
            mine = [c for c in changes if c[0] == name]
            reductions = sum(1 for c in mine if c[2])
            cancellations = sum(1 for c in mine if c[1] == ScopeChangeKind.PROJECT_CANCELLED)
            if reductions:
                cuts.append(
                    {
                        "client": {"name": name},
                        "reductions": reductions,
                        "budgetCuts": reductions - cancellations,
                        "cancellations": cancellations,
                        "changes": len(mine),
                    }
                )
        cuts.sort(key=lambda c: (-c["reductions"], -c["changes"], c["client"]["name"]))
        answered = {n: float(h) for n, h in answers.items() if n in names and h is not None}
        waiting = [n for n, h in answers.items() if n in names and h is None]
        clients_rows: list[dict[str, Any]] = [
            {"client": {"name": n}, "answeredReplies": 1, "unansweredReplies": 0, "averageHours": h}
            for n, h in answered.items()
        ] + [
            {"client": {"name": n}, "answeredReplies": 0, "unansweredReplies": 1, "averageHours": None} for n in waiting
        ]
        clients_rows.sort(key=lambda c: (c["averageHours"] is None, -(c["averageHours"] or 0), c["client"]["name"]))
        return {
            "health": {"scopeReductions": {"count": len(cuts), "clients": cuts}},
            "engagement": {
                "clientResponseTimes": {
                    "answeredReplies": len(answered),
                    "unansweredReplies": len(waiting),
                    "averageHours": round(sum(answered.values()) / len(answered), 2) if answered else None,
                    "clients": clients_rows,
                }
            },
            "capacity": {
                "totalHours": str(sum((Decimal(m["hours"]) for m in members), Decimal("0.00"))),
                "members": members,
            },
        }

    def normal(board: dict) -> dict:
        """Clients of equal hours in id order, the rest as answered."""
        for member in board["capacity"]["members"]:
            member["byClient"].sort(key=lambda c: (-Decimal(c["hours"]), c["client"]["name"]))
        return board

    everyone = normal((await api.data(ACCOUNT_HEALTH, {}, token))["clientsDashboard"])
    assert everyone == expected(set(book))
    mine = normal(
        (await api.data(ACCOUNT_HEALTH, {"clients": {"accountManagerIds": [gid("User", manager)]}}, token))[
            "clientsDashboard"
        ]
    )
    assert mine == expected({"A1", "A2"})
    # The worked figures, so the lists above cannot drift into agreeing with anything.
    assert mine["capacity"]["totalHours"] == "5.00" and everyone["capacity"]["totalHours"] == "18.50"
    assert [c["client"]["name"] for c in mine["health"]["scopeReductions"]["clients"]] == ["A1"]
    assert mine["engagement"]["clientResponseTimes"]["averageHours"] == 10.0
    # A saved view's filter narrows them the same way.
    view = (
        await api.data(
            CREATE,
            {
                "input": _input(
                    sections=["CAPACITY", "HEALTH", "ENGAGEMENT"],
                    top=10,
                    noActivityDays=30,
                    clients={"accountManagerIds": [gid("User", other)]},
                )
            },
            token,
        )
    )["createDashboardView"]["view"]
    saved = (
        await api.data(
            ACCOUNT_HEALTH.replace("clients: $clients", "viewId: $view").replace(
                "$clients: DashboardClientFilterInput", "$view: ID"
            ),
            {"view": view["id"]},
            token,
        )
    )["clientsDashboard"]
    assert normal(saved) == expected({"B1", "B2"})
