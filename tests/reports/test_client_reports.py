"""Client-level reports: the figures of a hand-built client, per role and date range."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models import Client
from tests.factories import PASSWORD
from tests.reports.support import REPORT, forbidden, report_agency
from tests.utils import gid

PORTFOLIO = {
    "total": 3,
    "completed": 1,
    "cancelled": 1,
    "successRate": 0.5,
    "byStatus": [
        {"status": "ACTIVE", "count": 1},
        {"status": "COMPLETED", "count": 1},
        {"status": "ON_HOLD", "count": 0},
        {"status": "CANCELLED", "count": 1},
    ],
}
FINANCIAL = {
    "totalInvoiced": "4500.00",
    "invoiceCount": 2,
    "totalRevenue": "3500.00",
    "outstanding": "1000.00",
    "averageProjectValue": "1750.00",
    "paymentHistory": [{"amount": "500.00"}, {"amount": "3000.00"}],
}
TIME = {
    "totalHours": "21.00",
    "billableHours": "19.00",
    "nonBillableHours": "2.00",
    "billableShare": 0.9048,
    "byProject": [
        {"project": {"name": "Build"}, "hours": "17.00", "billableHours": "15.00", "nonBillableHours": "2.00"},
        {"project": {"name": "Discovery"}, "hours": "4.00", "billableHours": "4.00", "nonBillableHours": "0.00"},
    ],
}
PROFITABILITY = {
    "revenue": "3500.00",
    "laborCost": "960.00",
    "expenses": "250.00",
    "totalCost": "1210.00",
    "profit": "2290.00",
    "margin": 0.6543,
}
UTILIZATION = [
    {
        "user": {"fullName": "Dev Dana"},
        "hours": "12.00",
        "billableHours": "10.00",
        "share": 0.5714,
        "laborCost": "600.00",
    },
    {"user": {"fullName": "Des Dee"}, "hours": "9.00", "billableHours": "9.00", "share": 0.4286, "laborCost": "360.00"},
]


async def test_manager_sees_the_whole_report_of_a_client(api, factory):
    agency = await report_agency(factory)
    today = agency.now.date()
    token = await api.login(agency.manager.email, PASSWORD)
    report = (await api.data(REPORT, {"id": gid("Client", agency.clients["acme"].id)}, token))["clientReport"]
    assert report["client"] == {"name": "Acme"} and report["from"] is None and report["to"] is None
    portfolio = report["portfolio"]
    assert {k: portfolio[k] for k in PORTFOLIO} == PORTFOLIO
    assert sorted(p["name"] for p in portfolio["projects"]) == ["Build", "Discovery", "Dropped"]
    assert portfolio["timeline"] == [
        {
            "project": {"name": "Discovery"},
            "startDate": (today - dt.timedelta(days=400)).isoformat(),
            "endDate": (today - dt.timedelta(days=300)).isoformat(),
            "status": "COMPLETED",
            "durationDays": 100,
            "isLate": False,
        },
        {
            "project": {"name": "Build"},
            "startDate": (today - dt.timedelta(days=200)).isoformat(),
            "endDate": (today - dt.timedelta(days=20)).isoformat(),
            "status": "ACTIVE",
            "durationDays": 180,
            "isLate": True,
        },
        {
            "project": {"name": "Dropped"},
            "startDate": (today - dt.timedelta(days=100)).isoformat(),
            "endDate": (today - dt.timedelta(days=50)).isoformat(),
            "status": "CANCELLED",
            "durationDays": 50,
            "isLate": False,
        },
    ]
    assert report["financial"] == FINANCIAL
    assert report["time"] == TIME
    assert report["profitability"] == PROFITABILITY
    assert report["utilization"] == UTILIZATION


async def test_a_date_range_narrows_time_utilization_and_profitability(api, factory):
    agency = await report_agency(factory)
    today = agency.now.date()
    token = await api.login(agency.manager.email, PASSWORD)
    variables = {
        "id": gid("Client", agency.clients["acme"].id),
        "from": (today - dt.timedelta(days=60)).isoformat(),
        "to": today.isoformat(),
    }
    report = (await api.data(REPORT, variables, token))["clientReport"]
    assert (report["from"], report["to"]) == (variables["from"], variables["to"])
    assert report["time"] == {
        "totalHours": "12.00",
        "billableHours": "10.00",
        "nonBillableHours": "2.00",
        "billableShare": 0.8333,
        "byProject": [
            {"project": {"name": "Build"}, "hours": "12.00", "billableHours": "10.00", "nonBillableHours": "2.00"}
        ],
    }
    assert report["profitability"] == {
        "revenue": "500.00",
        "laborCost": "600.00",
        "expenses": "200.00",
        "totalCost": "800.00",
        "profit": "-300.00",
        "margin": -0.6,
    }
    assert report["utilization"] == [
        {
            "user": {"fullName": "Dev Dana"},
            "hours": "12.00",
            "billableHours": "10.00",
            "share": 1.0,
            "laborCost": "600.00",
        }
    ]
    # Lifetime figures do not move with the range.
    assert report["financial"] == FINANCIAL and report["portfolio"]["total"] == 3
    bad = await api.post(REPORT, {**variables, "from": variables["to"], "to": variables["from"]}, token)
    assert bad["data"] == {"clientReport": None}
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "from", "reason": "INVALID_RANGE"}


async def test_client_sees_its_own_report_with_costs_only_when_its_client_shows_them(api, factory, db):
    agency = await report_agency(factory)
    acme = agency.clients["acme"]
    token = await api.login(agency.portal["acme"].email, PASSWORD)
    variables = {"id": gid("Client", acme.id)}

    body = await api.post(REPORT, variables, token)
    assert forbidden(body) == {"ClientReport.profitability", "ClientReport.utilization"}
    report = body["data"]["clientReport"]
    assert report["client"] == {"name": "Acme"}
    assert report["financial"] == FINANCIAL and report["time"] == TIME
    assert {k: report["portfolio"][k] for k in PORTFOLIO} == PORTFOLIO
    assert report["profitability"] is None and report["utilization"] is None

    async with db() as session, session.begin():
        await session.execute(sa.update(Client).where(Client.id == acme.id).values(show_costs_in_portal=True))
    body = await api.post(REPORT, variables, token)
    assert forbidden(body) == {"ClientReport.utilization"}
    assert body["data"]["clientReport"]["profitability"] == PROFITABILITY


async def test_client_of_another_company_gets_null_for_the_first_clients_report(api, factory):
    agency = await report_agency(factory)
    token = await api.login(agency.portal["other"].email, PASSWORD)
    body = await api.post(REPORT, {"id": gid("Client", agency.clients["acme"].id)}, token)
    assert body == {"data": {"clientReport": None}}
    # Its own report counts its own work only.
    own = (await api.post(REPORT, {"id": gid("Client", agency.clients["other"].id)}, token))["data"]["clientReport"]
    assert own["time"]["totalHours"] == "99.00" and own["financial"]["totalRevenue"] == "8888.00"
    assert [p["name"] for p in own["portfolio"]["projects"]] == ["Theirs"]
    # A global id of another type is no client at all.
    wrong = await api.post(REPORT, {"id": gid("Project", agency.clients["acme"].id)}, token)
    assert wrong == {"data": {"clientReport": None}}


async def test_member_sees_hours_and_team_but_no_money(api, factory):
    agency = await report_agency(factory)
    token = await api.login(agency.member.email, PASSWORD)
    body = await api.post(REPORT, {"id": gid("Client", agency.clients["acme"].id)}, token)
    assert forbidden(body) == {"ClientReport.financial", "ClientReport.profitability", "MemberUtilization.laborCost"}
    report = body["data"]["clientReport"]
    assert report["financial"] is None and report["profitability"] is None
    assert report["time"] == TIME
    assert report["utilization"] == [{**u, "laborCost": None} for u in UTILIZATION]
