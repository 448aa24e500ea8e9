"""Recording satisfaction scores: the team records what a client told them, a portal user answers
for itself, nobody but the team ever reads them back, and the dashboard's NPS follows."""

from __future__ import annotations

import datetime as dt

import pytest

from models import Activity, ActivityKind, Role, SatisfactionSurvey
from models.base import utcnow
from schema.build import build_schema
from tests.utils import SIDE_TABLES, codes, counts, gid, mutate, portal, raw_id, refused_by_policy, rows, staff

RECORD = """mutation($input: RecordSatisfactionScoreInput!) { recordSatisfactionScore(input: $input) {
  score { id score comment respondedAt client { name } contact { fullName } }
  errors { field code message } } }"""
SCORES = """query($id: ID!) { client(id: $id) { name satisfactionScores { score comment contact { fullName } } } }"""
NPS = """{ clientsDashboard { engagement { satisfaction { responses promoters passives detractors nps } } } }"""
FEED = """query($id: ID!) { client(id: $id) { activity(first: 50) { edges { node { kind summary } } } } }"""
CANARY = "CANARY-SURVEY-COMMENT-7f3a"


async def _record(api, token: str, **fields) -> dict:
    return await mutate(api, RECORD, {"input": fields}, token, "recordSatisfactionScore")


async def _written(db) -> dict[str, int]:
    return await counts(db, SatisfactionSurvey, *SIDE_TABLES)


# ---- recording


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.MEMBER])
async def test_staff_record_the_score_a_client_gave_them_on_a_call(api, factory, db, role):
    user, token = await staff(api, factory, role, full_name="Maria")
    client = await factory.client("Northwind")
    olivia = await factory.contact(client, full_name="Olivia")
    when = (utcnow() - dt.timedelta(days=2)).replace(microsecond=0)
    payload = await _record(
        api,
        token,
        clientId=gid("Client", client),
        contactId=gid("Contact", olivia),
        score=6,
        comment="Happy with the site, the launch slipped",
        respondedAt=when.isoformat(),
    )
    assert payload["errors"] == []
    score = payload["score"]
    assert (score["score"], score["comment"]) == (6, "Happy with the site, the launch slipped")
    assert score["client"] == {"name": "Northwind"} and score["contact"] == {"fullName": "Olivia"}
    assert dt.datetime.fromisoformat(score["respondedAt"]) == when
    [stored] = await rows(db, SatisfactionSurvey)
    assert stored.id == raw_id(score["id"])
    assert (stored.client_id, stored.contact_id, stored.score, stored.responded_at) == (client.id, olivia.id, 6, when)
    # An internal feed entry by the person who recorded it, with no score in its words.
    [entry] = await rows(db, Activity, Activity.kind == ActivityKind.SATISFACTION_RECORDED)
    assert (entry.client_id, entry.actor_id, entry.client_visible) == (client.id, user.id, False)
    assert (entry.subject_type, entry.subject_id) == ("SatisfactionScore", stored.id)
    assert "6" not in entry.summary

    # The team reads it back on the client record.
    record = (await api.data(SCORES, {"id": gid("Client", client)}, token))["client"]
    assert record["satisfactionScores"] == [
        {"score": 6, "comment": "Happy with the site, the launch slipped", "contact": {"fullName": "Olivia"}}
    ]


async def test_staff_scores_default_to_now_and_accept_the_ends_of_the_scale(api, factory, db):
    _, token = await staff(api, factory, Role.MEMBER)
    client = await factory.client("Northwind")
    before = utcnow()
    low = await _record(api, token, clientId=gid("Client", client), score=0, comment="x" * 2000)
    high = await _record(api, token, clientId=gid("Client", client), score=10, comment="   ")
    assert low["errors"] == [] and high["errors"] == []
    assert (low["score"]["score"], len(low["score"]["comment"]), low["score"]["contact"]) == (0, 2000, None)
    assert (high["score"]["score"], high["score"]["comment"]) == (10, None)  # a blank comment is none
    stored = await rows(db, SatisfactionSurvey)
    assert [s.score for s in stored] == [0, 10]
    assert all(before <= s.responded_at <= utcnow() for s in stored)
    # Latest answer first on the client record.
    record = (await api.data(SCORES, {"id": gid("Client", client)}, token))["client"]
    assert [s["score"] for s in record["satisfactionScores"]] == [10, 0]


async def test_a_portal_user_answers_for_its_own_client_as_its_own_contact(api, factory, db):
    client = await factory.client("Northwind")
    await factory.contact(client, primary=True, full_name="Pat (primary)")
    olivia, token = await portal(api, factory, client)
    payload = await _record(api, token, score=9, comment=f"Loved the launch {CANARY}")
    assert payload["errors"] == []
    mine = payload["score"]
    assert mine["score"] == 9 and mine["client"] == {"name": "Northwind"}
    # Its own answer comes back in the payload, as its own contact.
    [stored] = await rows(db, SatisfactionSurvey)
    assert (stored.client_id, stored.contact_id, stored.score) == (client.id, olivia.contact_id, 9)
    assert mine["contact"] is not None and mine["comment"] == f"Loved the launch {CANARY}"
    # Naming its own client is the same thing; it never names a contact (the policy table says so).
    again = await _record(api, token, clientId=gid("Client", client), score=8)
    assert again["errors"] == []
    error = await refused_by_policy(
        api,
        RECORD,
        {"input": {"contactId": gid("Contact", olivia.contact_id), "score": 8}},
        token,
        "recordSatisfactionScore",
    )
    assert "own contact" in error["message"]
    assert [(s.client_id, s.contact_id) for s in await rows(db, SatisfactionSurvey)] == [
        (client.id, olivia.contact_id)
    ] * 2

    entries = await rows(db, Activity, Activity.kind == ActivityKind.SATISFACTION_RECORDED)
    assert [(e.actor_id, e.client_visible) for e in entries] == [(olivia.id, False)] * 2
    assert all("9" not in e.summary and "8" not in e.summary for e in entries)
    # The portal's feed does not show the entry; the team's does.
    portal_feed = (await api.data(FEED, {"id": gid("Client", client)}, token))["client"]["activity"]["edges"]
    assert [e["node"]["kind"] for e in portal_feed] == []
    _, staff_token = await staff(api, factory, Role.MEMBER)
    team_feed = (await api.data(FEED, {"id": gid("Client", client)}, staff_token))["client"]["activity"]["edges"]
    kinds = [e["node"]["kind"] for e in team_feed]
    assert kinds.count("SATISFACTION_RECORDED") == 2  # (beside the portal sign-in)


async def test_a_portal_user_naming_another_client_gets_not_found_and_nothing_is_written(api, factory, db):
    acme = await factory.client("Acme")
    globex = await factory.client("Globex")
    globex_contact = await factory.contact(globex)
    _, token = await portal(api, factory, acme)
    before = await _written(db)
    for fields, field in (
        ({"clientId": gid("Client", globex)}, "input.clientId"),
        ({"clientId": gid("Client", 9999)}, "input.clientId"),
    ):
        payload = await _record(api, token, score=3, **fields)
        assert payload["score"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, "NOT_FOUND")]
        # The message says no more than "not found": nothing about the other company.
        assert "Globex" not in str(payload)
    # Naming a contact at all is refused before anything runs, whoever's it is: no oracle.
    answers = []
    for fields in (
        {"clientId": gid("Client", globex), "contactId": gid("Contact", globex_contact)},
        {"contactId": gid("Contact", globex_contact)},
        {"contactId": gid("Contact", 9999)},
    ):
        error = await refused_by_policy(
            api, RECORD, {"input": {"score": 3, **fields}}, token, "recordSatisfactionScore"
        )
        answers.append(error["message"])
        assert "Globex" not in str(error)
    assert len(set(answers)) == 1
    assert await _written(db) == before


async def test_a_portal_user_cannot_answer_as_a_colleague(api, factory, db):
    client = await factory.client("Northwind")
    colleague = await factory.contact(client, full_name="Colleague")
    _, token = await portal(api, factory, client)
    before = await _written(db)
    await refused_by_policy(
        api, RECORD, {"input": {"score": 2, "contactId": gid("Contact", colleague)}}, token, "recordSatisfactionScore"
    )
    assert await _written(db) == before


def _in(days: float) -> str:
    return (utcnow() + dt.timedelta(days=days)).isoformat()


BAD_INPUT = [
    ({"score": 11}, "input.score", "OUT_OF_RANGE"),
    ({"score": -1}, "input.score", "OUT_OF_RANGE"),
    ({"score": 5, "comment": "x" * 2001}, "input.comment", "TOO_LONG"),
    ({"score": 5, "respondedAt": "FUTURE"}, "input.respondedAt", "IN_FUTURE"),
    ({"score": 5, "respondedAt": "2026-01-05T10:00:00"}, "input.respondedAt", "INVALID_DATETIME"),
    ({"score": 5, "clientId": None}, "input.clientId", "REQUIRED"),
    ({"score": 5, "clientId": "UNKNOWN"}, "input.clientId", "NOT_FOUND"),
    ({"score": 5, "clientId": "PROJECT"}, "input.clientId", "NOT_FOUND"),
    ({"score": 5, "contactId": "OTHER_CONTACT"}, "input.contactId", "NOT_FOUND"),
    ({"score": 5, "contactId": "UNKNOWN_CONTACT"}, "input.contactId", "NOT_FOUND"),
]


@pytest.mark.parametrize("fields, field, code", BAD_INPUT, ids=[f"{f}-{c}" for _, f, c in BAD_INPUT])
async def test_bad_input_is_a_typed_error_and_writes_nothing(api, factory, db, fields, field, code):
    _, token = await staff(api, factory, Role.MANAGER)
    client = await factory.client("Northwind")
    other = await factory.client("Globex")
    other_contact = await factory.contact(other)
    project = await factory.project(client)
    ids = {
        "UNKNOWN": gid("Client", 9999),
        "PROJECT": gid("Project", project),
        "FUTURE": _in(1),
        "OTHER_CONTACT": gid("Contact", other_contact),
        "UNKNOWN_CONTACT": gid("Contact", 9999),
    }
    fields = {
        "clientId": gid("Client", client),
        **{k: ids.get(v, v) if isinstance(v, str) else v for k, v in fields.items()},
    }
    before = await _written(db)
    payload = await _record(api, token, **fields)
    assert payload["score"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert await _written(db) == before == dict.fromkeys(before, 0)


async def test_a_client_id_of_another_type_answers_as_a_missing_client(api, factory, db):
    _, token = await staff(api, factory, Role.MANAGER)
    project = await factory.project(await factory.client("Northwind"))
    before = await _written(db)
    missing = await api.post(RECORD, {"input": {"score": 5, "clientId": gid("Client", 9999)}}, token)
    assert missing["data"]["recordSatisfactionScore"]["errors"] == [
        {"field": "input.clientId", "code": "NOT_FOUND", "message": "No such client."}
    ]
    assert await api.post(RECORD, {"input": {"score": 5, "clientId": gid("Project", project)}}, token) == missing
    assert await _written(db) == before


async def test_only_signed_in_people_record_scores(api, factory, db):
    client = await factory.client("Northwind")
    body = await api.post(RECORD, {"input": {"clientId": gid("Client", client), "score": 7}})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await _written(db) == dict.fromkeys(await _written(db), 0)


# ---- reading


async def test_a_client_never_reads_satisfaction_scores_its_own_or_another_companys(api, factory, db):
    acme = await factory.client("Acme")
    acme_contact = await factory.contact(acme, primary=True)
    globex = await factory.client("Globex")
    _, staff_token = await staff(api, factory, Role.MEMBER)
    recorded = await _record(
        api, staff_token, clientId=gid("Client", acme), contactId=gid("Contact", acme_contact), score=3, comment=CANARY
    )
    score_id = recorded["score"]["id"]
    _, acme_token = await portal(api, factory, acme)
    _, globex_token = await portal(api, factory, globex)

    # Another company: Acme is simply not there, and its own record refuses the list.
    other = await api.post(SCORES, {"id": gid("Client", acme)}, globex_token)
    assert other["data"] == {"client": None} and "errors" not in other
    own = await api.post(SCORES, {"id": gid("Client", globex)}, globex_token)
    assert own["data"] == {"client": {"name": "Globex", "satisfactionScores": None}}
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in own["errors"]] == [
        ("FORBIDDEN", "Client.satisfactionScores")
    ]
    # Acme's own portal user does not read the team's reading of Acme either.
    acme_own = await api.post(SCORES, {"id": gid("Client", acme)}, acme_token)
    assert acme_own["data"] == {"client": {"name": "Acme", "satisfactionScores": None}}
    assert [e["extensions"]["field"] for e in acme_own["errors"]] == ["Client.satisfactionScores"]

    for token in (acme_token, globex_token):
        listed = await api.post(
            "{ clients { totalCount edges { node { name satisfactionScores { score comment } } } } }", token=token
        )
        assert all(edge["node"]["satisfactionScores"] is None for edge in listed["data"]["clients"]["edges"])
        assert {e["extensions"]["field"] for e in listed["errors"]} == {"Client.satisfactionScores"}
        by_id = await api.post(
            f'{{ node(id: "{score_id}") {{ ... on SatisfactionScore {{ score comment }} }} }}', token=token
        )
        assert by_id["data"] == {"node": None}
        home = await api.post("{ portalHome { client { name } recentReplies { body } } }", token=token)
        for body in (listed, by_id, home):
            assert CANARY not in str(body)

    # The team still reads it, by id too.
    seen = await api.data(
        f'{{ node(id: "{score_id}") {{ ... on SatisfactionScore {{ score comment }} }} }}', token=staff_token
    )
    assert seen == {"node": {"score": 3, "comment": CANARY}}


async def test_no_generated_portal_query_reveals_a_satisfaction_comment(api, factory, db):
    """The leak test's generated operations, with survey answers planted on both companies."""
    from tests.test_leaks import _all_ids, _generate_queries

    mine = await factory.client("Mine Ltd")
    theirs = await factory.client("Theirs Inc")
    for client in (mine, theirs):
        contact = await factory.contact(client, primary=True)
        await factory.project(client, name="Website")
        await factory.add(
            SatisfactionSurvey(client_id=client.id, contact_id=contact.id, score=4, comment=CANARY),
            SatisfactionSurvey(client_id=client.id, score=10, comment=CANARY + " again"),
        )
    _, token = await portal(api, factory, mine)
    queries = _generate_queries(build_schema().as_str(), _all_ids(), 120)
    leaked = [q for q in queries if CANARY in str(await api.post(q, token=token))]
    assert leaked == []


async def test_scores_on_the_clients_list_cost_the_same_statements_for_2_and_for_6_clients(
    api, factory, db, statements
):
    _, token = await staff(api, factory, Role.MANAGER)
    query = """{ clients(first: 50) { edges { node { name satisfactionScores {
      id score respondedAt contact { fullName } client { name } } } } } }"""

    async def add_clients(n: int) -> None:
        for _ in range(n):
            client = await factory.client()
            contact = await factory.contact(client)
            await factory.add(
                SatisfactionSurvey(client_id=client.id, contact_id=contact.id, score=8),
                SatisfactionSurvey(client_id=client.id, score=2),
            )

    async def measure() -> tuple[int, int]:
        statements.reset()
        data = await api.data(query, token=token)
        listed = sum(len(e["node"]["satisfactionScores"]) for e in data["clients"]["edges"])
        return statements.count, listed

    await add_clients(2)
    small, listed_small = await measure()
    await add_clients(4)
    large, listed_large = await measure()
    assert (listed_small, listed_large) == (4, 12)
    assert small == large


# ---- the dashboard


async def test_the_dashboards_nps_follows_the_recorded_scores(api, factory, db):
    _, manager = await staff(api, factory, Role.MANAGER)
    acme = await factory.client("Acme")
    globex = await factory.client("Globex")
    _, acme_portal = await portal(api, factory, acme)

    def nps(data: dict) -> tuple:
        s = data["clientsDashboard"]["engagement"]["satisfaction"]
        return s["responses"], s["promoters"], s["passives"], s["detractors"], s["nps"]

    assert nps(await api.data(NPS, token=manager)) == (0, 0, 0, 0, None)
    await _record(api, manager, clientId=gid("Client", acme), score=10)
    await _record(api, acme_portal, score=9)
    await _record(api, manager, clientId=gid("Client", globex), score=7)
    await _record(api, manager, clientId=gid("Client", globex), score=3)
    # 2 promoters, 1 passive, 1 detractor of 4: 50% - 25% = 25.
    assert nps(await api.data(NPS, token=manager)) == (4, 2, 1, 1, 25.0)
    await _record(api, acme_portal, score=0)
    # 2 promoters and 2 detractors of 5: NPS 0.
    assert nps(await api.data(NPS, token=manager)) == (5, 2, 1, 2, 0.0)
    # An answer from before the dashboard's 12-month window is kept, but does not move it.
    old = await _record(api, manager, clientId=gid("Client", globex), score=10, respondedAt=_in(-400))
    assert old["errors"] == []
    assert nps(await api.data(NPS, token=manager)) == (5, 2, 1, 2, 0.0)
    # A failed recording moves nothing either.
    assert codes(await _record(api, manager, clientId=gid("Client", globex), score=12)) == ["OUT_OF_RANGE"]
    assert nps(await api.data(NPS, token=manager)) == (5, 2, 1, 2, 0.0)
