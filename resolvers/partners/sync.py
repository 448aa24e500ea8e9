"""The sync feed: what changed in clients, contacts, invoices and payments since a cursor, for an
accounting or CRM integration that must pull every change once, while the agency goes on writing.

The feed reads the change log (models/sync.py, written by triggers in the writing transaction)
through resolvers.partners.change_log: settled events only, in (txid, id) order, after a
Position. The ordering guarantee: every change is listed after every change that committed
before it, and a change never appears behind a cursor the feed has handed out, so a client that
stores `endCursor` and asks again from it misses nothing and sees nothing twice. On PostgreSQL a
change shows once every transaction that started before it has ended (the oldest write still
running holds the feed back; nothing is skipped meanwhile).

Decisions (the brief left them open):
- Who reads it: ADMIN and MANAGER (everything), and a PARTNER with clients:read, contacts:read or
  invoices:read, each entity only with its own scope (CLIENT: clients:read, CONTACT:
  contacts:read, INVOICE and PAYMENT: invoices:read). Query.changes is INTERNAL in the policy
  table, like the other team-only roots: a portal user is refused (FORBIDDEN), a MEMBER (no
  money, and not who runs an integration) gets empty pages, a partner without one of the three
  scopes is refused by the scope table (`roots`).
- Rows: an event is listed when its record is visible to the caller now, under that entity's own
  row scope (auth.scopes.change_event_scope, composed into the one SQL statement; webhooks use the
  same). A deleted contact or payment (`contact.deleted`, `payment.deleted`) is listed when the
  caller works with the client the log recorded for it (every one for a caller who sees every such
  row). The earlier events of a record that no longer exists are not listed: its deletion is.
- Drafts: a caller who does not see draft invoices (a partner) never sees a draft's events, not
  even that it existed: an invoice's events before its `invoice.sent` are left out, and a draft
  (or a draft voided unsent) is outside the invoice row scope. From `invoice.sent` on, its events
  are listed.
- Visibility is decided when the feed is read, so a record that becomes visible later (an app
  granted another client) shows from its next change on; after a change of scopes or client
  limit, sync again from the start (`after: null`) for a full picture.
- The cursor is opaque: base64url of "v1:<txid>:<id>", the position after the last event listed.
  An empty page answers the position the caller is at (its `after`, or the start of the log), so
  it can resume from `endCursor` every time. A cursor this API did not write is INVALID_CURSOR.
- Pages: `first` 100 by default, at most 500 (INVALID_PAGE_SIZE otherwise).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from auth.principal import Principal
from auth.scopes import change_event_entities, change_event_scope
from models import ChangeEntity, ChangeEvent
from resolvers.db import RequestDb
from resolvers.errors import InputError
from resolvers.partners.change_log import START, Position, after, position_of, settled

DEFAULT_PAGE = 100
MAX_PAGE = 500
CURSOR_VERSION = "v1"
MAX_CURSOR_LENGTH = 200
_MAX_BIGINT = 2**63 - 1


# -- the cursor ----------------------------------------------------------------------------------


def encode_position(position: Position) -> str:
    text = f"{CURSOR_VERSION}:{position.txid}:{position.id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _bounded_int(text: str, lowest: int) -> int:
    if (
        not text
        or len(text) > 20
        or not (text.isascii() and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())))
    ):
        raise ValueError("not an integer")
    value = int(text)
    if not lowest <= value <= _MAX_BIGINT or str(value) != text:
        raise ValueError("out of range")
    return value


def decode_position(cursor: str) -> Position:
    """The Position a cursor of this feed holds; INVALID_CURSOR for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        version, txid, event_id = text.split(":")
        if version != CURSOR_VERSION:
            raise ValueError("another version")
        position = Position(_bounded_int(txid, START.txid), _bounded_int(event_id, START.id))
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise InputError("after", "INVALID_CURSOR", "The cursor is not one this API gave out.") from error
    return position


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise InputError("first", "INVALID_PAGE_SIZE", "first must not be negative.")
    if first > MAX_PAGE:
        raise InputError("first", "INVALID_PAGE_SIZE", f"first may be at most {MAX_PAGE}.")
    return first


# -- settled events ------------------------------------------------------------------------------


class _Settled(ColumnElement[bool]):
    """change_log.settled() for whichever database the statement runs on (known at compile time)."""

    type = sa.Boolean()
    inherit_cache = True


@compiles(_Settled)
def _compile_settled(element: _Settled, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(settled(compiler.dialect.name), **kw))


# -- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangePage:
    events: list[ChangeEvent]
    cursors: list[str]
    end_cursor: str
    has_next_page: bool
    has_previous_page: bool


async def read_changes(
    db: RequestDb,
    principal: Principal,
    *,
    after_cursor: str | None = None,
    first: int | None = None,
    entities: Iterable[ChangeEntity] | None = None,
) -> ChangePage:
    """One page of the feed: the settled events after `after_cursor` the caller may see, oldest
    first, in one SQL statement (the records themselves are loaded by the schema, batched)."""
    size = page_size(first)
    position = START if after_cursor is None else decode_position(after_cursor)
    wanted = change_event_entities(principal)
    if entities is not None:
        wanted &= frozenset(entities)
    events: list[ChangeEvent] = []
    if wanted and size:
        statement = (
            sa.select(ChangeEvent)
            .where(after(position), _Settled(), change_event_scope(principal, wanted))
            .order_by(col(ChangeEvent.txid), col(ChangeEvent.id))
            .limit(size + 1)
        )
        events = list(await db.scalars(statement))
    elif wanted:  # first: 0 asks whether there is more, nothing else
        probe = (
            sa.select(col(ChangeEvent.id))
            .where(after(position), _Settled(), change_event_scope(principal, wanted))
            .limit(1)
        )
        return ChangePage([], [], encode_position(position), bool(await db.scalars(probe)), position != START)
    has_next = len(events) > size
    events = events[:size]
    cursors = [encode_position(position_of(event)) for event in events]
    return ChangePage(
        events=events,
        cursors=cursors,
        end_cursor=cursors[-1] if cursors else encode_position(position),
        has_next_page=has_next,
        has_previous_page=position != START,
    )
