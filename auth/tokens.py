"""Access tokens (JWT, joserfc), rotating refresh tokens and one-time secrets.

Two kinds of access token, signed with the same key and never taken for one another:

- a user's: header `typ: JWT`, claims `sub` (the user id), `role`, and `cid`, `act`, `ro`, `scope`
  where they apply;
- a partner app's (RFC 9068, issued at POST /oauth/token): header `typ: at+jwt`, claims `sub` and
  `client_id` (both the app's OAuth client id), `scope`, and `gen`, the app's token generation
  (models.partners.PartnerApp). It has no `role`, and a user token has no `client_id` or `gen`.

A third kind is no access token at all: a file token (`typ: file+jwt`, audience `<audience>:files`)
lets one user download one file for a few minutes (`file_token`); the bearer check refuses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from models.enums import Role

ALGORITHM = "HS256"
USER_TOKEN_TYPE = "JWT"
PARTNER_TOKEN_TYPE = "at+jwt"  # RFC 9068 section 2.1
FILE_TOKEN_TYPE = "file+jwt"

TOKEN_LEEWAY_SECONDS = 5
"""Clock skew allowed on an access token's times (its expiry a little past is still accepted)."""

VERIFIED_TOKENS = 4096
"""How many verified access tokens a TokenService remembers (TokenService.verify_bearer)."""


class InvalidToken(Exception):
    """The bearer token is malformed, forged, expired or for another audience."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: Role
    client_id: int | None
    actor_id: int | None
    read_only: bool
    scopes: frozenset[str]
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PartnerClaims:
    """What a partner app's access token says: which app, the scopes it asked for and the
    generation of the app it was issued under."""

    client_id: str
    scopes: frozenset[str]
    generation: int
    expires_at: dt.datetime


class TokenService:
    """Signs and checks access tokens with one key and one algorithm (no `none`, no confusion)."""

    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        access_ttl: dt.timedelta,
        partner_ttl: dt.timedelta = dt.timedelta(minutes=10),
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the signing key must be at least 32 characters")
        self._key = OctKey.import_key(secret)
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.partner_ttl = partner_ttl
        self._verified: OrderedDict[str, AccessClaims | PartnerClaims] = OrderedDict()
        self._partner_registry = JWTClaimsRegistry(
            leeway=TOKEN_LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
            gen={"essential": True},
        )
        self._registry = JWTClaimsRegistry(
            leeway=TOKEN_LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            role={"essential": True, "values": [r.value for r in Role]},
        )

    def issue_access(
        self,
        *,
        user_id: int,
        role: Role,
        client_id: int | None = None,
        actor_id: int | None = None,
        read_only: bool = False,
        scopes: frozenset[str] = frozenset(),
        ttl: dt.timedelta | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[str, dt.datetime]:
        now = now or dt.datetime.now(dt.UTC)
        expires = now + (ttl or self.access_ttl)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
            "role": role.value,
        }
        if client_id is not None:
            claims["cid"] = client_id
        if actor_id is not None:
            claims["act"] = {"sub": str(actor_id)}  # RFC 8693: the real actor behind view-as
        if read_only:
            claims["ro"] = True
        if scopes:
            claims["scope"] = " ".join(sorted(scopes))
        header = {"alg": ALGORITHM, "typ": USER_TOKEN_TYPE}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM]), expires

    def verify_access(self, token: str) -> AccessClaims:
        """A user's access token; anything else (a partner token included) is InvalidToken."""
        claims = self.verify_bearer(token)
        if not isinstance(claims, AccessClaims):
            raise InvalidToken("a partner token is not a user's access token")
        return claims

    def verify_bearer(self, token: str) -> AccessClaims | PartnerClaims:
        """Any access token this service issued, told apart by its `typ` header: a user's
        (AccessClaims) or a partner app's (PartnerClaims). Each kind is checked against its own
        claims, so a token that mixes them (a `role` in an at+jwt, a `gen` in a user's) fails.

        A token that passed is remembered (its exact text, `VERIFIED_TOKENS` of them, the oldest
        forgotten first) with what it said: its signature and claims cannot change, and as time
        only moves on, the one check that can turn against it later, its expiry, is made again on
        every use. Checking the signature and claims again cost a portal request a sixth of its
        Python time. Refused tokens are not remembered (they fill nothing an attacker sends)."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at.timestamp() <= int(time.time()) - TOKEN_LEEWAY_SECONDS:  # as joserfc's check
                self._verified.pop(token, None)
                raise InvalidToken("the access token has expired")
            return known
        claims = self._verify(token)
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> AccessClaims | PartnerClaims:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            kind = decoded.header.get("typ")
            if kind == PARTNER_TOKEN_TYPE:
                self._partner_registry.validate(decoded.claims)
            elif kind == USER_TOKEN_TYPE:
                self._registry.validate(decoded.claims)
            else:
                raise InvalidToken("the access token is not valid")
        except ExpiredTokenError as error:
            raise InvalidToken("the access token has expired") from error
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidToken("the access token is not valid") from error
        claims = decoded.claims
        try:
            if kind == PARTNER_TOKEN_TYPE:
                return self._partner_claims(claims)
            if "client_id" in claims or "gen" in claims:
                raise InvalidToken("a user's access token names no partner app")
            actor = claims.get("act")
            return AccessClaims(
                user_id=int(claims["sub"]),
                role=Role(claims["role"]),
                client_id=int(claims["cid"]) if claims.get("cid") is not None else None,
                actor_id=int(actor["sub"]) if isinstance(actor, dict) and "sub" in actor else None,
                read_only=bool(claims.get("ro", False)),
                scopes=frozenset(str(claims.get("scope", "")).split()),
                expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise InvalidToken("the access token is not valid") from error

    def issue_partner_access(
        self,
        *,
        client_id: str,
        scopes: frozenset[str],
        generation: int,
        now: dt.datetime | None = None,
    ) -> tuple[str, dt.datetime]:
        """An RFC 9068 access token for a partner app (client credentials: the app is its own
        subject, so `sub` is its client id), valid for `partner_ttl`."""
        now = now or dt.datetime.now(dt.UTC)
        expires = now + self.partner_ttl
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "client_id": client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
            "gen": generation,
        }
        header = {"alg": ALGORITHM, "typ": PARTNER_TOKEN_TYPE}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM]), expires

    def issue_file(self, *, user_id: int, file: str, ttl: dt.timedelta, now: dt.datetime | None = None) -> str:
        """A token that lets user `user_id` download `file` (e.g. "deliverable:12") until it expires."""
        now = now or dt.datetime.now(dt.UTC)
        claims = {
            "iss": self.issuer,
            "aud": f"{self.audience}:files",
            "sub": str(user_id),
            "file": file,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode({"alg": ALGORITHM, "typ": FILE_TOKEN_TYPE}, claims, self._key, algorithms=[ALGORITHM])

    def verify_file(self, token: str, *, file: str) -> int:
        """The user id a file token for `file` was issued to; InvalidToken when it is expired,
        tampered with, for another file, or not a file token."""
        registry = JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": f"{self.audience}:files"},
            exp={"essential": True},
            sub={"essential": True},
            file={"essential": True, "value": file},
        )
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != FILE_TOKEN_TYPE:
                raise InvalidToken("not a file token")
            registry.validate(decoded.claims)
            return int(decoded.claims["sub"])
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise InvalidToken("the file token is not valid") from error

    def verify_partner_access(self, token: str) -> PartnerClaims:
        """A partner app's access token; anything else (a user's included) is InvalidToken."""
        claims = self.verify_bearer(token)
        if not isinstance(claims, PartnerClaims):
            raise InvalidToken("a user's access token is not a partner token")
        return claims

    @staticmethod
    def _partner_claims(claims: dict[str, Any]) -> PartnerClaims:
        client_id, generation = claims["client_id"], claims["gen"]
        if "role" in claims or not isinstance(client_id, str) or claims["sub"] != client_id:
            raise InvalidToken("a partner token names its app, and nothing else, as its subject")
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise InvalidToken("the access token is not valid")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise InvalidToken("the access token is not valid")
        return PartnerClaims(
            client_id=client_id,
            scopes=frozenset(scope.split()),
            generation=generation,
            expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
        )


def new_secret() -> str:
    """An opaque random token for refresh tokens and invitations (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Opaque secrets are high-entropy, so SHA-256 is the right hash (no salt or stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()
