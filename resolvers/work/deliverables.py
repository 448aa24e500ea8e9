"""Deliverables on a task: a link (title + http(s) url) or an uploaded file; staff add, edit,
complete, reopen and remove them.

Decisions (also in the README):
- Who: the staff who may edit tasks (auth.policy_table MUTATION_ROLES); the task must be one the
  caller may see (task_scope), else NOT_FOUND exactly like a missing task or deliverable.
- An upload is checked before anything is kept: at most AGENCY_MAX_UPLOAD_BYTES
  (FILE_TOO_LARGE), and a type on the allow-list whose leading bytes match it (a PDF starts with
  `%PDF-`, a PNG with its signature, ...); the client's claimed type alone is not believed
  (FILE_TYPE_NOT_ALLOWED). The file is kept under a key the server makes; the row stores the key,
  the sanitised original name, size, checked content type and sha256.
- Completing sets completed_at (and is_complete); it notifies the client's active portal users
  (a Notification and an outbox e-mail each) only when the task is visible to the client.
  Completing a completed deliverable changes nothing and tells nobody again.
- Removing a file deliverable deletes its file after the transaction commits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import deliverable_scope, task_scope
from models import ActivityKind, Deliverable, DeliverableKind, Project, Task, User
from models.base import utcnow
from resolvers.activity import notify, queue_email, record_activity
from resolvers.errors import InputError, NotFound
from resolvers.validation import required_text
from resolvers.work import file_store
from resolvers.work.comments import _portal_users

MAX_TITLE = 300
MAX_URL = 1000
MAX_NAME = 200
SNIFF_BYTES = 4096

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
#: Allowed content types and the leading bytes each must start with (None: UTF-8 text).
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),  # and WEBP at offset 8: checked below
    "application/zip": _ZIP,
    "application/x-zip-compressed": _ZIP,
    "application/gzip": (b"\x1f\x8b",),
    "application/x-7z-compressed": (b"7z\xbc\xaf\x27\x1c",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _ZIP,
    "application/vnd.oasis.opendocument.text": _ZIP,
    "application/vnd.oasis.opendocument.spreadsheet": _ZIP,
    "application/vnd.oasis.opendocument.presentation": _ZIP,
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
    "application/vnd.ms-powerpoint": _OLE,
    "text/plain": None,
    "text/csv": None,
    "text/markdown": None,
}
#: What an upload claimed as unknown (or nothing) is stored as, by what its bytes are.
_SNIFFED = (
    ("application/pdf", b"%PDF-"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF8"),
    ("application/zip", b"PK\x03\x04"),
    ("application/gzip", b"\x1f\x8b"),
)


@dataclass(frozen=True)
class Removed:
    deliverable_id: int
    file_key: str | None


def allowed_type(claimed: str | None, head: bytes) -> str | None:
    """The content type to store for a file claimed as `claimed` that starts with `head`, or None
    when it is not on the allow-list or its bytes are not what it claims."""
    kind = (claimed or "").split(";")[0].strip().lower()
    if kind in ("", "application/octet-stream"):
        kind = next((name for name, magic in _SNIFFED if head.startswith(magic)), "")
    if kind not in SIGNATURES:
        return None
    magic = SIGNATURES[kind]
    if magic is None:
        return kind if _is_text(head) else None
    if not head.startswith(magic):
        return None
    if kind == "image/webp" and head[8:12] != b"WEBP":
        return None
    return kind


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3  # a character cut at the end of the sample
    return True


def sanitised_name(name: str | None) -> str:
    """A file name safe to store and to send back in Content-Disposition: its last path part,
    printable letters, digits, spaces and `._-()` only, at most MAX_NAME characters (keeping the
    extension); "file" when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    kept = "".join(c if (c.isalnum() or c in " ._-()") and c.isprintable() else "_" for c in base)
    kept = re.sub(r"\s+", " ", kept).strip(" .")
    if not kept.strip("_"):
        return "file"
    if len(kept) > MAX_NAME:
        stem, dot, ext = kept.rpartition(".")
        ext = ext[:20] if dot else ""
        kept = (stem if dot else kept)[: MAX_NAME - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return kept


def _row_id(value: str | int, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("deliverable", field=field) from None
    if not 0 < number < 2**63:
        raise NotFound("deliverable", field=field)
    return number


def _link(field: str, value: str | None) -> str:
    text = required_text(field, value, MAX_URL)
    if not re.fullmatch(r"https?://[^\s/]+[^\s]*", text, flags=re.IGNORECASE) or any(ord(c) < 32 for c in text):
        raise InputError(field, "INVALID_URL", "The url must be an http:// or https:// address.")
    return text


async def _visible_task(session: AsyncSession, principal: Principal, task_id: int) -> Task:
    task = await session.scalar(sa.select(Task).where(col(Task.id) == task_id, task_scope(principal)))
    if task is None:
        raise NotFound("task", field="input.taskId")
    return task


async def _deliverable(
    session: AsyncSession, principal: Principal, deliverable_id: str | int, field: str
) -> Deliverable:
    row_id = _row_id(deliverable_id, field)
    found = await session.scalar(
        sa.select(Deliverable)
        .join(Task, col(Task.id) == col(Deliverable.task_id))
        .where(col(Deliverable.id) == row_id, deliverable_scope(principal), task_scope(principal))
        .with_for_update()
    )
    if found is None:
        raise NotFound("deliverable", field=field)
    return found


async def add_deliverable(
    session: AsyncSession,
    principal: Principal,
    *,
    task_id: int,
    title: str,
    url: str | None = None,
    file: Any = None,
) -> Deliverable:
    """A link (url) or an uploaded file (file: Strawberry's Upload, a Starlette UploadFile)."""
    text = required_text("input.title", title, MAX_TITLE)
    if (url is None) == (file is None):
        raise InputError("input.url", "LINK_OR_FILE", "Give either a url or a file, not both.")
    task = await _visible_task(session, principal, task_id)
    if file is None:
        row = Deliverable(task_id=task_id, title=text, url=_link("input.url", url), kind=DeliverableKind.LINK)
        session.add(row)
        await session.flush()
        return row
    stored, name, content_type = await _store_upload(file)
    try:
        row = Deliverable(
            task_id=task.id,  # type: ignore[arg-type]  # a loaded row: its id is set
            title=text,
            url="",
            kind=DeliverableKind.FILE,
            file_key=stored.key,
            file_name=name,
            file_size=stored.size,
            content_type=content_type,
            sha256=stored.sha256,
        )
        session.add(row)
        await session.flush()
    except BaseException:
        await file_store.current().store.delete(stored.key)
        raise
    return row


async def _store_upload(upload: Any) -> tuple[file_store.StoredFile, str, str]:
    settings = file_store.current()
    limit = settings.max_upload_bytes
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise InputError("input.file", "FILE_TOO_LARGE", f"The file is larger than {limit} bytes.")
    stream: BinaryIO = upload.file
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise InputError("input.file", "FILE_EMPTY", "The file is empty.")
    content_type = allowed_type(getattr(upload, "content_type", None), head)
    if content_type is None:
        raise InputError(
            "input.file",
            "FILE_TYPE_NOT_ALLOWED",
            "That type of file is not accepted (PDF, images, office documents, archives and plain text are).",
        )
    try:
        stored = await settings.store.put(file_store.new_key(), stream, max_bytes=limit)
    except file_store.FileTooLarge:
        raise InputError("input.file", "FILE_TOO_LARGE", f"The file is larger than {limit} bytes.") from None
    return stored, sanitised_name(getattr(upload, "filename", None)), content_type


async def update_deliverable(
    session: AsyncSession,
    principal: Principal,
    *,
    id: str,
    title: str | None = None,
    url: str | None = None,
) -> Deliverable:
    row = await _deliverable(session, principal, id, "input.id")
    if title is not None:
        row.title = required_text("input.title", title, MAX_TITLE)
    if url is not None:
        if row.kind is not DeliverableKind.LINK:
            raise InputError("input.url", "NOT_A_LINK", "An uploaded file has no url to change.")
        row.url = _link("input.url", url)
    await session.flush()
    return row


async def complete_deliverable(session: AsyncSession, principal: Principal, *, id: str) -> Deliverable:
    row = await _deliverable(session, principal, id, "id")
    if row.completed_at is not None and row.is_complete:
        return row
    row.is_complete = True
    row.completed_at = utcnow()
    await session.flush()
    task = await session.get(Task, row.task_id)
    project = await session.get(Project, task.project_id) if task is not None else None
    if task is None or project is None:
        return row
    who = await session.get(User, principal.user_id) if principal.user_id is not None else None
    summary = f"{who.full_name if who else 'Someone'} completed {row.title} on task {task.title}"
    record_activity(
        session,
        principal,
        ActivityKind.TASK_UPDATED,
        summary,
        client_id=project.client_id,
        subject_type="Task",
        subject_id=task.id,
        client_visible=task.visible_to_client,
    )
    if task.visible_to_client:
        users = await _portal_users(session, principal, project.client_id)
        if users:
            notify(
                session,
                [u.id for u in users if u.id is not None],
                "DELIVERABLE_COMPLETED",
                f"Deliverable ready: {row.title} ({task.title})",
                subject_type="Task",
                subject_id=task.id,
            )
            for user in users:
                queue_email(
                    session,
                    user.email,
                    f"Deliverable ready: {row.title}",
                    f"{row.title} on task {task.title} ({project.name}) is complete; it is in your portal.\n",
                )
    return row


async def reopen_deliverable(session: AsyncSession, principal: Principal, *, id: str) -> Deliverable:
    row = await _deliverable(session, principal, id, "id")
    row.is_complete = False
    row.completed_at = None
    await session.flush()
    return row


async def remove_deliverable(session: AsyncSession, principal: Principal, *, id: str) -> Removed:
    row = await _deliverable(session, principal, id, "id")
    removed = Removed(deliverable_id=row.id, file_key=row.file_key)  # type: ignore[arg-type]
    await session.delete(row)
    await session.flush()
    return removed
