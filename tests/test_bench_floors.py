"""bench/run.py's hand-written health score floors answer what the API answers, on a small bench agency:
the Clients list page's scores and bands, and the dashboard's distribution and lowest scores with their
reasons, before and after an ADMIN changes the weights (the floor reads them from the table too)."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import run
from bench.agency import Shape, build_agency
from tests.dashboard.test_statements import HASH, SMALL
from tests.factories import PASSWORD
from tests.utils import Api, StatementCounter

SHAPE = Shape(
    clients=60,
    projects_per_client=3,
    tasks_per_project=3,
    comments_per_task=2,
    time_entries_per_task=1,
    invoices_per_client=3,
    members=3,
)

WEIGHTS = """mutation($w: [HealthScoreWeightInput!]!) { setHealthScoreWeights(weights: $w) {
  weights { signal weight } errors { code } } }"""


async def _compare(api: Api, engine: AsyncEngine, token: str) -> dict:
    page = orjson.dumps(await api.post(run.CLIENTS_PAGE_SCORE, token=token))
    run.check_clients_page_score(page, await run.floor_clients_page_score(engine, {}))
    board = await api.post(run.DASHBOARD, token=token)
    assert "errors" not in board, board["errors"]
    run.check_dashboard(orjson.dumps(board), await run.floor_dashboard(engine, {"replay": []}))
    return board["data"]["clientsDashboard"]["healthScores"]


async def test_the_health_score_floors_answer_what_the_api_answers(api: Api, engine: AsyncEngine, db: object) -> None:
    agency = await build_agency(engine, SHAPE, password_hash=HASH, tag="f")
    token = await api.login(agency.manager_email, PASSWORD)
    before = await _compare(api, engine, token)
    # The bench agency has scores worth comparing: more than one band, and reasons from several signals.
    assert sum(1 for b in before["distribution"] if b["count"]) >= 2, before["distribution"]
    signals = {r["signal"] for c in before["lowest"] for r in c["health"]["reasons"]}
    assert len(signals) >= 3, signals

    admin = await api.login(agency.owner_email, PASSWORD)
    changed = await api.data(
        WEIGHTS, {"w": [{"signal": "SCOPE_CUTS", "weight": 60}, {"signal": "RESPONSE_DELAYS", "weight": 40}]}, admin
    )
    assert changed["setHealthScoreWeights"]["errors"] == []
    after = await _compare(api, engine, token)
    assert after != before

    # And the check fails when the floor answers something else.
    page = orjson.dumps(await api.post(run.CLIENTS_PAGE_SCORE, token=token))
    wrong = orjson.loads(await run.floor_clients_page_score(engine, {}))
    wrong["data"]["clients"]["edges"][0]["node"]["healthScore"]["score"] += 1
    with pytest.raises(RuntimeError, match="scores differ"):
        run.check_clients_page_score(page, orjson.dumps(wrong))


async def test_the_bench_dashboard_issues_as_many_statements_for_500_clients_as_for_20(
    api: Api, engine: AsyncEngine, statements: StatementCounter, db: object
) -> None:
    """bench/run.py's own dashboard query (every section and the score distribution), on the bench agency."""
    small = await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 20}), password_hash=HASH, tag="a")
    token = await api.login(small.manager_email, PASSWORD)

    async def count() -> tuple[int, dict]:
        counted, data = await statements.of(api, run.DASHBOARD, token)
        return counted, data["clientsDashboard"]

    few, board = await count()
    assert board["breakdown"]["total"] == 20 and board["capacity"]["members"]
    await build_agency(engine, Shape(**{**SMALL.__dict__, "clients": 480}), password_hash=HASH, tag="b")
    many, board = await count()
    assert board["breakdown"]["total"] == 500
    assert board["health"]["scopeReductions"]["count"] > 10 and board["engagement"]["clientResponseTimes"]["clients"]
    assert sum(b["count"] for b in board["healthScores"]["distribution"]) == board["healthScores"]["clientsScored"]
    print(f"bench dashboard: {few} statements for 20 clients, {many} for 500")
    assert few == many, f"{few} statements for 20 clients, {many} for 500"
