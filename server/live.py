"""GraphQL subscriptions over WebSocket: graphql-transport-ws on /graphql (the legacy graphql-ws
protocol is off).

- **Who**: the socket is anonymous until `connection_init`, whose payload carries the same Bearer
  token as HTTP (`{"Authorization": "Bearer <token>"}`). No token or a refused one: closed with
  4403 Forbidden; a `subscribe` before the acknowledgement: 4401 Unauthorized; a second
  `connection_init`: 4429 (the protocol's code). The identity is fixed at the acknowledgement.
- **For how long**: every RECHECK_SECONDS the socket's token is checked again exactly as an HTTP
  request's would be (signature, expiry, the user still active and unchanged, the partner app not
  revoked). An expired token closes the socket with 4401, any other refusal (access revoked,
  user deactivated or changed) with 4403: within RECHECK_SECONDS of the change, never the token's
  whole lifetime.
- **What**: subscriptions only; a query or mutation sent over the socket is answered with an
  error (send them over HTTP). At most MAX_SUBSCRIPTIONS operations per socket.
- **Logs**: each socket's open (user, role), each subscription (operation name and root field)
  and its close (code, how long, how many events it carried); the open sockets and subscriptions
  of the worker are counted in each of those lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from resolvers.db import RequestDb
from resolvers.live.hub import local_hub
from resolvers.loaders import Loaders
from schema.context import Context
from server.principal import TokenRefused, principal_for

log = logging.getLogger("agency.live")

RECHECK_SECONDS = 5.0
"""How often an open socket's token and user are checked again."""

MAX_SUBSCRIPTIONS = 20
"""Operations one socket may run at once."""

CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
"""How long a new socket may wait before its connection_init (then 4408)."""


NOT_A_SUBSCRIPTION = "This socket runs subscriptions only: send queries and mutations over HTTP (POST /graphql)."


class _Sockets:
    open = 0


def _authorization(params: dict[str, Any]) -> str | None:
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            return value
    headers = params.get("headers")
    if isinstance(headers, dict):
        return _authorization(headers)
    return None


async def authenticate(context: Context) -> None:
    """The socket's caller, from its connection_init payload (ConnectionRejectionError: 4403)."""
    params = context.connection_params or {}
    authorization = _authorization(params)
    if not authorization:
        raise ConnectionRejectionError({"message": "Send the Bearer token in connection_init: Authorization."})
    db = context.db.sibling()
    try:
        principal = await principal_for(authorization, context.services.tokens, db)
    except TokenRefused as refused:
        log.info("websocket refused at connection_init: %s", refused.reason)
        raise ConnectionRejectionError({"message": str(refused)}) from None
    finally:
        await db.close()
    if principal.role is None:
        raise ConnectionRejectionError({"message": "Send the Bearer token in connection_init: Authorization."})
    context.principal = principal
    context.loaders = Loaders(context.db, principal)
    context.authorization = authorization


def _operation_summary(query: str, operation_name: str | None) -> str:
    try:
        document = parse(query, no_location=True, max_tokens=2000, allow_empty_selection_sets=False)
    except (GraphQLSyntaxError, RecursionError):
        return "(unparsable)"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            fields = [s.name.value for s in definition.selection_set.selections if hasattr(s, "name")]
            name = definition.name.value if definition.name else "(anonymous)"
            return f"{definition.operation.value} {name} {{{', '.join(fields)}}}"
    return "(no operation)"


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Messages as text frames, as graphql-transport-ws requires (the view's JSON encoder makes
    bytes, which Strawberry's adapter would send as binary frames that clients refuse)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            encoded = self.view.encode_json(message)
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class AgencyTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, plus the re-check of the socket's caller and
    the logs."""

    _watch: asyncio.Task[None] | None = None
    _opened: float = 0.0
    _counted = False

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._watch is None:
            context: Context = self.context
            self._opened = time.monotonic()
            self._counted = True
            _Sockets.open += 1
            self._watch = asyncio.create_task(self._recheck(), name="websocket-recheck")
            principal = context.principal
            log.info(
                "websocket open: user %s (%s); %d open sockets, %d subscriptions in this worker",
                principal.user_id if principal.user_id is not None else f"app {principal.partner_app_id}",
                principal.role.value if principal.role else "-",
                _Sockets.open,
                local_hub().subscriptions,
            )

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and isinstance(message.get("payload"), dict):
            payload = message["payload"]
            query = payload.get("query")
            if isinstance(query, str):
                summary = _operation_summary(query, payload.get("operationName"))
                log.info("websocket subscribe %s: %s", str(message.get("id"))[:40], summary)
                if summary.startswith(("query ", "mutation ")) and message.get("id") not in self.operations:
                    # Refused here, in words: the schema's own refusal would reach the caller as
                    # an unexpected error (and be logged as one).
                    await self.send_message(
                        {
                            "id": message["id"],
                            "type": "error",
                            "payload": [{"message": NOT_A_SUBSCRIPTION, "extensions": {"code": "BAD_REQUEST"}}],
                        }
                    )
                    return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await super().shutdown()
        if self._counted:
            self._counted = False
            _Sockets.open -= 1
            log.info(
                "websocket closed after %.0f s; %d open sockets, %d subscriptions in this worker",
                time.monotonic() - self._opened,
                _Sockets.open,
                local_hub().subscriptions,
            )

    async def _recheck(self) -> None:
        context: Context = self.context
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            db = RequestDb.sibling(context.db)
            try:
                principal = await principal_for(context.authorization, context.services.tokens, db)
            except TokenRefused as refused:
                expired = "expired" in refused.reason
                log.info("websocket closed: %s", refused.reason)
                await self.websocket.close(
                    code=4401 if expired else 4403,
                    reason="Unauthorized: the access token expired" if expired else "Forbidden: access ended",
                )
                return
            except Exception:  # the database away: check again later, keep the socket
                log.warning("websocket re-check failed; trying again in %s s", RECHECK_SECONDS, exc_info=True)
                continue
            finally:
                await db.close()
            if principal.policy_key != context.principal.policy_key:
                log.info("websocket closed: the caller's access changed")
                await self.websocket.close(code=4403, reason="Forbidden: access changed")
                return
