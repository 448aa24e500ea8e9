"""The HTTP layer's guards, as plain ASGI middleware around the whole app: security headers on
every response, one JSON shape for every refusal, a request body limit, CORS for listed origins
and a last resort that turns an escaped exception into a JSON 500.

Every refusal here answers like the GraphQL endpoint does:
`{"errors": [{"message": ..., "extensions": {"code": ...}}]}` (GraphQL over HTTP), so a client
branches on `extensions.code` whatever refused it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("agency.http")

#: What the JSON API, the SDL and the health checks answer with: nothing may load, nothing may frame.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

#: On every response unless the response set the header itself (the GraphiQL page sets its own CSP).
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": API_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def error_payload(message: str, code: str, **extensions: object) -> dict[str, object]:
    """A request error as GraphQL over HTTP shapes it: one error with its `extensions.code`."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def error_body(message: str, code: str, **extensions: object) -> bytes:
    return orjson.dumps(error_payload(message, code, **extensions))


def json_error(
    status_code: int, message: str, code: str, headers: Mapping[str, str] | None = None, **extensions: object
) -> Response:
    return Response(
        error_body(message, code, **extensions),
        status_code=status_code,
        headers=dict(headers or {}),
        media_type="application/json",
    )


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response that does not carry them already."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] = SECURITY_HEADERS) -> None:
        self.app = app
        self.headers = tuple(headers.items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LastResort:
    """An exception that escapes the app is logged and answered as a JSON 500 instead of the
    server's plain-text one, and is not re-raised: the server would close the connection
    (uvicorn does, even when a response was already sent), dropping the client's next request
    on it. When the response had already started there is nothing to answer with: re-raised."""

    def __init__(self, app: ASGIApp, *, debug: bool = False) -> None:
        self.app = app
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started:
                raise
            log.exception("unhandled error answering %s %s", scope.get("method"), scope.get("path"))
            message = f"Unexpected error: {error!r}" if self.debug else "Unexpected error."
            await json_error(500, message, "INTERNAL_SERVER_ERROR")(scope, receive, send)


class BodyLimit:
    """Refuses a request body over `max_bytes` with 413 PAYLOAD_TOO_LARGE before anything reads
    it: a declared Content-Length is checked first; otherwise (chunked) the body is read chunk by
    chunk and the request refused as soon as it passes the limit, never buffered whole. A body
    within the limit is handed on unchanged. The refusal closes the connection (the rest of
    the body is never read). A multipart/form-data body (a file upload) may be as large as
    `multipart_max_bytes` (the upload limit plus room for the rest of the request)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, multipart_max_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_max_bytes = max(max_bytes, multipart_max_bytes)

    def _too_large(self, limit: int) -> Response:
        return json_error(
            413,
            f"The request body is larger than {limit} bytes.",
            "PAYLOAD_TOO_LARGE",
            headers={"Connection": "close"},
            maxBytes=limit,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"
        limit = self.multipart_max_bytes if multipart else self.max_bytes
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await json_error(400, "The Content-Length header is not a number.", "BAD_REQUEST")(scope, receive, send)
                return
            if int(declared) > limit:
                await self._too_large(limit)(scope, receive, send)
                return

        chunks: list[bytes] = []
        size = 0
        pending: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect: the app sees it as the first message
                pending = message
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break

        async def replay() -> Message:
            nonlocal pending
            if pending is not None:
                message, pending = pending, None
                return message
            return await receive()

        await self.app(scope, replay, send)


class Cors(CORSMiddleware):
    """Starlette's CORS middleware; a refused preflight answers JSON like every other refusal."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
        reason = bytes(response.body).decode()
        return json_error(400, f"{reason}.", "CORS_REFUSED", headers=headers)
