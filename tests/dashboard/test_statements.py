"""Statement counts of the Clients list, the client record with its reports, and the dashboard:
the same for a small and a large agency (built with bulk inserts, bench/agency.py)."""

from __future__ import annotations

from auth.passwords import hash_password
from bench.agency import Shape, build_agency
from tests.factories import PASSWORD
from tests.reports.support import DASHBOARD, REPORT
from tests.utils import gid

HASH = hash_password(PASSWORD)
SMALL = Shape(
    clients=10,
    projects_per_client=2,
    tasks_per_project=2,
    comments_per_task=3,
    time_entries_per_task=1,
    invoices_per_client=2,
    members=3,
)

CLIENTS_PAGE = """
query { clients(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
  id name logoUrl tier status { name category } primaryContact { fullName email } accountManager { fullName }
  activeProjectCount outstandingAmount accountValue lastInteractionAt lastProjectOn
  healthScore { score band reasons { signal value points } }
} } } }
"""

CLIENT_RECORD = """
query($id: ID!) {
  client(id: $id) {
    id name logoUrl website billingAddress industry tier becameClientOn lastProjectOn internalNotes
    status { name category } accountManager { fullName email } primaryContact { fullName email phone }
    projects { id name status health startDate endDate budget }
    contacts { fullName email title isDecisionMaker isPrimary hasPortalAccess }
    invoices { number status issueDate dueDate total amountDue isOverdue payments { amount receivedOn } }
    payments { amount receivedOn method }
    outstandingAmount accountValue healthScore { score band reasons { signal value points summary } }
    opportunities { title stage value }
    interactions { kind summary occurredAt }
    meetings { title startsAt status }
    activity(first: 20) { totalCount edges { node { kind summary occurredAt actor { fullName } } } }
  }
}
"""


# The dashboard with the health score section (its distribution and lowest scores with their reasons).
HEALTH_SCORES = """healthScores { clientsScored averageScore distribution { band count }
  lowest { client { name } health { score band reasons { signal value points } } } }"""
DASHBOARD_WITH_SCORES = DASHBOARD.replace("retention {", HEALTH_SCORES + "\n  retention {", 1)
assert DASHBOARD_WITH_SCORES != DASHBOARD


async def _count(api, statements, query: str, variables: dict, token: str) -> tuple[int, dict]:
    return await statements.of(api, query, token, variables)


async def test_clients_list_with_all_columns_issues_as_many_statements_for_200_clients_as_for_10(
    api, engine, statements, db
):
    small = await build_agency(engine, SMALL, password_hash=HASH, tag="a")
    token = await api.login(small.manager_email, PASSWORD)
    few, data = await _count(api, statements, CLIENTS_PAGE, {}, token)
    assert data["clients"]["totalCount"] == 10 and len(data["clients"]["edges"]) == 10

    await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 190}), password_hash=HASH, tag="b")
    many, data = await _count(api, statements, CLIENTS_PAGE, {}, token)
    assert data["clients"]["totalCount"] == 200 and len(data["clients"]["edges"]) == 100
    assert data["clients"]["pageInfo"]["hasNextPage"] is True
    print(f"clients list: {few} statements for 10 clients, {many} for 200")
    assert few == many, f"{few} statements for 10 clients, {many} for 200"
    assert many <= 12


async def test_dashboard_issues_as_many_statements_for_500_clients_as_for_20(api, engine, statements, db):
    small = await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 20}), password_hash=HASH, tag="a")
    token = await api.login(small.manager_email, PASSWORD)
    few, data = await _count(api, statements, DASHBOARD_WITH_SCORES, {}, token)
    assert data["clientsDashboard"]["breakdown"]["total"] == 20
    scores, categories = data["clientsDashboard"]["healthScores"], data["clientsDashboard"]["breakdown"]["byCategory"]
    live = sum(c["count"] for c in categories if c["category"] != "CHURNED")
    assert sum(b["count"] for b in scores["distribution"]) == scores["clientsScored"] == live > 0

    await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 480}), password_hash=HASH, tag="b")
    many, data = await _count(api, statements, DASHBOARD_WITH_SCORES, {}, token)
    board = data["clientsDashboard"]
    assert board["breakdown"]["total"] == 500
    live = sum(c["count"] for c in board["breakdown"]["byCategory"] if c["category"] != "CHURNED")
    assert board["healthScores"]["clientsScored"] == live > 400 and len(board["healthScores"]["lowest"]) == 10
    # The lists are full at this size: every indicator has more clients than it shows.
    assert all(board["health"][k]["count"] > 10 for k in board["health"])
    print(f"dashboard: {few} statements for 20 clients, {many} for 500")
    assert few == many, f"{few} statements for 20 clients, {many} for 500"
    # One per section (the health score's one more), and the caller's token.
    assert many <= 22


async def test_client_record_with_every_tab_and_its_report_does_not_grow_with_the_client(api, engine, statements, db):
    light = await build_agency(
        engine,
        Shape(
            clients=1,
            projects_per_client=1,
            tasks_per_project=1,
            comments_per_task=1,
            time_entries_per_task=1,
            invoices_per_client=1,
            members=2,
        ),
        password_hash=HASH,
        tag="a",
    )
    heavy = await build_agency(
        engine,
        Shape(
            clients=1,
            projects_per_client=6,
            tasks_per_project=15,
            comments_per_task=3,
            time_entries_per_task=3,
            invoices_per_client=6,
            members=5,
        ),
        password_hash=HASH,
        tag="b",
    )
    token = await api.login(light.owner_email, PASSWORD)
    counts = []
    for agency in (light, heavy):
        variables = {"id": gid("Client", agency.client_ids[0])}
        record, data = await _count(api, statements, CLIENT_RECORD, variables, token)
        assert data["client"]["id"] == variables["id"]
        report, data = await _count(api, statements, REPORT, variables, token)
        assert data["clientReport"]["portfolio"]["total"] == len(data["clientReport"]["portfolio"]["projects"])
        counts.append((record, report, len(data["clientReport"]["portfolio"]["projects"])))
    (light_record, light_report, one), (heavy_record, heavy_report, six) = counts
    print(f"client record: {light_record} and {heavy_record}; report: {light_report} and {heavy_report}")
    assert (one, six) == (1, 6)
    assert light_record == heavy_record, f"client record: {light_record} vs {heavy_record} statements"
    assert light_report == heavy_report, f"client report: {light_report} vs {heavy_report} statements"
