"""POST /oauth/token: OAuth 2.0 client credentials (RFC 6749 section 4.4) for partner apps.

authlib supplies the spec's parts: the grant (`ClientCredentialsGrant`: grant type, scope,
response), client authentication by HTTP Basic or by form fields (`client_secret_basic`,
`client_secret_post`, through its registry of methods), and the error responses of RFC 6749
section 5.2 with their status codes and headers (`invalid_client` is a 401 with a `Basic`
challenge). Its `AuthorizationServer` is synchronous, while checking a secret is not (the app's
row from the database, Argon2 in the hashing pool). So the endpoint does the asynchronous part
first, between authlib's two steps: authlib picks the grant (refusing an unsupported grant type
before any work), then the endpoint throttles the attempt (auth.throttle: per app and per
address), loads the app and checks the secret, and hands authlib a request whose client is
already known to be authenticated or not; authlib's part then runs without I/O.

The access token is an RFC 9068 JWT (auth.tokens.TokenService.issue_partner_access): `typ:
at+jwt`, the app's client id as `sub` and `client_id`, the granted `scope`, and the app's token
generation, so changing the app's scopes, rotating its secret or revoking it refuses the token
on its next use (server.principal). There is no refresh token: an app asks again.

Answers beyond authlib's: a body that is not a form, a repeated parameter or both ways of client
authentication at once are `invalid_request`; a `scope` beyond what the app was granted is
`invalid_scope`; no `scope` (or an empty one) means every scope the app holds; a throttled
request is a 429 with `Retry-After` and `{"error": "too_many_requests"}`, before any secret is
checked.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    BaseGrant,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from auth.passwords import verify_password_async
from auth.throttle import DEFAULT_RULES, DatabaseStorage, SignInThrottle, Throttled, ThrottleRules
from auth.tokens import TokenService
from resolvers.db import RequestDb
from resolvers.partners.apps import AppRecord, app_record, record_use

log = logging.getLogger("agency.oauth")

FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 20
MAX_SECRET = 256  # ours are 48 characters; a longer one is wrong without Argon2 working through it
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
CLIENT_AUTHENTICATION_FAILED = "Client authentication failed."
NO_CREDENTIALS = "Authenticate the client: HTTP Basic, or client_id and client_secret in the form."
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class Credentials:
    """The client credentials a request presented, and how."""

    client_id: str
    secret: str
    method: str  # one of AUTH_METHODS


class PartnerClient(ClientMixin):
    """An authenticated app, as authlib's grant and token generator see it."""

    def __init__(self, record: AppRecord) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == ClientCredentialsGrant.GRANT_TYPE

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scopes a token gets: those asked for (checked by the grant), or all the app holds."""
        wanted = set((scope or "").split())
        return " ".join(sorted(wanted or self.record.scopes))


class TokenRequest(OAuth2Request):
    """A token request as authlib reads it, with what the endpoint found out before authlib runs:
    the credentials `presented` and, when they were right, the `authenticated` client."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        # authlib refuses to build a request whose URI is not https (InsecureTransportError). TLS is
        # the deployment's, in front of the server, as for /graphql and its bearer tokens; so the
        # check is given the URI the client used behind that proxy.
        super().__init__(request.method, str(request.url.replace(scheme="https")), headers=request.headers)
        self.uri = str(request.url)
        self.payload = BasicOAuth2Payload(form)
        self._form = form
        self.presented: Credentials | None = None
        self.authenticated: PartnerClient | None = None

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


def _authenticated_by(method: str) -> Callable[[Any, TokenRequest], PartnerClient | None]:
    """authlib's client authentication method `method`, answered from what the endpoint checked:
    None when the request did not use this method (authlib tries the next one), the client when
    its secret was right, else `invalid_client` with one message for every cause (no such app,
    wrong secret, revoked app)."""

    def authenticate(_query_client: Any, request: TokenRequest) -> PartnerClient | None:
        if request.presented is None or request.presented.method != method:
            return None
        if request.authenticated is None:
            raise InvalidClientError(status_code=401, description=CLIENT_AUTHENTICATION_FAILED)
        return request.authenticated

    return authenticate


class PartnerCredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        """A token may carry any of the scopes the app holds, and no other (RFC 6749 section 3.3)."""
        client = self.request.client
        assert isinstance(client, PartnerClient)  # authenticated before the scope is checked
        if set((self.request.payload.scope or "").split()) - client.record.scopes:
            raise InvalidScopeError(description="The requested scope is unknown or beyond what the app was granted.")


class PartnerTokenServer(AuthorizationServer):
    """authlib's authorization server with the one grant partners use; no I/O of its own."""

    def __init__(self, tokens: TokenService) -> None:
        super().__init__()
        self.tokens = tokens
        self.register_grant(PartnerCredentialsGrant)
        self.register_token_generator(PartnerCredentialsGrant.GRANT_TYPE, self._generate)
        for method in AUTH_METHODS:
            self.register_client_auth_method(method, _authenticated_by(method))

    def query_client(self, client_id: str) -> None:
        return None  # never asked: the client is found and checked before authlib runs

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: the token is a signed JWT, checked against the app on every use."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals are listened to."""

    def create_oauth2_request(self, request: TokenRequest) -> TokenRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return Response(json.dumps(body), status_code=status, headers=dict(headers))

    def grant_for(self, request: TokenRequest) -> BaseGrant:
        """authlib's first step: the grant of the request's `grant_type` (else OAuth2Error)."""
        if not request.form.get("grant_type"):
            raise InvalidRequestError("The grant_type parameter is required.")
        grant: BaseGrant = self.get_token_grant(request)
        return grant

    def token_response(self, grant: BaseGrant, request: TokenRequest) -> Response:
        """authlib's second step (as `create_token_response` runs it): authenticate the client,
        check the grant and the scope, issue the token; or the RFC's error response."""
        try:
            grant.validate_token_request()
            return self.handle_response(*grant.create_token_response())
        except OAuth2Error as error:
            return self.error_response(error)

    def error_response(self, error: OAuth2Error) -> Response:
        response: Response = self.handle_error_response(None, error)
        return response

    def _generate(
        self,
        grant_type: str,
        client: PartnerClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        granted = client.get_allowed_scope(scope)
        token, _ = self.tokens.issue_partner_access(
            client_id=client.record.client_id,
            scopes=frozenset(granted.split()),
            generation=client.record.generation,
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self.tokens.partner_ttl.total_seconds()),
            "scope": granted,
        }


async def _form(request: Request) -> dict[str, str]:
    """The request's form parameters (RFC 6749 section 3.2: a parameter without a value is left
    out; none may be repeated). Raises InvalidRequestError for a body that is not such a form."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != FORM:
        raise InvalidRequestError(f"A token request is a form: send it as {FORM}.")
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=False, max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("The form is not valid UTF-8 form data.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequestError("A parameter is repeated: send each one once.")
        form[name] = value
    return form


def presented_credentials(request: TokenRequest) -> Credentials | None:
    """The client credentials in the request: HTTP Basic (RFC 6749 section 2.3.1, as authlib
    reads it) or the form's client_id and client_secret; None when it holds neither whole."""
    try:
        basic_id, basic_secret = extract_basic_authorization(request.headers)
    except ValueError:  # Basic credentials that are not UTF-8
        raise InvalidClientError(status_code=401, description=CLIENT_AUTHENTICATION_FAILED) from None
    form_id, form_secret = request.form.get("client_id"), request.form.get("client_secret")
    if basic_id and form_secret is not None:
        raise InvalidRequestError("Authenticate the client one way: HTTP Basic or the form fields, not both.")
    if basic_id:
        if form_id is not None and form_id != basic_id:
            raise InvalidRequestError("The client_id in the form is not the one in the Authorization header.")
        return Credentials(basic_id, basic_secret, "client_secret_basic") if basic_secret else None
    if form_id and form_secret:
        return Credentials(form_id, form_secret, "client_secret_post")
    return None


def _throttled(refused: Throttled) -> Response:
    body = {
        "error": "too_many_requests",
        "error_description": f"Too many token requests; try again in {refused.retry_after} seconds.",
    }
    return Response(
        json.dumps(body),
        status_code=429,
        headers={**NO_STORE, "Retry-After": str(refused.retry_after)},
        media_type="application/json",
    )


class TokenEndpoint:
    """The /oauth/token route: `respond` is the Starlette endpoint."""

    def __init__(
        self,
        *,
        tokens: TokenService,
        session_factory: async_sessionmaker[AsyncSession],
        rules: ThrottleRules = DEFAULT_RULES,
    ) -> None:
        self.server = PartnerTokenServer(tokens)
        self.session_factory = session_factory
        self.rules = rules

    async def respond(self, request: Request) -> Response:
        try:
            token_request = TokenRequest(request, await _form(request))
            grant = self.server.grant_for(token_request)
            token_request.presented = presented_credentials(token_request)
        except OAuth2Error as error:
            return self.server.error_response(error)
        if token_request.presented is None:
            return self.server.error_response(InvalidClientError(status_code=401, description=NO_CREDENTIALS))
        db = RequestDb(self.session_factory)
        try:
            client = request.client
            return await self._authenticate(db, grant, token_request, client.host if client else None)
        finally:
            await db.close()

    async def _authenticate(
        self, db: RequestDb, grant: BaseGrant, request: TokenRequest, address: str | None
    ) -> Response:
        presented = request.presented
        assert presented is not None
        limiter = SignInThrottle(DatabaseStorage(transaction=db.transaction), self.rules)
        try:
            attempt = await limiter.partner_token(client_id=presented.client_id, address=address)
        except Throttled as refused:
            return _throttled(refused)
        try:
            app = await app_record(db, presented.client_id)
            checkable = app is not None and len(presented.secret) <= MAX_SECRET
            valid, new_hash = await verify_password_async(
                presented.secret if checkable else "", app.secret_hash if checkable and app else None
            )
            if app is not None and checkable and valid and not app.revoked:
                request.authenticated = PartnerClient(app)
            response = self.server.token_response(grant, request)
        except BaseException:
            with contextlib.suppress(Exception):  # the database may be what failed
                await attempt.abandoned()
            raise
        if request.authenticated is None:
            log.info("partner token refused: client authentication failed")
            await attempt.failed()
            return response
        await attempt.succeeded()
        if response.status_code == 200:
            await record_use(db, request.authenticated.record, new_secret_hash=new_hash)
        return response
