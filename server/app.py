"""The Starlette application: /graphql (GraphiQL in a browser), /healthz and GraphiQL's files."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any, overload

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode, parse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from auth.principal import Principal
from auth.tokens import TokenService
from models.db import make_engine, make_session_factory
from resolvers.db import RequestDb
from resolvers.loaders import Loaders
from resolvers.outbox import LogSender, drain_outbox
from resolvers.portal.access import record_view_as_use
from schema.build import MAX_TOKENS, AgencySchema, build_schema
from schema.context import Context, Services
from schema.views import sdl_for
from server.graphiql import STATIC_DIR, graphiql_html
from server.principal import principal_for
from server.settings import Settings


def _json_default(value: Any) -> Any:
    return str(value)


class RequestError(HTTPException):
    """A request the schema does not run, with the `extensions.code` it answers."""

    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


@functools.lru_cache(maxsize=512)
def _operation_count(query: str) -> int:
    """How many operations a document holds; 0 when it does not parse (the schema reports that)."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return 0
    return sum(isinstance(definition, OperationDefinitionNode) for definition in document.definitions)


class AgencyGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context: one Principal, database handle and loader set per request.

    A request the schema never gets to run (no query, a body that is not JSON, a mutation by GET,
    an operationName the document lacks, several operations and no operationName) answers JSON
    like every other error, `{"errors": [{"message", "extensions": {"code"}}]}`, with
    Strawberry's status (400), not Strawberry's plain text.

    The /graphql route is HTTP only (a Starlette Route), so no WebSocket reaches the hooks below;
    they keep Strawberry's signatures, which name one."""

    schema: AgencySchema  # what __init__ hands Strawberry (it stores it as a BaseSchema)

    def __init__(self, *, services: Services, session_factory: Any, **kwargs: Any) -> None:
        super().__init__(build_schema(), subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), **kwargs)
        self.services = services
        self.session_factory = session_factory
        self._ide_html = graphiql_html()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dbs: list[RequestDb] = []
        scope.setdefault("state", {})["request_dbs"] = dbs
        try:
            await super().__call__(scope, receive, send)
        finally:
            for db in dbs:
                await db.close()

    async def identify(self, request: Request | WebSocket, db: RequestDb) -> tuple[Principal, str | None]:
        """The caller behind the request's bearer token (and why a token was refused); every use
        of a view-as token is written to the activity log with its manager."""
        principal, auth_error = await principal_for(request.headers.get("authorization"), self.services.tokens, db)
        if principal.read_only:
            async with db.transaction() as session:
                record_view_as_use(session, principal, request.method if isinstance(request, Request) else None)
        return principal, auth_error

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        db = RequestDb(self.session_factory)
        request.scope["state"]["request_dbs"].append(db)
        principal, auth_error = await self.identify(request, db)
        client = request.client
        return Context(
            principal=principal,
            db=db,
            loaders=Loaders(db, principal),
            services=self.services,
            auth_error=auth_error,
            ip_address=client.host if client else None,
            user_agent=request.headers.get("user-agent"),
        )

    @overload
    async def run(self, request: Request, context: Context = UNSET, root_value: None = UNSET) -> Response: ...
    @overload
    async def run(self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET) -> WebSocket: ...
    async def run(
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)
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
            body = {"errors": [{"message": error.reason, "extensions": {"code": code}}]}
            return Response(self.encode_json(body), status_code=error.status_code, media_type="application/json")

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
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, default=_json_default)


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app. The engine is made here (or handed in by tests), never at import."""
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    services = Services(
        tokens=TokenService(
            secret=settings.signing_key(),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            access_ttl=settings.access_ttl,
        ),
        refresh_ttl=settings.refresh_ttl,
        view_as_ttl=settings.view_as_ttl,
        portal_accept_url=settings.portal_accept_url,
        debug=settings.debug,
    )
    graphql = AgencyGraphQL(services=services, session_factory=make_session_factory(engine))

    async def own_schema(request: Request) -> Response:
        """The caller's own SDL (same Bearer token as /graphql): what codegen and IDE plugins point at.
        No token: the anonymous view. A refused token: 401, never a silently smaller schema."""
        db = RequestDb(session_factory)
        try:
            principal, auth_error = await graphql.identify(request, db)
        finally:
            await db.close()
        if auth_error is not None:
            return PlainTextResponse(auth_error, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        sdl = sdl_for(graphql.schema._schema, principal.policy_key)
        return PlainTextResponse(sdl, headers={"Cache-Control": "private, no-store", "Vary": "Authorization"})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    session_factory = make_session_factory(engine)

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
        try:
            yield {"engine": engine}
        finally:
            if outbox is not None:
                outbox.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await outbox
            if owns_engine:
                await engine.dispose()

    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/graphql/schema.graphql", own_schema, methods=["GET"]),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.graphql = graphql
    app.state.engine = engine
    return app
