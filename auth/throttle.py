"""Sign-in throttling: failed attempts counted per account and per client address with the
`limits` library, in counters every worker shares through our own database; and the rate limit
of partner token requests (POST /oauth/token), per app and per address.

What is counted, and what is refused
------------------------------------
`login` is throttled per account (the normalised e-mail, known or not) and per client address;
`refreshToken` and `acceptInvitation`, whose secrets are random tokens that name no account
until they are found, per address. Only failures count: a wrong password or an unknown e-mail,
an unknown, spent or expired refresh token, an invalid invitation. A refused attempt is answered
before any password is checked (no Argon2 work), with the same answer whether the account
exists or not, and a correct password is refused as well until the window lets it through.

============================  ===================  ===============================================
limit                         default              keyed by
============================  ===================  ===============================================
`LOGIN_PER_ACCOUNT`           10 per 15 minutes    the e-mail, stripped and lower-cased
`LOGIN_PER_ADDRESS`           50 per 15 minutes    the client address (an IPv6 address by its /64)
`TOKENS_PER_ADDRESS`          50 per 15 minutes    the client address, for refreshToken and
                                                   acceptInvitation together
`PARTNER_TOKENS_PER_APP`      30 per 15 minutes    the client_id presented at POST /oauth/token
                                                   (known or not); every request counts, not only
                                                   failures
`PARTNER_TOKENS_PER_ADDRESS`  50 per 15 minutes    the client address, for failed client
                                                   authentications at POST /oauth/token
============================  ===================  ===============================================

Partner token requests (`partner_token`): an app's access token lives 10 minutes by default, so a
well-behaved integration asks about once in 10 minutes; 30 in 15 minutes leaves room for several
workers and restarts of the integration, and bounds how often anyone may try a secret against
one app, whoever sends it. Failed authentications (unknown app, wrong secret, revoked app) also
count against their address, so one address cannot spread guesses over many apps. A request
without client credentials, or refused before authentication (no or another grant type, a body
that is not a form), takes no slot: it checks no secret. The trade-off of the per-app limit:
whoever knows an app's client_id may use up its token requests for 15 minutes (the tokens it
already holds keep working until they expire).

The windows are `limits`' sliding window counter: the previous fixed window's count, weighted
by how much of it still overlaps the last 15 minutes, plus the current one's; so there is no
burst at a window boundary, and the limit eases off gradually rather than all at once.

Concurrency: an attempt takes its slot *before* the password is checked (an atomic hit that
is refused when the window is full), so a thousand concurrent guesses cannot all pass a check
made before any of them has failed. A failure keeps its slot; a success clears the account's
counter and gives the address its slot back; an attempt that ended otherwise (bad input, an
error) gives both back. The trade-off every per-account limit has: anyone may lock an account
out of sign-in for 15 minutes by failing ten times; that is the price of not letting them guess.

Storage
-------
`DatabaseStorage` is an async `limits` storage on the application's database (the
`throttle_counter` table, `models.people.ThrottleCounter`): one row per key and window with a
count and an expiry. Every operation is one short transaction of its own, never the request's:
on PostgreSQL an increment is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, atomic under
concurrent workers (the row lock serialises increments of the same key; a hit that would pass
the limit is rolled back); on SQLite the process's one-writer lock serialises them. Time is the
workers' clocks (`time.time()`, as the `limits` library measures it): keep them in sync.
It implements the fixed window (`incr`, `get`, `get_expiry`, `clear`) and the sliding window
counter strategies, not the moving window (which needs a row per hit).

Settings: the two sign-in limits are settings, `AGENCY_SIGN_IN_LIMIT_PER_ACCOUNT` and
`AGENCY_SIGN_IN_LIMIT_PER_ADDRESS` (server.settings.Settings, in `limits`' notation, e.g.
"10 per 15 minutes"); the server configures them when the app is created (`configure`), and every
`SignInThrottle` built without rules of its own uses them. The others are the defaults above.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, SlidingWindowCounterSupport, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage.base import TimestampedSlidingWindow
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.people import ThrottleCounter

log = logging.getLogger("agency.throttle")

LOGIN_PER_ACCOUNT = "10 per 15 minutes"
LOGIN_PER_ADDRESS = "50 per 15 minutes"
TOKENS_PER_ADDRESS = "50 per 15 minutes"
PARTNER_TOKENS_PER_APP = "30 per 15 minutes"
PARTNER_TOKENS_PER_ADDRESS = "50 per 15 minutes"

clock: Callable[[], float] = time.time
"""The time every counter is measured by, in seconds since the epoch (tests pin it)."""

PURGE_INTERVAL_SECONDS = 300.0
"""How often (at most, per process) expired counters are deleted."""

_KEY_LENGTH = 255  # ThrottleCounter.key

Transactions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""Opens one short write transaction (committed when the block ends, rolled back on an error):
in a request `RequestDb.transaction`, elsewhere e.g. `async_sessionmaker.begin`."""


# -- the storage ---------------------------------------------------------------------------------


class _Refused(Exception):
    """Rolls back a sliding-window hit that would pass the limit."""


def _at(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def _stored_key(key: str) -> str:
    """The key as stored: as given, or its digest when it is longer than the column."""
    if len(key) <= _KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


_purge_due = 0.0  # per process: when expired counters are next deleted


class DatabaseStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """An async `limits` storage in the application's database, shared by every worker on it.

    Passed directly to a rate limiter (it needs a way to open transactions, which a storage URI
    cannot carry): `SlidingWindowCounterRateLimiter(DatabaseStorage(transaction=...))`."""

    def __init__(
        self,
        uri: str | None = None,
        *,
        transaction: Transactions,
        wrap_exceptions: bool = False,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._transaction = transaction

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa.exc.SQLAlchemyError

    # The table, typed for SQLAlchemy Core.
    _table = cast(sa.Table, ThrottleCounter.__table__)  # type: ignore[attr-defined]

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the key's counter and return the new count; a counter that is new or
        expired starts at `amount` and expires `expiry` seconds from now."""
        now = clock()
        async with self._transaction() as session:
            count = await self._increment(session, _stored_key(key), expiry, amount, now)
        await self._maybe_purge(now)
        return count

    async def decr(self, key: str, amount: int = 1) -> int:
        """Take `amount` off the key's live counter (never below 0) and return what is left."""
        now = clock()
        t = self._table
        async with self._transaction() as session:
            left = await session.scalar(
                sa.update(t)
                .where(t.c.key == _stored_key(key), t.c.expires_at > _at(now))
                .values(count=sa.case((t.c.count > amount, t.c.count - amount), else_=0))
                .returning(t.c.count)
            )
        return int(left or 0)

    async def get(self, key: str) -> int:
        now = clock()
        t = self._table
        async with self._transaction() as session:
            count = await session.scalar(
                sa.select(t.c.count).where(t.c.key == _stored_key(key), t.c.expires_at > _at(now))
            )
        return int(count or 0)

    async def get_expiry(self, key: str) -> float:
        """When the key's counter expires (seconds since the epoch); now when it has none."""
        now = clock()
        t = self._table
        async with self._transaction() as session:
            expires = await session.scalar(
                sa.select(t.c.expires_at).where(t.c.key == _stored_key(key), t.c.expires_at > _at(now))
            )
        return expires.timestamp() if isinstance(expires, dt.datetime) else now

    async def check(self) -> bool:
        try:
            async with self._transaction() as session:
                await session.execute(sa.select(sa.func.count()).select_from(self._table))
        except Exception:
            return False
        return True

    async def reset(self) -> int | None:
        async with self._transaction() as session:
            result = await session.execute(sa.delete(self._table))
        return int(cast(sa.CursorResult[Any], result).rowcount)

    async def clear(self, key: str) -> None:
        async with self._transaction() as session:
            await session.execute(sa.delete(self._table).where(self._table.c.key == _stored_key(key)))

    async def purge_expired(self) -> int:
        """Delete the counters that have expired; returns how many. On PostgreSQL it skips rows
        another transaction holds, so it never waits for (or deadlocks with) a sign-in."""
        now = _at(clock())
        t = self._table
        async with self._transaction() as session:
            expired = sa.select(t.c.key).where(t.c.expires_at <= now)
            if session.get_bind().dialect.name == "postgresql":
                expired = expired.with_for_update(skip_locked=True)
            result = await session.execute(sa.delete(t).where(t.c.key.in_(expired.scalar_subquery())))
        return int(cast(sa.CursorResult[Any], result).rowcount)

    async def _maybe_purge(self, now: float) -> None:
        global _purge_due
        if now < _purge_due:
            return
        _purge_due = now + PURGE_INTERVAL_SECONDS
        purged = await self.purge_expired()
        if purged:
            log.debug("purged %d expired throttle counters", purged)

    # -- sliding window counter ------------------------------------------------------------------

    async def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count `amount` hits when the weighted count of the previous and the current window
        stays within `limit`: read, increment and check in one transaction, rolled back when a
        concurrent hit got there first."""
        if amount > limit:
            return False
        now = clock()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        try:
            async with self._transaction() as session:
                previous, previous_ttl, current, _ = await self._window(session, previous_key, current_key, expiry, now)
                if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
                    return False
                current = await self._increment(session, _stored_key(current_key), 2 * expiry, amount, now)
                if math.floor(previous * previous_ttl / expiry + current) > limit:
                    raise _Refused()
        except _Refused:
            return False
        await self._maybe_purge(now)
        return True

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = clock()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        async with self._transaction() as session:
            return await self._window(session, previous_key, current_key, expiry, now)

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, clock())
        keys = sorted({_stored_key(previous_key), _stored_key(current_key)})
        async with self._transaction() as session:
            await session.execute(sa.delete(self._table).where(self._table.c.key.in_(keys)))

    # -- statements ------------------------------------------------------------------------------

    async def _increment(self, session: AsyncSession, key: str, expiry: float, amount: int, now: float) -> int:
        """One atomic upsert: insert the counter, or add to it, or restart it when it expired."""
        t = self._table
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)
        row = insert.values(key=key, count=amount, expires_at=_at(now + expiry))
        expired = t.c.expires_at <= _at(now)
        upsert = row.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "count": sa.case((expired, row.excluded.count), else_=t.c.count + row.excluded.count),
                "expires_at": sa.case((expired, row.excluded.expires_at), else_=t.c.expires_at),
            },
        ).returning(t.c.count)
        return int(await session.scalar(upsert) or 0)

    async def _window(
        self, session: AsyncSession, previous_key: str, current_key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        """(previous count, seconds the previous window still weighs, current count, seconds the
        current counter lives), as `limits`' own storages compute them."""
        t = self._table
        stored_previous, stored_current = _stored_key(previous_key), _stored_key(current_key)
        rows = await session.execute(
            sa.select(t.c.key, t.c.count).where(
                t.c.key.in_([stored_previous, stored_current]), t.c.expires_at > _at(now)
            )
        )
        counts = {key: int(count) for key, count in rows}
        previous, current = counts.get(stored_previous, 0), counts.get(stored_current, 0)
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl


# -- the throttle ----------------------------------------------------------------------------------

ThrottleStorage = DatabaseStorage | MemoryStorage
"""Storages the throttle runs on: ours, and `limits`' memory storage (one process, for tests)."""


@dataclass(frozen=True)
class ThrottleRules:
    """The limits, each a `limits` string such as "10 per 15 minutes" (checked when built)."""

    login_per_account: str = LOGIN_PER_ACCOUNT
    login_per_address: str = LOGIN_PER_ADDRESS
    tokens_per_address: str = TOKENS_PER_ADDRESS
    partner_tokens_per_app: str = PARTNER_TOKENS_PER_APP
    partner_tokens_per_address: str = PARTNER_TOKENS_PER_ADDRESS

    def __post_init__(self) -> None:
        for rule in (
            self.login_per_account,
            self.login_per_address,
            self.tokens_per_address,
            self.partner_tokens_per_app,
            self.partner_tokens_per_address,
        ):
            parse(rule)  # ValueError when it is not a limit


DEFAULT_RULES = ThrottleRules()
_configured = DEFAULT_RULES


def configure(rules: ThrottleRules) -> None:
    """Set the rules of this process (from Settings, when the app is created)."""
    global _configured
    _configured = rules


def configured_rules() -> ThrottleRules:
    """The rules this process throttles by: the configured ones, else the defaults."""
    return _configured


class Throttled(Exception):
    """Too many failed attempts: refused before any secret was checked."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many failed attempts; try again in {retry_after} seconds.")


@dataclass(frozen=True)
class _Bucket:
    item: RateLimitItem
    identifiers: tuple[str, str]  # (namespace, digest of the account or address)
    reset_on_success: bool  # the account's counter starts over after a success
    keep_on_success: bool = False  # a success counts too: a rate limit, not only a failure limit

    @property
    def key(self) -> str:
        return self.item.key_for(*self.identifiers)


def _digest(value: str) -> str:
    # Counters name no e-mail or address in the clear.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def normalise_address(address: str | None) -> str:
    """The client address as throttled: an IPv6 address by its /64 (one host's usual share),
    an IPv4 address (also one mapped into IPv6) as it is; no address at all is one bucket."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # e.g. a test client's name
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def retry_after(limit: int, expiry: int, window: tuple[int, float, int, float]) -> int:
    """Seconds until a sliding window counter lets one more hit through, if nothing else is
    counted meanwhile. `window` is `get_sliding_window`'s (previous count, seconds the previous
    window still weighs, current count, seconds the current counter lives).

    A hit passes while previous x weight + current < limit, the weight falling linearly to 0
    by the end of the current window; then the current count becomes the previous one."""
    previous, _, current, current_ttl = window
    left_in_window = max(0.0, current_ttl - expiry)
    if current < limit:
        wait = 0.0 if previous == 0 else left_in_window - (limit - current) * expiry / previous
    else:
        wait = left_in_window + expiry - limit * expiry / current
    return math.floor(max(0.0, wait)) + 1


class Attempt:
    """An attempt that holds a slot in each of its buckets until it is settled."""

    def __init__(self, throttle: SignInThrottle) -> None:
        self._throttle = throttle
        self._held: list[tuple[_Bucket, str]] = []  # (bucket, the window key its slot is in)

    def hold(self, bucket: _Bucket, window_key: str) -> None:
        self._held.append((bucket, window_key))

    async def failed(self) -> None:
        """It failed: the slots stay taken, each counts one failure."""
        self._held = []

    async def succeeded(self) -> None:
        """It succeeded: the account's counter starts over; the address gets its slot back; a
        bucket that counts every request keeps it."""
        held, self._held = self._held, []
        for bucket, window_key in held:
            if bucket.keep_on_success:
                continue
            if bucket.reset_on_success:
                await self._throttle.limiter.clear(bucket.item, *bucket.identifiers)
            else:
                await self._throttle.storage.decr(window_key)

    async def abandoned(self) -> None:
        """It ended some other way (bad input, an error): every slot is given back."""
        held, self._held = self._held, []
        for _, window_key in held:
            await self._throttle.storage.decr(window_key)


class SignInThrottle:
    """The throttle, on one storage (in a request: `DatabaseStorage` on the request's database)."""

    def __init__(self, storage: ThrottleStorage, rules: ThrottleRules | None = None) -> None:
        self.storage = storage
        self.rules = rules if rules is not None else _configured
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def login(self, *, account: str, address: str | None) -> Attempt:
        """Take a slot for a password attempt on `account` (a normalised e-mail) from `address`;
        raises `Throttled` when either is out of attempts."""
        where = _digest(normalise_address(address))
        return await self._begin(
            [
                _Bucket(parse(self.rules.login_per_address), ("login-address", where), reset_on_success=False),
                _Bucket(
                    parse(self.rules.login_per_account), ("login-account", _digest(account)), reset_on_success=True
                ),
            ]
        )

    async def token(self, *, address: str | None) -> Attempt:
        """Take a slot for presenting a secret token (refresh token, invitation) from `address`."""
        where = _digest(normalise_address(address))
        return await self._begin(
            [_Bucket(parse(self.rules.tokens_per_address), ("token-address", where), reset_on_success=False)]
        )

    async def partner_token(self, *, client_id: str, address: str | None) -> Attempt:
        """Take a slot for a client-credentials token request by the app `client_id` (as
        presented, known or not) from `address`. The app's slot stays taken whatever the outcome
        (settle a success with `succeeded`); the address's is given back unless it failed."""
        where = _digest(normalise_address(address))
        return await self._begin(
            [
                _Bucket(
                    parse(self.rules.partner_tokens_per_address),
                    ("partner-token-address", where),
                    reset_on_success=False,
                ),
                _Bucket(
                    parse(self.rules.partner_tokens_per_app),
                    ("partner-token-app", _digest(client_id)),
                    reset_on_success=False,
                    keep_on_success=True,
                ),
            ]
        )

    async def _begin(self, buckets: Sequence[_Bucket]) -> Attempt:
        attempt = Attempt(self)
        for bucket in buckets:
            # The key of the window this hit lands in, to give the slot back to the same window.
            _, window_key = self.storage.sliding_window_keys(bucket.key, bucket.item.get_expiry(), clock())
            if not await self.limiter.hit(bucket.item, *bucket.identifiers):
                await attempt.abandoned()
                window = await self.storage.get_sliding_window(bucket.key, bucket.item.get_expiry())
                wait = retry_after(bucket.item.amount, bucket.item.get_expiry(), window)
                log.warning("sign-in throttled (%s), retry after %d s", bucket.identifiers[0], wait)
                raise Throttled(wait)
            attempt.hold(bucket, window_key)
        return attempt
