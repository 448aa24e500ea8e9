"""Meetings, interactions, opportunities and the activity feed of a client record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from models import (
    Activity,
    ActivityKind,
    Client,
    Interaction,
    InteractionKind,
    Meeting,
    MeetingStatus,
    Notification,
    Opportunity,
    OpportunityStage,
    OutboxEmail,
    Role,
)
from models.base import utcnow
from tests.factories import PASSWORD
from tests.utils import (
    SIDE_TABLES,
    codes,
    count,
    counts,
    get,
    gid,
    mutate,
    portal,
    raw_id,
    refused_by_policy,
    rows,
    staff,
)

BOOK = """mutation($input: BookMeetingInput!) { bookMeeting(input: $input) {
  meeting { id title status startsAt endsAt location agenda
            staff { fullName } requestedBy { fullName } client { name } }
  errors { field code message } } }"""
UPDATE_MEETING = """mutation($input: UpdateMeetingInput!) { updateMeeting(input: $input) {
  meeting { status title startsAt } errors { field code message } } }"""
LOG = """mutation($client: ID!, $kind: InteractionKind!, $summary: String!, $at: DateTime!, $contact: ID) {
  logInteraction(clientId: $client, kind: $kind, summary: $summary, occurredAt: $at, contactId: $contact) {
    interaction { id kind summary occurredAt staff { fullName } contact { fullName } }
    errors { field code message } } }"""
CREATE_OPP = """mutation($client: ID!, $input: CreateOpportunityInput!) {
  createOpportunity(clientId: $client, input: $input) {
    opportunity { id title kind stage value expectedCloseOn owner { fullName } client { name } }
    errors { field code message } } }"""
UPDATE_OPP = """mutation($input: UpdateOpportunityInput!) { updateOpportunity(input: $input) {
  opportunity { stage value } errors { field code message } } }"""
FEED = """query($id: ID!, $first: Int, $after: String) { client(id: $id) {
  activity(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { kind summary occurredAt subjectType subjectId actor { fullName } } } } } }"""


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _future(days: int = 3, hour: int = 15) -> dt.datetime:
    return (utcnow() + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


# ---- meetings


async def test_a_portal_user_books_a_meeting_where_booking_is_enabled(api, factory, db):
    manager = await factory.user(Role.MANAGER, full_name="Maria", email="maria@agency.example")
    client = await factory.client("Northwind", portal_booking_enabled=True, account_manager_id=manager.id)
    olivia, token = await portal(api, factory, client, full_name="Olivia")
    starts = _future()
    payload = await mutate(
        api,
        BOOK,
        {
            "input": {
                "title": "Store locator next steps",
                "startsAt": _iso(starts),
                "endsAt": _iso(starts + dt.timedelta(minutes=45)),
                "agenda": "Restart the store locator",
            }
        },
        token,
        "bookMeeting",
    )
    assert payload["errors"] == []
    meeting = payload["meeting"]
    assert meeting["status"] == "REQUESTED" and meeting["client"] == {"name": "Northwind"}
    assert meeting["staff"] == {"fullName": "Maria"} and meeting["requestedBy"] == {"fullName": "Olivia"}
    stored = await get(db, Meeting, raw_id(meeting["id"]))
    assert stored.starts_at == starts and stored.requested_by_id == olivia.id
    [note] = await rows(db, Notification)
    assert note.user_id == manager.id and note.kind == "MEETING_REQUESTED"
    [email] = await rows(db, OutboxEmail)
    assert email.to_email == "maria@agency.example"
    [entry] = await rows(db, Activity, Activity.kind == ActivityKind.MEETING_BOOKED)
    assert entry.client_visible and entry.actor_id == olivia.id

    # Maria confirms it; Olivia hears about it.
    _, staff_token = await staff(api, factory, Role.MEMBER)
    confirmed = await mutate(
        api,
        UPDATE_MEETING,
        {"input": {"meetingId": meeting["id"], "status": "CONFIRMED"}},
        staff_token,
        "updateMeeting",
    )
    assert confirmed["meeting"]["status"] == "CONFIRMED"
    told = [n for n in await rows(db, Notification) if n.user_id == olivia.id]
    assert [n.kind for n in told] == ["MEETING_CONFIRMED"]


async def test_booking_from_the_portal_is_refused_where_disabled(api, factory, db):
    client = await factory.client("No Booking")
    other = await factory.client("Other", portal_booking_enabled=True)
    _, token = await portal(api, factory, client)
    starts = _future()
    base = {"title": "Chat", "startsAt": _iso(starts), "endsAt": _iso(starts + dt.timedelta(hours=1))}
    before = await counts(db, Meeting, *SIDE_TABLES)
    disabled = await mutate(api, BOOK, {"input": base}, token, "bookMeeting")
    assert disabled["meeting"] is None
    assert codes(disabled) == ["BOOKING_DISABLED"]
    elsewhere = await mutate(api, BOOK, {"input": {**base, "clientId": gid("Client", other)}}, token, "bookMeeting")
    assert elsewhere["errors"] == [{"field": "input.clientId", "code": "NOT_FOUND", "message": "No such client."}]
    assert "Other" not in str(elsewhere)
    assert await counts(db, Meeting, *SIDE_TABLES) == before

    enabled = await factory.client("Booking On", portal_booking_enabled=True)
    _, on_token = await portal(api, factory, enabled)
    before = await counts(db, Meeting, *SIDE_TABLES)
    await refused_by_policy(api, BOOK, {"input": {**base, "staffId": gid("User", 1)}}, on_token, "bookMeeting")
    assert await counts(db, Meeting, *SIDE_TABLES) == before


async def test_staff_book_and_manage_meetings_through_their_statuses(api, factory, db):
    client = await factory.client("Acme")
    me, token = await staff(api, factory, Role.MEMBER, full_name="Sam")
    starts = _future(5)
    booked = await mutate(
        api,
        BOOK,
        {
            "input": {
                "clientId": gid("Client", client),
                "title": "Quarterly review",
                "startsAt": _iso(starts),
                "endsAt": _iso(starts + dt.timedelta(hours=1)),
                "location": "Video call",
            }
        },
        token,
        "bookMeeting",
    )
    assert booked["errors"] == [] and booked["meeting"]["status"] == "CONFIRMED"
    assert booked["meeting"]["staff"] == {"fullName": "Sam"}
    mid = booked["meeting"]["id"]
    early = await mutate(
        api, UPDATE_MEETING, {"input": {"meetingId": mid, "status": "COMPLETED"}}, token, "updateMeeting"
    )
    assert codes(early) == ["NOT_STARTED"]
    back = await mutate(
        api, UPDATE_MEETING, {"input": {"meetingId": mid, "status": "REQUESTED"}}, token, "updateMeeting"
    )
    assert codes(back) == ["INVALID_TRANSITION"]
    later = _future(6)
    moved = await mutate(
        api,
        UPDATE_MEETING,
        {"input": {"meetingId": mid, "startsAt": _iso(later), "endsAt": _iso(later + dt.timedelta(hours=1))}},
        token,
        "updateMeeting",
    )
    assert moved["errors"] == [] and dt.datetime.fromisoformat(moved["meeting"]["startsAt"]) == later
    cancelled = await mutate(
        api, UPDATE_MEETING, {"input": {"meetingId": mid, "status": "CANCELLED"}}, token, "updateMeeting"
    )
    assert cancelled["meeting"]["status"] == "CANCELLED"
    before = await counts(db, Meeting, *SIDE_TABLES)
    final = await mutate(api, UPDATE_MEETING, {"input": {"meetingId": mid, "title": "Again"}}, token, "updateMeeting")
    assert codes(final) == ["MEETING_CLOSED"]
    assert await counts(db, Meeting, *SIDE_TABLES) == before

    past = await factory.add(
        Meeting(
            client_id=client.id,
            title="Done call",
            starts_at=utcnow() - dt.timedelta(hours=2),
            ends_at=utcnow() - dt.timedelta(hours=1),
            status=MeetingStatus.CONFIRMED,
        )
    )
    done = await mutate(
        api,
        UPDATE_MEETING,
        {"input": {"meetingId": gid("Meeting", past), "status": "COMPLETED"}},
        token,
        "updateMeeting",
    )
    assert done["meeting"]["status"] == "COMPLETED"
    kinds = [a.kind for a in await rows(db, Activity)]
    assert kinds.count(ActivityKind.MEETING_BOOKED) == 1 and kinds.count(ActivityKind.MEETING_UPDATED) == 3
    assert me


async def test_meeting_bad_input_writes_nothing(api, factory, db):
    client = await factory.client("Acme")
    _, token = await staff(api, factory)
    meeting = await factory.add(Meeting(client_id=client.id, title="M", starts_at=_future(), ends_at=_future(3, 16)))
    starts = _future()
    ok = {
        "clientId": gid("Client", client),
        "title": "T",
        "startsAt": _iso(starts),
        "endsAt": _iso(starts + dt.timedelta(hours=1)),
    }
    before = await counts(db, Meeting, *SIDE_TABLES)
    for changes, field, code in [
        ({"title": "  "}, "input.title", "REQUIRED"),
        ({"title": "t" * 301}, "input.title", "TOO_LONG"),
        ({"endsAt": _iso(starts)}, "input.endsAt", "END_BEFORE_START"),
        ({"startsAt": _iso(utcnow() - dt.timedelta(days=1)), "endsAt": _iso(utcnow())}, "input.startsAt", "IN_PAST"),
        ({"startsAt": starts.replace(tzinfo=None).isoformat()}, "input.startsAt", "INVALID_DATETIME"),
        ({"clientId": None}, "input.clientId", "REQUIRED"),
        ({"clientId": gid("Client", 999)}, "input.clientId", "NOT_FOUND"),
        ({"staffId": gid("User", 999)}, "input.staffId", "NOT_STAFF"),
    ]:
        payload = await mutate(api, BOOK, {"input": {**ok, **changes}}, token, "bookMeeting")
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], changes
    for changes, code in [
        ({"endsAt": _iso(_future(1))}, "END_BEFORE_START"),
        ({"status": None}, "REQUIRED"),
        ({}, "NOTHING_TO_UPDATE"),
    ]:
        payload = await mutate(
            api, UPDATE_MEETING, {"input": {"meetingId": gid("Meeting", meeting), **changes}}, token, "updateMeeting"
        )
        assert codes(payload) == [code], changes
    unknown = await mutate(
        api,
        UPDATE_MEETING,
        {"input": {"meetingId": gid("Meeting", 999), "status": "CANCELLED"}},
        token,
        "updateMeeting",
    )
    assert codes(unknown) == ["NOT_FOUND"]
    assert await counts(db, Meeting, *SIDE_TABLES) == before


async def test_a_client_sees_its_own_meetings_and_never_another_clients(api, factory, db):
    mine = await factory.client("Mine")
    theirs = await factory.client("Theirs")
    await factory.add(Meeting(client_id=mine.id, title="Our kickoff", starts_at=_future(), ends_at=_future(3, 16)))
    their_meeting = await factory.add(
        Meeting(client_id=theirs.id, title="Their secret", starts_at=_future(), ends_at=_future(3, 16))
    )
    _, token = await portal(api, factory, mine)
    own = await api.data(
        "query($id: ID!) { client(id: $id) { meetings { title status } } }", {"id": gid("Client", mine)}, token
    )
    assert own["client"]["meetings"] == [{"title": "Our kickoff", "status": "REQUESTED"}]
    body = await api.post(
        """query($c: ID!, $m: ID!) {
  client(id: $c) { meetings { title } } node(id: $m) { id ... on Meeting { title } } }""",
        {"c": gid("Client", theirs), "m": gid("Meeting", their_meeting)},
        token,
    )
    assert body["data"] == {"client": None, "node": None} and "secret" not in str(body)
    manage = await api.post(
        UPDATE_MEETING, {"input": {"meetingId": gid("Meeting", their_meeting), "status": "CANCELLED"}}, token
    )
    assert manage["data"] is None and manage["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# ---- interactions


async def test_logging_an_interaction_moves_the_last_interaction_date_forward_only(api, factory, db):
    client = await factory.client("Acme")
    contact = await factory.contact(client, primary=True, full_name="Pat")
    _, token = await staff(api, factory, Role.MEMBER, full_name="Sam")
    recent = (utcnow() - dt.timedelta(hours=2)).replace(microsecond=0)
    older = recent - dt.timedelta(days=10)
    first = await mutate(
        api,
        LOG,
        {
            "client": gid("Client", client),
            "kind": "CALL",
            "summary": "Monthly check-in call",
            "at": _iso(recent),
            "contact": gid("Contact", contact),
        },
        token,
        "logInteraction",
    )
    assert first["errors"] == []
    assert first["interaction"]["staff"] == {"fullName": "Sam"} and first["interaction"]["contact"] == {
        "fullName": "Pat"
    }
    assert (await get(db, Client, client.id)).last_interaction_at == recent
    late_entry = await mutate(
        api,
        LOG,
        {"client": gid("Client", client), "kind": "EMAIL", "summary": "Old e-mail", "at": _iso(older)},
        token,
        "logInteraction",
    )
    assert late_entry["errors"] == []
    assert (await get(db, Client, client.id)).last_interaction_at == recent
    entries = await rows(db, Activity, Activity.kind == ActivityKind.INTERACTION_LOGGED)
    assert len(entries) == 2 and not any(e.client_visible for e in entries)
    listed = await api.data(
        "query($id: ID!) { client(id: $id) { lastInteractionAt interactions { kind summary } } }",
        {"id": gid("Client", client)},
        token,
    )
    assert listed["client"]["interactions"] == [
        {"kind": "CALL", "summary": "Monthly check-in call"},
        {"kind": "EMAIL", "summary": "Old e-mail"},
    ]
    assert dt.datetime.fromisoformat(listed["client"]["lastInteractionAt"]) == recent


async def test_interaction_bad_input_writes_nothing(api, factory, db):
    client = await factory.client("Acme")
    other = await factory.client("Other")
    their_contact = await factory.contact(other)
    _, token = await staff(api, factory)
    now = utcnow() - dt.timedelta(minutes=1)
    ok = {"client": gid("Client", client), "kind": "CHECK_IN", "summary": "Hi", "at": _iso(now)}
    before = await counts(db, Interaction, *SIDE_TABLES)
    for changes, field, code in [
        ({"summary": " "}, "summary", "REQUIRED"),
        ({"summary": "s" * 5001}, "summary", "TOO_LONG"),
        ({"at": _iso(utcnow() + dt.timedelta(days=1))}, "occurredAt", "IN_FUTURE"),
        ({"at": now.replace(tzinfo=None).isoformat()}, "occurredAt", "INVALID_DATETIME"),
        ({"contact": gid("Contact", their_contact)}, "contactId", "NOT_FOUND"),
        ({"client": gid("Client", 999)}, "clientId", "NOT_FOUND"),
    ]:
        payload = await mutate(api, LOG, {**ok, **changes}, token, "logInteraction")
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], changes
    assert await counts(db, Interaction, *SIDE_TABLES) == before
    assert (await get(db, Client, client.id)).last_interaction_at is None


async def test_a_client_never_sees_interactions(api, factory, db):
    client = await factory.client("Mine")
    await factory.add(
        Interaction(client_id=client.id, kind=InteractionKind.CALL, summary="CANARY call notes", occurred_at=utcnow())
    )
    _, token = await portal(api, factory, client)
    body = await api.post(
        "query($id: ID!) { client(id: $id) { name interactions { summary } } }", {"id": gid("Client", client)}, token
    )
    assert body["data"]["client"] == {"name": "Mine", "interactions": None} and "CANARY" not in str(body)
    logged = await api.post(
        LOG, {"client": gid("Client", client), "kind": "CALL", "summary": "x", "at": _iso(utcnow())}, token
    )
    assert logged["data"] is None and logged["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(db, Interaction) == 1


# ---- opportunities


async def test_staff_create_and_move_opportunities_until_closed(api, factory, db):
    client = await factory.client("Acme")
    me, token = await staff(api, factory, Role.MEMBER, full_name="Sam")
    created = await mutate(
        api,
        CREATE_OPP,
        {
            "client": gid("Client", client),
            "input": {
                "title": "Loyalty app phase 2",
                "kind": "UPSELL",
                "value": "45000.00",
                "expectedCloseOn": "2027-01-31",
            },
        },
        token,
        "createOpportunity",
    )
    assert created["errors"] == []
    assert created["opportunity"] | {"id": None} == {
        "id": None,
        "title": "Loyalty app phase 2",
        "kind": "UPSELL",
        "stage": "IDENTIFIED",
        "value": "45000.00",
        "expectedCloseOn": "2027-01-31",
        "owner": {"fullName": "Sam"},
        "client": {"name": "Acme"},
    }
    oid = created["opportunity"]["id"]
    moved = await mutate(
        api,
        UPDATE_OPP,
        {"input": {"opportunityId": oid, "stage": "PROPOSED", "value": "50000"}},
        token,
        "updateOpportunity",
    )
    assert moved == {"opportunity": {"stage": "PROPOSED", "value": "50000.00"}, "errors": []}
    won = await mutate(api, UPDATE_OPP, {"input": {"opportunityId": oid, "stage": "WON"}}, token, "updateOpportunity")
    assert won["opportunity"]["stage"] == "WON"
    before = await counts(db, Opportunity, *SIDE_TABLES)
    closed = await mutate(
        api, UPDATE_OPP, {"input": {"opportunityId": oid, "stage": "QUALIFIED"}}, token, "updateOpportunity"
    )
    assert codes(closed) == ["OPPORTUNITY_CLOSED"]
    assert await counts(db, Opportunity, *SIDE_TABLES) == before
    stored = await get(db, Opportunity, raw_id(oid))
    assert stored.stage is OpportunityStage.WON and stored.value == Decimal("50000.00")
    entries = await rows(db, Activity, Activity.kind == ActivityKind.OPPORTUNITY_CHANGED)
    assert len(entries) == 3 and not any(e.client_visible for e in entries)
    assert me


async def test_opportunity_bad_input_writes_nothing(api, factory, db):
    client = await factory.client("Acme")
    opp = await factory.add(Opportunity(client_id=client.id, title="Open one"))
    portal_user = await factory.portal_user(client)
    _, token = await staff(api, factory)
    before = await counts(db, Opportunity, *SIDE_TABLES)
    for variables, field, code in [
        ({"title": ""}, "input.title", "REQUIRED"),
        ({"title": "O", "value": "-5"}, "input.value", "NEGATIVE_AMOUNT"),
        ({"title": "O", "value": "1e20"}, "input.value", "TOO_LARGE"),
        ({"title": "O", "ownerId": gid("User", portal_user)}, "input.ownerId", "NOT_STAFF"),
    ]:
        payload = await mutate(
            api, CREATE_OPP, {"client": gid("Client", client), "input": variables}, token, "createOpportunity"
        )
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], variables
    for changes, code in [
        ({"value": "-1"}, "NEGATIVE_AMOUNT"),
        ({"stage": None}, "REQUIRED"),
        ({}, "NOTHING_TO_UPDATE"),
    ]:
        payload = await mutate(
            api,
            UPDATE_OPP,
            {"input": {"opportunityId": gid("Opportunity", opp), **changes}},
            token,
            "updateOpportunity",
        )
        assert codes(payload) == [code]
    unknown = await mutate(
        api, CREATE_OPP, {"client": gid("Client", 999), "input": {"title": "O"}}, token, "createOpportunity"
    )
    assert codes(unknown) == ["NOT_FOUND"]
    assert await counts(db, Opportunity, *SIDE_TABLES) == before


async def test_a_client_never_sees_opportunities(api, factory, db):
    mine = await factory.client("Mine")
    theirs = await factory.client("Theirs")
    own_opp = await factory.add(Opportunity(client_id=mine.id, title="CANARY upsell", value=Decimal("9000")))
    await factory.add(Opportunity(client_id=theirs.id, title="CANARY other"))
    _, token = await portal(api, factory, mine)
    body = await api.post(
        "query($id: ID!) { client(id: $id) { name opportunities { title value } } }", {"id": gid("Client", mine)}, token
    )
    assert body["data"]["client"] == {"name": "Mine", "opportunities": None}
    assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN", "field": "Client.opportunities"}]
    by_node = await api.post("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Opportunity", own_opp)}, token)
    assert by_node["data"] == {"node": None}
    create = await api.post(CREATE_OPP, {"client": gid("Client", mine), "input": {"title": "x"}}, token)
    assert create["data"] is None and create["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "CANARY" not in str(body) + str(by_node) + str(create)
    _, outsider = await portal(api, factory, theirs)
    other = await api.post(
        "query($id: ID!) { client(id: $id) { opportunities { title } } }", {"id": gid("Client", mine)}, outsider
    )
    assert other["data"] == {"client": None} and "CANARY" not in str(other)


# ---- the activity feed


async def _feed(factory, client, n: int, start: dt.datetime, **kw) -> list[Activity]:
    entries = []
    for i in range(n):
        entries.append(
            await factory.add(
                Activity(
                    client_id=client.id,
                    kind=ActivityKind.CLIENT_UPDATED,
                    summary=f"{kw.get('label', 'entry')} {i}",
                    occurred_at=start + dt.timedelta(hours=i // 2),
                    client_visible=kw.get("visible", True),
                )
            )
        )
    return entries


async def test_the_activity_feed_is_paginated_newest_first(api, factory):
    client = await factory.client("Acme")
    start = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    await _feed(factory, client, 7, start)  # pairs share a timestamp: ties break by id
    _, token = await staff(api, factory)
    seen: list[str] = []
    after = None
    while True:
        data = (await api.data(FEED, {"id": gid("Client", client), "first": 3, "after": after}, token))["client"][
            "activity"
        ]
        assert data["totalCount"] == 7
        seen += [e["node"]["summary"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == [f"entry {i}" for i in (6, 5, 4, 3, 2, 1, 0)]
    bad = await api.post(FEED, {"id": gid("Client", client), "first": 101}, token)
    assert bad["errors"][0]["extensions"]["field"] == "first"
    bad_cursor = await api.post(FEED, {"id": gid("Client", client), "after": "nope"}, token)
    assert bad_cursor["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"


async def test_mutations_feed_the_activity_with_actor_and_subject(api, factory):
    client = await factory.client("Acme")
    _, token = await staff(api, factory, Role.MEMBER, full_name="Sam")
    project = await mutate(
        api,
        """mutation($c: ID!) {
  createProject(clientId: $c, input: {name: "Site"}) { project { id } errors { code } } }""",
        {"c": gid("Client", client)},
        token,
        "createProject",
    )
    data = (await api.data(FEED, {"id": gid("Client", client)}, token))["client"]["activity"]
    [node] = [e["node"] for e in data["edges"]]
    assert node["kind"] == "PROJECT_CREATED" and node["actor"] == {"fullName": "Sam"}
    assert node["subjectType"] == "Project" and node["subjectId"] == project["project"]["id"]


async def test_a_client_sees_only_the_client_visible_feed_of_its_own_client(api, factory):
    mine = await factory.client("Mine")
    theirs = await factory.client("Theirs")
    start = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    await _feed(factory, mine, 2, start, label="shown")
    await _feed(factory, mine, 2, start, label="CANARY internal", visible=False)
    await _feed(factory, theirs, 2, start, label="CANARY theirs")
    _, token = await portal(api, factory, mine)
    body = await api.post(
        """query($id: ID!) { client(id: $id) { activity { totalCount edges { node { summary clientVisible } } } } }""",
        {"id": gid("Client", mine)},
        token,
    )
    feed = body["data"]["client"]["activity"]
    assert feed["totalCount"] == 2
    assert [e["node"] for e in feed["edges"]] == [
        {"summary": "shown 1", "clientVisible": None},
        {"summary": "shown 0", "clientVisible": None},
    ]
    assert [e["extensions"]["field"] for e in body["errors"]] == ["Activity.clientVisible"]
    assert "CANARY" not in str(body)
    other = await api.data(FEED, {"id": gid("Client", theirs)}, token)
    assert other == {"client": None}
    _, outsider = await portal(api, factory, theirs)
    theirs_view = await api.data(FEED, {"id": gid("Client", mine)}, outsider)
    assert theirs_view == {"client": None}


RECORD_TABS = """query($first: Int) { clients(first: $first) { edges { node {
  name
  contacts { fullName hasPortalAccess }
  opportunities { title owner { fullName } }
  interactions { summary staff { fullName } contact { fullName } }
  meetings { title staff { fullName } requestedBy { fullName } }
  activity(first: 3) { totalCount pageInfo { hasNextPage } edges { node { summary actor { fullName } } } }
} } } }"""


async def _tabbed_clients(factory, manager, n: int, offset: int) -> None:
    now = utcnow()
    for i in range(offset, offset + n):
        client = await factory.client(f"Client {i:03}", account_manager_id=manager.id)
        contact = await factory.contact(client, primary=True)
        await factory.portal_user(client)
        await factory.add(Opportunity(client_id=client.id, title=f"Opp {i}", owner_id=manager.id))
        await factory.add(
            Interaction(
                client_id=client.id,
                kind=InteractionKind.CALL,
                summary=f"Call {i}",
                occurred_at=now,
                staff_id=manager.id,
                contact_id=contact.id,
            )
        )
        await factory.add(
            Meeting(
                client_id=client.id,
                title=f"Meet {i}",
                starts_at=now + dt.timedelta(days=1),
                ends_at=now + dt.timedelta(days=1, hours=1),
                staff_id=manager.id,
                requested_by_id=manager.id,
            )
        )
        for j in range(4):
            await factory.add(
                Activity(
                    client_id=client.id,
                    kind=ActivityKind.CLIENT_UPDATED,
                    summary=f"a{j}",
                    actor_id=manager.id,
                    occurred_at=now - dt.timedelta(hours=j),
                )
            )


async def test_the_record_tabs_cost_the_same_statements_for_few_or_many_clients(api, factory, statements):
    manager = await factory.user(Role.MANAGER)
    await _tabbed_clients(factory, manager, 3, 0)
    token = await api.login(manager.email, PASSWORD)
    await api.data("{ me { id } }", token=token)
    statements.reset()
    few = await api.data(RECORD_TABS, {"first": 3}, token)
    small = statements.count
    await _tabbed_clients(factory, manager, 9, 3)
    token = await api.login(manager.email, PASSWORD)
    await api.data("{ me { id } }", token=token)
    statements.reset()
    many = await api.data(RECORD_TABS, {"first": 12}, token)
    large = statements.count
    assert len(few["clients"]["edges"]) == 3 and len(many["clients"]["edges"]) == 12
    node = many["clients"]["edges"][-1]["node"]
    assert node["activity"]["totalCount"] == 4 and len(node["activity"]["edges"]) == 3
    assert node["activity"]["pageInfo"]["hasNextPage"] is True
    assert node["contacts"][0]["hasPortalAccess"] in (True, False)
    assert small == large, f"{small} statements for 3 clients, {large} for 12"
