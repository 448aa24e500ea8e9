"""GET /files/deliverables/{id}?token=...: an uploaded deliverable's file.

The address comes from `Deliverable.downloadUrl`: the token in it (auth.tokens, `file+jwt`) names
the user it was made for and this deliverable, and lasts five minutes. No Authorization header is
needed (a browser can follow the link), so at download time the server checks again what the API
would: the user still exists and is active, and the deliverable is under the user's row scope (a
portal user: a deliverable of its own client's task marked visible to it). Anything else (an
expired, tampered or foreign token, another client's deliverable, a link deliverable, a file gone
from the store) answers exactly alike: 404 NOT_FOUND with the same body.

The file is sent as an attachment with its sanitised name and its checked content type, with
`X-Content-Type-Options: nosniff` and `Cache-Control: private, no-store`.
"""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from auth.principal import Principal
from auth.scopes import deliverable_scope, task_scope
from auth.tokens import InvalidToken, TokenService
from models import Deliverable, Role, Task, User
from models.db import close_session, is_unavailable
from resolvers.errors import DatabaseUnavailable
from resolvers.work import file_store
from server.middleware import json_error

NOT_FOUND = "No such file."


def _not_found() -> Response:
    return json_error(404, NOT_FOUND, "NOT_FOUND", headers={"Cache-Control": "no-store"})


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC 8187)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class DeliverableDownload:
    def __init__(self, *, tokens: TokenService, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.tokens = tokens
        self.session_factory = session_factory

    async def _visible(self, deliverable_id: int, user_id: int) -> Deliverable | None:
        session = self.session_factory()
        try:
            user = await session.scalar(sa.select(User).where(col(User.id) == user_id, col(User.is_active).is_(True)))
            if user is None or user.id is None:
                return None
            client_id = user.client_id if user.role is Role.CLIENT else None
            principal = Principal(user_id=user.id, role=user.role, client_id=client_id)
            return await session.scalar(
                sa.select(Deliverable)
                .join(Task, col(Task.id) == col(Deliverable.task_id))
                .where(col(Deliverable.id) == deliverable_id, deliverable_scope(principal), task_scope(principal))
            )
        except Exception as error:
            if is_unavailable(error):  # answered 503 + Retry-After by the app's handler
                raise DatabaseUnavailable() from error
            raise
        finally:
            await close_session(session)

    async def respond(self, request: Request) -> Response:
        raw_id = request.path_params["id"]
        token = request.query_params.get("token", "")
        if not raw_id.isdigit() or not 0 < int(raw_id) < 2**63 or not token:
            return _not_found()
        deliverable_id = int(raw_id)
        try:
            user_id = self.tokens.verify_file(token, file=f"deliverable:{deliverable_id}")
        except InvalidToken:
            return _not_found()
        row = await self._visible(deliverable_id, user_id)
        if row is None or row.file_key is None:
            return _not_found()
        chunks = await file_store.current().store.open(row.file_key)
        if chunks is None:
            return _not_found()
        headers = {
            "Content-Disposition": content_disposition(row.file_name or "file"),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }
        if row.file_size is not None:
            headers["Content-Length"] = str(row.file_size)
        return StreamingResponse(chunks, media_type=row.content_type or "application/octet-stream", headers=headers)
