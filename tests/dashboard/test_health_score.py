"""The custom health score on a hand-made agency: each client's score, band and reasons, the dashboard's
distribution, the ADMIN's weights, and who may see any of it.

The expected scores are worked out here from the definitions (resolvers/dashboard/health_score.py), not
read from the code: severity = (value - start) / (full - start) clamped to [0, 1]; points = weight /
(sum of the computed signals' weights) x 100 x severity; score = 100 - points, rounded half up."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

import pytest

from models import (
    CommentKind,
    Interaction,
    InteractionKind,
    LoginEvent,
    ProjectHealth,
    ProjectStatus,
    Role,
    SatisfactionSurvey,
    ScopeChange,
    ScopeChangeKind,
)
from models.base import utcnow
from models.clients import STATUS_CHURNED
from tests.factories import PASSWORD
from tests.partners.test_scopes import partner  # noqa: F401  (the fixture)
from tests.reports.support import forbidden
from tests.utils import gid, refused_by_policy, staff

# The default weights (they add up to 100).
DEFAULTS = {
    "OVERDUE_PAYMENTS": 25,
    "QUIET_DAYS": 15,
    "PORTAL_LOGINS": 10,
    "AT_RISK_PROJECTS": 20,
    "RESPONSE_DELAYS": 10,
    "NPS": 15,
    "SCOPE_CUTS": 5,
}
RAMPS = {
    "OVERDUE_PAYMENTS": (0, 60),
    "QUIET_DAYS": (30, 90),
    "PORTAL_LOGINS": (30, 90),
    "AT_RISK_PROJECTS": (0, 2),
    "RESPONSE_DELAYS": (24, 120),
    "NPS": (50, -50),
    "SCOPE_CUTS": (0, 2),
}


def expected(values: dict[str, float], weights: dict[str, int] = DEFAULTS) -> tuple[int, dict[str, float]]:
    """(score, points by signal) from the signals' values, by hand."""
    total = sum(weights.values())
    points = {}
    for signal, value in values.items():
        start, full = RAMPS[signal]
        severity = min(1.0, max(0.0, (value - start) / (full - start)))
        if severity > 0 and weights[signal] > 0:
            points[signal] = weights[signal] / total * 100 * severity
    return math.floor(100 - sum(points.values()) + 0.5), points


def band(score: int) -> str:
    return "HEALTHY" if score >= 75 else "WATCH" if score >= 50 else "AT_RISK"


SCORE = """query($id: ID!) { client(id: $id) { name
  healthScore { score band reasons { signal value points summary } } } }"""
LIST = """{ clients(first: 50, orderBy: {field: NAME}) { edges { node { name healthScore { score band } } } } }"""
BOARD = """{ clientsDashboard { healthScores { clientsScored averageScore distribution { band count }
  lowest { client { name } health { score band reasons { signal } } } } } }"""
WEIGHTS = """{ healthScoreWeights { signal weight defaultWeight computed } }"""
SET_WEIGHTS = """mutation($weights: [HealthScoreWeightInput!]!) { setHealthScoreWeights(weights: $weights) {
  weights { signal weight computed } errors { field code message } } }"""


@dataclass
class Agency:
    now: dt.datetime
    clients: dict[str, object]
    values: dict[str, dict[str, float]]


async def health_agency(factory) -> Agency:
    """Five clients, every one created 200 days ago:

    - ash:   a SENT invoice due 45 days ago, unpaid; an interaction 10 days ago. OVERDUE 45.
    - birch: an ACTIVE OFF_TRACK project (risk 2); no touchpoint at all (quiet 200 days: since it was
             created); survey answers 3 and 10 (NPS 0).
    - cedar: a portal user created 100 days ago who last signed in 60 days ago and wrote a Reply 48 days
             ago that the team answered 72 hours later; an interaction 45 days ago. PORTAL 60,
             QUIET 45 (the answer and the interaction), RESPONSE 72 hours.
    - dune:  a SENT invoice due 90 days ago; an ON_HOLD AT_RISK and an ACTIVE AT_RISK project (risk 2),
             one of them cut (a lower budget) 30 days ago and another 200 days ago (out of the 180-day
             window); an interaction 120 days ago; survey answers 2 (NPS -100) and 10 (400 days ago,
             out of the window).
    - elm:   churned; no touchpoint (quiet 200). Scored on its record, left out of the dashboard.
    """
    now = utcnow()
    today = now.date()
    created = now - dt.timedelta(days=200)
    names = ("ash", "birch", "cedar", "dune", "elm")
    clients = {
        n: await factory.client(
            n.capitalize(), created_at=created, **({"status_id": STATUS_CHURNED} if n == "elm" else {})
        )
        for n in names
    }

    await factory.invoice(clients["ash"], issue_date=today - dt.timedelta(days=75), due_date=today - dt.timedelta(45))
    await factory.invoice(clients["dune"], issue_date=today - dt.timedelta(days=120), due_date=today - dt.timedelta(90))
    await factory.project(clients["birch"], status=ProjectStatus.ACTIVE, health=ProjectHealth.OFF_TRACK)
    await factory.project(clients["birch"], status=ProjectStatus.COMPLETED, health=ProjectHealth.OFF_TRACK)
    held = await factory.project(clients["dune"], status=ProjectStatus.ON_HOLD, health=ProjectHealth.AT_RISK)
    for days in (30, 200):
        await factory.add(
            ScopeChange(
                project_id=held.id,
                kind=ScopeChangeKind.BUDGET_CHANGED,
                is_reduction=True,
                old_budget=Decimal("1000"),
                new_budget=Decimal("800"),
                occurred_at=now - dt.timedelta(days=days),
            )
        )
    await factory.project(clients["dune"], status=ProjectStatus.ACTIVE, health=ProjectHealth.AT_RISK)
    await factory.project(clients["dune"], status=ProjectStatus.CANCELLED, health=ProjectHealth.OFF_TRACK)
    for name, days in (("ash", 10), ("cedar", 45), ("dune", 120)):
        await factory.add(
            Interaction(
                client_id=clients[name].id,
                kind=InteractionKind.CALL,
                summary="Check-in",
                occurred_at=now - dt.timedelta(days=days),
            )
        )
    cedar_user = await factory.portal_user(clients["cedar"], created_at=now - dt.timedelta(days=100))
    await factory.add(
        LoginEvent(user_id=cedar_user.id, client_id=clients["cedar"].id, occurred_at=now - dt.timedelta(days=60))
    )
    team = await factory.user(Role.MEMBER)
    task = await factory.task(await factory.project(clients["cedar"]), visible_to_client=True)
    for author, days in ((cedar_user, 48), (team, 45)):
        await factory.comment(
            task, CommentKind.REPLY, "Any news?", author_id=author.id, created_at=now - dt.timedelta(days=days)
        )
    for name, score, days in (("birch", 3, 20), ("birch", 10, 40), ("dune", 2, 5), ("dune", 10, 400)):
        await factory.add(
            SatisfactionSurvey(client_id=clients[name].id, score=score, responded_at=now - dt.timedelta(days=days))
        )
    values: dict[str, dict[str, float]] = {
        "ash": {"OVERDUE_PAYMENTS": 45, "QUIET_DAYS": 10},
        "birch": {"AT_RISK_PROJECTS": 2, "QUIET_DAYS": 200, "NPS": 0},
        "cedar": {"PORTAL_LOGINS": 60, "QUIET_DAYS": 45, "RESPONSE_DELAYS": 72, "AT_RISK_PROJECTS": 0},
        "dune": {"OVERDUE_PAYMENTS": 90, "AT_RISK_PROJECTS": 2, "QUIET_DAYS": 120, "NPS": -100, "SCOPE_CUTS": 1},
        "elm": {"QUIET_DAYS": 200},
    }
    return Agency(now, clients, values)


async def test_each_clients_score_band_and_reasons_follow_the_formula(api, factory):
    agency = await health_agency(factory)
    _, token = await staff(api, factory, Role.MANAGER)
    for name, client in agency.clients.items():
        health = (await api.data(SCORE, {"id": gid("Client", client)}, token))["client"]["healthScore"]
        score, points = expected(agency.values[name])
        assert health["score"] == score, (name, health)
        assert health["band"] == band(score)
        ranked = sorted(points.items(), key=lambda item: (-round(item[1], 1), item[0]))
        assert [(r["signal"], r["value"], r["points"]) for r in health["reasons"]] == [
            (signal, float(agency.values[name][signal]), round(p, 1)) for signal, p in ranked
        ], name
    # The worked figures, so a change of formula shows here too.
    assert [expected(agency.values[n])[0] for n in ("ash", "birch", "cedar", "dune", "elm")] == [81, 58, 86, 23, 85]
    birch = (await api.data(SCORE, {"id": gid("Client", agency.clients["birch"])}, token))["client"]["healthScore"]
    assert [r["summary"] for r in birch["reasons"]] == [
        "Open projects at risk or off track (risk 2)",
        "No touchpoint in 200 days",
        "NPS 0 over the last 365 days",
    ]


async def test_the_clients_list_and_the_dashboard_show_the_same_scores(api, factory):
    agency = await health_agency(factory)
    _, token = await staff(api, factory, Role.ADMIN)
    scores = {n: expected(v)[0] for n, v in agency.values.items()}
    listed = (await api.data(LIST, token=token))["clients"]["edges"]
    assert {e["node"]["name"]: e["node"]["healthScore"] for e in listed} == {
        n.capitalize(): {"score": s, "band": band(s)} for n, s in scores.items()
    }

    board = (await api.data(BOARD, token=token))["clientsDashboard"]["healthScores"]
    live = {n: s for n, s in scores.items() if n != "elm"}  # churned clients are not on the dashboard
    assert board["clientsScored"] == 4
    assert board["averageScore"] == round(sum(live.values()) / 4, 1) == 62.0
    assert board["distribution"] == [
        {"band": "HEALTHY", "count": 2},
        {"band": "WATCH", "count": 1},
        {"band": "AT_RISK", "count": 1},
    ]
    assert [e["client"]["name"] for e in board["lowest"]] == ["Dune", "Birch", "Ash", "Cedar"]
    assert [e["health"]["score"] for e in board["lowest"]] == [23, 58, 81, 86]
    assert [r["signal"] for r in board["lowest"][0]["health"]["reasons"]] == [
        "OVERDUE_PAYMENTS",
        "AT_RISK_PROJECTS",
        "NPS",
        "QUIET_DAYS",
        "SCOPE_CUTS",
    ]


async def test_weights_set_by_an_admin_change_every_score(api, factory, db):
    agency = await health_agency(factory)
    _, admin = await staff(api, factory, Role.ADMIN)
    weights = (await api.data(WEIGHTS, token=admin))["healthScoreWeights"]
    assert [(w["signal"], w["weight"], w["defaultWeight"], w["computed"]) for w in weights] == [
        (s, w, w, True) for s, w in DEFAULTS.items()
    ]

    changes = [{"signal": "OVERDUE_PAYMENTS", "weight": 0}, {"signal": "QUIET_DAYS", "weight": 40}]
    payload = (await api.data(SET_WEIGHTS, {"weights": changes}, admin))["setHealthScoreWeights"]
    assert payload["errors"] == []
    new = {**DEFAULTS, "OVERDUE_PAYMENTS": 0, "QUIET_DAYS": 40}
    assert {w["signal"]: w["weight"] for w in payload["weights"]} == new
    for name in ("ash", "birch", "dune"):
        health = (await api.data(SCORE, {"id": gid("Client", agency.clients[name])}, admin))["client"]["healthScore"]
        score, _ = expected(agency.values[name], new)
        assert health["score"] == score, name
        assert "OVERDUE_PAYMENTS" not in [r["signal"] for r in health["reasons"]]
    assert expected(agency.values["ash"], new)[0] == 100 and expected(agency.values["birch"], new)[0] == 33


@pytest.mark.parametrize(
    ("weights", "field", "code"),
    [
        ([{"signal": "NPS", "weight": 101}], "weights[0].weight", "OUT_OF_RANGE"),
        ([{"signal": "NPS", "weight": 5}, {"signal": "NPS", "weight": -1}], "weights[1].signal", "DUPLICATE"),
        (
            [{"signal": "QUIET_DAYS", "weight": 10}, {"signal": "NPS", "weight": -1}],
            "weights[1].weight",
            "OUT_OF_RANGE",
        ),
        ([], "weights", "REQUIRED"),
        ([{"signal": s, "weight": 0} for s in DEFAULTS], "weights", "ALL_ZERO"),
    ],
)
async def test_bad_weights_are_typed_errors_and_write_nothing(api, factory, db, weights, field, code):
    _, admin = await staff(api, factory, Role.ADMIN)
    payload = (await api.data(SET_WEIGHTS, {"weights": weights}, admin))["setHealthScoreWeights"]
    assert payload["weights"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    stored = (await api.data(WEIGHTS, token=admin))["healthScoreWeights"]
    assert all(w["weight"] == w["defaultWeight"] for w in stored)


async def test_a_member_reads_scores_over_its_own_rows_and_may_not_change_weights(api, factory):
    agency = await health_agency(factory)
    _, member = await staff(api, factory, Role.MEMBER)
    await refused_by_policy(
        api, SET_WEIGHTS, {"weights": [{"signal": "NPS", "weight": 0}]}, member, "setHealthScoreWeights"
    )
    _, admin = await staff(api, factory, Role.ADMIN)
    assert all(w["weight"] == w["defaultWeight"] for w in (await api.data(WEIGHTS, token=admin))["healthScoreWeights"])
    # A MEMBER reads no invoices: its score of a client has no overdue payments in it.
    ash = (await api.data(SCORE, {"id": gid("Client", agency.clients["ash"])}, member))["client"]["healthScore"]
    without_money = {k: v for k, v in agency.values["ash"].items() if k != "OVERDUE_PAYMENTS"}
    assert ash == {"score": expected(without_money)[0], "band": "HEALTHY", "reasons": []}
    assert ash["score"] == 100


async def test_a_portal_user_sees_no_score_anywhere(api, factory):
    agency = await health_agency(factory)
    own = await factory.portal_user(agency.clients["dune"])
    other = await factory.portal_user(agency.clients["ash"])
    for user, client in ((own, agency.clients["dune"]), (other, agency.clients["dune"])):
        token = await api.login(user.email, PASSWORD)
        body = await api.post(SCORE, {"id": gid("Client", client)}, token)
        if user is own:
            assert body["data"]["client"] == {"name": "Dune", "healthScore": None}
            assert forbidden(body) == {"Client.healthScore"}
        else:
            assert body["data"]["client"] is None  # another company's client: absent, not refused
        body = await api.post(LIST, token=token)
        own_name = "Dune" if user is own else "Ash"
        assert body["data"]["clients"]["edges"] == [{"node": {"name": own_name, "healthScore": None}}]
        assert forbidden(body) == {"Client.healthScore"}
        body = await api.post(BOARD, token=token)
        assert body["data"]["clientsDashboard"] is None
        assert forbidden(body) == {"Query.clientsDashboard"}
        body = await api.post(WEIGHTS, token=token)
        assert body["data"]["healthScoreWeights"] is None and forbidden(body) == {"Query.healthScoreWeights"}
        # Its schema does not even name the score.
        schema = await api.post('{ __type(name: "Client") { fields { name } } }', token=token)
        assert "healthScore" not in {f["name"] for f in schema["data"]["__type"]["fields"]}
        assert (await api.post('{ __type(name: "ClientHealthScore") { name } }', token=token))["data"] == {
            "__type": None
        }


async def test_a_partner_with_internal_read_gets_no_score(api, factory, partner):  # noqa: F811
    agency = await health_agency(factory)
    token = partner("clients:read", "internal:read")
    body = await api.post(SCORE, {"id": gid("Client", agency.clients["dune"])}, token)
    assert body["data"]["client"]["name"] == "Dune"
    assert body["data"]["client"]["healthScore"] is None
    body = await api.post(WEIGHTS, token=token)
    assert body["data"]["healthScoreWeights"] is None and forbidden(body) == {"Query.healthScoreWeights"}


PAGE = """query($after: String) { clients(first: 2, after: $after, orderBy: {field: NAME}) {
  pageInfo { endCursor hasNextPage }
  edges { node { name healthScore { score band reasons { signal value points summary } } } } } }"""
LOWEST = """{ clientsDashboard(top: 10) { healthScores { lowest { client { name }
  health { score band reasons { signal value points summary } } } } } }"""


async def test_a_pages_scores_are_the_dashboards_for_those_clients(api, factory):
    """The list's score statement reads each signal for the page's clients only (their batch keys); the
    scores and reasons come out as the dashboard's, computed over every client, and as worked out by hand."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import sqlite

    from auth.principal import Principal
    from resolvers.batching import in_keys
    from resolvers.dashboard import health_score

    agency = await health_agency(factory)
    _, token = await staff(api, factory, Role.MANAGER)
    board = (await api.data(LOWEST, token=token))["clientsDashboard"]["healthScores"]["lowest"]
    dashboard = {e["client"]["name"]: e["health"] for e in board}
    assert set(dashboard) == {"Ash", "Birch", "Cedar", "Dune"}  # Elm is churned: not on the dashboard
    pages, after = [], None
    while True:
        found = (await api.data(PAGE, {"after": after}, token))["clients"]
        pages.append({e["node"]["name"]: e["node"]["healthScore"] for e in found["edges"]})
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    assert [sorted(p) for p in pages] == [["Ash", "Birch"], ["Cedar", "Dune"], ["Elm"]]
    listed = {name: health for page in pages for name, health in page.items()}
    for name, health in dashboard.items():
        assert listed[name] == health, name
    for name, values in agency.values.items():
        score, _ = expected(values)
        assert (listed[name.capitalize()]["score"], listed[name.capitalize()]["band"]) == (score, band(score))
    # Each signal is narrowed to the keys before it groups, not only the joined result.
    scored = health_score.scored_clients(Principal(user_id=1, role=Role.MANAGER), agency.now, within=in_keys)
    sql = str(sa.select(scored).compile(dialect=sqlite.dialect()))
    assert sql.count("json_each") >= len(health_score.COMPUTED) + 1


async def test_setting_weights_is_in_the_audit_trail_and_a_refused_call_writes_none(api, factory, db):
    """As a client status created is: one entry per change, no client, the ADMIN as actor, internal."""
    from models import Activity, ActivityKind
    from tests.utils import count, rows

    admin_user, admin = await staff(api, factory, Role.ADMIN)
    _, member = await staff(api, factory, Role.MEMBER)
    changes = [{"signal": "NPS", "weight": 30}, {"signal": "QUIET_DAYS", "weight": 5}]
    assert (await api.data(SET_WEIGHTS, {"weights": changes}, admin))["setHealthScoreWeights"]["errors"] == []
    again = [{"signal": "NPS", "weight": 20}]
    assert (await api.data(SET_WEIGHTS, {"weights": again}, admin))["setHealthScoreWeights"]["errors"] == []
    entries = await rows(db, Activity, Activity.kind == ActivityKind.SETTINGS_CHANGED)
    assert [(e.summary, e.client_id, e.actor_id, e.subject_type, e.client_visible) for e in entries] == [
        ("Health score weights set: NPS 15 to 30, QUIET_DAYS 15 to 5", None, admin_user.id, "HealthScoreWeight", False),
        ("Health score weights set: NPS 30 to 20", None, admin_user.id, "HealthScoreWeight", False),
    ]
    # Refused (bad input; a MEMBER): nothing written, the trail included.
    bad = [{"signal": "NPS", "weight": 101}]
    assert (await api.data(SET_WEIGHTS, {"weights": bad}, admin))["setHealthScoreWeights"]["errors"]
    body = await api.post(SET_WEIGHTS, {"weights": again}, token=member)
    assert body["data"] is None or body["data"]["setHealthScoreWeights"] is None
    assert await count(db, Activity) == 2
