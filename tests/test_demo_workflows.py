"""The guide's client workflows, walked through on the demo agency as a person would in GraphiQL."""

from __future__ import annotations

import datetime as dt

from models.base import utcnow
from server.demo import DEMO_PASSWORD
from tests.utils import mutate, refused_by_policy


async def test_the_demo_agency_walks_from_won_lead_to_client_work(api, demo):
    owner = await api.login("owner@agency.example", DEMO_PASSWORD)
    leads = await api.data("{ leads(stages: [NEGOTIATION]) { edges { node { id companyName } } } }", token=owner)
    [lead] = [e["node"] for e in leads["leads"]["edges"]]
    assert lead["companyName"] == "Keystone Property Management"

    won = await mutate(
        api,
        """mutation($id: ID!) { updateLeadStage(leadId: $id, stage: WON) { errors { code } } }""",
        {"id": lead["id"]},
        owner,
        "updateLeadStage",
    )
    assert won["errors"] == []
    converted = await mutate(
        api,
        """mutation($id: ID!) { convertLead(leadId: $id) {
        client { id name status { name } primaryContact { fullName } } errors { code } } }""",
        {"id": lead["id"]},
        owner,
        "convertLead",
    )
    client = converted["client"]
    assert client["status"] == {"name": "Active"} and client["primaryContact"] == {"fullName": "Nadia Petrova"}

    project = await mutate(
        api,
        """mutation($c: ID!) { createProject(clientId: $c, input: {
        name: "Tenant portal", startDate: "2027-01-04", budget: "64000.00", tasks: [{title: "Kickoff"}] }) {
        project { id tasks { id title } } errors { code } } }""",
        {"c": client["id"]},
        owner,
        "createProject",
    )
    task_id = project["project"]["tasks"][0]["id"]
    reply = await mutate(
        api,
        """mutation($t: ID!) { addComment(taskId: $t, kind: REPLY, body: "Kickoff booked.") {
        comment { kind } errors { code } } }""",
        {"t": task_id},
        owner,
        "addComment",
    )
    assert reply["errors"] == []

    feed = await api.data(
        """query($id: ID!) { client(id: $id) { activity { edges { node { kind } } } } }""", {"id": client["id"]}, owner
    )
    kinds = [e["node"]["kind"] for e in feed["client"]["activity"]["edges"]]
    assert kinds[:2] == ["COMMENT_ADDED", "PROJECT_CREATED"]
    assert set(kinds) == {"COMMENT_ADDED", "PROJECT_CREATED", "CLIENT_CREATED", "LEAD_CONVERTED"}


async def test_the_demo_portal_user_books_a_meeting_and_replies(api, demo):
    olivia = await api.login("olivia@northwind.example", DEMO_PASSWORD)
    home = await api.data("{ me { client { id portalBookingEnabled projects { tasks { id } } } } }", token=olivia)
    client = home["me"]["client"]
    assert client["portalBookingEnabled"] is True
    starts = (utcnow() + dt.timedelta(days=8)).replace(hour=16, minute=0, second=0, microsecond=0)
    booked = await mutate(
        api,
        """mutation($input: BookMeetingInput!) { bookMeeting(input: $input) {
        meeting { status staff { fullName } } errors { code } } }""",
        {
            "input": {
                "title": "Roadmap chat",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + dt.timedelta(minutes=30)).isoformat(),
            }
        },
        olivia,
        "bookMeeting",
    )
    assert booked["errors"] == [] and booked["meeting"]["status"] == "REQUESTED"
    task_id = client["projects"][0]["tasks"][0]["id"]
    reply = await mutate(
        api,
        """mutation($t: ID!) { addComment(taskId: $t, kind: REPLY, body: "Thanks!") { errors { code } } }""",
        {"t": task_id},
        olivia,
        "addComment",
    )
    await refused_by_policy(
        api,
        """mutation($t: ID!) { addComment(taskId: $t, kind: NOTE, body: "psst") { errors { code } } }""",
        {"t": task_id},
        olivia,
        "addComment",
    )
    assert reply["errors"] == []
