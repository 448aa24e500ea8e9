"""The Starlette application: /graphql (GraphiQL in a browser), the caller's SDL, the partner
token endpoint /oauth/token, /healthz, /readyz and GraphiQL's files, behind the guards of
server/middleware.py."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import gc
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, overload

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from auth.principal import ANONYMOUS, Principal
from auth.throttle import ThrottleRules
from auth.throttle import configure as configure_throttle
from auth.tokens import TokenService
from models.db import database_ready, make_engine, make_session_factory
from resolvers.db import RequestDb
from resolvers.errors import DatabaseUnavailable
from resolvers.live import events as live_events
from resolvers.live.hub import PostgresListener, local_hub
from resolvers.loaders import Loaders
from resolvers.outbox import LogSender, drain_outbox
from resolvers.portal.access import record_view_as_use
from resolvers.work import file_store
from schema.build import MAX_TOKENS, AgencySchema, build_schema
from schema.context import Context, Services
from schema.limits import configure as configure_limits
from schema.limits import documents
from schema.views import sdl_for
from server.compiled import answer_compiled, remember_compiled
from server.exports import MarketingExport
from server.files import DeliverableDownload
from server.graphiql import STATIC_DIR, graphiql_csp, graphiql_html
from server.invoice_pdf import InvoicePdf
from server.jobs import run_jobs_forever
from server.live import (
    CONNECTION_INIT_TIMEOUT,
    MAX_SUBSCRIPTIONS,
    AgencyTransportWS,
    TextWebSocketAdapter,
    authenticate,
)
from server.middleware import BodyLimit, Cors, LastResort, SecurityHeaders, error_payload, json_error
from server.oauth import TokenEndpoint
from server.portal_page import PortalAcceptPage
from server.principal import (
    INVALID_TOKEN_MESSAGE,
    PrincipalStale,
    TokenRefused,
    deferred_principal,
    principal_for,
)
from server.settings import Settings
from server.webhooks import configure_webhooks, deliver_webhooks_forever

log = logging.getLogger("agency.http")


def _json_default(value: Any) -> Any:
    return str(value)


class RequestError(HTTPException):
    """A request the schema does not run, with the `extensions.code` it answers."""

    def __init__(self, status_code: int, reason: str, code: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.headers = dict(headers or {})


def token_refused(error: TokenRefused) -> Response:
    """401 for every refused Authorization header, one body whatever the reason (RFC 6750: the
    `invalid_token` challenge for a Bearer token, a bare `Bearer` challenge for another scheme)."""
    log.info("access token refused: %s", error.reason)
    challenge = 'Bearer error="invalid_token"' if error.bearer else "Bearer"
    return json_error(
        401,
        INVALID_TOKEN_MESSAGE,
        "UNAUTHENTICATED",
        headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"},
    )


async def home(_: Request) -> Response:
    """GET /: the playground (GraphiQL at /graphql)."""
    return RedirectResponse("/graphql", status_code=307)


def database_away(error: DatabaseUnavailable) -> Response:
    """503 while the database cannot be reached: come back in `retry_after` seconds."""
    return json_error(
        503,
        str(error),
        "SERVICE_UNAVAILABLE",
        headers={"Retry-After": str(error.retry_after)},
        retryAfter=error.retry_after,
    )


_JSON_WHITESPACE = b" \t\r\n"
# A \uD800-\uDFFF escape: the only way JSON text that is valid UTF-8 can decode to a string that
# is not (a lone surrogate); a pair (an emoji from an ASCII-only encoder) decodes to one character.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _has_lone_surrogate(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _operation_count(query: str) -> int:
    """How many operations a document holds; 0 when it does not parse (the schema reports that).
    Parsed through the schema's bounded document cache, which then has it for the execution."""
    try:
        document = documents.parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return 0
    return sum(isinstance(definition, OperationDefinitionNode) for definition in document.definitions)


#: At shutdown, how long a scheduled-jobs pass under way may run on before it is cancelled.
JOBS_STOP_GRACE_SECONDS = 10.0

#: A multipart request (a file upload) must carry one of these headers, with any value: a browser
#: sends none cross-site without a CORS preflight, so a plain HTML form on another site cannot post.
PREFLIGHT_HEADERS = ("graphql-preflight", "apollo-require-preflight", "x-apollo-operation-name")


class AgencyGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context: one Principal, database handle and loader set per request.

    A request the schema never gets to run (no query, a body that is not JSON, a mutation by GET,
    an operationName the document lacks, several operations and no operationName) answers JSON
    like every other error, `{"errors": [{"message", "extensions": {"code"}}]}`, with
    Strawberry's status (400), not Strawberry's plain text.

    A WebSocket on /graphql speaks graphql-transport-ws only and runs subscriptions only
    (server.live): its caller is the token of its connection_init, not of the handshake."""

    schema: AgencySchema  # what __init__ hands Strawberry (it stores it as a BaseSchema)

    def __init__(self, *, services: Services, session_factory: Any, **kwargs: Any) -> None:
        super().__init__(
            build_schema(),
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
            **kwargs,
        )
        self.services = services
        self.session_factory = session_factory
        self._ide_html = graphiql_html()
        self._ide_csp = graphiql_csp()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dbs: list[RequestDb] = []
        scope.setdefault("state", {})["request_dbs"] = dbs
        try:
            await super().__call__(scope, receive, send)
        finally:
            for db in dbs:
                await db.close()

    async def identify(self, request: Request | WebSocket, db: RequestDb) -> Principal:
        """The caller behind the request's bearer token; every use of a view-as token is written
        to the activity log with its manager. Raises TokenRefused (answered 401) and, from the
        look-up, DatabaseUnavailable (answered 503)."""
        principal = await principal_for(request.headers.get("authorization"), self.services.tokens, db)
        if principal.read_only:
            async with db.transaction() as session:
                record_view_as_use(session, principal, request.method if isinstance(request, Request) else None)
        return principal

    graphql_transport_ws_handler_class = AgencyTransportWS
    websocket_adapter_class = TextWebSocketAdapter  # type: ignore[assignment]

    async def on_ws_connect(self, context: Context) -> None:
        """A socket's connection_init: its caller from the payload's Bearer token (else 4403)."""
        await authenticate(context)
        if context.principal.read_only:
            async with context.db.transaction() as session:
                record_view_as_use(session, context.principal, None)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        db = RequestDb(self.session_factory)
        request.scope["state"]["request_dbs"].append(db)
        if isinstance(request, WebSocket):
            client = request.client
            return Context(
                principal=ANONYMOUS,
                db=db,
                loaders=Loaders(db, ANONYMOUS),
                services=self.services,
                ip_address=client.host if client else None,
                user_agent=request.headers.get("user-agent"),
                transport="websocket",
            )
        # A user's token is checked against its row in the request's first statement (on
        # PostgreSQL, inside its first compiled read), not in a round trip of its own first.
        deferred = (
            None
            if request.scope["state"].get("check_caller_first")
            else deferred_principal(request.headers.get("authorization"), self.services.tokens)
        )
        if deferred is not None:
            db.defer_check(deferred)
            principal = deferred.principal
        else:
            principal = await self.identify(request, db)
        client = request.client
        return Context(
            principal=principal,
            db=db,
            loaders=Loaders(db, principal),
            services=self.services,
            ip_address=client.host if client else None,
            user_agent=request.headers.get("user-agent"),
            compiled_reads=self.services.compiled_reads,
        )

    @overload
    async def run(self, request: Request, context: Context = UNSET, root_value: None = UNSET) -> Response: ...
    @overload
    async def run(self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET) -> WebSocket: ...
    async def run(
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        answer = await self._answer(request, context, root_value)
        if isinstance(request, WebSocket):
            return answer
        # No answer leaves before its caller is checked (get_context may have put the check off):
        # refused, the answer is dropped for the 401 any refused token gets; made under a cost
        # setting the client no longer has, the request is answered again, the caller checked first.
        dbs = request.scope["state"]["request_dbs"]
        try:
            for db in dbs:
                await db.settle()
        except TokenRefused as error:
            return token_refused(error)
        except DatabaseUnavailable as error:
            return database_away(error)
        except PrincipalStale:
            for db in dbs:
                await db.close()
            dbs.clear()
            request.scope["state"]["check_caller_first"] = True
            return await self._answer(request, context, root_value)
        return answer

    async def _answer(
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)
        except TokenRefused as error:
            return token_refused(error)
        except DatabaseUnavailable as error:
            return database_away(error)
        except HTTPException as error:
            code = (
                error.code
                if isinstance(error, RequestError)
                else (
                    "OPERATION_RESOLUTION_FAILURE"
                    if isinstance(error.__cause__, CannotGetOperationTypeError)
                    else "BAD_REQUEST"
                )
            )
            headers = error.headers if isinstance(error, RequestError) else None
            reason = error.reason
            cause = error.__cause__
            if isinstance(cause, InvalidOperationTypeError) and cause.operation_type is OperationType.SUBSCRIPTION:
                reason = "Subscriptions run over a WebSocket on this path (graphql-transport-ws), not over HTTP."
            return json_error(error.status_code, reason, code, headers=headers)

    def parse_json(self, data: str | bytes) -> Any:
        """JSON as RFC 8259 has it, or a 400 (never an exception Strawberry does not expect, which
        was a plain-text 500): UTF-8 only, no NaN or Infinity, no number that overflows a float,
        no string that is not Unicode (a lone surrogate escape), nesting as deep as the parser
        goes. A UTF-8 byte order mark is ignored (RFC 8259 allows that)."""
        if isinstance(data, bytes):
            try:
                text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError(400, "The request body is not valid UTF-8.", "BAD_REQUEST") from None
        else:
            text = data
        try:
            value = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise RequestError(400, "Unable to parse request body as JSON", "BAD_REQUEST") from None
        if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
            raise RequestError(400, "The request body holds a string that is not Unicode text.", "BAD_REQUEST")
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A JSON body must be an object (an array is a batch, refused by Strawberry as before):
        `null`, a number or a string is a 400 here, not an AttributeError in Strawberry."""
        content_type, _ = parse_content_type(request.content_type or "")
        if content_type == "multipart/form-data" and not any(request.headers.get(h) for h in PREFLIGHT_HEADERS):
            raise RequestError(
                400,
                "A multipart request must carry the header `GraphQL-Preflight: 1` (CSRF protection).",
                "PREFLIGHT_REQUIRED",
            )
        if request.method == "POST" and "application/json" in content_type:
            body = await request.get_body()  # Starlette keeps it: Strawberry's read below is free
            if body.removeprefix(codecs.BOM_UTF8).lstrip(_JSON_WHITESPACE)[:1] not in (b"{", b"["):
                self.parse_json(body)  # not JSON at all: that is the error to report
                raise RequestError(
                    400, 'The request body must be a JSON object: {"query": "...", "variables": {...}}.', "BAD_REQUEST"
                )
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise RequestError(
                400, "The GraphQL operation's `operationName` must be a string or null, if provided.", "BAD_REQUEST"
            )
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Strawberry runs the first operation when none is named; the GraphQL spec asks for an error.
        if request_data.operation_name is None and request_data.query and _operation_count(request_data.query) > 1:
            raise RequestError(
                400,
                "Must provide operation name if query contains multiple operations.",
                "OPERATION_RESOLUTION_FAILURE",
            )
        answered = await answer_compiled(context, request_data)
        if answered is not None:
            return answered
        result = await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)
        remember_compiled(context, request_data, result)
        # A resolver found the database away (process_errors typed it SERVICE_UNAVAILABLE): the
        # whole answer is a 503 the client may retry, whatever else resolved.
        away = [e.original_error for e in result.errors or () if isinstance(e.original_error, DatabaseUnavailable)]
        if away:
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(max(error.retry_after for error in away))
        return result

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html, headers={"Content-Security-Policy": self._ide_csp})

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, default=_json_default)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _http_error(_: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such path, a method the route does not take) as JSON."""
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST" if error.status_code < 500 else "INTERNAL_SERVER_ERROR")
    return json_error(error.status_code, error.detail, code, headers=error.headers)


async def _database_unavailable(_: Request, error: Exception) -> Response:
    """The database away under any route that does not answer it itself."""
    assert isinstance(error, DatabaseUnavailable)
    return database_away(error)


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app. The engine is made here (or handed in by tests), never at import."""
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    configure_limits(max_query_cost=settings.max_query_cost)
    configure_throttle(
        ThrottleRules(
            login_per_account=settings.sign_in_limit_per_account,
            login_per_address=settings.sign_in_limit_per_address,
        )
    )
    configure_webhooks(settings)
    services = Services(
        tokens=TokenService(
            secret=settings.signing_key(),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            access_ttl=settings.access_ttl,
            partner_ttl=settings.partner_token_ttl,
        ),
        refresh_ttl=settings.refresh_ttl,
        view_as_ttl=settings.view_as_ttl,
        portal_accept_url=settings.portal_accept_url or "http://127.0.0.1:8000/portal/accept",
        debug=settings.debug,
        compiled_reads=settings.compiled_reads,
    )
    graphql = AgencyGraphQL(
        services=services,
        session_factory=make_session_factory(engine),
        multipart_uploads_enabled=True,
        # A page on another origin may open a socket only where CORS lets it read responses.
        allowed_origins=list(settings.cors_origins),
    )
    live_events.install()
    file_store.configure(
        store=file_store.LocalFileStore(settings.files_path), max_upload_bytes=settings.max_upload_bytes
    )

    async def own_schema(request: Request) -> Response:
        """The caller's own SDL (same Bearer token as /graphql): what codegen and IDE plugins point at.
        No token: the anonymous view. A refused token: the same 401 as /graphql, never a silently
        smaller schema; the database away: 503."""
        db = RequestDb(session_factory)
        try:
            principal = await graphql.identify(request, db)
        except TokenRefused as error:
            return token_refused(error)
        finally:
            await db.close()
        sdl = sdl_for(graphql.schema._schema, principal.policy_key)
        return PlainTextResponse(sdl, headers={"Cache-Control": "private, no-store", "Vary": "Authorization"})

    async def healthz(_: Request) -> JSONResponse:
        """Liveness: the process answers (whatever the database does)."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        """Readiness: the database answers a query, and on PostgreSQL this worker's live-event
        listener is listening. 503 with Retry-After while not, so a load balancer sends traffic
        elsewhere until both are back."""
        if await database_ready(engine) and local_hub().ready:
            return JSONResponse({"ready": True})
        away = DatabaseUnavailable()
        return JSONResponse(
            {"ready": False, **error_payload(str(away), "SERVICE_UNAVAILABLE", retryAfter=away.retry_after)},
            status_code=503,
            headers={"Retry-After": str(away.retry_after)},
        )

    session_factory = make_session_factory(engine)
    token_endpoint = TokenEndpoint(tokens=services.tokens, session_factory=session_factory)
    marketing_export = MarketingExport(
        identify=graphql.identify, refuse_token=token_refused, session_factory=session_factory
    )
    deliverable_download = DeliverableDownload(tokens=services.tokens, session_factory=session_factory)
    invoice_pdf = InvoicePdf(
        identify=graphql.identify,
        refuse_token=token_refused,
        session_factory=session_factory,
        agency=settings.agency_name,
        currency=settings.currency,
    )

    async def send_outbox_forever() -> None:
        sender = LogSender()
        while True:
            try:
                await drain_outbox(session_factory, sender)
            except Exception:
                logging.getLogger("agency.outbox").exception("draining the outbox failed")
            await asyncio.sleep(settings.outbox_interval_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict]:
        # Start-up objects live for the whole process: keep the collector off them, and collect
        # the young generation less often (measured: removes a 2x tail on large lists).
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        outbox = asyncio.create_task(send_outbox_forever()) if settings.outbox_interval_seconds > 0 else None
        listener = (
            PostgresListener(engine.url.render_as_string(hide_password=False), local_hub())
            if engine.dialect.name == "postgresql"
            else None
        )
        if listener is not None:
            listener.start()
        webhook_worker = (
            asyncio.create_task(deliver_webhooks_forever(settings, session_factory, graphql.schema, services))
            if settings.webhook_interval_seconds > 0
            else None
        )
        stop_jobs = asyncio.Event()
        jobs = (
            asyncio.create_task(run_jobs_forever(settings, session_factory, stop_jobs))
            if settings.jobs_interval_seconds > 0
            else None
        )
        try:
            yield {"engine": engine}
        finally:
            if listener is not None:
                await listener.stop()
            if jobs is not None:
                # A pass under way may finish (bounded); one that takes longer is cancelled.
                stop_jobs.set()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(jobs, JOBS_STOP_GRACE_SECONDS)
            if outbox is not None:
                outbox.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await outbox
            if webhook_worker is not None:
                webhook_worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await webhook_worker
            if owns_engine:
                await engine.dispose()

    # Outermost first: every response gets the security headers, the 500 of the last resort
    # included; CORS headers go on refusals too (a web front end can read why); the body limit
    # runs before any route reads a byte or touches the database.
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(LastResort, debug=settings.debug),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                Cors,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "GraphQL-Preflight"],
                max_age=600,
            )
        )
    middleware.append(
        Middleware(
            BodyLimit,
            max_bytes=settings.max_body_bytes,
            multipart_max_bytes=settings.max_upload_bytes + settings.max_body_bytes,
        )
    )

    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/graphql/schema.graphql", own_schema, methods=["GET"]),
            Route("/oauth/token", token_endpoint.respond, methods=["POST"]),
            Route("/exports/marketing-contacts.csv", marketing_export.respond, methods=["GET"]),
            Route("/invoices/{id}/pdf", invoice_pdf.respond, methods=["GET"]),
            Route("/files/deliverables/{id}", deliverable_download.respond, methods=["GET"]),
            Route("/portal/accept", PortalAcceptPage(session_factory).respond, methods=["GET", "POST"]),
            Route("/", home, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=middleware,
        exception_handlers={
            StarletteHTTPException: _http_error,
            DatabaseUnavailable: _database_unavailable,
        },
        lifespan=lifespan,
    )
    app.state.graphql = graphql
    app.state.engine = engine
    return app
