"""Deliverables: links and uploaded files (GraphQL multipart requests), completing them (the
client is told), and downloading through the short-lived, scope-checked URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from auth.tokens import TokenService
from models import Deliverable, DeliverableKind, Notification, OutboxEmail, Role, User
from server.app import create_app
from server.settings import Settings
from tests.conftest import TEST_SECRET
from tests.utils import Api, codes, count, gid, mutate, portal, refused_by_policy, rows, staff

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LIMIT = 2048

FIELDS = "id title url kind isComplete completedAt fileName fileSize contentType downloadUrl"
ADD = f"""mutation($input: AddDeliverableInput!) {{
  addDeliverable(input: $input) {{ deliverable {{ {FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($input: UpdateDeliverableInput!) {{
  updateDeliverable(input: $input) {{ deliverable {{ {FIELDS} }} errors {{ field code }} }} }}"""
COMPLETE = f"""mutation($id: ID!) {{
  completeDeliverable(id: $id) {{ deliverable {{ {FIELDS} }} errors {{ field code }} }} }}"""
REOPEN = (
    """mutation($id: ID!) { reopenDeliverable(id: $id) { deliverable { isComplete completedAt } errors { code } } }"""
)
REMOVE = """mutation($id: ID!) { removeDeliverable(id: $id) { removedId errors { field code } } }"""
TASK = f"""query($id: ID!) {{ node(id: $id) {{ ... on Task {{ deliverables {{ {FIELDS} }} }} }} }}"""


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
async def api(db, engine, files_dir) -> Api:  # type: ignore[misc]
    """The app with its files in a temporary folder and a small upload limit."""
    settings = Settings(
        AGENCY_SECRET_KEY=TEST_SECRET,
        DATABASE_URL="unused",
        AGENCY_FILES_DIR=files_dir,
        AGENCY_MAX_UPLOAD_BYTES=LIMIT,
    )
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, app)


def stored_files(files_dir: Path) -> list[Path]:
    return sorted(p for p in files_dir.rglob("*") if p.is_file()) if files_dir.exists() else []


async def upload(
    api: Api,
    token: str,
    task_gid: str,
    content: bytes,
    *,
    name: str = "report.pdf",
    content_type: str = "application/pdf",
    title: str = "Final report",
    preflight: bool = True,
) -> httpx.Response:
    """addDeliverable with a file, as the GraphQL multipart request specification has it."""
    operations = {"query": ADD, "variables": {"input": {"taskId": task_gid, "title": title, "file": None}}}
    headers = {"Authorization": f"Bearer {token}"}
    if preflight:
        headers["GraphQL-Preflight"] = "1"
    return await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (name, content, content_type)},
        headers=headers,
    )


async def _setup(factory):
    client = await factory.client("Acme")
    project = await factory.project(client, name="Site")
    task = await factory.task(project, title="Homepage")
    return client, project, task


async def test_staff_upload_complete_and_download_and_the_portal_user_downloads(api, factory, db, files_dir):
    client, project, task = await _setup(factory)
    olivia = await factory.portal_user(client, full_name="Olivia")
    await factory.portal_user(client, is_active=False)
    other = await factory.client("Other")
    await factory.portal_user(other)
    _, token = await staff(api, factory, Role.MEMBER)

    response = await upload(api, token, gid("Task", task), PDF, name="../../etc/Q3 report<>.pdf")
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["addDeliverable"]
    assert payload["errors"] == []
    added = payload["deliverable"]
    assert added["kind"] == "FILE" and added["url"] == "" and added["title"] == "Final report"
    assert added["fileName"] == "Q3 report__.pdf" and added["fileSize"] == len(PDF)
    assert added["contentType"] == "application/pdf" and not added["isComplete"] and added["completedAt"] is None
    [row] = await rows(db, Deliverable)
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.kind is DeliverableKind.FILE
    [kept] = stored_files(files_dir)
    assert kept.read_bytes() == PDF and kept.resolve().is_relative_to(files_dir.resolve())
    assert "report" not in kept.name and row.file_key is not None and kept.name in row.file_key

    # Nobody is told of an upload; completing it tells the client's active portal users.
    assert await count(db, Notification) == 0
    done = await mutate(api, COMPLETE, {"id": added["id"]}, token, "completeDeliverable")
    assert done["errors"] == [] and done["deliverable"]["isComplete"] and done["deliverable"]["completedAt"]
    [note] = await rows(db, Notification)
    assert note.user_id == olivia.id and note.kind == "DELIVERABLE_COMPLETED" and "Final report" in note.message
    [email] = await rows(db, OutboxEmail)
    assert email.to_email == olivia.email
    # Completing again changes nothing and tells nobody again.
    again = await mutate(api, COMPLETE, {"id": added["id"]}, token, "completeDeliverable")
    assert again["deliverable"]["completedAt"] == done["deliverable"]["completedAt"]
    assert await count(db, Notification) == 1

    # Staff download.
    got = await api.client.get(done["deliverable"]["downloadUrl"])
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith('attachment; filename="Q3 report__.pdf"')

    # The portal user sees it complete and downloads it with its own URL.
    olivia_token = await api.login(olivia.email, "correct-horse-battery")
    seen = (await api.data(TASK, {"id": gid("Task", task)}, olivia_token))["node"]["deliverables"]
    assert [(d["title"], d["isComplete"], d["fileName"]) for d in seen] == [("Final report", True, "Q3 report__.pdf")]
    theirs = await api.client.get(seen[0]["downloadUrl"])
    assert theirs.status_code == 200 and theirs.content == PDF
    assert project


async def test_another_clients_user_expired_and_tampered_tokens_answer_like_a_missing_file(api, factory, db, files_dir):
    client, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    added = (await upload(api, token, gid("Task", task), PDF)).json()["data"]["addDeliverable"]["deliverable"]
    deliverable_id = int(added["id"])
    other = await factory.client("Other")
    stranger, _ = await portal(api, factory, other)
    owner, _ = await portal(api, factory, client)
    hidden = await factory.task(await factory.project(client), visible_to_client=False)
    tokens = TokenService(secret=TEST_SECRET, issuer="agency-os", audience="agency-os-api", access_ttl=dt.timedelta(1))
    path = f"/files/deliverables/{deliverable_id}"

    async def answer(url: str) -> tuple[int, bytes]:
        response = await api.client.get(url)
        return response.status_code, response.content

    def url(user_id: int, file_id: int = deliverable_id, ttl: float = 300, at: str = path) -> str:
        token = tokens.issue_file(user_id=user_id, file=f"deliverable:{file_id}", ttl=dt.timedelta(seconds=ttl))
        return f"{at}?token={token}"

    missing = await answer(url(owner.id, 999999, at="/files/deliverables/999999"))
    assert missing[0] == 404 and json.loads(missing[1])["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await answer(url(owner.id)))[0] == 200  # the owner's own URL works
    assert await answer(url(stranger.id)) == missing  # another client's portal user
    assert await answer(url(owner.id, ttl=-60)) == missing  # expired
    good = url(owner.id)
    assert await answer(good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")) == missing  # tampered
    assert await answer(url(owner.id, 999999)) == missing  # a token for another file
    assert await answer(path) == missing and await answer(f"{path}?token=x") == missing
    # A user's access token is no file token.
    access, _ = tokens.issue_access(user_id=owner.id, role=Role.CLIENT, client_id=client.id)
    assert await answer(f"{path}?token={access}") == missing

    # A deactivated user's URL stops working; so does one for a task hidden since.
    leaver, _ = await portal(api, factory, client)
    leaving = url(leaver.id)
    assert (await answer(leaving))[0] == 200
    async with db() as session:
        (await session.get(User, leaver.id)).is_active = False
        await session.commit()
    assert await answer(leaving) == missing
    async with db() as session:
        row = await session.get(Deliverable, deliverable_id)
        row.task_id = hidden.id
        await session.commit()
    assert await answer(url(owner.id)) == missing
    assert (await answer(url((await factory.user(Role.MEMBER)).id)))[0] == 200  # staff still may

    # A file gone from the store answers the same.
    for kept in stored_files(files_dir):
        kept.unlink()
    assert await answer(url((await factory.user(Role.MEMBER)).id)) == missing


async def test_a_multipart_request_without_the_preflight_header_is_refused(api, factory, db, files_dir):
    _, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    response = await upload(api, token, gid("Task", task), PDF, preflight=False)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PREFLIGHT_REQUIRED"
    assert await count(db, Deliverable) == 0 and stored_files(files_dir) == []


@pytest.mark.parametrize(
    ("content", "name", "content_type", "code"),
    [
        (b"%PDF-" + b"x" * LIMIT, "big.pdf", "application/pdf", "FILE_TOO_LARGE"),
        (b"MZ\x90\x00 an executable", "setup.exe", "application/pdf", "FILE_TYPE_NOT_ALLOWED"),
        (b"<html><script>alert(1)</script>", "page.html", "text/html", "FILE_TYPE_NOT_ALLOWED"),
        (PNG, "image.pdf", "application/pdf", "FILE_TYPE_NOT_ALLOWED"),  # claims PDF, is a PNG
        (b"<svg onload=alert(1)>", "x.svg", "image/svg+xml", "FILE_TYPE_NOT_ALLOWED"),
        (b"", "empty.pdf", "application/pdf", "FILE_EMPTY"),
    ],
)
async def test_size_and_type_are_checked_and_nothing_is_kept(
    api, factory, db, files_dir, content, name, content_type, code
):
    _, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    response = await upload(api, token, gid("Task", task), content, name=name, content_type=content_type)
    payload = response.json()["data"]["addDeliverable"]
    assert payload["deliverable"] is None and codes(payload) == [code]
    assert payload["errors"][0]["field"] == "input.file"
    assert await count(db, Deliverable) == 0 and stored_files(files_dir) == []


async def test_an_image_with_no_claimed_type_is_stored_as_what_its_bytes_are(api, factory, db, files_dir):
    _, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    response = await upload(
        api, token, gid("Task", task), PNG, name="logo.png", content_type="application/octet-stream"
    )
    added = response.json()["data"]["addDeliverable"]["deliverable"]
    assert added["contentType"] == "image/png" and added["fileName"] == "logo.png"


async def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(api, factory, db, files_dir):
    _, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    huge = b"%PDF-" + b"x" * (1024 * 1024 + LIMIT)
    response = await upload(api, token, gid("Task", task), huge)
    assert response.status_code == 413
    assert await count(db, Deliverable) == 0 and stored_files(files_dir) == []


async def test_link_deliverables_edit_reopen_and_remove(api, factory, db, files_dir):
    client, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    bad = await mutate(
        api,
        ADD,
        {"input": {"taskId": gid("Task", task), "title": "x", "url": "javascript:alert(1)"}},
        token,
        "addDeliverable",
    )
    assert codes(bad) == ["INVALID_URL"] and bad["errors"][0]["field"] == "input.url"
    neither = await mutate(api, ADD, {"input": {"taskId": gid("Task", task), "title": "x"}}, token, "addDeliverable")
    assert codes(neither) == ["LINK_OR_FILE"]
    assert await count(db, Deliverable) == 0

    link = await mutate(
        api,
        ADD,
        {"input": {"taskId": gid("Task", task), "title": "Figma", "url": "https://figma.example/file/1"}},
        token,
        "addDeliverable",
    )
    assert link["errors"] == []
    made = link["deliverable"]
    assert made["kind"] == "LINK" and made["downloadUrl"] is None and made["fileName"] is None
    changed = await mutate(
        api,
        UPDATE,
        {"input": {"id": made["id"], "title": "Figma v2", "url": "http://figma.example/2"}},
        token,
        "updateDeliverable",
    )
    assert changed["errors"] == [] and changed["deliverable"]["title"] == "Figma v2"
    assert changed["deliverable"]["url"] == "http://figma.example/2"
    done = await mutate(api, COMPLETE, {"id": made["id"]}, token, "completeDeliverable")
    assert done["deliverable"]["isComplete"]
    reopened = await mutate(api, REOPEN, {"id": made["id"]}, token, "reopenDeliverable")
    assert reopened["deliverable"] == {"isComplete": False, "completedAt": None}
    missing = await mutate(api, COMPLETE, {"id": "999999"}, token, "completeDeliverable")
    assert codes(missing) == ["NOT_FOUND"]

    # A file's url cannot be set; removing a file deletes it from the store.
    added = (await upload(api, token, gid("Task", task), PDF)).json()["data"]["addDeliverable"]["deliverable"]
    not_link = await mutate(
        api, UPDATE, {"input": {"id": added["id"], "url": "https://x.example"}}, token, "updateDeliverable"
    )
    assert codes(not_link) == ["NOT_A_LINK"]
    assert len(stored_files(files_dir)) == 1
    removed = await mutate(api, REMOVE, {"id": added["id"]}, token, "removeDeliverable")
    assert removed == {"removedId": added["id"], "errors": []}
    assert stored_files(files_dir) == [] and await count(db, Deliverable) == 1
    assert client


async def test_only_staff_change_deliverables_and_a_portal_user_sees_only_its_own(api, factory, db, files_dir):
    client, _, task = await _setup(factory)
    _, token = await staff(api, factory)
    made = (
        await mutate(
            api,
            ADD,
            {"input": {"taskId": gid("Task", task), "title": "Brief", "url": "https://docs.example/brief"}},
            token,
            "addDeliverable",
        )
    )["deliverable"]
    _, client_token = await portal(api, factory, client)
    await refused_by_policy(api, COMPLETE, {"id": made["id"]}, client_token, "completeDeliverable")
    await refused_by_policy(
        api,
        ADD,
        {"input": {"taskId": gid("Task", task), "title": "x", "url": "https://x.example"}},
        client_token,
        "addDeliverable",
    )
    other = await factory.client("Other")
    _, other_token = await portal(api, factory, other)
    body = await api.post(TASK, {"id": gid("Task", task)}, other_token)
    assert body["data"]["node"] is None
    assert (await api.data(TASK, {"id": gid("Task", task)}, client_token))["node"]["deliverables"][0][
        "title"
    ] == "Brief"


async def test_completing_on_a_hidden_task_tells_no_client(api, factory, db, files_dir):
    client, project, _ = await _setup(factory)
    hidden = await factory.task(project, title="Internal", visible_to_client=False)
    await factory.portal_user(client)
    _, token = await staff(api, factory)
    made = (
        await mutate(
            api,
            ADD,
            {"input": {"taskId": gid("Task", hidden), "title": "Notes", "url": "https://docs.example/n"}},
            token,
            "addDeliverable",
        )
    )["deliverable"]
    done = await mutate(api, COMPLETE, {"id": made["id"]}, token, "completeDeliverable")
    assert done["errors"] == []
    assert await count(db, Notification) == 0 and await count(db, OutboxEmail) == 0


async def test_a_partner_sees_the_metadata_of_its_clients_files_but_gets_no_download_url(api, factory, db, files_dir):
    from tests.partners.support import access_token, register

    client, _, task = await _setup(factory)
    other = await factory.client("Other")
    _, token = await staff(api, factory)
    added = (await upload(api, token, gid("Task", task), PDF)).json()["data"]["addDeliverable"]["deliverable"]
    assert added["downloadUrl"]
    ours = await access_token(api.client, await register(db, scopes=["projects:read"], clients=[client]))
    seen = (await api.data(TASK, {"id": gid("Task", task)}, ours))["node"]["deliverables"]
    assert [(d["fileName"], d["downloadUrl"]) for d in seen] == [("report.pdf", None)]
    theirs = await access_token(api.client, await register(db, scopes=["projects:read"], clients=[other]))
    assert (await api.post(TASK, {"id": gid("Task", task)}, theirs))["data"]["node"] is None
