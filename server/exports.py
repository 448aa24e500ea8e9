"""GET /exports/marketing-contacts.csv: the contacts who consented to marketing e-mail, as CSV.

Who: the same Bearer token as /graphql. A refused token answers the API's one 401 (server.app
token_refused); no token at all, 401 UNAUTHENTICATED with a bare `Bearer` challenge (RFC 6750:
no credentials, no error code); a caller the policy table (auth.policy_table.EXPORTS) does not let
take it, 403 FORBIDDEN: ADMIN and MANAGER may, and a partner app holding `marketing:read`.

What: the contacts with `marketing_consent` true, of a client, within the export's row scope
(auth.scopes.marketing_contact_scope: every client for staff, the app's clients for a partner
limited to some), ordered by contact id. Columns: those of the export the caller may read
(auth.exports), header row first; a partner without internal:read gets no status, category, tier
or consent date and source.

Filters (query parameters, each repeatable; values of one parameter are alternatives, parameters
combine): `status` (a client status id or name, any case), `category` (ACTIVE, ON_HOLD, CHURNED),
`tier` (STANDARD, SILVER, GOLD, PLATINUM). A filter by a field the caller may not read is refused
403 FORBIDDEN (it would be an oracle for the hidden value); an unknown parameter, an empty, unknown,
too long or too repeated value 400 BAD_USER_INPUT with `field` and `reason`: nothing is streamed.

How: written by defusedcsv (a cell that a spreadsheet would read as a formula is prefixed with
`'`); this module also prefixes a text cell starting with `-`, `+`, a tab or a carriage return
that defusedcsv leaves alone because it reads as a plain number (`-2`): no text column here is a
number. Streamed: one statement per BATCH_SIZE contacts, keyset-paginated on the contact id, each
on a connection taken for that batch only (a slow download holds no pooled connection between
batches), so memory and statements grow with batches, never with the export. The first batch is
read before the response starts, so a database that is away answers the API's 503; one that goes
away mid-download ends the response without its last chunk (the client sees a broken transfer,
never a short file that looks complete).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from defusedcsv import csv  # type: ignore[import-untyped]  # no stubs; the stdlib csv API
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import ColumnElement
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from strawberry import relay

from auth.exports import ExportDecision, decide_export
from auth.principal import Principal
from auth.scopes import marketing_contact_scope
from models import Client, ClientStatus, Contact
from models.enums import ClientCategory, ClientTier
from resolvers.db import RequestDb
from resolvers.errors import DatabaseUnavailable
from schema.ids import row_id
from server.bearer import Identify, RefuseToken, signed_in_caller
from server.middleware import json_error

log = logging.getLogger("agency.exports")

EXPORT = "marketing-contacts"
#: Contacts read per statement (and written per chunk).
BATCH_SIZE = 500
#: At most this many values per filter parameter, each at most MAX_VALUE_LENGTH characters.
MAX_VALUES = 50
MAX_VALUE_LENGTH = 100
MEDIA_TYPE = "text/csv; charset=utf-8"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _enum(value: Any) -> str:
    return "" if value is None else str(value.value if isinstance(value, Enum) else value)


def _time(value: Any) -> str:
    return "" if value is None else value.astimezone(dt.UTC).isoformat()


def _global_id(type_name: str) -> Callable[[Any], str]:
    return lambda value: str(relay.GlobalID(type_name, str(value)))


# Each column: the SQL it reads and how its value becomes a cell.
_COLUMNS: dict[str, tuple[Any, Callable[[Any], str]]] = {
    "contact_id": (col(Contact.id), _global_id("Contact")),
    "email": (col(Contact.email), _text),
    "full_name": (col(Contact.full_name), _text),
    "title": (col(Contact.title), _text),
    "client_id": (col(Client.id), _global_id("Client")),
    "client_name": (col(Client.name), _text),
    "client_status": (col(ClientStatus.name), _text),
    "client_category": (col(ClientStatus.category), _enum),
    "client_tier": (col(Client.tier), _enum),
    "consent_at": (col(Contact.marketing_consent_at), _time),
    "consent_source": (col(Contact.marketing_consent_source), _text),
}

# What a spreadsheet may take for a formula or a command, beyond what defusedcsv prefixes.
_RISKY_START = ("=", "+", "-", "@", "|", "%", "\t", "\r")


def neutralised(cell: str) -> str:
    """A text cell a spreadsheet shows as text: prefixed with `'` when it starts like a formula."""
    return "'" + cell if cell.startswith(_RISKY_START) else cell


class ExportBrokenOff(Exception):
    """The database went away after the response started: the download ends without its last chunk."""

    def __init__(self, written: int) -> None:
        super().__init__(f"The marketing export was broken off after {written} contacts.")


class BadParameter(Exception):
    """A query parameter the export refuses: 400 BAD_USER_INPUT, or 403 for a hidden field."""

    def __init__(self, field: str, reason: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.message = message
        self.status = status

    def response(self) -> Response:
        if self.status == 403:
            return json_error(403, self.message, "FORBIDDEN", field=self.field)
        return json_error(400, self.message, "BAD_USER_INPUT", field=self.field, reason=self.reason)


_FILTER_LABELS = {"status": "client status", "category": "client category", "tier": "client tier"}


def _values(request: Request, decision: ExportDecision) -> dict[str, list[str]]:
    """The filter parameters given, checked for shape and for the caller's right to use them."""
    params = request.query_params
    given: dict[str, list[str]] = {}
    for name in params:
        if name not in _FILTER_LABELS:
            raise BadParameter(
                name[:MAX_VALUE_LENGTH],
                "UNKNOWN_PARAMETER",
                f"Unknown parameter {name[:MAX_VALUE_LENGTH]!r}: the export takes status, category and tier.",
            )
    for name in _FILTER_LABELS:
        values = params.getlist(name)
        if not values:
            continue
        if name not in decision.filters:
            raise BadParameter(
                name, "FORBIDDEN", f"You may not filter the marketing export by {_FILTER_LABELS[name]}.", status=403
            )
        if len(values) > MAX_VALUES:
            raise BadParameter(name, "TOO_MANY_VALUES", f"At most {MAX_VALUES} values of {name}.")
        cleaned = []
        for value in values:
            if "\x00" in value:
                raise BadParameter(name, "NUL_CHARACTER", f"A value of {name} holds a NUL character.")
            if len(value) > MAX_VALUE_LENGTH:
                raise BadParameter(
                    name, "TOO_LONG", f"A value of {name} may have at most {MAX_VALUE_LENGTH} characters."
                )
            if not value.strip():
                raise BadParameter(name, "REQUIRED", f"A value of {name} is empty.")
            cleaned.append(value.strip())
        given[name] = cleaned
    return given


def _enum_values(name: str, values: Sequence[str], kind: type[Enum], reason: str) -> list[Any]:
    members = {member.value: member for member in kind}
    out = []
    for value in values:
        member = members.get(value.upper())
        if member is None:
            raise BadParameter(name, reason, f"Unknown {_FILTER_LABELS[name]} {value!r}: one of {', '.join(members)}.")
        out.append(member)
    return out


async def _status_ids(session_factory: async_sessionmaker[AsyncSession], values: Sequence[str]) -> list[int]:
    """Status ids for ids or names (any case); an unknown one is UNKNOWN_STATUS."""
    rows = await _read(session_factory, sa.select(col(ClientStatus.id), col(ClientStatus.name)))
    by_id = {row[0]: row[0] for row in rows}
    by_name = {str(row[1]).casefold(): row[0] for row in rows}
    ids = []
    for value in values:
        found = by_id.get(row_id(value)) if value.isdigit() else by_name.get(value.casefold())
        if found is None:
            raise BadParameter("status", "UNKNOWN_STATUS", f"Unknown client status {value!r}.")
        ids.append(found)
    return ids


async def _read(session_factory: async_sessionmaker[AsyncSession], statement: sa.Select) -> list[tuple]:
    """One statement on a connection taken for it alone."""
    db = RequestDb(session_factory)
    try:
        _, rows = await db.core_rows(statement)
    finally:
        await db.close()
    return rows


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


class MarketingExport:
    """The endpoint. `identify` is the API's own (bearer token -> Principal, as for /graphql);
    `refuse_token` its 401 for a refused token."""

    def __init__(
        self,
        *,
        identify: Identify,
        refuse_token: RefuseToken,
        session_factory: async_sessionmaker[AsyncSession],
    ) -> None:
        self.identify = identify
        self.refuse_token = refuse_token
        self.session_factory = session_factory

    async def respond(self, request: Request) -> Response:
        principal = await signed_in_caller(
            request,
            identify=self.identify,
            refuse_token=self.refuse_token,
            session_factory=self.session_factory,
            what="The marketing export",
        )
        if isinstance(principal, Response):
            return principal
        decision = decide_export(EXPORT, principal.policy_key)
        if not decision.allowed:
            log.info("marketing export refused: %s", decision.reason)
            return json_error(403, "You may not take the marketing export.", "FORBIDDEN")
        try:
            where = await self._where(request, decision, principal)
        except BadParameter as error:
            return error.response()
        headers = [header for header, _ in decision.columns]
        statement = sa.select(col(Contact.id), *(_COLUMNS[h][0] for h in headers))
        statement = (
            statement.select_from(Contact)
            .join(Client, col(Client.id) == col(Contact.client_id))
            .join(ClientStatus, col(ClientStatus.id) == col(Client.status_id))
            .where(*where)
            .order_by(col(Contact.id))
            .limit(BATCH_SIZE)
        )
        first = await _read(self.session_factory, statement)  # before the response starts: 503 when away
        today = dt.datetime.now(dt.UTC).date().isoformat()
        return StreamingResponse(
            self._stream(headers, statement, first),
            media_type=MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="marketing-contacts-{today}.csv"',
                "Cache-Control": "private, no-store",
                "Vary": "Authorization",
            },
        )

    async def _where(
        self, request: Request, decision: ExportDecision, principal: Principal
    ) -> list[ColumnElement[bool]]:
        given = _values(request, decision)
        where: list[ColumnElement[bool]] = [
            marketing_contact_scope(principal),
            col(Contact.marketing_consent).is_(True),
        ]
        if "category" in given:
            categories = _enum_values("category", given["category"], ClientCategory, "UNKNOWN_CATEGORY")
            where.append(col(ClientStatus.category).in_(categories))
        if "tier" in given:
            where.append(col(Client.tier).in_(_enum_values("tier", given["tier"], ClientTier, "UNKNOWN_TIER")))
        if "status" in given:
            where.append(col(Client.status_id).in_(await _status_ids(self.session_factory, given["status"])))
        return where

    async def _stream(self, headers: list[str], statement: sa.Select, rows: list[tuple]) -> AsyncIterator[bytes]:
        formats = [_COLUMNS[h][1] for h in headers]
        yield _csv([headers])
        written = 0
        while rows:
            yield _csv([[neutralised(fmt(value)) for fmt, value in zip(formats, row[1:], strict=True)] for row in rows])
            written += len(rows)
            if len(rows) < BATCH_SIZE:
                break
            try:
                rows = await _read(self.session_factory, statement.where(col(Contact.id) > rows[-1][0]))
            except DatabaseUnavailable as error:
                # Not DatabaseUnavailable, whose handler would try to answer a 503 on a response
                # already under way: the server drops the connection, the transfer is incomplete.
                log.warning("marketing export broken off after %d contacts: the database went away", written)
                raise ExportBrokenOff(written) from error
        log.info("marketing export: %d contacts", written)
