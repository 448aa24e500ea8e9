"""/portal/accept: the page an invitation e-mail links to, where a portal user sets a password.

GET shows a form (the invitation's token from the link, kept in a hidden field; the password
twice); POST (an ordinary form post, `application/x-www-form-urlencoded`) accepts the invitation
with the same business function as the `acceptInvitation` mutation, in one write transaction,
and answers a page that says what happened: the password is set and whom to sign in as, or why
not (the invitation is used, expired or unknown; the password is too short or the two differ),
with the form again. Nothing but the one-time token authorises the post (no cookies), so there
is nothing for another site to forge. No script and no style: the page lives under a CSP that
lets it post only to itself.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from models.db import write_transaction
from resolvers.errors import InputError
from resolvers.portal.access import accept_invitation

PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
MAX_FIELD = 1000

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""

_FORM = """<p>{message}</p>
<form method="post" action="/portal/accept">
<input type="hidden" name="token" value="{token}">
<p><label>New password (at least 10 characters)<br>
<input type="password" name="password" autocomplete="new-password" minlength="10" required></label></p>
<p><label>The same password again<br>
<input type="password" name="password_again" autocomplete="new-password" minlength="10" required></label></p>
<p><button type="submit">Set my password</button></p>
</form>
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"},
    )


def _form(token: str, message: str, status: int = 200) -> Response:
    body = _FORM.format(message=html.escape(message), token=html.escape(token, quote=True))
    return _page("Welcome to the client portal", body, status)


class PortalAcceptPage:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def respond(self, request: Request) -> Response:
        if request.method == "GET":
            token = request.query_params.get("token", "")[:MAX_FIELD]
            if not token:
                return _page("Invitation link incomplete", "<p>Open the link from your invitation e-mail.</p>", 400)
            return _form(token, "Choose a password to finish setting up your portal access.")
        fields = self._fields(await request.body())
        token = fields.get("token", "")
        if not token:
            return _page("Invitation link incomplete", "<p>Open the link from your invitation e-mail.</p>", 400)
        password = fields.get("password", "")
        if password != fields.get("password_again", ""):
            return _form(token, "The two passwords differ; type the same one twice.", 400)
        try:
            async with write_transaction(self.session_factory) as session:
                user = await accept_invitation(session, token=token, password=password)
                email = user.email
        except InputError as error:
            return _form(token, error.message, 400)
        body = (
            f"<p>Your password is set. Sign in to the portal as <strong>{html.escape(email)}</strong>"
            " with the password you chose.</p>"
        )
        return _page("You are all set", body)

    @staticmethod
    def _fields(raw: bytes) -> dict[str, str]:
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=10, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return {}
        fields: dict[str, str] = {}
        for name, value in pairs:
            if name in fields or len(value) > MAX_FIELD or "\x00" in value:
                return {}
            fields[name] = value
        return fields
