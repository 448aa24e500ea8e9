"""TokenService remembers the access tokens it verified (auth/tokens.py, verify_bearer): what is
remembered must never accept what a fresh check would refuse."""

from __future__ import annotations

import datetime as dt

import pytest

from auth import tokens as tokens_module
from auth.tokens import AccessClaims, InvalidToken, TokenService
from models import Role

SECRET = "a-signing-key-for-the-token-memory-tests-" + "k" * 8


def _service() -> TokenService:
    return TokenService(secret=SECRET, issuer="agency", audience="agency-api", access_ttl=dt.timedelta(minutes=15))


def test_a_remembered_token_gives_the_same_claims_as_the_first_check():
    service = _service()
    token, _ = service.issue_access(user_id=7, role=Role.CLIENT, client_id=3, read_only=True)
    first = service.verify_bearer(token)
    again = service.verify_bearer(token)
    assert isinstance(first, AccessClaims) and again == first
    assert (again.user_id, again.role, again.client_id, again.read_only) == (7, Role.CLIENT, 3, True)


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch):
    service = _service()
    now = dt.datetime.now(dt.UTC)
    token, expires = service.issue_access(user_id=7, role=Role.MANAGER, ttl=dt.timedelta(seconds=60), now=now)
    assert service.verify_bearer(token).user_id == 7  # remembered from here on
    later = expires.timestamp() + tokens_module.TOKEN_LEEWAY_SECONDS + 1
    monkeypatch.setattr(tokens_module.time, "time", lambda: later)
    with pytest.raises(InvalidToken, match="expired"):
        service.verify_bearer(token)
    assert token not in service._verified  # forgotten, not kept to be refused again


def test_a_changed_token_is_checked_afresh_and_refused():
    service = _service()
    token, _ = service.issue_access(user_id=7, role=Role.CLIENT, client_id=3)
    service.verify_bearer(token)
    header, payload, signature = token.split(".")
    for forged in (f"{header}.{payload}.{signature[:-2]}AA", f"{header}.{payload}x.{signature}", token + " "):
        with pytest.raises(InvalidToken):
            service.verify_bearer(forged)
    assert list(service._verified) == [token]  # refused tokens are not remembered


def test_another_services_memory_is_its_own():
    """A token remembered by one service (one signing key) is nothing to a service with another key."""
    service = _service()
    token, _ = service.issue_access(user_id=7, role=Role.MANAGER)
    service.verify_bearer(token)
    other = TokenService(
        secret="another-signing-key-" + "z" * 30,
        issuer="agency",
        audience="agency-api",
        access_ttl=dt.timedelta(minutes=15),
    )
    with pytest.raises(InvalidToken):
        other.verify_bearer(token)


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(tokens_module, "VERIFIED_TOKENS", 3)
    service = _service()
    issued = [service.issue_access(user_id=n, role=Role.MANAGER)[0] for n in range(1, 6)]
    for token in issued:
        service.verify_bearer(token)
    assert list(service._verified) == issued[-3:]  # the oldest forgotten first
    assert service.verify_bearer(issued[0]).user_id == 1  # and checked afresh when it comes back
