"""Comments: REPLY or NOTE, always explicit; who is notified of each."""

from __future__ import annotations

from models import Activity, ActivityKind, Comment, Notification, OutboxEmail, Role
from tests.utils import SIDE_TABLES, count, counts, gid, mutate, portal, refused_by_policy, rows, staff

ADD = """mutation($kind: CommentKind!, $body: String!, $task: ID, $project: ID) {
  addComment(kind: $kind, body: $body, taskId: $task, projectId: $project) {
    comment { id kind body author { fullName } task { title } project { name } } errors { field code message } } }"""

WRITES = (Comment, *SIDE_TABLES)


async def _setup(factory):
    manager = await factory.user(Role.MANAGER, full_name="Account Manager", email="am@agency.example")
    dev = await factory.user(Role.MEMBER, full_name="Dev", email="dev@agency.example")
    client = await factory.client("Acme", account_manager_id=manager.id)
    project = await factory.project(client, name="Site")
    task = await factory.task(project, title="Homepage", assignee_id=dev.id)
    return manager, dev, client, project, task


async def test_a_staff_reply_notifies_the_clients_portal_users(api, factory, db):
    _, _, client, project, task = await _setup(factory)
    olivia = await factory.portal_user(client, full_name="Olivia")
    await factory.portal_user(client, is_active=False)
    other = await factory.client("Other")
    await factory.portal_user(other)
    author, token = await staff(api, factory, Role.MEMBER, full_name="Sam")
    payload = await mutate(
        api,
        ADD,
        {"kind": "REPLY", "body": "The homepage is ready for review.", "task": gid("Task", task)},
        token,
        "addComment",
    )
    assert payload["errors"] == []
    assert payload["comment"]["kind"] == "REPLY" and payload["comment"]["author"] == {"fullName": "Sam"}
    assert payload["comment"]["task"] == {"title": "Homepage"} and payload["comment"]["project"] == {"name": "Site"}
    [note] = await rows(db, Notification)
    assert note.user_id == olivia.id and note.kind == "COMMENT_REPLY" and "Homepage" in note.message
    [email] = await rows(db, OutboxEmail)
    assert email.to_email == olivia.email and "ready for review" in email.body
    [entry] = await rows(db, Activity)
    assert entry.kind is ActivityKind.COMMENT_ADDED and entry.client_visible and entry.actor_id == author.id

    # Olivia sees it in her portal and has a notification waiting.
    olivia_token = await api.login(olivia.email, "correct-horse-battery")
    seen = await api.data(
        """query($id: ID!) { node(id: $id) { ... on Task { comments { kind body } } } }""",
        {"id": gid("Task", task)},
        olivia_token,
    )
    assert seen["node"]["comments"] == [{"kind": "REPLY", "body": "The homepage is ready for review."}]
    assert project


async def test_a_staff_reply_on_a_hidden_task_tells_no_client(api, factory, db):
    _, _, client, project, _ = await _setup(factory)
    hidden = await factory.task(project, title="Internal refactor", visible_to_client=False)
    await factory.portal_user(client)
    _, token = await staff(api, factory)
    payload = await mutate(
        api, ADD, {"kind": "REPLY", "body": "done", "task": gid("Task", hidden)}, token, "addComment"
    )
    assert payload["errors"] == []
    assert await count(db, Notification) == 0 and await count(db, OutboxEmail) == 0
    [entry] = await rows(db, Activity)
    assert not entry.client_visible


async def test_a_clients_reply_notifies_the_assignee_and_account_manager(api, factory, db):
    manager, dev, client, project, task = await _setup(factory)
    colleague = await factory.portal_user(client)
    _, token = await portal(api, factory, client, full_name="Olivia")
    payload = await mutate(
        api, ADD, {"kind": "REPLY", "body": "Looks great, approved.", "task": gid("Task", task)}, token, "addComment"
    )
    assert payload["errors"] == [] and payload["comment"]["author"] == {"fullName": "Olivia"}
    notified = sorted(n.user_id for n in await rows(db, Notification))
    assert notified == sorted([manager.id, dev.id])
    assert colleague.id not in notified
    assert sorted(e.to_email for e in await rows(db, OutboxEmail)) == ["am@agency.example", "dev@agency.example"]
    [entry] = await rows(db, Activity, Activity.kind == ActivityKind.COMMENT_ADDED)
    assert entry.client_visible and entry.summary == "Olivia replied on task Homepage"

    # A reply on the project itself goes to the account manager alone.
    await mutate(
        api,
        ADD,
        {"kind": "REPLY", "body": "And one more thing", "project": gid("Project", project)},
        token,
        "addComment",
    )
    assert [n.user_id for n in await rows(db, Notification)][2:] == [manager.id]


async def test_notes_notify_nobody_and_never_reach_the_client(api, factory, db):
    _, _, client, _, task = await _setup(factory)
    _, portal_token = await portal(api, factory, client)
    _, token = await staff(api, factory)
    payload = await mutate(
        api, ADD, {"kind": "NOTE", "body": "CANARY budget is tight", "task": gid("Task", task)}, token, "addComment"
    )
    assert payload["errors"] == [] and payload["comment"]["kind"] == "NOTE"
    assert await count(db, Notification) == 0 and await count(db, OutboxEmail) == 0
    [entry] = await rows(db, Activity, Activity.kind == ActivityKind.COMMENT_ADDED)
    assert not entry.client_visible and "CANARY" not in entry.summary
    body = await api.post(
        """query($id: ID!) { client(id: $id) {
        activity { totalCount edges { node { summary } } } projects { tasks { comments { body } } } } }""",
        {"id": gid("Client", client)},
        portal_token,
    )
    assert "CANARY" not in str(body)
    assert body["data"]["client"]["activity"]["totalCount"] == 0


async def test_the_comment_kind_is_required_with_no_default(api, factory, db):
    _, _, _, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    without_kind = """mutation($task: ID) { addComment(body: "hello", taskId: $task) { errors { code } } }"""
    body = await api.post(without_kind, {"task": gid("Task", task)}, token)
    assert body.get("data") is None and "kind" in body["errors"][0]["message"]
    null_kind = await api.post(ADD, {"kind": None, "body": "hello", "task": gid("Task", task)}, token)
    assert null_kind.get("data") is None
    assert await counts(db, *WRITES) == {t.__tablename__: 0 for t in WRITES}


async def test_a_client_adds_replies_only_on_its_own_visible_tasks(api, factory, db):
    _, _, client, project, task = await _setup(factory)
    hidden = await factory.task(project, title="Hidden", visible_to_client=False)
    other = await factory.client("Other")
    other_project = await factory.project(other, name="Their project")
    other_task = await factory.task(other_project, title="Their task")
    _, token = await portal(api, factory, client)
    before = await counts(db, *WRITES)
    error = await refused_by_policy(
        api, ADD, {"kind": "NOTE", "body": "x", "task": gid("Task", task)}, token, "addComment"
    )
    assert "replies only" in error["message"]
    for variables, field in [
        ({"task": gid("Task", other_task)}, "taskId"),
        ({"task": gid("Task", hidden)}, "taskId"),
        ({"project": gid("Project", other_project)}, "projectId"),
    ]:
        payload = await mutate(api, ADD, {"kind": "REPLY", "body": "x", **variables}, token, "addComment")
        assert payload["errors"] == [{"field": field, "code": "NOT_FOUND", "message": f"No such {field[:-2]}."}]
        assert "Their" not in str(payload) and "Hidden" not in str(payload)
    assert await counts(db, *WRITES) == before
    ok = await mutate(
        api, ADD, {"kind": "REPLY", "body": "Thanks!", "project": gid("Project", project)}, token, "addComment"
    )
    assert ok["errors"] == [] and ok["comment"]["task"] is None


async def test_comment_bad_input_writes_nothing(api, factory, db):
    _, _, _, project, task = await _setup(factory)
    _, token = await staff(api, factory)
    before = await counts(db, *WRITES)
    for variables, field, code in [
        ({"body": "   ", "task": gid("Task", task)}, "body", "REQUIRED"),
        ({"body": "b" * 10001, "task": gid("Task", task)}, "body", "TOO_LONG"),
        ({"body": "x"}, "taskId", "REQUIRED"),
        ({"body": "x", "task": gid("Task", task), "project": gid("Project", project)}, "projectId", "AMBIGUOUS_TARGET"),
        ({"body": "x", "task": gid("Task", 999)}, "taskId", "NOT_FOUND"),
        ({"body": "x", "task": gid("Project", project)}, "taskId", "NOT_FOUND"),
    ]:
        payload = await mutate(api, ADD, {"kind": "REPLY", **variables}, token, "addComment")
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], variables
        assert payload["comment"] is None
    # A task id of another type answers exactly as a missing task does.
    assert await api.post(
        ADD, {"kind": "REPLY", "body": "x", "task": gid("Project", project)}, token
    ) == await api.post(ADD, {"kind": "REPLY", "body": "x", "task": gid("Task", 999)}, token)
    assert await counts(db, *WRITES) == before
