"""Access tokens (JWT, joserfc), rotating refresh tokens and one-time secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from models.enums import Role

ALGORITHM = "HS256"


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


class TokenService:
    """Signs and checks access tokens with one key and one algorithm (no `none`, no confusion)."""

    def __init__(self, *, secret: str, issuer: str, audience: str, access_ttl: dt.timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("the signing key must be at least 32 characters")
        self._key = OctKey.import_key(secret)
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self._registry = JWTClaimsRegistry(
            leeway=5,
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
        return jwt.encode({"alg": ALGORITHM}, claims, self._key, algorithms=[ALGORITHM]), expires

    def verify_access(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            self._registry.validate(decoded.claims)
        except ExpiredTokenError as error:
            raise InvalidToken("the access token has expired") from error
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidToken("the access token is not valid") from error
        claims = decoded.claims
        try:
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


def new_secret() -> str:
    """An opaque random token for refresh tokens and invitations (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Opaque secrets are high-entropy, so SHA-256 is the right hash (no salt or stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()
