"""The Clients Dashboard: every figure of a small hand-built agency, per role."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from models import SatisfactionSurvey
from resolvers.sql_functions import month_starts
from tests.factories import PASSWORD
from tests.reports.support import DASHBOARD, DASHBOARD_MONEY, dashboard_agency, forbidden


def _names(entries: list[dict]) -> list[str]:
    return [e["client"]["name"] for e in entries]


async def test_manager_sees_every_figure_of_the_agency(api, factory):
    agency = await dashboard_agency(factory)
    today = agency.now.date()
    token = await api.login(agency.manager.email, PASSWORD)
    board = (await api.data(DASHBOARD, token=token))["clientsDashboard"]

    assert board["noActivityDays"] == 30 and board["months"] == 12
    breakdown = board["breakdown"]
    assert breakdown["total"] == 5
    assert {(s["status"]["name"], s["count"]) for s in breakdown["byStatus"]} == {
        ("Active", 2),
        ("On Hold", 1),
        ("Churned", 1),
        ("VIP", 1),
    }
    assert breakdown["byCategory"] == [
        {"category": "ACTIVE", "count": 3},
        {"category": "ON_HOLD", "count": 1},
        {"category": "CHURNED", "count": 1},
    ]
    assert breakdown["newThisMonth"] == 1 and breakdown["newThisQuarter"] == 1
    growth = breakdown["growth"]
    assert [g["month"] for g in growth] == [m.isoformat() for m in month_starts(today, 12)]
    assert growth[0]["totalClients"] == 4 and growth[-1] == {
        "month": today.replace(day=1).isoformat(),
        "newClients": 1,
        "totalClients": 5,
    }
    assert sum(g["newClients"] for g in growth) == 1

    projects = board["projects"]
    assert projects["totalProjects"] == 7 and projects["activeProjects"] == 2
    assert projects["averagePerClient"] == 1.4
    assert projects["distribution"] == [{"projects": 1, "clients": 3}, {"projects": 2, "clients": 2}]
    assert {p["status"]: p["count"] for p in projects["byStatus"]} == {
        "ACTIVE": 2,
        "COMPLETED": 2,
        "ON_HOLD": 1,
        "CANCELLED": 2,
    }
    assert {p["health"]: p["count"] for p in projects["byHealth"]} == {"ON_TRACK": 1, "AT_RISK": 0, "OFF_TRACK": 1}

    money = board["financial"]
    assert money["totalOutstanding"] == "1100.00"  # acme 1000 - 400, cedar 500; the draft is not billed
    assert money["totalRevenue"] == "2400.00" and money["payingClients"] == 2
    assert money["averageClientValue"] == "1200.00"
    assert money["topClients"] == [
        {"client": {"name": "Birch"}, "revenue": "2000.00"},
        {"client": {"name": "Acme"}, "revenue": "400.00"},
    ]
    expected = {}
    for day, invoiced, received in (
        (today - dt.timedelta(days=10), 1000, 0),
        (today - dt.timedelta(days=5), 0, 400),
        (today - dt.timedelta(days=40), 2000, 0),
        (today - dt.timedelta(days=30), 0, 2000),
        (today - dt.timedelta(days=45), 500, 0),
    ):
        month = day.replace(day=1).isoformat()
        i, r = expected.get(month, (0, 0))
        expected[month] = (i + invoiced, r + received)
    trend = {p["month"]: (float(p["invoiced"]), float(p["received"])) for p in money["revenueTrend"]}
    assert {m: v for m, v in trend.items() if v != (0, 0)} == expected

    health = board["health"]
    assert health["overduePayments"] == {
        "count": 1,
        "clients": [
            {
                "client": {"name": "Cedar"},
                "amountOverdue": "500.00",
                "overdueInvoices": 1,
                "oldestDueDate": (today - dt.timedelta(days=15)).isoformat(),
                "daysOverdue": 15,
            }
        ],
    }
    quiet = health["noRecentActivity"]
    # Elm never in touch; Cedar's latest touchpoint is its portal sign-in 45 days ago (its feed entry,
    # 60 days ago, is not a touchpoint). Birch's feed entry 10 days ago does not count either: its
    # REPLY thread and payment keep it off the list.
    assert quiet["count"] == 2 and _names(quiet["clients"]) == ["Elm", "Cedar"]
    assert [c["daysSinceActivity"] for c in quiet["clients"]] == [None, 45]
    gaps = health["noRecentPortalLogin"]
    assert gaps["count"] == 2 and _names(gaps["clients"]) == ["Birch", "Cedar"]
    assert [c["daysSinceLogin"] for c in gaps["clients"]] == [None, 45]
    assert health["atRiskProjects"] == {
        "count": 2,
        "clients": [
            {"client": {"name": "Elm"}, "atRiskProjects": 0, "offTrackProjects": 1},
            {"client": {"name": "Cedar"}, "atRiskProjects": 1, "offTrackProjects": 0},
        ],
    }
    assert health["readyForUpsell"] == {
        "count": 2,
        "clients": [
            {
                "client": {"name": "Acme"},
                "reasons": ["OPEN_OPPORTUNITY"],
                "openOpportunities": 1,
                "openOpportunityValue": "5000.00",
                "completedProjects": 1,
            },
            {
                "client": {"name": "Birch"},
                "reasons": ["WORK_COMPLETED"],
                "openOpportunities": 0,
                "openOpportunityValue": "0.00",
                "completedProjects": 1,
            },
        ],
    }

    engagement = board["engagement"]
    logins = engagement["portalLogins"]
    assert (
        logins["windowDays"],
        logins["totalLogins"],
        logins["clientsWithPortalUsers"],
        logins["clientsWithLogins"],
    ) == (30, 1, 3, 1)
    assert logins["averagePerClient"] == 0.33
    assert [(c["client"]["name"], c["logins"]) for c in logins["clients"]] == [("Acme", 1), ("Cedar", 0), ("Birch", 0)]
    last = engagement["lastInteractions"]
    assert (last["clientsContacted"], last["clientsNotContacted"]) == (1, 3)
    assert [(c["client"]["name"], c["daysSince"]) for c in last["clients"]] == [
        ("Birch", None),
        ("Cedar", None),
        ("Elm", None),
        ("Acme", 3),
    ]
    replies = engagement["responseTimes"]
    assert (replies["answeredReplies"], replies["unansweredReplies"], replies["averageHours"]) == (2, 1, 5.0)
    assert replies["clients"] == [
        {"client": {"name": "Birch"}, "answeredReplies": 1, "unansweredReplies": 0, "averageHours": 6.0},
        {"client": {"name": "Acme"}, "answeredReplies": 1, "unansweredReplies": 1, "averageHours": 4.0},
    ]
    nps = engagement["satisfaction"]
    assert (nps["responses"], nps["promoters"], nps["passives"], nps["detractors"]) == (4, 2, 1, 1)
    assert nps["averageScore"] == 7.25 and nps["nps"] == 25.0
    assert [(c["client"]["name"], c["nps"]) for c in nps["clients"]] == [
        ("Cedar", -100.0),
        ("Elm", 0.0),
        ("Acme", 100.0),
    ]

    assert board["retention"] == {
        "clientsAtStart": 4,
        "retainedClients": 3,
        "retentionRate": 0.75,
        "annualChurnRate": 0.25,
        "expectedLifetimeYears": 4.0,
        "annualRevenuePerClient": "1200.00",
        "clientLifetimeValue": "4800.00",
    }


async def test_no_activity_days_moves_the_quiet_threshold(api, factory):
    agency = await dashboard_agency(factory)
    token = await api.login(agency.manager.email, PASSWORD)
    board = (await api.data(DASHBOARD, {"days": 90}, token))["clientsDashboard"]
    assert _names(board["health"]["noRecentActivity"]["clients"]) == ["Elm"]
    assert _names(board["health"]["noRecentPortalLogin"]["clients"]) == ["Birch"]
    assert board["engagement"]["portalLogins"]["totalLogins"] == 3  # every sign-in is within 90 days


async def test_member_sees_the_dashboard_without_any_money(api, factory):
    agency = await dashboard_agency(factory)
    manager = (await api.data(DASHBOARD, token=await api.login(agency.manager.email, PASSWORD)))["clientsDashboard"]
    body = await api.post(DASHBOARD, token=await api.login(agency.member.email, PASSWORD))
    assert forbidden(body) == DASHBOARD_MONEY
    board = body["data"]["clientsDashboard"]
    assert board["financial"] == {
        "totalOutstanding": None,
        "totalRevenue": None,
        "payingClients": None,
        "averageClientValue": None,
        "topClients": None,
        "revenueTrend": None,
    }
    assert board["health"]["overduePayments"] is None and board["health"]["readyForUpsell"] is None
    assert board["retention"]["clientLifetimeValue"] is None and board["retention"]["annualRevenuePerClient"] is None
    # Everything that is not money is the same as the manager's.
    assert board["breakdown"] == manager["breakdown"] and board["projects"] == manager["projects"]
    assert board["engagement"] == manager["engagement"]
    assert board["health"]["atRiskProjects"] == manager["health"]["atRiskProjects"]
    assert board["retention"]["retentionRate"] == 0.75


async def test_portal_users_are_refused_the_dashboard_not_shown_zeros(api, factory):
    agency = await dashboard_agency(factory)
    other = await factory.client("Other Co")
    for user in (agency.portal["acme"], await factory.portal_user(other)):
        body = await api.post(DASHBOARD, token=await api.login(user.email, PASSWORD))
        assert body["data"] == {"clientsDashboard": None}
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            ("FORBIDDEN", "Query.clientsDashboard")
        ]


async def test_dashboard_arguments_are_checked(api, factory):
    agency = await dashboard_agency(factory)
    token = await api.login(agency.manager.email, PASSWORD)
    for query, field in (
        ("{ clientsDashboard(noActivityDays: 0) { months } }", "noActivityDays"),
        ("{ clientsDashboard(months: 37) { months } }", "months"),
        ("{ clientsDashboard(top: 101) { months } }", "top"),
    ):
        body = await api.post(query, token=token)
        assert body["data"] == {"clientsDashboard": None}
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == field


async def test_top_limits_the_lists_but_not_the_counts(api, factory):
    agency = await dashboard_agency(factory)
    token = await api.login(agency.manager.email, PASSWORD)
    board = (
        await api.data(
            "{ clientsDashboard(top: 1) { health { atRiskProjects { count clients { client { name } } } } "
            "financial { topClients { client { name } } } } }",
            token=token,
        )
    )["clientsDashboard"]
    assert board["health"]["atRiskProjects"] == {"count": 2, "clients": [{"client": {"name": "Elm"}}]}
    assert board["financial"]["topClients"] == [{"client": {"name": "Birch"}}]


async def test_a_survey_score_is_between_0_and_10(db, factory):
    client = await factory.client()
    await factory.add(SatisfactionSurvey(client_id=client.id, score=10))
    with pytest.raises(IntegrityError):
        await factory.add(SatisfactionSurvey(client_id=client.id, score=11))
    with pytest.raises(IntegrityError):
        await factory.add(SatisfactionSurvey(client_id=client.id, score=-1))


async def test_demo_agency_dashboard_has_its_survey_answers(api, demo):
    from server.demo import DEMO_PASSWORD

    token = await api.login("owner@agency.example", DEMO_PASSWORD)
    board = (
        await api.data(
            "{ clientsDashboard { breakdown { total } engagement { satisfaction { responses promoters detractors nps "
            "clients { client { name } nps } } } } }",
            token=token,
        )
    )["clientsDashboard"]
    nps = board["engagement"]["satisfaction"]
    assert board["breakdown"]["total"] == 12
    assert (nps["responses"], nps["promoters"], nps["detractors"], nps["nps"]) == (14, 6, 4, 14.3)
    assert nps["clients"][0]["client"]["name"] == "Crescent Financial Advisors"  # the at-risk account, least happy
