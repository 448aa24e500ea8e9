"""Sign-in throttling (auth/throttle.py): failed attempts per account and per address, refused
before any password is checked, in counters every worker shares through the database; and
Argon2 off the event loop (auth/passwords.py).

The throttle's clock is pinned to the middle of a 15-minute window, so no test depends on
when it runs (a window boundary never falls inside one) and the retry hints are exact."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from pydantic import ValidationError

import auth.passwords
from auth import throttle
from auth.throttle import DatabaseStorage, SignInThrottle, normalise_address, retry_after
from models import Role
from models.db import make_engine, make_session_factory
from models.people import ThrottleCounter
from resolvers.db import RequestDb
from server.app import create_app
from server.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD
from tests.utils import LOGIN, Api, count

WINDOW = 900  # 15 minutes: every default limit's window
ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 50

REFRESH = """mutation($t: String!) { refreshToken(refreshToken: $t) {
  tokens { accessToken refreshToken } errors { field code message } } }"""
ACCEPT = """mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p) {
  tokens { accessToken } errors { field code message } } }"""


class Clock:
    """The throttle's time, pinned half-way through a window; moved on by hand."""

    def __init__(self) -> None:
        self.now = (int(time.time()) // WINDOW) * WINDOW + WINDOW / 2

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock()
    monkeypatch.setattr(throttle, "clock", pinned)
    return pinned


class Verifications:
    """Counts password checks and where they ran; fast (the real check costs 0.2 s each)."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[str] = set()

    def __call__(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        return password_hash is not None and password == PASSWORD, None


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Verifications:
    fake = Verifications()
    monkeypatch.setattr(auth.passwords, "verify_password", fake)
    return fake


async def login(api: Api, email: str, password: str) -> dict:
    return (await api.data(LOGIN, {"email": email, "password": password}))["login"]


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def seconds(payload: dict) -> int:
    match = re.search(r"try again in (\d+) seconds", payload["errors"][0]["message"])
    assert match, payload
    return int(match.group(1))


@pytest.fixture
async def elsewhere(api: Api) -> AsyncIterator[Api]:
    """The same app, called from another address."""
    transport = httpx.ASGITransport(app=api.app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, api.app)


# -- per account ------------------------------------------------------------------------------


async def test_ten_wrong_passwords_then_the_right_one_is_refused(api, factory, clock):
    """The issue: 200 wrong passwords, then the right one worked. Real Argon2 here."""
    user = await factory.user(Role.ADMIN)
    for _ in range(ACCOUNT_LIMIT):
        assert codes(await login(api, user.email, "wrong-password")) == ["INVALID_CREDENTIALS"]
    refused = await login(api, user.email, PASSWORD)
    assert refused["tokens"] is None
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"]
    assert refused["errors"][0]["field"] is None
    # Ten failures in this window: they weigh on the next one from its first second on, so the
    # hint is the rest of this window (450 s) and one second.
    assert seconds(refused) == WINDOW // 2 + 1
    assert codes(await login(api, user.email.upper(), PASSWORD)) == ["TOO_MANY_ATTEMPTS"]  # same account

    clock.now += seconds(refused) - 1
    assert codes(await login(api, user.email, PASSWORD)) == ["TOO_MANY_ATTEMPTS"]
    clock.now += 1
    assert (await login(api, user.email, PASSWORD))["tokens"] is not None


async def test_throttled_attempts_check_no_password(api, factory, verifications):
    user = await factory.user()
    for _ in range(ACCOUNT_LIMIT):
        await login(api, user.email, "wrong-password")
    assert verifications.calls == ACCOUNT_LIMIT
    for password in (PASSWORD, "wrong-password", PASSWORD):
        assert codes(await login(api, user.email, password)) == ["TOO_MANY_ATTEMPTS"]
    assert verifications.calls == ACCOUNT_LIMIT


async def test_an_unknown_account_is_answered_exactly_as_a_known_one(api, factory, verifications):
    user = await factory.user()
    known = [await login(api, user.email, "wrong-password") for _ in range(ACCOUNT_LIMIT + 2)]
    unknown = [await login(api, "nobody@agency.example", "wrong-password") for _ in range(ACCOUNT_LIMIT + 2)]
    assert known == unknown
    assert [codes(p) for p in known] == [["INVALID_CREDENTIALS"]] * ACCOUNT_LIMIT + [["TOO_MANY_ATTEMPTS"]] * 2
    # An unknown e-mail costs the same password check (against a dummy hash) until it is throttled.
    assert verifications.calls == 2 * ACCOUNT_LIMIT


async def test_a_success_starts_the_accounts_count_over(api, factory, verifications):
    user = await factory.user()
    for _ in range(2):
        for _ in range(ACCOUNT_LIMIT - 1):
            assert codes(await login(api, user.email, "wrong-password")) == ["INVALID_CREDENTIALS"]
        assert (await login(api, user.email, PASSWORD))["tokens"] is not None


async def test_bad_input_counts_for_nothing(api, factory, verifications):
    user = await factory.user()
    for _ in range(ACCOUNT_LIMIT + 1):
        assert codes(await login(api, user.email, "")) == ["REQUIRED"]
    assert (await login(api, user.email, PASSWORD))["tokens"] is not None
    assert verifications.calls == 1


async def test_concurrent_guesses_get_no_more_than_the_limit(api, factory, verifications, db):
    """Each attempt takes its slot before its password is checked: a burst cannot slip through
    a check made before any of it has failed."""
    user = await factory.user()
    answers = await asyncio.gather(*(login(api, user.email, f"guess-{n}") for n in range(3 * ACCOUNT_LIMIT)))
    answered = sorted(code for payload in answers for code in codes(payload))
    assert answered == ["INVALID_CREDENTIALS"] * ACCOUNT_LIMIT + ["TOO_MANY_ATTEMPTS"] * (2 * ACCOUNT_LIMIT)
    assert verifications.calls == ACCOUNT_LIMIT


# -- per address ------------------------------------------------------------------------------


async def test_one_address_is_throttled_across_accounts(api, elsewhere, factory, verifications):
    user = await factory.user()
    for n in range(ADDRESS_LIMIT):
        assert codes(await login(api, f"guess{n}@agency.example", "wrong-password")) == ["INVALID_CREDENTIALS"]
    # A real account with its right password, never tried before, from that address: refused.
    refused = await login(api, user.email, PASSWORD)
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"]
    assert seconds(refused) == WINDOW // 2 + 1
    # From another address the same account signs in.
    assert (await login(elsewhere, user.email, PASSWORD))["tokens"] is not None
    assert verifications.calls == ADDRESS_LIMIT + 1


async def test_successes_do_not_use_up_the_address(api, factory, verifications):
    user = await factory.user()
    for _ in range(ADDRESS_LIMIT + 5):
        assert (await login(api, user.email, PASSWORD))["tokens"] is not None


async def test_bad_refresh_tokens_and_invitations_are_throttled_per_address(api, elsewhere, factory):
    user = await factory.user()
    _, refresh = await api.login_pair(user.email, PASSWORD)
    for n in range(ADDRESS_LIMIT // 2):
        bad = (await api.data(REFRESH, {"t": f"not-a-token-{n}"}))["refreshToken"]
        assert codes(bad) == ["INVALID_REFRESH_TOKEN"]
        bad = (await api.data(ACCEPT, {"t": f"not-an-invitation-{n}", "p": "a-long-password"}))["acceptInvitation"]
        assert codes(bad) == ["INVALID_INVITATION"]
    # The address is out of attempts: a good refresh token is refused (and not spent) ...
    refused = (await api.data(REFRESH, {"t": refresh}))["refreshToken"]
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"] and refused["tokens"] is None
    refused = (await api.data(ACCEPT, {"t": "another", "p": "a-long-password"}))["acceptInvitation"]
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"]
    # ... and works from another address. Signing in is counted apart.
    assert codes((await elsewhere.data(REFRESH, {"t": refresh}))["refreshToken"]) == []
    assert (await login(api, user.email, PASSWORD))["tokens"] is not None


async def test_ipv6_addresses_are_counted_by_their_64_prefix():
    assert normalise_address("2001:db8::1") == normalise_address("2001:db8::ffff:2") == "2001:db8::/64"
    assert normalise_address("2001:db8:0:1::1") != normalise_address("2001:db8::1")
    assert normalise_address("::ffff:198.51.100.4") == normalise_address("198.51.100.4") == "198.51.100.4"
    assert normalise_address(None) == normalise_address("") == "unknown"


# -- shared by workers --------------------------------------------------------------------------


@pytest.fixture
async def second_worker(db, database_url, settings) -> AsyncIterator[Api]:
    """Another app on the same database through an engine (and pool) of its own, as a second
    server process would be."""
    engine = make_engine(database_url)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, app)
    await engine.dispose()


async def test_two_workers_share_the_counters(api, second_worker, factory, verifications):
    user = await factory.user()
    for n in range(ACCOUNT_LIMIT):
        worker = api if n % 2 else second_worker
        assert codes(await login(worker, user.email, "wrong-password")) == ["INVALID_CREDENTIALS"]
    assert codes(await login(api, user.email, PASSWORD)) == ["TOO_MANY_ATTEMPTS"]
    assert codes(await login(second_worker, user.email, PASSWORD)) == ["TOO_MANY_ATTEMPTS"]


async def test_two_workers_at_once_get_no_more_than_the_limit(api, second_worker, factory, verifications):
    user = await factory.user()
    answers = await asyncio.gather(
        *(login(api if n % 2 else second_worker, user.email, f"guess-{n}") for n in range(3 * ACCOUNT_LIMIT))
    )
    assert sum(codes(payload) == ["INVALID_CREDENTIALS"] for payload in answers) == ACCOUNT_LIMIT
    assert verifications.calls == ACCOUNT_LIMIT


# -- Argon2 off the event loop ------------------------------------------------------------------


async def test_password_checks_run_off_the_event_loop(api, factory, monkeypatch) -> None:
    """While a password is being checked the loop goes on serving: the check below waits for a
    coroutine to run, which it could not if it ran on the loop's own thread."""
    user = await factory.user()
    loop = asyncio.get_running_loop()
    checking = asyncio.Event()
    loop_ran = threading.Event()
    seen: list[str] = []
    real = auth.passwords.verify_password

    def verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
        seen.append(threading.current_thread().name)
        loop.call_soon_threadsafe(checking.set)
        assert loop_ran.wait(timeout=60), "the event loop did not run while a password was checked"
        return real(password, password_hash)

    monkeypatch.setattr(auth.passwords, "verify_password", verify)

    async def meanwhile() -> None:
        await checking.wait()
        loop_ran.set()

    signed_in, _ = await asyncio.gather(login(api, user.email, PASSWORD), meanwhile())
    assert signed_in["tokens"] is not None
    assert seen and all(name.startswith(auth.passwords.THREAD_NAME_PREFIX) for name in seen)
    assert threading.current_thread().name not in seen


async def test_hashing_for_a_request_runs_in_the_hashing_pool(monkeypatch) -> None:
    seen: list[str] = []
    real = auth.passwords.hash_password

    def hash_password(password: str) -> str:
        seen.append(threading.current_thread().name)
        return real(password)

    monkeypatch.setattr(auth.passwords, "hash_password", hash_password)
    hashed = await auth.passwords.hash_password_async("a-long-password")
    assert seen[0].startswith(auth.passwords.THREAD_NAME_PREFIX)
    assert (await auth.passwords.verify_password_async("a-long-password", hashed))[0] is True


# -- the storage --------------------------------------------------------------------------------


def database_storage(session_factory) -> DatabaseStorage:
    """A storage opening transactions the way a request does (its own RequestDb each time)."""
    return DatabaseStorage(transaction=lambda: RequestDb(session_factory).transaction())


async def test_the_database_storage_counts_like_limits_own_memory_storage(db, clock) -> None:
    """The same hits give the same answers on both, with the fixed window and the sliding
    window counter."""
    memory = MemoryStorage()  # on the real clock: a day's window, so no boundary falls inside the test
    stored = database_storage(db)
    item = parse("3 per day")
    for strategy in (FixedWindowRateLimiter, SlidingWindowCounterRateLimiter):
        answers: dict[str, list[object]] = {}
        for name, storage in (("memory", memory), ("database", stored)):
            limiter = strategy(storage)
            answers[name] = [await limiter.hit(item, "k", strategy.__name__) for _ in range(5)]
            answers[name].append(await limiter.test(item, "k", strategy.__name__))
            answers[name].append((await limiter.get_window_stats(item, "k", strategy.__name__)).remaining)
            await limiter.clear(item, "k", strategy.__name__)
            answers[name].append(await limiter.hit(item, "k", strategy.__name__))
        assert answers["database"] == answers["memory"] == [True, True, True, False, False, False, 0, True]


async def test_the_database_storage_counters_expire_and_are_purged(db, clock):
    storage = database_storage(db)
    assert await storage.incr("a", 60) == 1
    assert await storage.incr("a", 60, amount=2) == 3
    assert await storage.get_expiry("a") == clock.now + 60
    assert await storage.decr("a", 5) == 0
    assert await storage.incr("b", 600) == 1
    clock.now += 61
    assert await storage.get("a") == 0
    assert await storage.get("b") == 1
    assert await storage.incr("a", 60) == 1  # an expired counter starts over
    clock.now += 61
    assert await storage.purge_expired() == 1  # "a"; "b" still lives
    assert await count(db, ThrottleCounter) == 1
    assert await storage.check() is True
    assert await storage.reset() == 1


async def test_the_database_storage_takes_keys_longer_than_its_column(db):
    storage = database_storage(db)
    key = "LIMITER/" + "x" * 400
    assert await storage.incr(key, 60) == 1
    assert await storage.incr(key, 60) == 2
    async with db() as session:
        assert len(await session.scalar(sa.select(ThrottleCounter.key))) < 255


async def test_concurrent_hits_on_two_engines_never_pass_the_limit(db, database_url, clock):
    other = make_engine(database_url)
    try:
        storages = [database_storage(db), database_storage(make_session_factory(other))]
        item = parse("10 per 15 minutes")
        limiters = [SlidingWindowCounterRateLimiter(storage) for storage in storages]
        hits = await asyncio.gather(*(limiters[n % 2].hit(item, "burst") for n in range(40)))
        assert sum(hits) == 10
    finally:
        await other.dispose()


async def test_throttle_gives_back_the_slot_of_an_attempt_that_did_not_fail():
    limiter = SignInThrottle(MemoryStorage())
    for _ in range(ADDRESS_LIMIT + 5):
        attempt = await limiter.token(address="198.51.100.4")
        await attempt.abandoned()
    attempt = await limiter.token(address="198.51.100.4")
    await attempt.failed()


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ((0, 0.0, 10, 1350.0), 451),  # ten this window, 450 s left: through its end, then at once
        ((10, 600.0, 5, 1500.0), 151),  # 10 x (600 - s) / 900 + 5 < 10 once s > 150
        ((20, 450.0, 0, 1350.0), 1),  # 20 x 450 / 900 = 10: the very next second
        ((0, 0.0, 20, 1350.0), 901),  # twice the limit: the next window's first half as well
    ],
)
def test_retry_after_says_when_the_next_attempt_passes(window, expected: int):
    assert retry_after(10, WINDOW, window) == expected


def test_the_rules_refuse_a_limit_that_is_not_one():
    with pytest.raises(ValueError):
        throttle.ThrottleRules(login_per_account="often")


# -- settings -----------------------------------------------------------------------------------


@pytest.fixture
async def configured(db, engine, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    """An app whose sign-in limits come from the environment: 3 failures per account and 5 per
    address in 15 minutes. The rules are the process's; the defaults are put back after."""
    monkeypatch.setenv("AGENCY_SIGN_IN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    monkeypatch.setenv("AGENCY_SIGN_IN_LIMIT_PER_ADDRESS", "5 per 15 minutes")
    app = create_app(Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused"), engine=engine)
    try:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, app)
    finally:
        throttle.configure(throttle.DEFAULT_RULES)


async def test_the_sign_in_limits_are_settings(configured, factory, verifications):
    first, second = await factory.user(), await factory.user()
    for _ in range(3):
        assert codes(await login(configured, first.email, "wrong-password")) == ["INVALID_CREDENTIALS"]
    assert codes(await login(configured, first.email, PASSWORD)) == ["TOO_MANY_ATTEMPTS"]
    # The address has 3 failures; 2 more on another account reach its limit of 5.
    for _ in range(2):
        assert codes(await login(configured, second.email, "wrong-password")) == ["INVALID_CREDENTIALS"]
    refused = await login(configured, second.email, PASSWORD)
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"] and refused["tokens"] is None
    assert verifications.calls == 5  # the refused attempts checked no password


@pytest.mark.parametrize("value", ["often", "0 per 15 minutes", ""])
def test_a_sign_in_limit_that_is_not_one_is_refused_at_start(value: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENCY_SIGN_IN_LIMIT_PER_ADDRESS", value)
    with pytest.raises(ValidationError, match="AGENCY_SIGN_IN_LIMIT_PER_ADDRESS"):
        Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused")


def test_the_default_sign_in_limits_are_the_throttle_s():
    settings = Settings(AGENCY_SECRET_KEY=TEST_SECRET, DATABASE_URL="unused")
    assert (settings.sign_in_limit_per_account, settings.sign_in_limit_per_address) == (
        throttle.LOGIN_PER_ACCOUNT,
        throttle.LOGIN_PER_ADDRESS,
    )


LOGIN_RETRY = """mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  tokens { accessToken } errors { field code message retryAfter } } }"""


async def test_a_refusal_says_in_how_many_seconds_to_retry(api, factory, clock, verifications):
    user = await factory.user()

    async def attempt(password: str) -> dict:
        return (await api.data(LOGIN_RETRY, {"email": user.email, "password": password}))["login"]

    for _ in range(ACCOUNT_LIMIT):
        failed = await attempt("wrong-password")
        assert [(e["code"], e["retryAfter"]) for e in failed["errors"]] == [("INVALID_CREDENTIALS", None)]
    refused = await attempt(PASSWORD)
    [error] = refused["errors"]
    assert (error["code"], error["retryAfter"]) == ("TOO_MANY_ATTEMPTS", WINDOW // 2 + 1)
    assert error["retryAfter"] == seconds(refused)  # the message says the same
    clock.now += error["retryAfter"] - 1
    assert (await attempt(PASSWORD))["errors"][0]["retryAfter"] == 1
    clock.now += 1
    assert (await attempt(PASSWORD))["tokens"] is not None
