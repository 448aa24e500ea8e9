"""Live events: what a committed write changed, as ids, for the GraphQL subscriptions.

Every ORM flush notes the rows of the watched entities it inserted, updated or deleted (the
session's `after_flush`); the transaction publishes them only when it commits, never for a
rollback:

- on PostgreSQL, with `pg_notify` inside the transaction itself (PostgreSQL delivers a
  notification when, and only when, its transaction commits), so every worker's listener
  (resolvers.live.hub.PostgresListener), this one's included, hears it, and so do writes made by
  another process (the CLI, a job);
- on SQLite (one worker), straight to this process's hub after the commit.

An event carries the row's id and the ids that route it (its task, project, client or user),
never rendered data: each subscriber re-reads the row under its own row scope before anything
is sent (resolvers.live.visible). Writes that bypass the ORM (bulk UPDATEs such as marking
notifications read or stamping a client's last interaction) publish nothing; none of them is an
event a subscription offers."""

from __future__ import annotations

import enum
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

import models

log = logging.getLogger("agency.live")

CHANNEL = "agency_live"
"""The PostgreSQL notification channel every worker listens on."""

_NOTIFY_BYTES = 7000
"""PostgreSQL refuses a notification payload of 8,000 bytes or more: a transaction's events
go out in as many notifications as it takes."""

_PENDING = "agency_live_events"


class Change(str, enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


class Topic(str, enum.Enum):
    COMMENT = "comment"
    TASK = "task"
    DELIVERABLE = "deliverable"
    INVOICE = "invoice"
    CLIENT = "client"
    ACTIVITY = "activity"
    NOTIFICATION = "notification"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    topic: Topic
    change: Change
    id: int
    # The ids a subscription filters by: task_id, project_id, client_id, user_id (as the row has them).
    keys: dict[str, int | None] = field(default_factory=dict)

    def key(self, name: str) -> int | None:
        return self.keys.get(name)

    def to_json(self) -> dict[str, Any]:
        return {"t": self.topic.value, "c": self.change.value, "id": self.id, "k": self.keys}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> LiveEvent:
        keys = {str(k): (None if v is None else int(v)) for k, v in dict(value.get("k") or {}).items()}
        return cls(Topic(value["t"]), Change(value["c"]), int(value["id"]), keys)


# What is watched, and the ids that route each entity's events. Only the changes a subscription
# offers: comments, activity and notifications are only ever added.
_WATCHED: dict[type, tuple[Topic, tuple[str, ...], frozenset[Change]]] = {
    models.Comment: (Topic.COMMENT, ("task_id", "project_id"), frozenset({Change.CREATED})),
    # visible_to_client: a deleted task cannot be re-read, and its deletion is news to a portal
    # user only if the task was visible to it.
    models.Task: (Topic.TASK, ("project_id", "visible_to_client"), frozenset(Change)),
    models.Deliverable: (Topic.DELIVERABLE, ("task_id",), frozenset(Change)),
    models.Invoice: (Topic.INVOICE, ("client_id",), frozenset({Change.CREATED, Change.UPDATED})),
    models.Client: (Topic.CLIENT, (), frozenset({Change.CREATED, Change.UPDATED})),
    models.Activity: (Topic.ACTIVITY, ("client_id",), frozenset({Change.CREATED})),
    models.Notification: (Topic.NOTIFICATION, ("user_id",), frozenset({Change.CREATED})),
}


def _note(session: Session, instance: Any, change: Change) -> None:
    watched = _WATCHED.get(type(instance))
    if watched is None:
        return
    topic, key_names, changes = watched
    if change not in changes or instance.id is None:
        return
    keys = {name: _as_key(getattr(instance, name)) for name in key_names}
    if topic is Topic.CLIENT:
        keys = {"client_id": instance.id}
    pending: dict[tuple[Topic, int], LiveEvent] = session.info.setdefault(_PENDING, {})
    found = pending.get((topic, instance.id))
    # Created and then updated in one transaction is one creation; a deletion is the last word.
    if found is not None and change is not Change.DELETED:
        change = found.change
    pending[(topic, instance.id)] = LiveEvent(topic, change, instance.id, keys)


def _as_key(value: Any) -> int | None:
    return None if value is None else int(value)


def _after_flush(session: Session, _context: Any) -> None:
    for instance in session.new:
        _note(session, instance, Change.CREATED)
    for instance in session.dirty:
        if type(instance) in _WATCHED and session.is_modified(instance, include_collections=False):
            _note(session, instance, Change.UPDATED)
    for instance in session.deleted:
        _note(session, instance, Change.DELETED)


def _before_commit(session: Session) -> None:
    """On PostgreSQL the notifications go out inside the transaction: delivered at its commit."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    session.flush()  # the commit's own flush comes after this hook: its rows are events too
    events = list(session.info.get(_PENDING, {}).values())
    if not events:
        return
    for payload in _payloads(events):
        session.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))
    session.info.pop(_PENDING, None)


def _after_commit(session: Session) -> None:
    events = list(session.info.pop(_PENDING, {}).values())
    if events:
        from resolvers.live.hub import local_hub

        local_hub().deliver(events)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _payloads(events: list[LiveEvent]) -> list[str]:
    """The events as JSON arrays, each under PostgreSQL's payload limit."""
    out: list[str] = []
    batch: list[str] = []
    size = 2
    for one in events:
        text = json.dumps(one.to_json(), separators=(",", ":"))
        if batch and size + len(text) + 1 > _NOTIFY_BYTES:
            out.append("[" + ",".join(batch) + "]")
            batch, size = [], 2
        batch.append(text)
        size += len(text) + 1
    if batch:
        out.append("[" + ",".join(batch) + "]")
    return out


def parse_payload(payload: str) -> list[LiveEvent]:
    """A notification's events; anything malformed is dropped with a warning (never raised into
    the listener)."""
    try:
        values = json.loads(payload)
        if not isinstance(values, list):
            raise TypeError("not a list of events")
        return [LiveEvent.from_json(value) for value in values]
    except (ValueError, KeyError, TypeError, AttributeError):  # AttributeError: an item not an object
        log.warning("dropped a malformed live notification (%d bytes)", len(payload))
        return []


def install() -> None:
    """Hook the ORM session events once per process (idempotent)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
