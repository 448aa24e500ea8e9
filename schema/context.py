"""The per-request context: the Principal, the database handle and the DataLoaders."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from auth.principal import Principal
from auth.tokens import TokenService
from resolvers.db import RequestDb
from resolvers.loaders import Loaders


@dataclass(frozen=True)
class Services:
    """What the app built once at start-up and every request shares."""

    tokens: TokenService
    refresh_ttl: dt.timedelta
    view_as_ttl: dt.timedelta = dt.timedelta(minutes=15)
    portal_accept_url: str = "http://127.0.0.1:8000/portal/accept"
    debug: bool = False
    # Query root fields the compiler can express answered by one SQL statement each (settings.compiled_reads).
    compiled_reads: bool = False


@dataclass
class Context:
    principal: Principal
    db: RequestDb
    loaders: Loaders
    services: Services
    # Why the bearer token was refused, when it was: the UNAUTHENTICATED message.
    auth_error: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    ip_address: str | None = None
    user_agent: str | None = None
    # A WebSocket (server.live): its connection_init payload, and the Authorization it carried,
    # which the socket's re-checks verify again.
    transport: str = "http"
    connection_params: dict | None = None
    authorization: str | None = None
    # Set by the HTTP view only, from Services.compiled_reads: a compiled query root field answers
    # with JSON text (orjson.Fragment), which only the view's orjson encoder may receive.
    compiled_reads: bool = False
    # The operation's root fields answered by kept compiled plans, (response key, statement) in
    # order (schema.enforcement); None once any root field was answered otherwise.
    compiled_roots: list[tuple[str, Any]] | None = field(default_factory=list)


Info = _Info[Context, None]


@dataclass(frozen=True, slots=True)
class EventPayload:
    """One subscription event on its way to execution: the value the subscription field answers
    and the context its selection runs with (a database handle and loaders of its own, so no
    event reads what an earlier one cached). schema.enforcement unwraps it for each event."""

    value: object
    context: Context
