"""Projects created from a client (with initial tasks), their status and health; tasks."""

from __future__ import annotations

from decimal import Decimal

from models import Activity, ActivityKind, Notification, Project, ProjectStatus, Role, Task, TaskStatus
from tests.utils import SIDE_TABLES, codes, counts, get, gid, mutate, portal, raw_id, refused_by_policy, rows, staff

CREATE = """mutation($client: ID!, $input: CreateProjectInput!) { createProject(clientId: $client, input: $input) {
  project { id name description startDate endDate budget status health client { name }
            tasks { title status visibleToClient assignee { fullName } } }
  errors { field code message } } }"""
UPDATE = """mutation($input: UpdateProjectInput!) { updateProject(input: $input) {
  project { name status health startDate endDate } errors { field code message } } }"""
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  task { id title status visibleToClient assignee { fullName } project { name } } errors { field code message } } }"""
UPDATE_TASK = """mutation($input: UpdateTaskInput!) { updateTask(input: $input) {
  task { title status completedAt dueDate assignee { fullName } } errors { field code message } } }"""

WRITES = (Project, Task, *SIDE_TABLES)


async def test_creating_a_project_from_a_client_with_initial_tasks(api, factory, db):
    client = await factory.client("Acme")
    dev = await factory.user(Role.MEMBER, full_name="Dev Eloper")
    manager, token = await staff(api, factory, Role.MANAGER)
    payload = await mutate(
        api,
        CREATE,
        {
            "client": gid("Client", client),
            "input": {
                "name": "Website redesign",
                "description": "New site",
                "startDate": "2026-12-01",
                "endDate": "2027-03-31",
                "budget": "25000.00",
                "tasks": [
                    {"title": "Discovery workshop", "assigneeId": gid("User", dev)},
                    {"title": "Internal estimate", "visibleToClient": False},
                ],
            },
        },
        token,
        "createProject",
    )
    assert payload["errors"] == []
    project = payload["project"]
    assert project["client"] == {"name": "Acme"}
    assert (project["name"], project["startDate"], project["endDate"], project["budget"]) == (
        "Website redesign",
        "2026-12-01",
        "2027-03-31",
        "25000.00",
    )
    assert project["status"] == "ACTIVE" and project["health"] == "ON_TRACK"
    assert project["tasks"] == [
        {
            "title": "Discovery workshop",
            "status": "TODO",
            "visibleToClient": True,
            "assignee": {"fullName": "Dev Eloper"},
        },
        {"title": "Internal estimate", "status": "TODO", "visibleToClient": False, "assignee": None},
    ]
    stored = await get(db, Project, raw_id(project["id"]))
    assert stored.client_id == client.id and stored.budget == Decimal("25000.00")
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.PROJECT_CREATED and entry.client_visible and entry.actor_id == manager.id
    [note] = await rows(db, Notification)
    assert note.user_id == dev.id and "Discovery workshop" in note.message


async def test_create_project_bad_input_writes_nothing(api, factory, db):
    client = await factory.client("Acme")
    outsider = await factory.portal_user(client)
    _, token = await staff(api, factory, Role.MANAGER)
    _, member = await staff(api, factory, Role.MEMBER)
    before = await counts(db, *WRITES)
    ok_task = {"title": "Fine"}
    for variables, field, code, caller in [
        ({"name": " "}, "input.name", "REQUIRED", token),
        ({"name": "n" * 201}, "input.name", "TOO_LONG", token),
        ({"name": "P", "startDate": "2027-01-02", "endDate": "2027-01-01"}, "input.endDate", "END_BEFORE_START", token),
        ({"name": "P", "budget": "-0.01"}, "input.budget", "NEGATIVE_AMOUNT", token),
        ({"name": "P", "budget": "10.001"}, "input.budget", "INVALID_AMOUNT", token),
        ({"name": "P", "tasks": [ok_task, {"title": ""}]}, "input.tasks[1].title", "REQUIRED", token),
        (
            {"name": "P", "tasks": [{"title": "T", "assigneeId": gid("User", outsider)}]},
            "input.tasks[0].assigneeId",
            "NOT_STAFF",
            token,
        ),
        (
            {"name": "P", "tasks": [{"title": "T", "estimateHours": "-2"}]},
            "input.tasks[0].estimateHours",
            "NEGATIVE_AMOUNT",
            token,
        ),
        ({"name": "P", "tasks": [ok_task] * 101}, "input.tasks", "TOO_MANY", token),
    ]:
        payload = await mutate(
            api,
            CREATE.replace("budget status", "status"),
            {"client": gid("Client", client), "input": variables},
            caller,
            "createProject",
        )
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], variables
    unknown = await mutate(
        api, CREATE, {"client": gid("Client", 999), "input": {"name": "P", "tasks": [ok_task]}}, token, "createProject"
    )
    assert unknown["errors"] == [{"field": "clientId", "code": "NOT_FOUND", "message": "No such client."}]
    await refused_by_policy(
        api,
        CREATE.replace("budget status", "status"),
        {"client": gid("Client", client), "input": {"name": "P", "budget": "100.00"}},
        member,
        "createProject",
    )
    assert await counts(db, *WRITES) == before
    # A MEMBER creates projects, just without a budget.
    fine = await mutate(
        api,
        CREATE.replace("budget status", "status"),
        {"client": gid("Client", client), "input": {"name": "P"}},
        member,
        "createProject",
    )
    assert fine["errors"] == []


async def test_project_status_moves_and_cancelled_is_final(api, factory, db):
    client = await factory.client("Acme")
    project = await factory.project(client, name="Site")
    _, token = await staff(api, factory, Role.MEMBER)
    pid = gid("Project", project)

    async def move(status):
        return await mutate(api, UPDATE, {"input": {"projectId": pid, "status": status}}, token, "updateProject")

    assert (await move("ON_HOLD"))["project"]["status"] == "ON_HOLD"
    wrong = await move("COMPLETED")
    assert wrong["errors"] == [
        {
            "field": "input.status",
            "code": "INVALID_TRANSITION",
            "message": "A project cannot move from ON_HOLD to COMPLETED.",
        }
    ]
    assert (await move("ACTIVE"))["project"]["status"] == "ACTIVE"
    assert (await move("COMPLETED"))["project"]["status"] == "COMPLETED"
    assert (await move("ACTIVE"))["project"]["status"] == "ACTIVE"  # reopened
    assert (await move("CANCELLED"))["project"]["status"] == "CANCELLED"
    before = await counts(db, *WRITES)
    for changes in ({"status": "ACTIVE"}, {"name": "Renamed"}, {"health": "AT_RISK"}):
        final = await mutate(api, UPDATE, {"input": {"projectId": pid, **changes}}, token, "updateProject")
        assert codes(final) == ["PROJECT_CANCELLED"]
    task = await mutate(api, CREATE_TASK, {"input": {"projectId": pid, "title": "Late"}}, token, "createTask")
    assert codes(task) == ["PROJECT_CANCELLED"]
    assert await counts(db, *WRITES) == before
    assert (await get(db, Project, project.id)).status is ProjectStatus.CANCELLED


async def test_project_health_is_internal_and_status_reaches_the_client_feed(api, factory, db):
    client = await factory.client("Acme")
    project = await factory.project(client, name="Site")
    _, token = await staff(api, factory, Role.MEMBER)
    payload = await mutate(
        api,
        UPDATE,
        {
            "input": {
                "projectId": gid("Project", project),
                "status": "ON_HOLD",
                "health": "OFF_TRACK",
                "endDate": "2027-01-01",
            }
        },
        token,
        "updateProject",
    )
    assert payload["errors"] == [] and payload["project"]["health"] == "OFF_TRACK"
    entries = await rows(db, Activity)
    shown = [e.summary for e in entries if e.client_visible]
    hidden = [e.summary for e in entries if not e.client_visible]
    assert len(shown) == 1 and "on hold" in shown[0] and "2027-01-01" in shown[0] and "health" not in shown[0]
    assert len(hidden) == 1 and "off track" in hidden[0]

    _, portal_token = await portal(api, factory, client)
    feed = await api.data(
        """query($id: ID!) { client(id: $id) { activity { edges { node { kind summary } } } } }""",
        {"id": gid("Client", client)},
        portal_token,
    )
    assert [e["node"]["summary"] for e in feed["client"]["activity"]["edges"]] == shown

    before = await counts(db, *WRITES)
    bad_dates = await mutate(
        api,
        UPDATE,
        {"input": {"projectId": gid("Project", project), "startDate": "2027-02-01"}},
        token,
        "updateProject",
    )
    none_status = await mutate(
        api, UPDATE, {"input": {"projectId": gid("Project", project), "status": None}}, token, "updateProject"
    )
    unknown = await mutate(
        api, UPDATE, {"input": {"projectId": gid("Project", 999), "name": "X"}}, token, "updateProject"
    )
    for budget in ("5.00", None):  # clearing a budget is writing it
        await refused_by_policy(
            api, UPDATE, {"input": {"projectId": gid("Project", project), "budget": budget}}, token, "updateProject"
        )
    assert codes(bad_dates) == ["END_BEFORE_START"] and codes(none_status) == ["REQUIRED"]
    assert codes(unknown) == ["NOT_FOUND"]
    assert await counts(db, *WRITES) == before


async def test_tasks_are_created_assigned_and_moved_by_staff(api, factory, db):
    client = await factory.client("Acme")
    project = await factory.project(client, name="Site")
    await factory.task(project, title="Existing", position=4)
    dev = await factory.user(Role.MEMBER, full_name="Dev")
    me, token = await staff(api, factory, Role.MEMBER, full_name="Me")
    created = await mutate(
        api,
        CREATE_TASK,
        {
            "input": {
                "projectId": gid("Project", project),
                "title": "Build header",
                "assigneeId": gid("User", me),
                "dueDate": "2026-12-24",
            }
        },
        token,
        "createTask",
    )
    assert created["errors"] == []
    assert created["task"]["assignee"] == {"fullName": "Me"} and created["task"]["project"] == {"name": "Site"}
    task_id = raw_id(created["task"]["id"])
    assert (await get(db, Task, task_id)).position == 5
    assert await rows(db, Notification) == []  # assigning yourself tells nobody

    done = await mutate(
        api, UPDATE_TASK, {"input": {"taskId": created["task"]["id"], "status": "DONE"}}, token, "updateTask"
    )
    assert done["task"]["status"] == "DONE" and done["task"]["completedAt"] is not None
    reopened = await mutate(
        api,
        UPDATE_TASK,
        {
            "input": {
                "taskId": created["task"]["id"],
                "status": "IN_PROGRESS",
                "assigneeId": gid("User", dev),
                "dueDate": None,
            }
        },
        token,
        "updateTask",
    )
    assert reopened["task"] == {
        "title": "Build header",
        "status": "IN_PROGRESS",
        "completedAt": None,
        "dueDate": None,
        "assignee": {"fullName": "Dev"},
    }
    [note] = await rows(db, Notification)
    assert note.user_id == dev.id and note.kind == "TASK_ASSIGNED"
    kinds = {(a.kind, a.client_visible) for a in await rows(db, Activity)}
    assert kinds == {(ActivityKind.TASK_UPDATED, True)}


async def test_a_hidden_tasks_updates_stay_internal(api, factory, db):
    client = await factory.client("Acme")
    project = await factory.project(client)
    task = await factory.task(project, title="Secret refactor", visible_to_client=False)
    _, token = await staff(api, factory)
    await mutate(
        api,
        UPDATE_TASK,
        {"input": {"taskId": gid("Task", task), "status": "IN_REVIEW", "estimateHours": "3.5"}},
        token,
        "updateTask",
    )
    entries = await rows(db, Activity)
    assert len(entries) == 1 and not entries[0].client_visible and "in review" in entries[0].summary


async def test_task_bad_input_writes_nothing(api, factory, db):
    client = await factory.client("Acme")
    project = await factory.project(client)
    task = await factory.task(project, title="T")
    outsider = await factory.portal_user(client)
    _, token = await staff(api, factory)
    before = await counts(db, *WRITES)
    for changes, field, code in [
        ({"title": "t" * 301}, "input.title", "TOO_LONG"),
        ({"title": None}, "input.title", "REQUIRED"),
        ({"status": None}, "input.status", "REQUIRED"),
        ({"assigneeId": gid("User", outsider)}, "input.assigneeId", "NOT_STAFF"),
        ({"estimateHours": "-1"}, "input.estimateHours", "NEGATIVE_AMOUNT"),
        ({}, "input", "NOTHING_TO_UPDATE"),
    ]:
        payload = await mutate(
            api, UPDATE_TASK, {"input": {"taskId": gid("Task", task), **changes}}, token, "updateTask"
        )
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], changes
    unknown = await mutate(
        api, UPDATE_TASK, {"input": {"taskId": gid("Task", 999), "status": "DONE"}}, token, "updateTask"
    )
    wrong_type = await mutate(
        api, UPDATE_TASK, {"input": {"taskId": gid("Project", project), "status": "DONE"}}, token, "updateTask"
    )
    no_project = await mutate(
        api, CREATE_TASK, {"input": {"projectId": gid("Project", 999), "title": "X"}}, token, "createTask"
    )
    blank = await mutate(
        api, CREATE_TASK, {"input": {"projectId": gid("Project", project), "title": " "}}, token, "createTask"
    )
    assert codes(unknown) == ["NOT_FOUND"] and wrong_type == unknown  # another type's id answers as a missing task
    assert codes(no_project) == ["NOT_FOUND"] and codes(blank) == ["REQUIRED"]
    assert await counts(db, *WRITES) == before


async def test_a_client_may_never_change_task_status_or_assignment(api, factory, db):
    client = await factory.client("Acme")
    project = await factory.project(client)
    dev = await factory.user(Role.MEMBER)
    task = await factory.task(project, title="T", assignee_id=dev.id)
    _, token = await portal(api, factory, client)
    before = await counts(db, *WRITES)
    for query, variables in [
        (UPDATE_TASK, {"input": {"taskId": gid("Task", task), "status": "DONE"}}),
        (UPDATE_TASK, {"input": {"taskId": gid("Task", task), "assigneeId": None}}),
        (CREATE_TASK, {"input": {"projectId": gid("Project", project), "title": "Mine"}}),
        (UPDATE, {"input": {"projectId": gid("Project", project), "name": "Renamed"}}),
        (CREATE, {"client": gid("Client", client), "input": {"name": "New"}}),
    ]:
        body = await api.post(query, variables, token)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stored = await get(db, Task, task.id)
    assert stored.status is TaskStatus.TODO and stored.assignee_id == dev.id
    assert await counts(db, *WRITES) == before
